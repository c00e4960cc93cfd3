"""Pages served from CloudFront's cache per segment: the signed segment key and what the edge needs to compute it."""
