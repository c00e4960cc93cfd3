"""An empty table in moto for the adapters' own tests."""

from __future__ import annotations

import pytest

from chalicelib.store.client import dynamodb
from devtools.seed import ensure_table
from tests.conftest import TABLE


@pytest.fixture
def table(aws: None) -> str:
    ensure_table(dynamodb(), TABLE)
    return TABLE
