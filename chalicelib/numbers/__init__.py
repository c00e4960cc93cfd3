"""The studio's numbers: the tables its charts and CSVs are drawn from (pure)."""
