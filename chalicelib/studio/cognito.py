"""Verifying the studio's Cognito tokens (production sign-in) against the user pool's JWKS.

An ID token must name the studio's app client as its audience; an access token, as its
``client_id``. Both must be RS256, unexpired, from the pool's issuer. The pool's groups become
roles (``editor``, ``publisher``, ``staff``; see ``chalicelib.studio.auth``). Keys are fetched
once and cached for an hour; a key id the cache does not know refetches at most once per 30 s
(PyJWT's cooldown), so rotated keys are picked up and a forged ``kid`` cannot hammer the pool.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jwt

from chalicelib.core.errors import Unauthorized, Unavailable

ALGORITHMS = ["RS256"]
LEEWAY_SECONDS = 30
JWKS_CACHE_SECONDS = 3600


@lru_cache(maxsize=4)
def jwks_client(issuer: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json", cache_keys=True, lifespan=JWKS_CACHE_SECONDS, timeout=5)


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def verified_claims(token: str, issuer: str, client_id: str) -> dict[str, Any]:
    """The token's claims once signature, issuer, expiry and client check out; ``Unauthorized``
    otherwise, ``Unavailable`` if the pool's keys cannot be fetched."""
    try:
        key = jwks_client(issuer).get_signing_key_from_jwt(token)
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=ALGORITHMS,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
        )
    except jwt.PyJWKClientConnectionError:
        raise Unavailable(
            "The sign-in service cannot be reached; try again shortly.", code="jwks_unavailable"
        ) from None
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Your sign-in has expired. Sign in again.", code="token_expired") from None
    except (jwt.PyJWTError, ValueError):
        raise Unauthorized("That sign-in token is not valid.", code="invalid_token") from None
    use = claims.get("token_use")
    named = claims.get("aud") if use == "id" else claims.get("client_id") if use == "access" else None
    if named != client_id:
        raise Unauthorized("That sign-in token is for another application.", code="invalid_token")
    return claims


def groups_of(claims: dict[str, Any]) -> list[str]:
    groups = claims.get("cognito:groups") or []
    return [group for group in groups if isinstance(group, str)] if isinstance(groups, list) else []


def subject_of(claims: dict[str, Any]) -> str:
    return str(claims.get("email") or claims.get("cognito:username") or claims.get("username") or claims["sub"])
