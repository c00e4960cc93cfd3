"""What differs between dev and prod; everything else is one definition."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    name: str
    deletion_protection: bool  # the table, and retention of what holds data
    log_retention_days: int
    api_memory_mb: int  # 1,769 MB is one full vCPU; docs/deploy.md says why each size
    studio_memory_mb: int
    sweep_memory_mb: int
    p99_latency_alarm_ms: int
    booking_rate_per_5_min: int  # per client IP, on /api/pickups, /api/tryons and /api/pos/*
    mail_from: str  # the outbox's sender; its domain becomes an SES identity (verified by its DNS records)


STAGES = {
    "dev": Stage("dev", False, 14, 1769, 1024, 256, 2000, 300, "dropfront dev <pickups@mail-dev.dropfront.example>"),
    "prod": Stage("prod", True, 90, 1769, 1024, 256, 1000, 100, "dropfront <pickups@mail.dropfront.example>"),
}
