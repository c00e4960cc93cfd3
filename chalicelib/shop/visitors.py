"""The visitor: a random first-party id and what we know of them, signed into the ``dfv`` cookie, and
for the edge into the ``dfs`` cookie (``edge/segment.py``), which is also how a visitor the edge gave
an id is known here.

A signed campaign link (``?c=<token>``) can add a loyalty tier or a creator cohort; a QR scan adds the
pop-up they are at. A missing, tampered or expired token makes the visitor anonymous (or keeps what
their cookie says); that is never an error.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.config import settings
from chalicelib.core.cookies import cookie_value
from chalicelib.core.errors import Forbidden
from chalicelib.core.models import LABEL_PATTERN
from chalicelib.core.tokens import LIFETIMES, InvalidToken, Purpose, sign, signing_keys, verify, verify_repeated
from chalicelib.edge.segment import COOKIE_NAME as EDGE_COOKIE
from chalicelib.edge.segment import Grant, Profile, edge_keys, seal, seal_grant, unseal, unseal_grant

COOKIE_NAME = "dfv"
LABEL = re.compile(LABEL_PATTERN)


@dataclass(frozen=True)
class Visitor:
    id: str
    is_new: bool
    tier: str | None = None
    cohort: str | None = None
    popup: str | None = None

    def payload(self) -> dict[str, str]:
        fields = {"v": self.id, "t": self.tier, "k": self.cohort, "p": self.popup}
        return {key: value for key, value in fields.items() if value}

    @property
    def profile(self) -> Profile:
        return Profile(self.id, self.tier, self.cohort, self.popup)


def _label(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) and LABEL.match(value) else None


def _from_cookie(token: str | None) -> Visitor | None:
    if not token:
        return None
    try:
        payload = verify_repeated(Purpose.VISITOR, token)
    except InvalidToken:
        return None
    if isinstance(payload, str):  # cookies signed before profiles existed
        payload = {"v": payload}
    visitor_id = payload.get("v") if isinstance(payload, dict) else None
    if not isinstance(visitor_id, str) or not 8 <= len(visitor_id) <= 64:
        return None
    return Visitor(visitor_id, False, _label(payload, "t"), _label(payload, "k"), _label(payload, "p"))


def campaign_link(*, tier: str | None = None, cohort: str | None = None, now: datetime | None = None) -> str:
    """A signed ``?c=`` value granting a tier or a cohort (for marketers' links), for the campaign
    token's lifetime; signed with the newest edge key, so the edge can verify it (``edge/segment.py``)."""
    expires = (now or datetime.now(UTC)) + LIFETIMES[Purpose.CAMPAIGN]
    return seal_grant(Grant(tier, cohort, int(expires.timestamp())), edge_keys(signing_keys())[-1])


def _granted(campaign: str) -> tuple[str | None, str | None] | None:
    """The tier and cohort a campaign link grants: the edge's form, or one signed before it (itsdangerous)."""
    grant = unseal_grant(campaign, edge_keys(signing_keys()), int(datetime.now(UTC).timestamp()))
    if grant is not None:
        return grant.tier, grant.cohort
    try:
        claim = verify(Purpose.CAMPAIGN, campaign)
    except InvalidToken:
        return None
    return (_label(claim, "t"), _label(claim, "k")) if isinstance(claim, dict) else None


def _from_edge_cookie(value: str | None) -> Visitor | None:
    profile = unseal(value, edge_keys(signing_keys()))
    if profile is None:
        return None
    return Visitor(profile.visitor_id, False, profile.tier, profile.cohort, profile.popup)


def identify(
    cookie_header: str | None, campaign: str | None = None, popup: str | None = None, minted: str | None = None
) -> tuple[Visitor, tuple[str, ...]]:
    """The visitor, and the ``Set-Cookie`` values to send: both cookies when the visitor is new, or
    when a campaign link or a QR scan at ``popup`` changed what we know of them; the edge's alone
    when it does not say what the ``dfv`` cookie says (behind an edge only). ``minted`` is the sealed id the edge gave a
    visitor who came without a cookie (it sets that cookie itself on the way out)."""
    visitor = _from_cookie(cookie_value(cookie_header, COOKIE_NAME))
    changed = visitor is None
    if visitor is None:
        visitor = _from_edge_cookie(cookie_value(cookie_header, EDGE_COOKIE))
        changed = False
    if visitor is None:
        given = unseal(minted, edge_keys(signing_keys()))
        visitor, changed = Visitor(given.visitor_id if given else secrets.token_urlsafe(12), True), True
    if campaign and (granted := _granted(campaign)) is not None:
        tier, cohort = granted[0] or visitor.tier, granted[1] or visitor.cohort
        if (tier, cohort) != (visitor.tier, visitor.cohort):
            visitor, changed = replace(visitor, tier=tier, cohort=cohort), True
    if popup and LABEL.match(popup) and popup != visitor.popup:
        visitor, changed = replace(visitor, popup=popup), True
    cookies: tuple[str, ...] = (
        (set_cookie_header(COOKIE_NAME, sign(Purpose.VISITOR, visitor.payload())),) if changed else ()
    )
    if settings().behind_edge:
        edge_cookie = seal(visitor.profile, edge_keys(signing_keys())[-1])
        if edge_cookie != cookie_value(cookie_header, EDGE_COOKIE):
            cookies += (set_cookie_header(EDGE_COOKIE, edge_cookie),)
    return visitor, cookies


def form_token(visitor_id: str) -> str:
    """The token a shopper form carries: bound to the visitor, so a form posted from another site
    (which cannot read our page) has none that verifies for the visitor's cookie."""
    return sign(Purpose.SHOPPER_FORM, {"v": visitor_id})


def check_form_token(token: str, visitor: Visitor, *, same_origin: bool) -> None:
    """``Forbidden`` unless ``token`` is a live form token made for this visitor, or the form has none
    (a page CloudFront serves to a whole segment cannot carry one) and the browser said it was sent
    from our own page (``same_origin``: its ``Origin`` or ``Sec-Fetch-Site``)."""
    try:
        claim = verify(Purpose.SHOPPER_FORM, token) if token and len(token) <= 512 else None
    except InvalidToken:
        claim = None
    vouched = isinstance(claim, dict) and claim.get("v") == visitor.id
    if visitor.is_new or not (vouched or (not token and same_origin)):
        raise Forbidden(
            "This form has expired or was not sent from this shop. Reload the page and try again.",
            code="form_expired",
        )


def set_cookie_header(name: str, value: str) -> str:
    max_age = int(LIFETIMES[Purpose.VISITOR].total_seconds())
    return f"{name}={value}; Max-Age={max_age}; Path=/; Secure; HttpOnly; SameSite=Lax"


def cookie_headers(*values: str) -> dict[str, str | list[str]]:
    """The response headers that set these cookies (``Set-Cookie`` values): one header each."""
    if not values:
        return {}
    return {"Set-Cookie": values[0] if len(values) == 1 else list(values)}
