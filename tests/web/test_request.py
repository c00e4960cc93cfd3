"""Request parsing at the edge: the limits every route relies on, tested without a route."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from chalicelib.core.errors import InvalidInput, Unauthorized, Unprocessable
from chalicelib.web.request import (
    MAX_BODY_BYTES,
    MAX_QUERY_BYTES,
    MAX_QUERY_PARAMS,
    MAX_TOKEN_CHARS,
    PageQuery,
    bearer_token,
    edge,
    idempotency_key,
    page_query,
    parse_body,
    parse_query,
)


class Body(BaseModel):
    name: str


def code_of(error: pytest.ExceptionInfo[Exception]) -> str:
    return str(getattr(error.value, "code", ""))


@pytest.mark.parametrize(
    ("raw", "code"),
    [(None, "missing_body"), ("", "missing_body"), ("{nope", "invalid_json"), (b"\xff\xfe", "invalid_json")],
)
def test_a_body_that_is_not_json_is_a_400(raw: str | bytes | None, code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_body(raw, Body)
    assert code_of(error) == code


def test_a_body_one_byte_over_the_limit_is_refused_and_one_at_it_is_read() -> None:
    at_limit = '{"name": "' + "a" * (MAX_BODY_BYTES - 12) + '"}'
    assert len(at_limit) == MAX_BODY_BYTES
    assert parse_body(at_limit, Body).name.startswith("a")
    with pytest.raises(InvalidInput) as error:
        parse_body(at_limit + " ", Body)
    assert code_of(error) == "body_too_large"


def test_a_body_that_breaks_the_schema_is_a_422_naming_the_field() -> None:
    with pytest.raises(Unprocessable) as error:
        parse_body('{"name": 3}', Body)
    assert error.value.details == [{"field": "name", "problem": "Input should be a valid string"}]


def test_query_strings_are_limited_in_size_and_count() -> None:
    assert parse_query({f"k{i}": "v" for i in range(MAX_QUERY_PARAMS)}, PageQuery) == PageQuery()
    with pytest.raises(InvalidInput) as error:
        parse_query({f"k{i}": "v" for i in range(MAX_QUERY_PARAMS + 1)}, PageQuery)
    assert code_of(error) == "query_too_long"
    with pytest.raises(InvalidInput):
        parse_query({"c": "x" * MAX_QUERY_BYTES}, PageQuery)


def test_a_malformed_lang_is_an_invalid_query_and_none_is_the_default() -> None:
    with pytest.raises(InvalidInput) as error:
        page_query({"lang": "fr;drop table"})
    assert code_of(error) == "invalid_query"
    assert page_query(None) == PageQuery()


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Bearer " + "t" * (MAX_TOKEN_CHARS + 1)])
def test_bearer_tokens_must_be_there_and_of_a_sane_size(header: str | None) -> None:
    with pytest.raises(Unauthorized):
        bearer_token({"authorization": header} if header is not None else {})
    assert bearer_token({"authorization": "bearer  tok "}) == "tok"


@pytest.mark.parametrize(("key", "code"), [(None, "idempotency_key_required"), ("short", "invalid_idempotency_key")])
def test_idempotency_keys_are_required_and_shaped(key: str | None, code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        idempotency_key({"idempotency-key": key} if key else {})
    assert code_of(error) == code
    assert idempotency_key({"idempotency-key": "0b8e5a7c-uuid"}) == "0b8e5a7c-uuid"


def test_viewer_headers_out_of_range_are_dropped_not_trusted() -> None:
    viewer = edge(
        {
            "cloudfront-viewer-country": "fr",
            "cloudfront-viewer-latitude": "91.5",
            "cloudfront-viewer-longitude": "2.35",
            "cloudfront-viewer-time-zone": "Z" * 65,
        }
    )
    assert (viewer.country, viewer.latitude, viewer.longitude, viewer.timezone) == ("FR", None, 2.35, None)
