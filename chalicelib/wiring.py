"""The process's long-lived objects, built on first use (never at import, so moto can start first).

An adapter's module is imported when it is first built, too: a cold start that serves a landing page
loads the catalog's, the templates' and the counters' adapters, not the bookings', the mailer's (and
the email package) or the tills'.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, cast

from chalicelib.catalog.reader import Catalog
from chalicelib.config import PROJECT_ROOT, settings
from chalicelib.pages.published import PublishedTemplates
from chalicelib.store.arrivals import DynamoArrivals
from chalicelib.store.catalog import DynamoCatalog
from chalicelib.store.numbers import DynamoNumbers
from chalicelib.store.templates import DynamoTemplates
from chalicelib.waiting.admission import WaitingRooms

if TYPE_CHECKING:
    from chalicelib.edge.ports import EdgeStore
    from chalicelib.pricing.replay import DecisionLog
    from chalicelib.stock.checkout import HoldRules
    from chalicelib.store.access_logs import S3AccessLogs
    from chalicelib.store.audit import DynamoAudit
    from chalicelib.store.batches import DynamoBatches
    from chalicelib.store.bookings import DynamoBookings
    from chalicelib.store.customers import DynamoCustomers
    from chalicelib.store.holds import DynamoHolds
    from chalicelib.store.imports import DynamoImports
    from chalicelib.store.mail import SesMailer
    from chalicelib.store.media import LocalMedia, S3Media
    from chalicelib.store.outbox import DynamoOutbox
    from chalicelib.store.returns import DynamoReturns
    from chalicelib.store.sign_ins import DynamoSignIns
    from chalicelib.store.stock import DynamoStock
    from chalicelib.store.subscriptions import DynamoSubscriptions
    from chalicelib.store.tills import DynamoTills
    from chalicelib.store.tryons import DynamoTryOns
    from chalicelib.warming.aws import ScheduledLaunch

_adapters: dict[Callable[[str], object], object] = {}


def _adapter[Adapter](make: Callable[[str], Adapter]) -> Adapter:
    """One DynamoDB adapter of each kind per process, on the configured table."""
    if make not in _adapters:
        _adapters[make] = make(settings().table_name)
    return cast(Adapter, _adapters[make])


def catalog_store() -> DynamoCatalog:
    """The catalog as stored, uncached (the studio reads and writes through it)."""
    return _adapter(DynamoCatalog)


def product_imports() -> DynamoImports:
    from chalicelib.store.imports import DynamoImports

    return _adapter(DynamoImports)


def batches() -> DynamoBatches:
    from chalicelib.store.batches import DynamoBatches

    return _adapter(DynamoBatches)


def bookings() -> DynamoBookings:
    from chalicelib.store.bookings import DynamoBookings

    return _adapter(DynamoBookings)


def returns() -> DynamoReturns:
    from chalicelib.store.returns import DynamoReturns

    return _adapter(DynamoReturns)


def stock() -> DynamoStock:
    from chalicelib.store.stock import DynamoStock

    return _adapter(DynamoStock)


def holds() -> DynamoHolds:
    from chalicelib.store.holds import DynamoHolds

    return _adapter(DynamoHolds)


def hold_rules() -> HoldRules:
    from chalicelib.stock.checkout import HoldRules

    s = settings()
    return HoldRules(s.hold_minutes, s.holds_per_visitor)


def outbox() -> DynamoOutbox:
    from chalicelib.store.outbox import DynamoOutbox

    return _adapter(DynamoOutbox)


@lru_cache(maxsize=1)
def mailer() -> SesMailer:
    from chalicelib.store.mail import SesMailer

    return SesMailer()


def customers() -> DynamoCustomers:
    from chalicelib.store.customers import DynamoCustomers

    return _adapter(DynamoCustomers)


def subscriptions() -> DynamoSubscriptions:
    from chalicelib.store.subscriptions import DynamoSubscriptions

    return _adapter(DynamoSubscriptions)


@lru_cache(maxsize=1)
def media() -> S3Media | LocalMedia:
    """The media bucket in AWS; ``media/`` beside the app locally (what ``make run`` serves)."""
    from chalicelib.store.media import LocalMedia, S3Media

    bucket = settings().media_bucket
    return S3Media(bucket) if bucket else LocalMedia(PROJECT_ROOT / "media")


def sign_ins() -> DynamoSignIns:
    from chalicelib.store.sign_ins import DynamoSignIns

    return _adapter(DynamoSignIns)


def tills() -> DynamoTills:
    from chalicelib.store.tills import DynamoTills

    return _adapter(DynamoTills)


def tryons() -> DynamoTryOns:
    from chalicelib.store.tryons import DynamoTryOns

    return _adapter(DynamoTryOns)


def numbers() -> DynamoNumbers:
    return _adapter(DynamoNumbers)


def audit() -> DynamoAudit:
    from chalicelib.store.audit import DynamoAudit

    return _adapter(DynamoAudit)


def templates() -> DynamoTemplates:
    return _adapter(DynamoTemplates)


@lru_cache(maxsize=1)
def warm_schedule() -> ScheduledLaunch | None:
    """The launches' warm-up schedule in AWS (``DROPFRONT_LAUNCH_ROUTE``, set by infra); None where no
    function is deployed (locally)."""
    s = settings()
    if s.launch_route is None:
        return None
    import boto3

    from chalicelib.warming.aws import LaunchRoute, ScheduledLaunch

    fields = json.loads(s.launch_route)
    target = fields.pop("target")
    session = boto3.session.Session()
    scaling = session.client("application-autoscaling", region_name=s.region)
    return ScheduledLaunch(scaling, session.client("scheduler", region_name=s.region), target, LaunchRoute(**fields))


@lru_cache(maxsize=1)
def decision_log() -> DecisionLog | None:
    """Where logged views are read back to replay a decision: the shopper functions' log groups in
    AWS, the file `make run` logs to locally; None where neither is set."""
    s = settings()
    from chalicelib.store.decision_log import CloudWatchDecisionLog, FileDecisionLog

    if s.decision_log_groups:
        import boto3

        return CloudWatchDecisionLog(
            boto3.session.Session().client("logs", region_name=s.region), s.decision_log_groups
        )
    return FileDecisionLog(s.decision_log_file) if s.decision_log_file else None


@lru_cache(maxsize=1)
def access_logs() -> S3AccessLogs:
    from chalicelib.store.access_logs import S3AccessLogs

    return S3AccessLogs()


@lru_cache(maxsize=1)
def edge_store() -> EdgeStore | None:
    """The store the edge function reads: the stack's KeyValueStore in AWS, the local edge's file under
    `make run`; None where pages are served without an edge (tests that do not start one)."""
    from chalicelib.store.edge_store import FileEdgeStore, KeyValueStoreEdge

    s = settings()
    if s.edge_store_arn:
        return KeyValueStoreEdge(s.edge_store_arn)
    return FileEdgeStore(s.edge_store_file) if s.edge_store_file else None


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    s = settings()
    return Catalog(catalog_store(), catalog_ttl=s.catalog_cache_seconds, stock_ttl=s.stock_cache_seconds)


def arrivals() -> DynamoArrivals:
    return _adapter(DynamoArrivals)


@lru_cache(maxsize=1)
def rooms() -> WaitingRooms:
    """The drops' waiting rooms, their counts as fresh as the stock a page shows."""
    return WaitingRooms(arrivals(), settings().stock_cache_seconds)


@lru_cache(maxsize=1)
def published() -> PublishedTemplates:
    return PublishedTemplates(templates(), settings().template_cache_seconds)


def utcnow() -> datetime:
    return datetime.now(UTC)


def forget_adapters() -> None:
    """Forget the adapters and cached readers (a fresh process; ``devtools.process`` uses it)."""
    _adapters.clear()
    for built in (catalog, published, mailer, media, warm_schedule, rooms, decision_log, edge_store, access_logs):
        built.cache_clear()
