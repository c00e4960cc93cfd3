"""Stock and local pickup: stock items and holds, pickup slots, bookings in one transaction, the pickup page."""
