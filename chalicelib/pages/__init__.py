"""Rendering: the Jinja environments for shipped pages, the marketers' sandbox, and which template
version a page renders."""
