"""HTTP glue for app.py: request parsing, responses with security headers, and error mapping."""
