"""The segment key: everything about a visitor that can change a drop's page, and nothing that names
them. CloudFront caches a landing page per (drop, locale, market, segment key) for a second, so a
flash sale's crowd costs the origin a few renders a second, not one per view.

The key's inputs travel in the ``dfs`` cookie, an HMAC-SHA256-signed profile (visitor id, tier,
cohort, pop-up scanned at) the edge can verify with a key derived from the app's signing keys; the
CloudFront Function (``infra/edge/storefront.js``) adds the experiment cells and the nearest pop-up
from the drop's edge document (``edge/documents.py``) and hands the key to the origin in a header.
This module is the Python twin of the function's rules: the app reads and writes the same cookie,
renders a page from a key, and tests hold both to the same answers. Pure: hashing only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

COOKIE_NAME = "dfs"
SEGMENT_HEADER = "x-dropfront-segment"
MINTED_HEADER = "x-dropfront-minted"  # a visitor the edge just gave an id: new, not returning
EDGE_KEY_CONTEXT = b"dropfront edge segment key v1"
SIGNATURE_CONTEXT = "dfs1:"
GRANT_CONTEXT = "dfc1:"  # a campaign link's grant: another purpose, so neither verifies as the other
VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
LABEL = re.compile(r"^[a-z0-9-]{1,40}$")
CELL = re.compile(r"^[a-z0-9-]{1,40}\.[a-z0-9-]{1,30}$")
MAX_KEY_CHARS = 512


@dataclass(frozen=True, slots=True)
class EdgeKey:
    """A key the edge verifies segment cookies with: derived from one signing key, so the signing
    keys themselves never leave Secrets Manager, and named by ``kid`` so two can be valid at once."""

    kid: str
    secret: bytes


@lru_cache(maxsize=4)
def edge_keys(signing_keys: tuple[str, ...]) -> tuple[EdgeKey, ...]:
    """One edge key per signing key, oldest to newest (the newest signs)."""
    keys = []
    for signing_key in signing_keys:
        secret = hmac.new(signing_key.encode(), EDGE_KEY_CONTEXT, hashlib.sha256).digest()
        keys.append(EdgeKey(hashlib.sha256(secret).hexdigest()[:8], secret))
    return tuple(keys)


@dataclass(frozen=True, slots=True)
class Profile:
    """What the ``dfs`` cookie says of a visitor (the ``dfv`` cookie's profile, signed for the edge)."""

    visitor_id: str
    tier: str | None = None
    cohort: str | None = None
    popup: str | None = None

    @property
    def payload(self) -> str:
        fields = (("v", self.visitor_id), ("t", self.tier), ("k", self.cohort), ("p", self.popup))
        return "~".join(f"{name}:{value}" for name, value in fields if value)


def _signature(key: EdgeKey, payload: str, context: str = SIGNATURE_CONTEXT) -> str:
    digest = hmac.new(key.secret, (context + payload).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _fields(payload: str, names: str) -> dict[str, str] | None:
    """``name:value`` fields joined by ``~``, each of ``names`` at most once; None if malformed."""
    fields: dict[str, str] = {}
    for field in payload.split("~"):
        name, colon, text = field[:1], field[1:2], field[2:]
        if colon != ":" or not name or name not in names or name in fields:
            return None
        fields[name] = text
    return fields


def seal(profile: Profile, key: EdgeKey) -> str:
    """The ``dfs`` cookie's value for ``profile``."""
    return f"{profile.payload}.{key.kid}.{_signature(key, profile.payload)}"


def _signed(value: str | None, keys: Sequence[EdgeKey], context: str) -> str | None:
    """The payload of ``payload.kid.signature`` if one of ``keys`` signed it for ``context``."""
    parts = value.split(".") if value and len(value) <= MAX_KEY_CHARS else []
    key = next((k for k in keys if len(parts) == 3 and k.kid == parts[1]), None)
    if key is None or not hmac.compare_digest(_signature(key, parts[0], context), parts[2]):
        return None
    return parts[0]


def unseal(value: str | None, keys: Sequence[EdgeKey]) -> Profile | None:
    """The profile a ``dfs`` value carries, or None unless one of ``keys`` signed it as it is."""
    payload = _signed(value, keys, SIGNATURE_CONTEXT)
    fields = _fields(payload, "vtkp") if payload is not None else None
    if fields is None or "v" not in fields:
        return None
    if not VISITOR_ID.match(fields["v"]) or not all(LABEL.match(fields[n]) for n in "tkp" if n in fields):
        return None
    return Profile(fields["v"], fields.get("t"), fields.get("k"), fields.get("p"))


@dataclass(frozen=True, slots=True)
class Grant:
    """What a campaign link gives: a tier, a cohort, until ``expires`` (Unix seconds)."""

    tier: str | None
    cohort: str | None
    expires: int


def seal_grant(grant: Grant, key: EdgeKey) -> str:
    """A campaign link's ``?c=`` value: the edge verifies it and seals the grant into the visitor's
    segment cookie itself, so the link's page is kept for the segment like any other."""
    fields = (("t", grant.tier), ("k", grant.cohort), ("e", str(grant.expires)))
    payload = "~".join(f"{name}:{value}" for name, value in fields if value)
    return f"{payload}.{key.kid}.{_signature(key, payload, GRANT_CONTEXT)}"


def unseal_grant(value: str | None, keys: Sequence[EdgeKey], now: int) -> Grant | None:
    """The grant a ``?c=`` value carries, or None if not signed as it is, or expired."""
    payload = _signed(value, keys, GRANT_CONTEXT)
    fields = _fields(payload, "tke") if payload is not None else None
    if fields is None or not fields.get("e", "").isdigit() or int(fields["e"]) <= now:
        return None
    tier, cohort = fields.get("t"), fields.get("k")
    if not (tier or cohort) or not all(LABEL.match(label) for label in (tier, cohort) if label is not None):
        return None
    return Grant(tier, cohort, int(fields["e"]))


def minted_id(request_id: str) -> str:
    """The id the edge gives a visitor who arrived without a cookie (from CloudFront's request id,
    so its viewer-response event sets the cookie its viewer-request event used)."""
    digest = hashlib.sha256(f"dfv-id:{request_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:16]


@dataclass(frozen=True, slots=True)
class SegmentKey:
    """What a landing page may vary by, besides the drop, locale and market: new or returning, tier,
    cohort, the pop-up scanned at, the nearest pop-up, the experiment cells (``experiment.cell``) and
    the policy version the cells were drawn under. The edge leaves out what the drop's policy does not
    price by (``returning`` None: no rule tells new visitors from returning ones)."""

    returning: bool | None
    tier: str | None = None
    cohort: str | None = None
    popup: str | None = None
    near: str | None = None
    cells: tuple[str, ...] = ()
    policy: int | None = None

    @property
    def text(self) -> str:
        parts = ["a" if self.returning is None else "r" if self.returning else "n"]
        fields = (("t", self.tier), ("k", self.cohort), ("p", self.popup), ("g", self.near))
        parts += [f"{name}:{value}" for name, value in fields if value]
        if self.cells:
            parts.append("x:" + "+".join(self.cells))
        if self.policy is not None:
            parts.append(f"v:{self.policy}")
        return "~".join(parts)


def parse_segment(text: str | None) -> SegmentKey | None:
    """The key in its header form, or None when it is absent or not one the edge writes."""
    if not text or len(text) > MAX_KEY_CHARS:
        return None
    head, *rest = text.split("~")
    if head not in ("r", "n", "a"):
        return None
    fields = _fields("~".join(rest), "tkpgxv") if rest else {}
    if fields is None:
        return None
    labels = [fields.get(name) for name in "tkpg"]
    cells = tuple(fields["x"].split("+")) if "x" in fields else ()
    version = fields.get("v")
    if any(label is not None and not LABEL.match(label) for label in labels):
        return None
    if not all(CELL.match(cell) for cell in cells) or (version is not None and not version.isdigit()):
        return None
    tier, cohort, popup, near = labels
    returning = None if head == "a" else head == "r"
    return SegmentKey(returning, tier, cohort, popup, near, cells, int(version) if version is not None else None)
