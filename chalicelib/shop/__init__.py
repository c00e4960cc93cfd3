"""The shop: a drop as one visitor sees it (market, locale, offers, scarcity), baskets quoted, the landing page."""
