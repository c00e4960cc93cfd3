"""Who is using the studio, and what they may do.

A request is authenticated by ``Authorization: Bearer <token>`` (API clients) or by the session cookie
that logging in with such a token sets (``__Host-``, Secure, HttpOnly, SameSite=Strict; signed, 12 h).
Locally the token is ``DROPFRONT_STUDIO_TOKEN`` and carries every role; in production it is a
Cognito ID or access token whose groups are the roles (``chalicelib.studio.cognito``). Forms posted with a session
cookie carry a CSRF token signed for that session; bearer requests need none (a bearer is never sent
by the browser on its own).

Logging out ends the session on the server too (a copied cookie stops working), and wrong tokens are
counted per client address: after ``LOGIN_FAILURES`` in a ``LOGIN_WINDOW_SECONDS`` window, that
address waits for the next window.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from chalicelib.config import settings
from chalicelib.core.cookies import cookie_value
from chalicelib.core.errors import Forbidden, RateLimited, Unauthorized
from chalicelib.core.tokens import LIFETIMES, InvalidToken, Purpose, sign, verify
from chalicelib.studio.cognito import groups_of, looks_like_jwt, subject_of, verified_claims
from chalicelib.web.request import bearer_token


class Role(StrEnum):
    EDITOR = "editor"  # edits drafts
    PUBLISHER = "publisher"  # publishes, schedules and rolls back
    STAFF = "staff"  # runs a pop-up: try-ons, pickups, tills


SESSION_COOKIE = "__Host-dfs"


ROLE_NAMES = frozenset(role.value for role in Role)


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[Role]
    session: str | None = None  # the session id, when authenticated by cookie
    expires: int | None = None  # epoch seconds: a Cognito sign-in ends with its token

    def require(self, role: Role) -> None:
        if role not in self.roles:
            raise Forbidden(f"This needs the {role.value} role.", code="missing_role")

    def require_any(self, *roles: Role) -> None:
        if not self.roles.intersection(roles):
            names = " or ".join(role.value for role in roles)
            raise Forbidden(f"This needs the {names} role.", code="missing_role")


LOGIN_WINDOW_SECONDS = 300
LOGIN_FAILURES = 10
"""Wrong tokens one address may try per window: plenty for a person mistyping, nothing for a guesser
(and a pop-up's staff sharing one Wi-Fi fail far less often than that)."""


class SignIns(Protocol):
    """Where sign-ins are remembered across instances: ended sessions and attempts per address."""

    def end_session(self, session_id: str, until: int) -> None: ...

    def session_ended(self, session_id: str) -> bool: ...

    def take_login_attempt(self, address_hash: str, window: int, limit: int, until: int) -> bool: ...

    def give_back_login_attempt(self, address_hash: str, window: int) -> None: ...


def log_in(token: str, address: str, sign_ins: SignIns, now: float) -> Principal:
    """The token's principal, counting a wrong token against the client's address; ``RateLimited``
    (with how long to wait) once the address has used up its window, before the token is looked at."""
    window = int(now) // LOGIN_WINDOW_SECONDS
    window_ends = (window + 1) * LOGIN_WINDOW_SECONDS
    address_hash = hashlib.sha256(address.encode()).hexdigest()[:32]  # the address itself is not kept
    if not sign_ins.take_login_attempt(address_hash, window, LOGIN_FAILURES, window_ends + LOGIN_WINDOW_SECONDS):
        wait = window_ends - int(now)
        raise RateLimited(
            f"Too many wrong tokens from this address. Try again in {max(1, round(wait / 60))} min.",
            code="too_many_logins",
            retry_after=wait,
        )
    try:
        principal = from_token(token)
    except Unauthorized:
        raise
    except Exception:
        sign_ins.give_back_login_attempt(address_hash, window)  # our failure (Cognito away), not theirs
        raise
    sign_ins.give_back_login_attempt(address_hash, window)
    return principal


def log_out(principal: Principal, sign_ins: SignIns) -> None:
    """End the session everywhere: its cookie is refused from now until it would have expired."""
    if principal.session is not None:
        lifetime = int(LIFETIMES[Purpose.STUDIO_SESSION].total_seconds())
        sign_ins.end_session(principal.session, principal.expires or int(time.time()) + lifetime)


def from_token(token: str) -> Principal:
    """The principal a token stands for: a Cognito JWT (when a user pool is configured) with its
    groups as roles, or the local studio token with every role; ``Unauthorized`` otherwise."""
    config = settings()
    if config.cognito_issuer and config.cognito_client_id and looks_like_jwt(token):
        claims = verified_claims(token, config.cognito_issuer, config.cognito_client_id)
        roles = frozenset(Role(group) for group in groups_of(claims) if group in ROLE_NAMES)
        return Principal(subject_of(claims), roles, expires=int(claims["exp"]))
    expected = config.studio_token
    if expected is None or not secrets.compare_digest(token.encode(), expected.encode()):
        raise Unauthorized("That studio token is not valid.", code="invalid_token")
    return Principal("dev", frozenset(Role))


def session_cookie(principal: Principal) -> str:
    """The ``Set-Cookie`` value that keeps ``principal`` logged in."""
    claim: dict[str, Any] = {"s": principal.subject, "r": sorted(principal.roles), "i": secrets.token_urlsafe(12)}
    if principal.expires is not None:
        claim["x"] = principal.expires
    max_age = int(LIFETIMES[Purpose.STUDIO_SESSION].total_seconds())
    value = sign(Purpose.STUDIO_SESSION, claim)
    return f"{SESSION_COOKIE}={value}; Max-Age={max_age}; Path=/; Secure; HttpOnly; SameSite=Strict"


def clear_session_cookie() -> str:
    return f"{SESSION_COOKIE}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Strict"


def authenticate(headers: Any, sign_ins: SignIns) -> Principal:
    """The bearer's principal, else the session cookie's; ``Unauthorized`` when there is neither, or
    the session was ended by logging out."""
    if headers.get("authorization"):
        return from_token(bearer_token(headers))
    value = cookie_value(headers.get("cookie"), SESSION_COOKIE)
    if value is None:
        raise Unauthorized("Log in to the studio first.", code="not_logged_in")
    try:
        claim = verify(Purpose.STUDIO_SESSION, value)
        roles = frozenset(Role(role) for role in claim["r"])
        expires = int(claim["x"]) if "x" in claim else None
        if expires is not None and expires <= time.time():
            raise InvalidToken("the sign-in behind this session has expired")
        principal = Principal(str(claim["s"]), roles, str(claim["i"]), expires)
    except (InvalidToken, KeyError, TypeError, ValueError):
        raise Unauthorized("Your studio session has ended. Log in again.", code="session_expired") from None
    if sign_ins.session_ended(str(principal.session)):
        raise Unauthorized("You logged out of this session. Log in again.", code="session_ended")
    return principal


def csrf_token(principal: Principal) -> str:
    """The token every form of this session carries ("" for bearer clients, which need none)."""
    return sign(Purpose.CSRF, principal.session) if principal.session else ""


def check_csrf(principal: Principal, submitted: str | None) -> None:
    if principal.session is None:
        return
    try:
        valid = verify(Purpose.CSRF, submitted or "") == principal.session
    except InvalidToken:
        valid = False
    if not valid:
        raise Forbidden("This form has expired. Reload the page and try again.", code="csrf_failed")
