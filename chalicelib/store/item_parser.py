"""DynamoDB's answers parsed without walking the model for every attribute value.

botocore parses a response by walking its service model shape by shape. An item's attribute value
is a union of ten members, and botocore looks up each of the ten for every value it parses
(boto/boto3#2928): the landing page's stock Query (276 items of four attributes) took 4.5 ms of
CPU to parse that way, 0.4 ms of it reading the JSON. Once the JSON is read, an attribute value is
already in the form botocore returns, except a binary one (base64 on the wire, bytes parsed) and
the maps and lists that may hold one. ``ItemParser`` returns that form directly for maps of
attribute values (an item, a key; DynamoDB's answers hold attribute values nowhere else), and
leaves every other shape to botocore. Only the DynamoDB client uses it
(``store.client.dynamodb`` registers the factory on its own botocore session).
"""

from __future__ import annotations

from typing import Any

from botocore.parsers import JSONParser, ResponseParserFactory

ATTRIBUTE_VALUE = "AttributeValue"
AS_READ = frozenset({"S", "N", "SS", "NS", "BOOL", "NULL"})
"""Members whose JSON form is the parsed form: strings, number strings, their sets, booleans."""


class ItemParser(JSONParser):  # type: ignore[misc]  # botocore ships no types
    """DynamoDB's JSON protocol parser, with items' attribute values parsed by their tag alone."""

    def _handle_map(self, shape: Any, value: dict[str, Any]) -> dict[str, Any]:
        if shape.value.name == ATTRIBUTE_VALUE:  # an item, a key, or a map attribute's members
            return {name: self._attribute(shape.value, member) for name, member in value.items()}
        parsed: dict[str, Any] = super()._handle_map(shape, value)
        return parsed

    def _attribute(self, shape: Any, value: dict[str, Any]) -> Any:
        if len(value) == 1:
            tag = next(iter(value))
            if tag in AS_READ:
                return value
            if tag == "M":
                return {"M": {name: self._attribute(shape, member) for name, member in value["M"].items()}}
            if tag == "L":
                return {"L": [self._attribute(shape, member) for member in value["L"]]}
            if tag == "B":
                return {"B": self._blob_parser(value["B"])}
            if tag == "BS":
                return {"BS": [self._blob_parser(member) for member in value["BS"]]}
        return super()._handle_structure(shape, value)  # a tag this model does not know: botocore's answer


class ItemParserFactory(ResponseParserFactory):  # type: ignore[misc]  # botocore ships no types
    """The session component botocore asks for a protocol's parser."""

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return ItemParser(**self._defaults)
        return super().create_parser(protocol_name)
