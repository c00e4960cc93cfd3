"""Rendering: locale negotiation, Babel formatting and the Jinja environments."""
