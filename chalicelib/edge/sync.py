"""Keep the edge's store true: the segment keys, copied from the signing keys (a rotation reaches the
edge within a minute; a deploy runs it at once), and the drops' documents, whenever a policy or a
pop-up changes. The minute sweep runs it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from chalicelib import telemetry
from chalicelib.catalog.reader import Catalog
from chalicelib.edge.documents import Plan, drop_document, drop_entry_name, key_entries, plan
from chalicelib.edge.ports import EdgeStore
from chalicelib.edge.segment import EdgeKey


def drop_documents(catalog: Catalog, slugs: Iterable[str]) -> dict[str, str | None]:
    """Each drop's edge document, or None where its policy could not be read (its document stays)."""
    documents: dict[str, str | None] = {}
    for slug in slugs:
        read = catalog.policy(slug)
        name = drop_entry_name(slug)
        policy, locations = read.policy, catalog.drop(slug).locations
        if read.failed:
            documents[name] = None
        elif policy is None:
            documents[name] = drop_document(None, (), (), locations)
        else:
            segments = (rule.segment for rule in policy.segment_rules)
            documents[name] = drop_document(policy.version, policy.experiments, segments, locations)
    return documents


def sync_edge(store: EdgeStore, keys: Sequence[EdgeKey], catalog: Catalog, now: datetime) -> Plan:
    """Make the store hold every current key (the newest mints) and every public drop's document;
    retired keys and the documents of drops no longer public are removed. One read of the store."""
    current = store.entries()
    documents = drop_documents(catalog, [drop.slug for drop, _ in catalog.public_drops(now)])
    wanted = key_entries(keys) | {
        name: document if document is not None else current.get(name) for name, document in documents.items()
    }
    kept = {name: value for name, value in wanted.items() if value is not None}
    changes = plan(current, kept, ("k.", "d."))
    for name, value in changes.put.items():
        store.put(name, value)
    for name in changes.delete:
        store.delete(name)
    for name in changes.too_large:
        telemetry.logger.warning(
            "edge document too large for the key value store: its pages are rendered per visitor, uncached",
            extra={"entry": name},
        )
    if changes.put or changes.delete:
        telemetry.logger.info("edge store updated", extra={"put": sorted(changes.put), "deleted": changes.delete})
    return changes
