"""moto's DynamoDB server on loopback, made atomic per request and kept from growing.

moto is not concurrency-safe, so requests are served one at a time (a lock around the WSGI app):
that is how DynamoDB behaves per request, while races between *our* requests still show. moto also
keeps every model instance it creates for its dashboard; resetting those lists after each request
keeps the data and stops a long-running server from growing by a table copy per transaction.
"""

from __future__ import annotations

import argparse
import copy
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


class SerializedApp:
    """A WSGI app that runs one request at a time and drops moto's instance tracking after each."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()
        _OneCopyPerTable().install()

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
