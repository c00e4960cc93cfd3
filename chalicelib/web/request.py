"""What a shopper request carries, parsed and bounded at the edge."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal
from urllib.parse import parse_qsl, urlencode

from chalicelib.config import settings
from chalicelib.core import records
from chalicelib.core.errors import Forbidden, InvalidInput, Unauthorized, Unprocessable
from chalicelib.core.models import HoldId
from chalicelib.core.records import Rule
from chalicelib.edge.segment import MINTED_HEADER, SEGMENT_HEADER, SegmentKey, parse_segment
from chalicelib.i18n.locales import LANG_PATTERN
from chalicelib.shop.ports import Edge
from chalicelib.shop.visitors import Visitor, identify

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

MAX_QUERY_BYTES = 2048
MAX_BODY_BYTES = 16_384
MAX_TILL_BODY_BYTES = 64 * 1024
"""A till's batch: the contract's largest (200 sales, or 500 door readings, every field at its
longest) is about 50 KB. WAF caps every body at the same 64 KiB."""
MAX_QUERY_PARAMS = 32


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PageQuery:
    """The query parameters shopper pages understand; others (utm_*, fbclid…) are ignored. A record
    read without pydantic (``records.read``): a landing page's cold start does not import it."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "ignore"}

    lang: Annotated[str, Rule(pattern=LANG_PATTERN.pattern)] | None = None
    c: Annotated[str, Rule(max_length=512)] | None = None  # a signed campaign link; invalid ones are ignored


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class LandingQuery(PageQuery):
    m: Literal["released", "notify"] | None = None  # what the page says after an action
    hold: HoldId | None = None  # the shopper is adding a piece to this hold of theirs


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PickupPageQuery(PageQuery):
    t: Annotated[str, Rule(max_length=1024)] = ""  # the cancel token: it also opens the confirmation


HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$")


def _header(headers: Any, name: str, limit: int = 512) -> str | None:
    value = headers.get(name) if headers is not None else None
    if not value or len(value) > limit:
        return None
    return str(value)


def edge(headers: Any) -> Edge:
    country = _header(headers, "cloudfront-viewer-country", 2)
    return Edge(
        country=country.upper() if country and country.isalpha() else None,
        timezone=_header(headers, "cloudfront-viewer-time-zone", 64),
        accept_language=_header(headers, "accept-language"),
        cookie=_header(headers, "cookie", 4096),
        host=_header(headers, "host", 260),
        scheme=_header(headers, "x-forwarded-proto", 5),
        latitude=_coordinate(headers, "cloudfront-viewer-latitude", 90),
        longitude=_coordinate(headers, "cloudfront-viewer-longitude", 180),
        city=_header(headers, "cloudfront-viewer-city", 80),
        minted=_header(headers, MINTED_HEADER, 300),
    )


def edge_segment(headers: Any) -> SegmentKey | None:
    """The segment key the edge verified for a landing page it may cache, if it sent one."""
    return parse_segment(_header(headers, SEGMENT_HEADER, 512))


def _coordinate(headers: Any, name: str, limit: float) -> float | None:
    raw = _header(headers, name, 16)
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return value if value is not None and -limit <= value <= limit else None


def public_base_url(request_edge: Edge) -> str:
    """Where shoppers reach us: ``DROPFRONT_PUBLIC_URL`` (the CloudFront domain) when set, else the
    request's own well-formed Host. Absolute URLs are needed for hreflang and canonical links."""
    configured = settings().public_url
    if configured:
        return configured
    host = request_edge.host if request_edge.host and HOST.match(request_edge.host) else "localhost"
    default_scheme = "http" if settings().is_local else "https"
    scheme = request_edge.scheme if request_edge.scheme in ("http", "https") else default_scheme
    return f"{scheme}://{host}"


def parse_query[Parsed](query_params: Any, model: type[Parsed]) -> Parsed:
    """The query string as ``model``; ``InvalidInput`` when it is oversized or malformed. A shopper
    page's query is a record, read without pydantic; the studio's are pydantic models."""
    items = list(query_params.items()) if query_params and hasattr(query_params, "items") else []
    size = sum(len(k) + len(v or "") + 2 for k, v in items)
    if size > MAX_QUERY_BYTES or len(items) > MAX_QUERY_PARAMS:
        raise InvalidInput("The query string is too long.", code="query_too_long")
    if dataclasses.is_dataclass(model):
        try:
            return records.read(model, dict(items))
        except records.RecordError as error:
            raise _invalid_query([error.field.partition(".")[0]]) from None
    from pydantic import ValidationError

    try:
        return model.model_validate(dict(items))  # type: ignore[attr-defined, no-any-return]
    except ValidationError as error:
        raise _invalid_query([str(e["loc"][0]) for e in error.errors() if e["loc"]]) from None


def _invalid_query(fields: list[str]) -> InvalidInput:
    named = sorted(set(fields))
    return InvalidInput(
        f"Invalid query parameter: {', '.join(named)}.", code="invalid_query", details=[{"field": f} for f in named]
    )


def page_query(query_params: Any) -> PageQuery:
    """The query string of a shopper page (``lang``, ``c``)."""
    return parse_query(query_params, PageQuery) if query_params else PageQuery()


def parse_body[Parsed: BaseModel](raw: str | bytes | None, model: type[Parsed], limit: int = MAX_BODY_BYTES) -> Parsed:
    """A JSON body as ``model``: 400 when it is not JSON or larger than ``limit`` bytes, 422 when it
    breaks the schema."""
    if not raw:
        raise InvalidInput("The request needs a JSON body.", code="missing_body")
    if len(raw) > limit:
        raise InvalidInput(f"The request body is larger than {limit} bytes.", code="body_too_large")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("The request body is not valid JSON.", code="invalid_json") from None
    from pydantic import ValidationError  # not at import: a landing page's cold start parses no body

    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise Unprocessable(
            "The request body does not match what this endpoint takes.",
            code="invalid_body",
            details=validation_problems(error),
        ) from None


MAX_FORM_BYTES = 4096
MAX_FORM_FIELDS = 16


def parse_form[Parsed: BaseModel](raw: str | bytes | None, model: type[Parsed]) -> Parsed:
    """A form-encoded body as ``model`` (the first value of each field): 400 when it is oversized or
    not form-encoded, 422 with each field's problem when it breaks the schema."""
    if raw and len(raw) > MAX_FORM_BYTES:
        raise InvalidInput(f"The form is larger than {MAX_FORM_BYTES} bytes.", code="body_too_large")
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw or ""
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise InvalidInput("The form has too many fields.", code="invalid_form") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    from pydantic import ValidationError

    try:
        return model.model_validate(fields)
    except ValidationError as error:
        raise Unprocessable(
            "The form is missing something.", code="invalid_form", details=validation_problems(error)
        ) from None


def validation_problems(error: ValidationError, limit: int = 20) -> list[dict[str, str]]:
    """pydantic's errors as ``{field, problem}`` (``form`` for a rule across fields), each a rule's
    own message without the "Value error, " pydantic puts before it."""
    return [
        {"field": ".".join(str(part) for part in e["loc"]) or "form", "problem": e["msg"].removeprefix("Value error, ")}
        for e in error.errors()[:limit]
    ]


def same_site(headers: Any, base_url: str) -> None:
    """Refuse a form posted from another site: its ``Origin`` (or, when a browser sends no Origin, its
    ``Sec-Fetch-Site``) must be ours. The form token is the other half of the check."""
    origin = _header(headers, "origin", 300)
    fetch_site = _header(headers, "sec-fetch-site", 20)
    if origin is not None and origin.rstrip("/") != base_url:
        raise Forbidden("This form was sent from another site.", code="cross_site")
    if origin is None and fetch_site not in (None, "same-origin", "none"):
        raise Forbidden("This form was sent from another site.", code="cross_site")


def same_origin(headers: Any) -> bool:
    """Whether the browser said the request came from one of our own pages."""
    origin = _header(headers, "origin", 300)
    if origin is not None:
        return origin.rstrip("/") == public_base_url(edge(headers))
    return _header(headers, "sec-fetch-site", 20) == "same-origin"


def page_path(path: str, **params: str | None) -> str:
    """A same-site path with its query (parameters that are None are left out)."""
    given = {name: value for name, value in params.items() if value is not None}
    return f"{path}?{urlencode(given)}" if given else path


def form_visitor(headers: Any) -> Visitor:
    """The visitor posting a shopper form, once the form is known to come from our own pages."""
    viewer = edge(headers)
    same_site(headers, public_base_url(viewer))
    return identify(viewer.cookie, minted=viewer.minted)[0]


IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")
MAX_TOKEN_CHARS = 1024


def bearer_token(headers: Any) -> str:
    """The ``Authorization: Bearer`` token; ``Unauthorized`` when it is missing or malformed."""
    value = _header(headers, "authorization", MAX_TOKEN_CHARS + 7) or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("This needs an Authorization: Bearer token.", code="missing_token")
    return token.strip()


def idempotency_key(headers: Any) -> str:
    """The ``Idempotency-Key`` header: 8 to 128 letters, digits and ``_.:-`` (a UUID fits)."""
    value = _header(headers, "idempotency-key", 256)
    if value is None:
        raise InvalidInput("This needs an Idempotency-Key header (a UUID you make).", code="idempotency_key_required")
    if not IDEMPOTENCY_KEY.match(value):
        raise InvalidInput(
            "The Idempotency-Key must be 8 to 128 letters, digits or _.:- characters.", code="invalid_idempotency_key"
        )
    return value
