"""Languages and Babel formatting: locale negotiation, money, dates and time zones for people to read."""
