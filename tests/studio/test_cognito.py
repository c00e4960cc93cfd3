"""Production sign-in: Cognito ID and access tokens verified against the pool's JWKS, served here by
a loopback HTTP server with keys generated for the test. Groups become roles."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import RSAAlgorithm
from starlette.testclient import TestClient

from chalicelib.studio.app import create_app
from devtools.process import forget_process_state
from devtools.seed import DemoDrop
from tests.studio.conftest import HTML

CLIENT_ID = "studio-app-client"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Pool:
    """A user pool's public side: its issuer URL and JWKS, on loopback."""

    def __init__(self) -> None:
        jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
        self.keys = {"keys": [{**jwk, "kid": "key-1", "alg": "RS256", "use": "sig"}]}
        self.fetches = 0
        pool = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                pool.fetches += 1
                found = self.path == "/pool/.well-known/jwks.json"
                body = json.dumps(pool.keys).encode() if found else b"{}"
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}/pool"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, key: Any = KEY, kid: str = "key-1", groups: list[str] | None = None, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "sub": "3f1c-user",
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "token_use": "id",
            "iat": now,
            "exp": now + 3600,
            "email": "maya@brand.example",
            "cognito:groups": ["editor", "publisher"] if groups is None else groups,
            **claims,
        }
        return jwt.encode(
            {k: v for k, v in body.items() if v is not None}, key, algorithm="RS256", headers={"kid": kid}
        )


@pytest.fixture
def pool() -> Iterator[Pool]:
    running = Pool()
    yield running
    running.server.shutdown()


@pytest.fixture
def studio(demo: list[DemoDrop], pool: Pool, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("DROPFRONT_COGNITO_ISSUER", pool.issuer)
    monkeypatch.setenv("DROPFRONT_COGNITO_CLIENT_ID", CLIENT_ID)
    monkeypatch.delenv("DROPFRONT_STUDIO_TOKEN", raising=False)
    forget_process_state()
    with TestClient(create_app(), base_url="https://studio.example.com", follow_redirects=False) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_id_token_signs_in_with_its_groups_as_roles(studio: TestClient, pool: Pool) -> None:
    home = studio.get("/studio/", headers=bearer(pool.token()) | HTML)
    assert home.status_code == 200 and "maya@brand.example" in home.text
    staff_page = studio.get("/studio/popups/paris-marais", headers=bearer(pool.token()))
    assert staff_page.status_code == 403  # editor and publisher, not staff
    staff = pool.token(groups=["staff"])
    assert studio.get("/studio/popups/paris-marais", headers=bearer(staff)).status_code == 200


def test_an_access_token_names_the_client_instead_of_an_audience(studio: TestClient, pool: Pool) -> None:
    access = pool.token(token_use="access", aud=None, client_id=CLIENT_ID)
    assert studio.get("/studio/", headers=bearer(access)).status_code == 200
    foreign = pool.token(token_use="access", aud=None, client_id="another-app")
    assert studio.get("/studio/", headers=bearer(foreign)).status_code == 401


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": int(time.time()) - 3600},
        {"aud": "another-app"},
        {"token_use": "refresh"},
        {"iss": "https://cognito-idp.eu-west-1.amazonaws.com/someone-else"},
        {"token_use": None},
    ],
    ids=["expired", "other-audience", "wrong-use", "other-issuer", "no-token-use"],
)
def test_tokens_that_do_not_check_out_are_401(studio: TestClient, pool: Pool, claims: dict[str, Any]) -> None:
    response = studio.get("/studio/", headers=bearer(pool.token(**claims)))
    assert response.status_code == 401 and response.json()["error"]["code"] in ("invalid_token", "token_expired")


def test_forged_signatures_and_algorithms_are_401(studio: TestClient, pool: Pool) -> None:
    other_signer = pool.token(key=OTHER_KEY)
    unknown_kid = pool.token(kid="key-9")
    header, payload, signature = pool.token().split(".")
    tampered = ".".join([header, jwt.utils.base64url_encode(b'{"sub":"x"}').decode(), signature])
    none_head = jwt.utils.base64url_encode(b'{"alg":"none"}').decode()
    unsigned = f"{none_head}.{payload}."
    public_pem = KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    confused_head = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "kid": "key-1"}).encode()).decode()
    mac = hmac.new(public_pem, f"{confused_head}.{payload}".encode(), hashlib.sha256).digest()
    confused = f"{confused_head}.{payload}.{jwt.utils.base64url_encode(mac).decode()}"  # the public key as HMAC secret
    for token in (other_signer, unknown_kid, tampered, unsigned, confused):
        assert studio.get("/studio/", headers=bearer(token)).status_code == 401, token


def test_keys_are_cached_and_a_login_session_ends_with_the_token(studio: TestClient, pool: Pool) -> None:
    for _ in range(3):
        assert studio.get("/studio/", headers=bearer(pool.token())).status_code == 200
    assert pool.fetches == 1
    short = pool.token(exp=int(time.time()) + 60)  # a minute: the sign-in and the next page fit on any machine
    login = studio.post("/studio/login", data={"token": short})
    assert login.status_code == 303
    session = {"Cookie": login.headers["set-cookie"].split(";")[0]}
    assert studio.get("/studio/", headers=session).status_code == 200
    with time_machine.travel(time.time() + 120, tick=False):
        assert studio.get("/studio/", headers=session).json()["error"]["code"] == "session_expired"


def test_an_unreachable_pool_is_503_not_401(studio: TestClient, pool: Pool) -> None:
    pool.server.shutdown()
    pool.server.server_close()
    response = studio.get("/studio/", headers=bearer(pool.token()))
    assert response.status_code == 503 and response.json()["error"]["code"] == "jwks_unavailable"


def test_the_local_token_is_refused_when_only_cognito_is_configured(studio: TestClient) -> None:
    assert studio.post("/studio/login", data={"token": "anything"}).status_code == 401
