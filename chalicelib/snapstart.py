"""Lambda SnapStart for the shopper function: what the init phase warms before the snapshot, and what
every copy restored from it must make its own.

The snapshot is taken once per published version and restored into many execution environments,
perhaps days later. So ``warm`` loads code and read-only data only (imports, the shipped templates
compiled for every locale, Babel's locale data, botocore's DynamoDB model, the readers of the catalog's records),
never anything that is time-bound or must differ between copies; and ``renew`` gives each restored copy fresh randomness
and drops what init made that is tied to a moment (the DynamoDB client with its connections and
credentials, cached signing keys). The runtime calls them through ``snapshot_restore_py``, which the
Python managed runtimes include.
"""

from __future__ import annotations

import gc
import random

from chalicelib.core import records
from chalicelib.core.models import DropCatalog
from chalicelib.core.tokens import forget_keys
from chalicelib.i18n import formatting
from chalicelib.i18n.locales import UI_LOCALES, display_name, text_direction
from chalicelib.pages.environment import template
from chalicelib.pricing.policy import PricingPolicy
from chalicelib.store.client import dynamodb, reset_client
from chalicelib.web.request import LandingQuery, PickupPageQuery

SHIPPED_PAGES = ("landing.html", "tryon.html", "hold.html", "pickup.html", "notify.html", "error.html")
WARM_CURRENCIES = ("EUR", "USD", "GBP", "JPY", "AED", "CHF")


def warm() -> None:
    """Before the snapshot: everything a first request would load that is the same for every copy."""
    dynamodb()  # imports botocore and loads the service model; no request is made
    records.prepare(DropCatalog, PricingPolicy, LandingQuery, PickupPageQuery)  # what shopper pages read
    for locale in UI_LOCALES:
        text_direction(locale)
        display_name(locale)
        for page in SHIPPED_PAGES:
            template(locale, page)
        for currency in WARM_CURRENCIES:
            formatting.money(12_345, currency, locale)
    gc.freeze()  # all of it lives as long as the process: no restored copy's collections scan it


def renew() -> None:
    """After a restore: this copy's own randomness, and a client and keys made from now on."""
    random.seed()
    reset_client()
    forget_keys()


def register() -> None:
    """Hand ``warm`` and ``renew`` to the runtime (a no-op where its hooks library is absent)."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:  # not a SnapStart runtime (the studio's function, an older Python)
        return
    register_before_snapshot(warm)
    register_after_restore(renew)
