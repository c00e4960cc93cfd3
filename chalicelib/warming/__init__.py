"""Warm for the drop: provisioned concurrency on the shopper function around each drop's launch."""
