"""moto's DynamoDB server on loopback, made atomic per request, kept from growing, and quick to
answer items.

moto is not concurrency-safe, so requests are served one at a time (a lock around the WSGI app):
that is how DynamoDB behaves per request, while races between *our* requests still show. moto also
keeps every model instance it creates for its dashboard; resetting those lists after each request
keeps the data and stops a long-running server from growing by a table copy per transaction.
``answer_items_as_json`` (also used by the tests' in-process moto) keeps moto's serializer from
taking a third of a second over a drop's stock.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import threading
from collections.abc import Iterable
from typing import Any

from moto.core.model_instances import reset_model_data
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


class _OneCopyPerTable:
    """moto 5 deep-copies a table once per *action* of a transaction, as its rollback state; the
    copies are taken before any action runs, so they are identical. This hands back the first copy
    for the rest of the transaction: the same rollback, a quarter of the work for a 4-action booking.
    Safe because the server runs one request at a time."""

    def __init__(self) -> None:
        self.copies: dict[int, Any] | None = None

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        if self.copies is None or not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        if id(value) not in self.copies:
            self.copies[id(value)] = copy.deepcopy(value, memo)
        return self.copies[id(value)]

    def install(self) -> None:
        import moto.dynamodb.models as models

        backend = models.DynamoDBBackend
        if getattr(backend.transact_write_items, "_one_copy", False):
            return
        original = backend.transact_write_items
        setattr(models, "copy", self)  # noqa: B010 - the module uses ``copy`` only for deepcopy

        def transact_write_items(backend_self: Any, transact_items: Any) -> None:
            self.copies = {}
            try:
                original(backend_self, transact_items)
            finally:
                self.copies = None

        transact_write_items._one_copy = True  # type: ignore[attr-defined]
        setattr(backend, "transact_write_items", transact_write_items)  # noqa: B010 - patching a class


ITEM_OPERATIONS = frozenset(
    {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "PutItem", "UpdateItem", "DeleteItem"}
)
"""The operations whose answers carry items: the ones moto's generic serializer is slow over."""


def answer_items_as_json() -> None:
    """moto 5.2 answers every DynamoDB call through a serializer that walks the operation's output
    shape value by value: about 2 ms an item, 330 ms for the 156 stock items of the demo drop, which
    DynamoDB answers in a few. An item operation's result is already DynamoDB's JSON (attribute-value
    maps), so it is dumped as it is, as moto 5.1 did; a result that is not plain JSON (a binary
    attribute, which moto holds as bytes) and every error still take moto's own way. Idempotent;
    ``tests/test_embedded_dynamodb.py`` holds the two ways' answers equal."""
    from moto.core.common_types import TYPE_RESPONSE
    from moto.dynamodb.responses import DynamoResult

    generic = DynamoResult.execute_result
    if getattr(generic, "as_json", False):
        return

    def execute_result(result: Any, context: Any) -> TYPE_RESPONSE:
        if context.operation_model.name in ITEM_OPERATIONS:
            try:
                body = json.dumps(result.result)
            except TypeError:  # bytes: moto's serializer base64-encodes them
                pass
            else:
                return 200, {"Content-Type": "application/x-amz-json-1.0"}, body
        return generic(result, context)

    execute_result.as_json = True  # type: ignore[attr-defined]
    execute_result.generic = generic  # type: ignore[attr-defined]  # moto's own, for the test
    setattr(DynamoResult, "execute_result", execute_result)  # noqa: B010 - patching a class


class SerializedApp:
    """A WSGI app that runs one request at a time and drops moto's instance tracking after each."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()
        _OneCopyPerTable().install()
        answer_items_as_json()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self._lock:
            try:
                body = b"".join(self._app(environ, start_response))
            finally:
                reset_model_data()
        return [body]


class EmbeddedDynamoDB:
    """A moto server on 127.0.0.1 (port 0 picks a free one); use as a context manager."""

    def __init__(self, port: int = 0) -> None:
        self.app = SerializedApp(DomainDispatcherApplication(create_backend_app))
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", port, self.app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> EmbeddedDynamoDB:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> EmbeddedDynamoDB:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def use_fake_credentials() -> None:
    """moto accepts any credentials; make sure boto3 never looks for real ones."""
    for key, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(key, value)


def quiet_request_log() -> None:
    """Hide werkzeug's line per DynamoDB request; errors still show."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve moto's DynamoDB on loopback.")
    parser.add_argument("--port", type=int, default=8002)
    args = parser.parse_args()
    quiet_request_log()
    server = EmbeddedDynamoDB(args.port).start()
    print(f"embedded DynamoDB on {server.endpoint}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
