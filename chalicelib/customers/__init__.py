"""Customers: a normalized email (hashed), seen at bookings, till receipts and notify-me requests."""
