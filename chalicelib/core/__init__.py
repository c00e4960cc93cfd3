"""The vocabulary every capability shares: the catalog models, domain errors and signed tokens."""
