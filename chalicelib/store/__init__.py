"""The single DynamoDB table: key schema, lazily built client, and the adapters that read it."""
