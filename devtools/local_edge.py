"""`chalice local` with what CloudFront adds in front of it: ``/media/*`` served from ``media/``.

In AWS, CloudFront sends ``/media/*`` to an S3 bucket and everything else to API Gateway; here one
loopback server does both, so pages load their fit videos and posters from their own origin as
they do in production, and the CSP stays ``'self'``.

Chalice keeps the request being answered on the app object (``app.current_request``), which is
right on Lambda (one request at a time per process) and wrong under the local server, which answers
each request on its own thread: one request's cookie, body or headers could be read while answering
another. ``per_thread_requests`` gives each thread its own, so the local server answers as Lambda.
"""

from __future__ import annotations

import argparse
import logging
import mimetypes
import sys
import threading
from pathlib import Path
from typing import Any

from chalice.app import Chalice
from chalice.cli.factory import CLIFactory
from chalice.deploy.validate import validate_routes
from chalice.local import ChaliceRequestHandler, LocalDevServer, ThreadedHTTPServer

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "media"
MEDIA_PREFIX = "/media/"
MEDIA_TYPES = {".webm": "video/webm", ".webp": "image/webp", ".vtt": "text/vtt; charset=utf-8"}


def media_file(path: str) -> Path | None:
    """The file under media/ a ``/media/…`` path names, or None (outside it, or missing)."""
    wanted = (MEDIA / path.split("?", 1)[0].removeprefix(MEDIA_PREFIX)).resolve()
    return wanted if wanted.is_relative_to(MEDIA) and wanted.is_file() else None


class EdgeHandler(ChaliceRequestHandler):
    """Media from disk, cached long like CloudFront's media behaviour; the rest to the Chalice app."""

    def do_GET(self) -> None:
        if not self.path.startswith(MEDIA_PREFIX):
            super().do_GET()
            return
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="local")
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    keep_request_log()
    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name=args.stage)
    app = per_thread_requests(config.chalice_app)
    validate_routes(app.routes)
    LocalDevServer(app, config, "127.0.0.1", args.port, handler_cls=EdgeHandler, server_cls=CrowdServer).serve_forever()


if __name__ == "__main__":
    main()
