"""Pop-up tills: revocable till tokens, sales applied exactly once, door-counter footfall."""
