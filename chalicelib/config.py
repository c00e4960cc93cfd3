"""Settings from the environment, read once per process.

Every knob is an environment variable prefixed ``DROPFRONT_``; .chalice/config.json sets them per stage.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""Where app.py lives: the repository locally, /var/task on Lambda (templates/ sits beside it in both)."""


@dataclass(frozen=True)
class Settings:
    table_name: str
    region: str
    dynamodb_endpoint: str | None
    secret_keys: tuple[str, ...]  # local runs and tests; empty when they come from Secrets Manager
    secret_keys_secret: str | None  # the Secrets Manager secret holding them (AWS), read through Parameters
    catalog_cache_seconds: float
    template_cache_seconds: float  # how soon a publish reaches a warm Lambda
    stock_cache_seconds: float
    dynamodb_connect_timeout: float
    dynamodb_read_timeout: float
    dynamodb_max_attempts: int
    templates_dir: Path
    stage: str
    public_url: str | None
    media_url: str  # where fit videos and posters are served: /media behind CloudFront, its S3 origin
    media_bucket: str | None  # the S3 bucket behind /media (the studio stores pictures there); unset: media/
    studio_token: str | None  # the studio's dev bearer token (local runs); unset: no token is accepted
    cognito_issuer: str | None  # https://cognito-idp.<region>.amazonaws.com/<pool id>: studio JWTs
    cognito_client_id: str | None  # the studio's app client: an ID token's aud, an access token's client_id
    mail_from: str  # the outbox's sender, an SES verified identity ("Name <address>")
    ses_endpoint: str | None  # any SES-compatible endpoint (moto locally); unset: AWS
    reminder_hours: float  # how long before a pickup slot its reminder is sent
    hold_minutes: float  # how long a checkout hold sets pieces aside
    holds_per_visitor: int  # live checkout holds one visitor may have at once
    launch_route: str | None  # JSON: how a launch is warmed and routed (chalicelib.warming, infra); unset: not
    decision_log_groups: tuple[str, ...]  # the shopper functions' log groups, where decisions are replayed from
    decision_log_file: Path | None  # or the file `make run` writes its log to (locally)
    edge_store_arn: str | None  # the CloudFront KeyValueStore the edge function reads (AWS)
    edge_store_file: Path | None  # or the file the local edge's function reads; neither: no edge

    @property
    def is_local(self) -> bool:
        return self.stage == "local"

    @property
    def behind_edge(self) -> bool:
        """Whether an edge function reads the segment cookie (so the app keeps it true)."""
        return self.edge_store_arn is not None or self.edge_store_file is not None


def split_keys(text: str) -> tuple[str, ...]:
    """Signing keys, oldest to newest, from their comma-separated form."""
    return tuple(key.strip() for key in text.split(",") if key.strip())


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process's settings. Tests that change the environment call ``settings.cache_clear()``."""
    keys = split_keys(os.environ.get("DROPFRONT_SECRET_KEYS", ""))
    keys_secret = os.environ.get("DROPFRONT_SECRET_KEYS_SECRET") or None
    if not keys and keys_secret is None:
        raise RuntimeError(
            "Neither DROPFRONT_SECRET_KEYS nor DROPFRONT_SECRET_KEYS_SECRET is set: signed tokens need a key"
        )
    return Settings(
        table_name=os.environ.get("DROPFRONT_TABLE", "dropfront"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-west-1",
        dynamodb_endpoint=os.environ.get("DROPFRONT_DYNAMODB_ENDPOINT") or None,
        secret_keys=keys,
        secret_keys_secret=keys_secret,
        catalog_cache_seconds=_float("DROPFRONT_CATALOG_CACHE_SECONDS", 10.0),
        template_cache_seconds=_float("DROPFRONT_TEMPLATE_CACHE_SECONDS", 5.0),
        stock_cache_seconds=min(_float("DROPFRONT_STOCK_CACHE_SECONDS", 1.0), 1.0),
        dynamodb_connect_timeout=_float("DROPFRONT_DYNAMODB_CONNECT_TIMEOUT", 1.0),
        dynamodb_read_timeout=_float("DROPFRONT_DYNAMODB_READ_TIMEOUT", 2.0),
        dynamodb_max_attempts=int(os.environ.get("DROPFRONT_DYNAMODB_MAX_ATTEMPTS", "3")),
        templates_dir=Path(os.environ.get("DROPFRONT_TEMPLATES_DIR", PROJECT_ROOT / "templates")),
        stage=os.environ.get("DROPFRONT_STAGE", "local"),
        public_url=os.environ.get("DROPFRONT_PUBLIC_URL", "").rstrip("/") or None,
        media_url=os.environ.get("DROPFRONT_MEDIA_URL", "/media").rstrip("/"),
        media_bucket=os.environ.get("DROPFRONT_MEDIA_BUCKET") or None,
        studio_token=os.environ.get("DROPFRONT_STUDIO_TOKEN") or None,
        cognito_issuer=(os.environ.get("DROPFRONT_COGNITO_ISSUER") or "").rstrip("/") or None,
        cognito_client_id=os.environ.get("DROPFRONT_COGNITO_CLIENT_ID") or None,
        mail_from=os.environ.get("DROPFRONT_MAIL_FROM", "dropfront <pickups@mail.dropfront.example>"),
        ses_endpoint=os.environ.get("DROPFRONT_SES_ENDPOINT") or None,
        reminder_hours=_float("DROPFRONT_REMINDER_HOURS", 3.0),
        hold_minutes=_float("DROPFRONT_HOLD_MINUTES", 10.0),
        holds_per_visitor=int(os.environ.get("DROPFRONT_HOLDS_PER_VISITOR", "2")),
        launch_route=os.environ.get("DROPFRONT_LAUNCH_ROUTE") or None,
        decision_log_groups=split_keys(os.environ.get("DROPFRONT_DECISION_LOG_GROUPS", "")),
        decision_log_file=Path(os.environ["DROPFRONT_DECISION_LOG_FILE"])
        if os.environ.get("DROPFRONT_DECISION_LOG_FILE")
        else None,
        edge_store_arn=os.environ.get("DROPFRONT_EDGE_STORE_ARN") or None,
        edge_store_file=Path(os.environ["DROPFRONT_EDGE_STORE_FILE"])
        if os.environ.get("DROPFRONT_EDGE_STORE_FILE")
        else None,
    )
