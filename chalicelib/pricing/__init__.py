"""Offers: what each visitor pays for each SKU, and why."""
