"""The studio's replay page, its JSON twin and `make replay`: a decision found in the shop's request
log, recomputed against its policy version, and said to match or to differ, in the merchant's units."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chalice.test import Client
from starlette.testclient import TestClient

from chalicelib import wiring
from chalicelib.config import settings
from chalicelib.pricing.logged import DECISION_FIELDS, logged_entries
from devtools import replay as replay_cli
from tests.pricing.test_replay import logged_view, write_log
from tests.studio.conftest import AUTH, log_in


def test_the_studio_page_the_api_and_make_replay(
    client: Client,
    studio: TestClient,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    view = logged_view(client, caplog)
    entries = logged_entries(view["pricing"])
    wanted, other = entries[0]["decision_id"], entries[1]["decision_id"]
    altered = json.loads(json.dumps(view))
    altered["pricing"]["decisions"][1][DECISION_FIELDS.index("price_minor")] += 500
    monkeypatch.setenv("DROPFRONT_DECISION_LOG_FILE", str(write_log(tmp_path, view)))
    settings.cache_clear()
    wiring.decision_log.cache_clear()
    session = log_in(studio)
    page = studio.get(f"/studio/drops/linen-lab/replay?decision={wanted}", headers=session)
    assert page.status_code == 200 and "It matches" in page.text and "What went in" in page.text
    assert studio.get("/studio/drops/linen-lab/replay?decision=nope", headers=session).status_code == 400
    unknown = studio.get(f"/studio/drops/linen-lab/replay?decision={'a' * 32}-0", headers=session)
    assert unknown.status_code == 404 and "No logged view holds this decision" in unknown.text
    elsewhere = studio.get(f"/studio/drops/winter-knit/replay?decision={wanted}", headers=session)
    assert elsewhere.status_code == 404 and "made for the drop linen-lab" in elsewhere.text
    api = studio.get(f"/studio/api/drops/linen-lab/decisions/{wanted}", headers=AUTH).json()
    assert api["matches"] is True and api["inputs"]["SKU"] == entries[0]["sku"]

    assert replay_cli.main([wanted]) == 0 and "matches" in capsys.readouterr().out
    monkeypatch.setenv("DROPFRONT_DECISION_LOG_FILE", str(write_log(tmp_path, altered)))
    settings.cache_clear()
    wiring.decision_log.cache_clear()
    assert replay_cli.main([other]) == 1 and "DIFFERS in price_minor" in capsys.readouterr().out
    differs = studio.get(f"/studio/drops/linen-lab/replay?decision={other}", headers=session)
    assert "It differs in price_minor" in differs.text
    assert replay_cli.main(["b" * 32 + "-1"]) == 2
