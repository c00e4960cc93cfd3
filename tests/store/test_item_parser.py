"""DynamoDB's answers parsed by ``ItemParser`` are exactly botocore's own parse, for any item."""

from __future__ import annotations

import base64
import json
from typing import Any
from unittest import mock

import botocore.session
from botocore.parsers import JSONParser
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.store import schema
from chalicelib.store.client import dynamodb
from chalicelib.store.item_parser import ItemParser

MODEL = botocore.session.get_session().get_service_model("dynamodb")

names = st.text(min_size=1, max_size=8)
blobs = st.binary(max_size=12).map(lambda raw: base64.b64encode(raw).decode())
numbers = st.integers(-(10**12), 10**12).map(str)
scalars = st.one_of(
    st.builds(lambda v: {"S": v}, st.text(max_size=12)),
    st.builds(lambda v: {"N": v}, numbers),
    st.builds(lambda v: {"B": v}, blobs),
    st.builds(lambda v: {"SS": v}, st.lists(st.text(max_size=6), min_size=1, max_size=3, unique=True)),
    st.builds(lambda v: {"NS": v}, st.lists(numbers, min_size=1, max_size=3, unique=True)),
    st.builds(lambda v: {"BS": v}, st.lists(blobs, min_size=1, max_size=3, unique=True)),
    st.builds(lambda v: {"BOOL": v}, st.booleans()),
    st.just({"NULL": True}),
)
attributes = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.builds(lambda v: {"M": v}, st.dictionaries(names, inner, max_size=4)),
        st.builds(lambda v: {"L": v}, st.lists(inner, max_size=4)),
    ),
    max_leaves=12,
)
items = st.dictionaries(names, attributes, min_size=1, max_size=5)


def parsed(parser: JSONParser, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    response = {"status_code": 200, "headers": {}, "body": json.dumps(body).encode()}
    result: dict[str, Any] = parser.parse(response, MODEL.operation_model(operation).output_shape)
    return result


def both(operation: str, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    return parsed(ItemParser(), operation, body), parsed(JSONParser(), operation, body)


@settings(max_examples=150, deadline=None)
@given(st.lists(items, max_size=4), items)
def test_a_query_parses_as_botocore_parses_it(found: list[dict[str, Any]], last_key: dict[str, Any]) -> None:
    body = {"Items": found, "Count": len(found), "ScannedCount": len(found), "LastEvaluatedKey": last_key}
    ours, botocores = both("Query", body)
    assert ours == botocores


@settings(max_examples=60, deadline=None)
@given(items, st.lists(items, max_size=3))
def test_get_and_batch_get_parse_as_botocore_parses_them(item: dict[str, Any], batch: list[dict[str, Any]]) -> None:
    for operation, body in (
        ("GetItem", {"Item": item}),
        ("BatchGetItem", {"Responses": {"dropfront": batch}, "UnprocessedKeys": {}}),
        ("UpdateItem", {"Attributes": item}),
    ):
        ours, botocores = both(operation, body)
        assert ours == botocores, operation


def test_a_binary_value_comes_back_as_bytes_and_an_unknown_tag_as_botocore_says() -> None:
    body = {"Item": {"b": {"B": base64.b64encode(b"\x00\xff").decode()}, "x": {"NEWTYPE": "1"}}}
    ours, botocores = both("GetItem", body)
    assert ours["Item"]["b"] == {"B": b"\x00\xff"}
    assert ours == botocores  # the unknown member is reported, not passed through


def test_the_client_parses_with_it_and_reads_what_it_wrote(table: str) -> None:
    item = {
        "pk": {"S": "T#parse"},
        "sk": {"S": "one"},
        "units": {"N": "3"},
        "photo": {"B": b"\x89PNG"},
        "sizes": {"SS": ["M", "S"]},
        "nested": {"M": {"list": {"L": [{"N": "1"}, {"BS": [b"a", b"b"]}, {"NULL": True}]}}},
    }
    client = dynamodb()
    client.put_item(TableName=table, Item=item)
    with mock.patch.object(ItemParser, "_attribute", autospec=True, side_effect=ItemParser._attribute) as used:
        got = client.get_item(TableName=table, Key={schema.PK: item["pk"], schema.SK: item["sk"]})["Item"]
    assert used.called
    assert got["photo"] == {"B": b"\x89PNG"}
    assert sorted(got["sizes"]["SS"]) == ["M", "S"]
    assert got["nested"]["M"]["list"]["L"][1] == {"BS": [b"a", b"b"]}
    assert {name: value for name, value in got.items() if name != "sizes"} == {
        name: value for name, value in item.items() if name != "sizes"
    }
