"""The DynamoDB client's model loader reads what botocore's would, without listing every service."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import DataNotFoundError
from botocore.loaders import Loader

from chalicelib.store.models_loader import DynamoDBModels


def counted_listdir() -> tuple[list[str], Callable[[Any], list[str]]]:
    listed: list[str] = []
    real = os.listdir

    def listdir(path: Any = ".") -> list[str]:
        listed.append(os.fspath(path))
        return real(path)

    return listed, listdir


@pytest.mark.parametrize("kind", ["service-2", "endpoint-rule-set-1", "paginators-1", "waiters-2"])
def test_dynamodbs_models_are_botocores_read_without_listing_every_service(kind: str) -> None:
    listed, listdir = counted_listdir()
    with mock.patch("os.listdir", listdir):
        model = DynamoDBModels().load_service_model("dynamodb", kind)
    assert model == Loader().load_service_model("dynamodb", kind)
    assert len(listed) < 10  # botocore's own lists over 400 service directories


def test_a_model_dynamodb_lacks_is_not_found_as_with_botocores_loader() -> None:
    with pytest.raises(DataNotFoundError):
        Loader().load_service_model("dynamodb", "resources-1")
    with pytest.raises(DataNotFoundError):
        DynamoDBModels().load_service_model("dynamodb", "resources-1")
