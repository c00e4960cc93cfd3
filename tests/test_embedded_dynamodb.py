"""The embedded DynamoDB's item answers: dumped as they are, and the same to boto3 as moto's own
serializer's, for every attribute type (binary ones take moto's way)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from moto.dynamodb.responses import DynamoResult

from chalicelib.store.client import dynamodb
from devtools import embedded_dynamodb

TABLE = "answers"
PLAIN = {
    "pk": {"S": "P"},
    "sk": {"S": "plain"},
    "n": {"N": "12"},
    "flag": {"BOOL": True},
    "none": {"NULL": True},
    "list": {"L": [{"S": "a"}, {"N": "1.5"}, {"M": {"deep": {"SS": ["x", "y"]}}}]},
    "numbers": {"NS": ["1", "2"]},
    "text": {"S": 'café · 日本 · "quoted"'},
}
BINARY = {"pk": {"S": "P"}, "sk": {"S": "binary"}, "blob": {"B": b"\x00\xffraw"}, "blobs": {"BS": [b"a", b"b"]}}


@pytest.fixture
def table(aws: None) -> Iterator[Any]:
    client = dynamodb()
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for item in (PLAIN, BINARY):
        client.put_item(TableName=TABLE, Item=item)
    yield client


CALLS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "get_item": lambda c: c.get_item(TableName=TABLE, Key={"pk": {"S": "P"}, "sk": {"S": "plain"}}),
    "get_item, binary": lambda c: c.get_item(TableName=TABLE, Key={"pk": {"S": "P"}, "sk": {"S": "binary"}}),
    "query, a page": lambda c: c.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "P"}},
        Limit=1,
        ScanIndexForward=False,  # "plain" first: the dumped way, with a LastEvaluatedKey
        ReturnConsumedCapacity="TOTAL",
    ),
    "query, binary": lambda c: c.query(
        TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "P"}}
    ),
    "scan": lambda c: c.scan(TableName=TABLE, FilterExpression="attribute_exists(n)"),
    "batch_get_item": lambda c: c.batch_get_item(
        RequestItems={
            TABLE: {"Keys": [{"pk": {"S": "P"}, "sk": {"S": "plain"}}, {"pk": {"S": "Q"}, "sk": {"S": "none"}}]}
        }
    ),
    "transact_get_items": lambda c: c.transact_get_items(
        TransactItems=[{"Get": {"TableName": TABLE, "Key": {"pk": {"S": "P"}, "sk": {"S": "plain"}}}}]
    ),
    "update_item": lambda c: c.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "P"}, "sk": {"S": "plain"}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "12"}},  # the same value: both ways answer the same item
        ReturnValues="ALL_NEW",
    ),
    "put_item": lambda c: c.put_item(TableName=TABLE, Item=PLAIN, ReturnValues="ALL_OLD"),
}


def answered(call: Callable[[Any], dict[str, Any]], client: Any) -> dict[str, Any]:
    answer = call(client)
    answer.pop("ResponseMetadata")
    return answer


@pytest.mark.parametrize("name", CALLS)
def test_an_item_answer_is_what_moto_s_serializer_gives(table: Any, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    dumped: list[object] = []
    dumps = json.dumps

    def counted(value: object, **options: Any) -> str:
        dumped.append(value)
        return dumps(value, **options)

    monkeypatch.setattr(embedded_dynamodb, "json", SimpleNamespace(dumps=counted))  # its dumps alone
    fast = answered(CALLS[name], table)
    assert len(dumped) == 1  # answered by the dump, or tried (binary) and handed to moto's serializer
    monkeypatch.setattr(DynamoResult, "execute_result", DynamoResult.execute_result.generic)  # type: ignore[attr-defined]
    assert answered(CALLS[name], table) == fast


def test_installing_twice_keeps_one_layer() -> None:
    first = DynamoResult.execute_result
    embedded_dynamodb.answer_items_as_json()
    assert DynamoResult.execute_result is first
    assert not getattr(first.generic, "as_json", False)  # type: ignore[attr-defined]  # moto's own beneath
