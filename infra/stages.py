"""What differs between dev and prod; everything else is one definition."""

from __future__ import annotations

from dataclasses import dataclass

# An estimate (not a measurement: no pop-up has run yet) of what one pop-up's shared Wi-Fi (one
# address behind its NAT) sends to the rate-limited routes in its busiest 5 minutes: 60 shoppers each
# asking for a try-on, cancelling or booking it, holding and booking a piece (6 requests), plus two
# tills syncing sales and reading the queue every 10 s (60).
# Every stage's per-address cap stays at least twice this, so a pop-up is never throttled.
POPUP_WIFI_PEAK_PER_5_MIN = 60 * 6 + 60


@dataclass(frozen=True)
class Stage:
    name: str
    deletion_protection: bool  # the table, and retention of what holds data
    log_retention_days: int
    api_memory_mb: int  # 1,769 MB is one full vCPU; docs/deploy.md says why each size
    studio_memory_mb: int
    sweep_memory_mb: int
    p99_latency_alarm_ms: int
    booking_rate_per_5_min: int  # per viewer address, on bookings, holds, try-ons and the tills' routes
    mail_from: str  # the outbox's sender; its domain becomes an SES identity (verified by its DNS records)
    max_warm_instances: int  # the most provisioned concurrency a drop's warm-up window may set (chalicelib.warming)


STAGES = {
    "dev": Stage(
        "dev", False, 14, 1769, 1024, 256, 2000, 1000, "dropfront dev <pickups@mail-dev.dropfront.example>", 10
    ),
    "prod": Stage("prod", True, 90, 1769, 1024, 256, 1000, 1000, "dropfront <pickups@mail.dropfront.example>", 50),
}
