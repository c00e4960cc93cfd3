"""The layering contracts (`[tool.importlinter]` in pyproject.toml) hold, and would catch a regression:
each is checked on the real import graph, then on the graph with one illegal import added."""

from __future__ import annotations

import copy
from pathlib import Path

import grimp
import pytest
from importlinter import configuration
from importlinter.application import use_cases
from importlinter.application.user_options import UserOptions
from importlinter.domain.contract import Contract, registry

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def options() -> UserOptions:
    configuration.configure()  # import-linter's own settings (its graph builder, its timer)
    user_options = use_cases.read_user_options(str(ROOT / "pyproject.toml"))
    use_cases._register_contract_types(user_options)
    return user_options


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("chalicelib", cache_dir=None)


def contract(options: UserOptions, contract_id: str) -> Contract:
    (found,) = [c for c in options.contracts_options if c["id"] == contract_id]
    contract_class = registry.get_contract_class(found["type"])
    return contract_class(name=found["name"], session_options=options.session_options, contract_options=found)


@pytest.mark.parametrize("contract_id", ["layers", "adapters-import-ports", "ports-import-no-flows", "pure-domain"])
def test_the_contract_holds(options: UserOptions, graph: grimp.ImportGraph, contract_id: str) -> None:
    assert contract(options, contract_id).check(copy.deepcopy(graph), verbose=False).kept


@pytest.mark.parametrize(
    ("contract_id", "importer", "imported"),
    [
        ("layers", "chalicelib.stock.pickup", "chalicelib.web.request"),  # the domain reads headers again
        ("layers", "chalicelib.shop.shopper", "chalicelib.stock.pickup"),  # a capability imports one above it
        ("layers", "chalicelib.web.middleware", "chalicelib.store.client"),  # the two edges meet
        ("adapters-import-ports", "chalicelib.store.bookings", "chalicelib.stock.pickup"),  # an adapter uses a flow
        ("ports-import-no-flows", "chalicelib.tryon.ports", "chalicelib.store.tryons"),  # a port knows its adapter
        ("pure-domain", "chalicelib.pricing.engine", "chalicelib.config"),  # the engine reads settings
    ],
)
def test_an_illegal_import_breaks_it(
    options: UserOptions, graph: grimp.ImportGraph, contract_id: str, importer: str, imported: str
) -> None:
    broken = copy.deepcopy(graph)
    broken.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
    assert not contract(options, contract_id).check(broken, verbose=False).kept
