"""`make run`'s CloudFront: the shop's edge function (the same JavaScript, under node) and the same cache
rules, in front of `chalice local`, with ``/media/*`` served from ``media/``.

A request goes through the function as CloudFront's viewer-request event; a drop's landing page is
then looked up in the cache by the key ``infra/edge_rules.py`` names (kept as long as the origin's
``s-maxage`` allows, at most a second; the origin sends no ``stale-while-revalidate``, so none is
emulated); concurrent misses for one key wait for one origin request (CloudFront's request
collapsing). The answer goes back through the function's viewer-response
event. The origin is the Chalice app on a loopback port of its own.

In AWS, CloudFront sends ``/media/*`` to an S3 bucket; here the edge serves them, cached long like
CloudFront's media behaviour, so pages load their fit videos and posters from their own origin.

Chalice keeps the request being answered on the app object (``app.current_request``), which is
right on Lambda (one request at a time per process) and wrong under the local server, which answers
each request on its own thread: ``per_thread_requests`` gives each thread its own, so the local server
answers as Lambda.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import logging
import mimetypes
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from chalice.app import Chalice
from chalice.cli.factory import CLIFactory
from chalice.deploy.validate import validate_routes
from chalice.local import LocalDevServer, ThreadedHTTPServer

from infra.edge_rules import CACHED, MAX_TTL_SECONDS, Behaviour, function_code

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "media"
MEDIA_PREFIX = "/media/"
MEDIA_TYPES = {".webm": "video/webm", ".webp": "image/webp", ".vtt": "text/vtt; charset=utf-8"}
RUNNER = Path(__file__).with_name("edge_runner.js")
STATS_PATH = "/.local-edge/stats"  # what this edge counted (`make bench`); CloudFront has no such thing
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"})


def media_file(path: str) -> Path | None:
    """The file under media/ a ``/media/…`` path names, or None (outside it, or missing)."""
    wanted = (MEDIA / path.split("?", 1)[0].removeprefix(MEDIA_PREFIX)).resolve()
    return wanted if wanted.is_relative_to(MEDIA) and wanted.is_file() else None


class EdgeFunction:
    """The CloudFront Function under node (``devtools/edge_runner.js``): one process, many requests
    in flight, each answered by its id."""

    def __init__(self, store: Path) -> None:
        self._code = tempfile.NamedTemporaryFile("w", suffix=".js", prefix="edge-function-")  # noqa: SIM115
        self._code.write(function_code())  # the code CloudFront runs, not its commented source
        self._code.flush()
        self._process = subprocess.Popen(
            ["node", str(RUNNER), self._code.name, str(store)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._ids = itertools.count(1)
        self._write = threading.Lock()
        self._waiting: dict[int, tuple[threading.Event, list[dict[str, Any]]]] = {}
        threading.Thread(target=self._read, name="edge-function", daemon=True).start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            answer = json.loads(line)
            done, slot = self._waiting.pop(answer["id"])
            slot.append(answer)
            done.set()

    def run(self, event: dict[str, Any]) -> dict[str, Any]:
        """What the function returns for ``event``; RuntimeError if it threw (CloudFront answers 503)."""
        number, done = next(self._ids), threading.Event()
        slot: list[dict[str, Any]] = []
        self._waiting[number] = (done, slot)
        assert self._process.stdin is not None
        with self._write:
            self._process.stdin.write(json.dumps({"id": number, "event": event}) + "\n")
        if not done.wait(10):
            raise RuntimeError("the edge function did not answer within 10 s")
        if "error" in slot[0]:
            raise RuntimeError(f"the edge function failed: {slot[0]['error']}")
        result: dict[str, Any] = slot[0]["result"]
        return result

    def close(self) -> None:
        self._process.terminate()
        self._process.wait(5)
        self._code.close()


@dataclass
class Stored:
    """An answer as kept: ``stored_at`` is when it was asked for, so its age includes the origin's time."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    stored_at: float
    fresh_for: float


def cache_lifetime(cache_control: str | None) -> float:
    """How long CloudFront keeps an answer with this ``Cache-Control``, within the behaviour's
    maximum; 0 when it must not keep it."""
    directives = {}
    for part in (cache_control or "").split(","):
        name, _, value = part.strip().partition("=")
        directives[name.lower()] = value
    if directives.keys() & {"private", "no-store", "no-cache"}:
        return 0.0
    try:
        fresh = float(directives.get("s-maxage") or directives.get("max-age") or 0)
    except ValueError:
        return 0.0
    return max(0.0, min(fresh, MAX_TTL_SECONDS))


@dataclass
class EdgeCache:
    """The cache of one edge location, and what it counted."""

    clock: Callable[[], float] = time.monotonic
    entries: dict[tuple[Any, ...], Stored] = field(default_factory=dict)
    fetching: dict[tuple[Any, ...], threading.Lock] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: dict[str, int] = field(default_factory=lambda: {"hit": 0, "miss": 0, "pass": 0, "origin": 0})
    origin_seconds: list[float] = field(default_factory=list)  # each origin request's time, for `make bench`

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1

    def key_lock(self, key: tuple[Any, ...]) -> threading.Lock:
        with self.lock:
            return self.fetching.setdefault(key, threading.Lock())


def behaviour_of(uri: str) -> Behaviour | None:
    """The cached behaviour a path falls under (CloudFront takes the first that matches), if any."""
    return next((b for b in CACHED if b.matches(uri)), None)


def cache_key(behaviour: Behaviour, uri: str, query: dict[str, str], headers: dict[str, str]) -> tuple[Any, ...]:
    return (
        uri,
        tuple((name, query[name]) for name in behaviour.query if name in query),
        tuple(headers.get(name) for name in behaviour.headers),
    )


def _event_request(method: str, uri: str, query: dict[str, str], headers: dict[str, str]) -> dict[str, Any]:
    cookies: dict[str, dict[str, str]] = {}
    for part in headers.pop("cookie", "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            cookies[name] = {"value": value}
    return {
        "method": method,
        "uri": uri,
        "querystring": {name: {"value": value} for name, value in query.items()},
        "headers": {name: {"value": value} for name, value in headers.items()},
        "cookies": cookies,
    }


def _from_event_request(request: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, str]]:
    headers = {name: entry["value"] for name, entry in request["headers"].items()}
    cookies = "; ".join(f"{name}={entry['value']}" for name, entry in request["cookies"].items())
    if cookies:
        headers["cookie"] = cookies
    query = {name: entry["value"] for name, entry in request["querystring"].items()}
    return request["uri"], query, headers


Origin = Callable[[str, str, dict[str, str], bytes], tuple[int, list[tuple[str, str]], bytes]]
"""Sends a request (method, path with query, headers, body) to the origin: its status, headers, body."""

ORIGIN_ONLY = HOP_BY_HOP | {"server", "date"}  # CloudFront answers with its own


def http_origin(port: int) -> Origin:
    """The origin on a loopback port (`make run`'s `chalice local`)."""

    def send(
        method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request(method, target, body=body or None, headers=headers)
            answer = connection.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            connection.close()

    return send


LOG_FIELDS = "date time cs-method cs-uri-stem sc-status cs(Cookie) x-edge-request-id x-edge-result-type cs-uri-query"
"""The access log's columns: a subset of CloudFront's standard log, in its format."""
LOG_DELIVERY_SECONDS = 5.0


class Edge:
    """The function and the cache in front of an origin, and the access log it keeps."""

    def __init__(self, origin: Origin, store: Path) -> None:
        self.send = origin
        self.function = EdgeFunction(store)
        self.cache = EdgeCache()
        self.log: list[str] = []
        self._log_lock = threading.Lock()

    def _log(self, request: dict[str, Any], status: int, outcome: str, request_id: str) -> None:
        now = datetime.now(UTC)
        cookies = "; ".join(f"{name}={entry['value']}" for name, entry in request["cookies"].items())
        query = urlencode({name: entry["value"] for name, entry in request["querystring"].items()})
        fields = (now.strftime("%Y-%m-%d"), now.strftime("%H:%M:%S"), request["method"], request["uri"], str(status))
        line = "\t".join((*fields, quote(cookies) or "-", request_id, outcome, query or "-"))
        with self._log_lock:
            self.log.append(line)

    def deliver_log(self) -> list[str]:
        """The log lines since the last delivery, as one file (CloudFront delivers every few minutes)."""
        with self._log_lock:
            lines, self.log = self.log, []
        return ["#Version: 1.0", f"#Fields: {LOG_FIELDS}", *lines] if lines else []

    def _origin(self, method: str, uri: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Stored:
        self.cache.count("origin")
        target = f"{uri}?{urlencode(query)}" if query else uri
        asked_at, started = self.cache.clock(), time.perf_counter()
        status, answered, content = self.send(method, target, headers, body)
        self.cache.origin_seconds.append(time.perf_counter() - started)
        kept = [(k, v) for k, v in answered if k.lower() not in ORIGIN_ONLY]
        cache_control = next((v for k, v in answered if k.lower() == "cache-control"), None)
        fresh = cache_lifetime(cache_control) if method in ("GET", "HEAD") else 0.0
        return Stored(status, kept, content, asked_at, fresh)  # its age counts the wait for it (RFC 9111)

    def _kept(self, key: tuple[Any, ...]) -> Stored | None:
        found = self.cache.entries.get(key)
        return found if found and self.cache.clock() - found.stored_at < found.fresh_for else None

    def cached(self, key: tuple[Any, ...], fetch: Callable[[], Stored]) -> tuple[Stored, str]:
        """The page for ``key`` from the cache, or from the origin once for every request waiting on it."""
        if kept := self._kept(key):
            return kept, "Hit"
        with self.cache.key_lock(key):
            if kept := self._kept(key):
                return kept, "Hit"  # fetched by the request this one waited behind
            answer = fetch()
            if answer.fresh_for > 0 and answer.status == 200:
                self.cache.entries[key] = answer
            return answer, "Miss"

    def answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes, viewer_ip: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """What the viewer gets for this request: through the function, the cache and the origin."""
        request_id = secrets.token_urlsafe(42)
        split = urlsplit(path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        context = {"distributionDomainName": "local", "requestId": request_id}
        viewer = {"ip": viewer_ip}
        request = _event_request(method, split.path, query, dict(headers))
        viewer_request = {"version": "1.0", "context": {**context, "eventType": "viewer-request"}, "viewer": viewer}
        try:
            result = self.function.run({**viewer_request, "request": request})
        except RuntimeError:
            logging.getLogger("dropfront").exception("edge function failed")
            return 503, [("Content-Type", "text/plain")], b"The edge function failed."
        if "statusCode" in result:
            stored = Stored(int(result["statusCode"]), [], b"", 0, 0)
            outcome = "FunctionGeneratedResponse"
        else:
            uri, query, forwarded = _from_event_request(result)
            fetch = partial(self._origin, method, uri, query, forwarded, body)
            behaviour = behaviour_of(uri)
            if method in ("GET", "HEAD") and behaviour is not None:
                stored, outcome = self.cached(cache_key(behaviour, uri, query, forwarded), fetch)
                self.cache.count(outcome.lower())
            else:
                stored, outcome = fetch(), "Miss"
                self.cache.count("pass")
        self._log(request, stored.status, outcome, request_id)
        return self._respond(stored, outcome, request, context, viewer)

    def _respond(
        self, stored: Stored, outcome: str, request: dict[str, Any], context: dict[str, str], viewer: dict[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        headers: dict[str, dict[str, str]] = {}
        cookies: dict[str, dict[str, str]] = {}
        for name, value in stored.headers:
            if name.lower() == "set-cookie":
                first, _, attributes = value.partition(";")
                cookie, _, cookie_value = first.partition("=")
                cookies[cookie.strip()] = {"value": cookie_value, "attributes": attributes.strip()}
            else:
                headers[name.lower()] = {"value": value}
        response = {"statusCode": stored.status, "headers": headers, "cookies": cookies}
        event = {"version": "1.0", "context": {**context, "eventType": "viewer-response"}, "viewer": viewer}
        result = self.function.run({**event, "request": request, "response": response})
        out = [(name, entry["value"]) for name, entry in result["headers"].items() if name != "content-length"]
        for name, entry in result["cookies"].items():
            attributes = f"; {entry['attributes']}" if entry.get("attributes") else ""
            out.append(("Set-Cookie", f"{name}={entry['value']}{attributes}"))
        age = int(self.cache.clock() - stored.stored_at) if outcome == "Hit" else 0
        out += [("X-Cache", f"{outcome} from cloudfront"), ("Age", str(age))]
        return stored.status, out, stored.body


class EdgeHandler(BaseHTTPRequestHandler):
    """One viewer connection: media from disk, the rest through the edge."""

    server: EdgeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return  # the app logs every request it answers

    def _media(self) -> None:
        found = media_file(self.path)
        if found is None:
            self.send_error(404)
            return
        body = found.read_bytes()
        kind = MEDIA_TYPES.get(found.suffix) or mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "public, max-age=31536000, immutable")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Access-Control-Allow-Origin", "*")  # as CloudFront's media policy: public files
        self.end_headers()
        self.wfile.write(body)

    def _stats(self) -> None:
        cache = self.server.edge.cache
        with cache.lock:
            body = json.dumps({"counts": cache.counts, "origin_seconds": cache.origin_seconds}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _through_edge(self) -> None:
        if self.path.startswith(MEDIA_PREFIX) and self.command in ("GET", "HEAD"):
            self._media()
            return
        if self.path == STATS_PATH:
            self._stats()
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
        status, out, content = self.server.edge.answer(self.command, self.path, headers, body, self.client_address[0])
        self.send_response(status)
        for name, value in out:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _through_edge


class EdgeServer(ThreadingHTTPServer):
    """The edge's listener, with room for a crowd (a flash sale's opening second)."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], edge: Edge) -> None:
        super().__init__(address, EdgeHandler)
        self.edge = edge


class CrowdServer(ThreadedHTTPServer):
    """Chalice's threaded server with room for a crowd: the standard backlog of 5 resets the sixth
    phone that connects in the same instant (a flash sale's opening second)."""

    request_queue_size = 256


class _ThisThread(threading.local):
    current_request: Any = None
    lambda_context: Any = None


def per_thread_requests(app: Chalice) -> Chalice:
    """``app`` with ``current_request`` and ``lambda_context`` kept per thread."""
    state = _ThisThread()

    def slot(name: str) -> property:
        return property(lambda _: getattr(state, name), lambda _, value: setattr(state, name, value))

    app.__class__ = type(
        "PerThreadChalice",
        (type(app),),
        {"current_request": slot("current_request"), "lambda_context": slot("lambda_context")},
    )
    return app


def keep_request_log() -> None:
    """Also write the app's request log lines to ``DROPFRONT_DECISION_LOG_FILE`` (what CloudWatch keeps
    in AWS), so the studio and `make replay` can find a pricing decision by its id."""
    from chalicelib.config import settings
    from chalicelib.telemetry import logger

    path = settings().decision_log_file
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)


@dataclass(frozen=True)
class RunningOrigin:
    port: int
    thread: threading.Thread

    def join(self) -> None:
        self.thread.join()


def serve_origin(stage: str, port: int = 0) -> RunningOrigin:
    """The Chalice app on a loopback port (a free one by default), in a thread."""
    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name=stage)
    app = per_thread_requests(config.chalice_app)
    validate_routes(app.routes)
    server = LocalDevServer(app, config, "127.0.0.1", port, server_cls=CrowdServer)
    thread = threading.Thread(target=server.serve_forever, name="origin", daemon=True)
    thread.start()
    return RunningOrigin(int(server.server.server_address[1]), thread)


def deliver_logs(edge: Edge) -> None:
    """What the logs bucket's notification does in AWS: each delivered file's first views counted
    (``app.edge_logs``), every few seconds here."""
    from app import record_first_views

    while True:
        time.sleep(LOG_DELIVERY_SECONDS)
        lines = edge.deliver_log()
        try:
            if lines:
                record_first_views(lines)
        except Exception:
            logging.getLogger("dropfront").exception("the edge's log could not be counted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="local")
    parser.add_argument("--origin-port", type=int, help="front an origin already on this port")
    parser.add_argument("--origin-only", action="store_true", help="serve the origin alone on --port")
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    if args.origin_only:
        keep_request_log()
        serve_origin(args.stage, args.port).join()
        return
    from chalicelib.config import settings

    store = settings().edge_store_file
    if store is None:
        raise SystemExit("DROPFRONT_EDGE_STORE_FILE is not set: the edge function needs its key value store")
    if args.origin_port is None:
        keep_request_log()
    origin = args.origin_port or serve_origin(args.stage).port
    edge = Edge(http_origin(origin), store)
    threading.Thread(target=deliver_logs, args=(edge,), name="log-delivery", daemon=True).start()
    try:
        EdgeServer(("127.0.0.1", args.port), edge).serve_forever()
    finally:
        edge.function.close()


if __name__ == "__main__":
    main()
