"""Local tooling: the embedded DynamoDB, demo data and `make run`. Never shipped to Lambda."""
