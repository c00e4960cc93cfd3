"""The one place the table's shape is written down. infra/ and the tests build the table from here.

Items and their keys::

    pk                   sk                      what
    DROP#<slug>          META                    a drop (also gsi1: DROPS / <starts_at>#<slug>)
    DROP#<slug>          SKU#g<gen>#<pos>#<sku>  a SKU of the drop's generation <gen>, in display order
    DROP#<slug>          BATCH#<id>              a production batch: SKU, place, units per size, ready date, received
    POLICY#<slug>        CURRENT                 the drop's current pricing policy (JSON, with its version)
    POLICY#<slug>        v<version>              every policy version, immutable, for replay
    POLICY#<slug>        SPEND                   what budgeted rules granted: <rule>@<cur>[@at:<popup>|@day:<date>]
    LOC#<id>             META                    a location: the web shop or a pop-up
    STOCK#<slug>#g<gen>  <sku>#<size>#<location> stock of generation <gen>: on_hand, held, sold, available, the holds
                                                 (a map), the till sale ids applied, and day counters; a hot
                         …#s<kk>                 size's shards 1..N-1 beside it, each the same shape (shard: kk)
    TILLSALE#<slug>      <sale id>               a till sale with counters or on a sharded size (its once-only
                                                 marker): SKU, size, units, when, the units per shard (parts);
                                                 units returned so far
    RETURN#<return id>   META                    a return (and exchange) at a pop-up, applied once
    SLOT#<popup>         <slot start, UTC>       a pickup slot's bookings against its capacity; a large slot's
                         …#s<kk>                 shards 1..N-1 beside it, each against its share
    BOOKING#<code>       META                    a pickup booking (also gsi1: PICKUPS#<popup> / <slot>#<code>)
    IDEM#<key>           META                    an Idempotency-Key's request hash and response (TTL)
    TILL#<token id>      META                    a till token issued to a pop-up, and its revocation
    FOOTFALL#<popup>     <at, UTC>               one door-counter reading (applied once)
    FOOTFALL#<popup>     DAY#<local date>        the day's footfall total
    TRYON#<id>           META                    a try-on request and its hold (also gsi1: TRYONS#<popup> / <id>)
    VISITOR#<id>         TRYONS                  the visitor's try-on places: s<n> = {id, exp}, one per live try-on
    QUEUE#<popup>        <local date>            the pop-up's last try-on queue number that day (TTL)
    VISITOR#<id>         HOLDS                   the visitor's checkout-hold places: h<n> = {id, exp}
    HOLD#<id>            META                    a checkout hold: its lines, owner, expiry and state
    MSG#<id>             META                    an outbox message and its state
                                                 (also gsi1: MAILTO#<email> / <created>#<id>)
    OUTBOX#DUE           <not before>#<id>       a message waiting to be sent (epoch seconds, zero-padded)
    NOTIFY#<slug>        <sku|*>#<size|*>#<hash> who asked to hear when the drop opens or a size is back
    FUNNEL#<slug>        <sku>#<popup>           the QR funnel's day counters: <step>@<local date>
    TEMPLATE#<name>      v<version>              a marketer's saved template version (immutable)
    TEMPLATE#<name>      CURRENT                 latest, published and previous versions, a scheduled publish
    NUMBERS#<slug>       TOTALS#<00..15>         the studio's counters, over 16 items summed when read: per cohort
                                                 units/list/paid/cost@<currency>, per experiment cell seen
                                                 (new visitors) and booked
    AUDIT#<slug>         <at, UTC>#<id>          who changed what in the studio (drop, pricing, import)
    IMPORT#<slug>        JOB                     the drop's import lease: the latest generation taken, the
                                                 running import's state and progress, generations unreachable
    CUSTOMER#<hash>      DROP#<slug>             what one customer (hashed email) has booked of a drop:
                                                 units@<sku>#<size> and discounted (the limits' ledger)
    CUSTOMER#<hash>      PROFILE                 first seen, the pop-up they first bought at, purchases
    CUSTOMER#<hash>      AT#<slug>#<pop-up>      they bought at this drop's pop-up (once, for the numbers)
    VISITOR#<id>         DROP#<slug>             the same per visitor cookie
    ROOM#<slug>          ARRIVALS#<epoch minute> the waiting room's tickets issued per second: s<00..59>, added
                                                 by each process at most once a second (TTL: a day)
    SESSION#<id>         META                    a studio session ended by logging out (TTL: when it would end)
    LOGIN#<address hash> <window>                failed studio logins from one address in a window (TTL)
    TILL#<token id>      META                    (also gsi1: TILLS#<popup> / <issued at>) for the staff page

A drop's SKUs and stock belong to a generation (``Drop.generation``, on its META item). An import
writes a new generation beside the live one and then moves the META item's pointer with one
conditional write, so a failed import leaves only unreachable items, which the next import deletes.

``available`` is stored, not derived: DynamoDB conditions cannot do arithmetic, so every write that
changes on_hand, held or sold changes ``available`` in the same update and conditions on it.
Expiring items carry ``expires_at`` (epoch seconds), the table's TTL attribute; readers filter on it
because DynamoDB may return expired items for up to 48 hours.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date
from typing import Any

PK = "pk"
SK = "sk"
GSI1 = "gsi1"
GSI1_PK = "gsi1pk"
GSI1_SK = "gsi1sk"
TTL_ATTRIBUTE = "expires_at"

META = "META"
DROPS_INDEX_PK = "DROPS"


def key_of(key: Mapping[str, Any]) -> tuple[str, str]:
    """A key as ``client.batch_items`` files the item found there: (pk, sk)."""
    return key[PK]["S"], key[SK]["S"]


def drop_partition(slug: str) -> str:
    return f"DROP#{slug}"


def sku_sort_key(generation: int, position: int, sku: str) -> str:
    return f"{sku_prefix(generation)}{position:04d}#{sku}"


BATCH_PREFIX = "BATCH#"


def batch_key(slug: str, batch_id: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": drop_partition(slug)}, SK: {"S": f"{BATCH_PREFIX}{batch_id}"}}


def sku_prefix(generation: int) -> str:
    """What the sort keys of one generation's SKU items begin with."""
    return f"SKU#g{generation}#"


def policy_key(slug: str, version: int | None = None) -> dict[str, dict[str, str]]:
    """The current policy's key, or one version's."""
    return {PK: {"S": f"POLICY#{slug}"}, SK: {"S": "CURRENT" if version is None else f"v{version:06d}"}}


def spend_key(slug: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"POLICY#{slug}"}, SK: {"S": "SPEND"}}


def location_key(location_id: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"LOC#{location_id}"}, SK: {"S": META}}


def stock_partition(slug: str, generation: int) -> str:
    return f"STOCK#{slug}#g{generation}"


def stock_sort_key(sku: str, size: str, location_id: str, shard: int = 0) -> str:
    """Shard 0 is the unsharded item's key; shard k > 0 adds ``#s<kk>`` (``chalicelib/stock/shards.py``)."""
    group = f"{sku}#{size}#{location_id}"
    return f"{group}#s{shard:02d}" if shard else group


def stock_group(sort_key: str) -> tuple[str, str, str]:
    """The (SKU, size, location) a stock item's sort key names, whichever shard it is: a read can
    take them from the key instead of projecting three more attributes."""
    sku, size, location_id = sort_key.split("#", 3)[:3]
    return sku, size, location_id


def stock_key(
    slug: str, generation: int, sku: str, size: str, location_id: str, shard: int = 0
) -> dict[str, dict[str, str]]:
    return {PK: {"S": stock_partition(slug, generation)}, SK: {"S": stock_sort_key(sku, size, location_id, shard)}}


def till_sale_key(slug: str, sale_id: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"TILLSALE#{slug}"}, SK: {"S": sale_id}}


def return_key(return_id: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"RETURN#{return_id}"}, SK: {"S": META}}


def slot_key(popup: str, start_iso: str, shard: int = 0) -> dict[str, dict[str, str]]:
    """Shard 0 is the unsharded slot's key; shard k > 0 adds ``#s<kk>`` (its share of the places)."""
    return {PK: {"S": f"SLOT#{popup}"}, SK: {"S": f"{start_iso}#s{shard:02d}" if shard else start_iso}}


def slot_partition(popup: str) -> str:
    return f"SLOT#{popup}"


def booking_key(code: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"BOOKING#{code}"}, SK: {"S": META}}


def pickups_index_partition(popup: str) -> str:
    return f"PICKUPS#{popup}"


def idempotency_key(key: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"IDEM#{key}"}, SK: {"S": META}}


def till_key(token_id: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"TILL#{token_id}"}, SK: {"S": META}}


def footfall_key(popup: str, sort_key: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"FOOTFALL#{popup}"}, SK: {"S": sort_key}}


def tryon_key(tryon_id: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"TRYON#{tryon_id}"}, SK: {"S": META}}


def queue_counter_key(popup: str, day: date) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"QUEUE#{popup}"}, SK: {"S": day.isoformat()}}


def tryons_index_partition(popup: str) -> str:
    return f"TRYONS#{popup}"


def visitor_tryons_key(visitor_id: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"VISITOR#{visitor_id}"}, SK: {"S": "TRYONS"}}


def visitor_holds_key(visitor_id: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"VISITOR#{visitor_id}"}, SK: {"S": "HOLDS"}}


def checkout_hold_key(hold_id: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"HOLD#{hold_id}"}, SK: {"S": META}}


def message_key(message_id: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"MSG#{message_id}"}, SK: {"S": META}}


OUTBOX_DUE = "OUTBOX#DUE"


def outbox_due_key(not_before: int, message_id: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": OUTBOX_DUE}, SK: {"S": f"{not_before:010d}#{message_id}"}}


def mailto_index_partition(email: str) -> str:
    return f"MAILTO#{email.strip().lower()}"


def notify_partition(slug: str) -> str:
    return f"NOTIFY#{slug}"


def subscription_key(slug: str, key: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": notify_partition(slug)}, SK: {"S": key}}


def funnel_partition(slug: str) -> str:
    return f"FUNNEL#{slug}"


def funnel_key(slug: str, sku: str, popup: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": funnel_partition(slug)}, SK: {"S": f"{sku}#{popup}"}}


NUMBER_SHARDS = 16
"""The studio's counters of a drop are spread over this many items: every booking, till sale and
first visit adds to them, and one item would be the launch's hottest (bench/load_model.py)."""


def room_partition(slug: str) -> str:
    return f"ROOM#{slug}"


def arrivals_key(slug: str, minute: int) -> dict[str, dict[str, str]]:
    return {PK: {"S": room_partition(slug)}, SK: {"S": f"ARRIVALS#{minute:011d}"}}


def numbers_partition(slug: str) -> str:
    return f"NUMBERS#{slug}"


def numbers_key(slug: str) -> dict[str, dict[str, str]]:
    """One of the drop's counter items, chosen at random: a write adds to any one, a read sums all."""
    shard = random.randrange(NUMBER_SHARDS)  # noqa: S311 - spreading load, not a secret
    return {PK: {"S": numbers_partition(slug)}, SK: {"S": f"TOTALS#{shard:02d}"}}


def audit_partition(slug: str) -> str:
    return f"AUDIT#{slug}"


def import_job_key(slug: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"IMPORT#{slug}"}, SK: {"S": "JOB"}}


def tills_index_partition(popup: str) -> str:
    return f"TILLS#{popup}"


def template_partition(name: str) -> str:
    return f"TEMPLATE#{name}"


def table_definition(table_name: str) -> dict[str, Any]:
    """``create_table`` arguments for the table (on-demand billing)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in (PK, SK, GSI1_PK, GSI1_SK)],
        "KeySchema": [
            {"AttributeName": PK, "KeyType": "HASH"},
            {"AttributeName": SK, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": GSI1,
                "KeySchema": [
                    {"AttributeName": GSI1_PK, "KeyType": "HASH"},
                    {"AttributeName": GSI1_SK, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }


def ended_session_key(session_id: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"SESSION#{session_id}"}, SK: {"S": META}}


def login_attempts_key(address_hash: str, window: int) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"LOGIN#{address_hash}"}, SK: {"S": str(window)}}


def customer_ledger_key(customer: str, slug: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"CUSTOMER#{customer}"}, SK: {"S": f"DROP#{slug}"}}


def customer_profile_key(customer: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"CUSTOMER#{customer}"}, SK: {"S": "PROFILE"}}


def customer_at_key(customer: str, slug: str, popup: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"CUSTOMER#{customer}"}, SK: {"S": f"AT#{slug}#{popup}"}}


def visitor_ledger_key(visitor_id: str, slug: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"VISITOR#{visitor_id}"}, SK: {"S": f"DROP#{slug}"}}


def units_attribute(sku: str, size: str) -> str:
    return f"units@{sku}#{size}"


DISCOUNTED_ATTRIBUTE = "discounted"
