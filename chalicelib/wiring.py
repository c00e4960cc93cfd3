"""The process's long-lived objects, built on first use (never at import, so moto can start first)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from chalicelib.catalog import Catalog
from chalicelib.config import settings
from chalicelib.pages.published import PublishedTemplates, sandbox
from chalicelib.store.audit import DynamoAudit
from chalicelib.store.bookings import DynamoBookings
from chalicelib.store.catalog import DynamoCatalog
from chalicelib.store.numbers import DynamoNumbers
from chalicelib.store.pos import DynamoTills
from chalicelib.store.stock import DynamoStock
from chalicelib.store.templates import DynamoTemplates
from chalicelib.store.tryons import DynamoTryOns


@lru_cache(maxsize=1)
def catalog_store() -> DynamoCatalog:
    """The catalog as stored, uncached (the studio reads and writes through it)."""
    return DynamoCatalog(settings().table_name)


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    s = settings()
    return Catalog(catalog_store(), catalog_ttl=s.catalog_cache_seconds, stock_ttl=s.stock_cache_seconds)


@lru_cache(maxsize=1)
def bookings() -> DynamoBookings:
    return DynamoBookings(settings().table_name)


@lru_cache(maxsize=1)
def stock() -> DynamoStock:
    return DynamoStock(settings().table_name)


@lru_cache(maxsize=1)
def tills() -> DynamoTills:
    return DynamoTills(settings().table_name)


@lru_cache(maxsize=1)
def tryons() -> DynamoTryOns:
    return DynamoTryOns(settings().table_name)


@lru_cache(maxsize=1)
def numbers() -> DynamoNumbers:
    return DynamoNumbers(settings().table_name)


@lru_cache(maxsize=1)
def audit() -> DynamoAudit:
    return DynamoAudit(settings().table_name)


@lru_cache(maxsize=1)
def templates() -> DynamoTemplates:
    return DynamoTemplates(settings().table_name)


@lru_cache(maxsize=1)
def published() -> PublishedTemplates:
    return PublishedTemplates(templates(), settings().template_cache_seconds)


def utcnow() -> datetime:
    return datetime.now(UTC)


def reset() -> None:
    """Forget every cached object (tests switch settings and endpoints)."""
    from chalicelib.store.client import reset_client
    from chalicelib.studio.cognito import jwks_client
    from chalicelib.tokens import forget_keys

    for built in (catalog_store, catalog, bookings, stock, tills, tryons, numbers, audit, templates, published):
        built.cache_clear()
    settings.cache_clear()
    sandbox.cache_clear()
    jwks_client.cache_clear()
    reset_client()
    forget_keys()
