"""Domain errors. They say what went wrong; chalicelib.web.errors maps each to an HTTP status."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class Unauthorized(DomainError):
    """A missing, invalid, expired or revoked bearer token."""

    code = "unauthorized"


class Forbidden(DomainError):
    """A valid token that does not allow this (a till of another pop-up)."""

    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class InvalidInput(DomainError):
    """Input that cannot be parsed (wrong shape or syntax)."""

    code = "bad_request"


class Unprocessable(DomainError):
    """Input that parses but breaks a rule."""

    code = "unprocessable"


class Conflict(DomainError):
    code = "conflict"


class RateLimited(DomainError):
    """Too many attempts; the client may try again after ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int = 1, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A dependency (DynamoDB) is throttling, timing out or unreachable; the client should retry."""

    code = "unavailable"

    def __init__(self, message: str, *, retry_after: int = 1, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after
