"""QR tags: the signed token a garment's tag carries, and where a scanned tag hangs.

A tag's token binds a pop-up, a SKU and optionally a size, and nothing else (no price: prices are
worked out for the visitor on every request).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from chalicelib.catalog.reader import Catalog
from chalicelib.core.errors import Forbidden, NotFound
from chalicelib.core.models import SKU_PATTERN, SLUG_PATTERN, DropCatalog, Location, Sku, local_day
from chalicelib.core.tokens import InvalidToken, Purpose, sign, verify

MAX_TOKEN_LENGTH = 256
_SLUG, _SKU = re.compile(SLUG_PATTERN), re.compile(SKU_PATTERN)


@dataclass(frozen=True, slots=True)
class Tag:
    popup: str
    sku: str
    size: str | None = None


def tag_token(tag: Tag) -> str:
    """The signed token a printed tag carries: ``popup#sku(#size)``, compact to keep the QR small."""
    return sign(Purpose.QR, [tag.popup, tag.sku] + ([tag.size] if tag.size else []))


def read_tag(token: str) -> Tag:
    """The tag a token was signed for; ``NotFound`` for anything else (tampered, expired, another
    purpose's token, or a shape we never sign)."""
    not_ours = NotFound("This tag is not one we know. Ask a member of staff for help.", code="tag_not_found")
    if len(token) > MAX_TOKEN_LENGTH:
        raise not_ours
    try:
        claim = verify(Purpose.QR, token)
    except InvalidToken:
        raise not_ours from None
    if not isinstance(claim, list) or not 2 <= len(claim) <= 3 or not all(isinstance(part, str) for part in claim):
        raise not_ours
    popup, sku, *size = claim
    if not _SLUG.match(popup) or not _SKU.match(sku):
        raise not_ours
    return Tag(popup, sku, size[0] if size else None)


def scan_claim(tag: Tag, visitor_id: str) -> str:
    """What the tag's page gives the visitor who opened it: a short-lived, signed proof of a recent
    scan of this garment at this pop-up, which a try-on needs. A script that never opened the page,
    or a client that dropped its cookie since, holds nothing on the rail."""
    return sign(Purpose.SCAN, [visitor_id, tag.popup, tag.sku])


def check_scan(claim: str, tag: Tag, visitor_id: str) -> None:
    """``Forbidden`` (``scan_required``) unless ``claim`` is this visitor's recent scan of this tag."""
    try:
        scanned = verify(Purpose.SCAN, claim)
    except InvalidToken:
        scanned = None
    if scanned != [visitor_id, tag.popup, tag.sku]:
        raise Forbidden("Scan the garment's tag again to try it on.", code="scan_required")


def tag_url(base_url: str, tag: Tag) -> str:
    return f"{base_url}/t/{tag_token(tag)}"


@dataclass(frozen=True)
class TagPlace:
    """Where a tag hangs: the drop and SKU it is for, at which pop-up."""

    catalog: DropCatalog
    sku: Sku
    popup: Location
    size: str | None  # the tag's size, if it is one of the SKU's

    @property
    def slug(self) -> str:
        return self.catalog.drop.slug

    def day(self, now: datetime) -> date:
        return local_day(self.popup.timezone, now)


def locate(catalog: Catalog, tag: Tag) -> TagPlace:
    """The drop at the tag's pop-up that sells its SKU; ``NotFound`` if none does any more."""
    for drop_catalog in catalog.drops_at(tag.popup):
        sku = next((s for s in drop_catalog.skus if s.sku == tag.sku), None)
        popup = next((loc for loc in drop_catalog.locations if loc.id == tag.popup and loc.kind == "popup"), None)
        if sku is not None and popup is not None:
            return TagPlace(drop_catalog, sku, popup, tag.size if tag.size in sku.sizes else None)
    raise NotFound("This garment is not on sale here any more.", code="tag_not_found")
