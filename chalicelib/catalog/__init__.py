"""The catalog: drops, products and stock as the shop reads them, cached per process."""
