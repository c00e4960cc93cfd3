"""A loopback TCP proxy that can go silent: it accepts connections and never answers, as an
unreachable endpoint behind a load balancer does (the breaker's test and ``bench.outage``)."""

from __future__ import annotations

import socket
import threading


class SilenceableProxy:
    """A TCP proxy to ``target`` on loopback; while ``silent``, it accepts and never answers, on new
    connections and on those already open."""

    @property
    def silenced(self) -> int:
        """Connections that waited in vain: one for each attempt a client made during the silence
        (botocore drops a connection whose attempt timed out)."""
        return len(self.held) + len(self.swallowed)

    def __init__(self, target_port: int) -> None:
        self.silent = False
        self._target = target_port
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.held: list[socket.socket] = []  # connections accepted while silent
        self.swallowed: set[int] = set()  # open connections whose requests the silence swallowed
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self.silent:
                self.held.append(client)
                continue
            upstream = socket.create_connection(("127.0.0.1", self._target))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if self.silent:  # a connection opened before the silence hangs too
                    self.swallowed.add(id(source))
                    continue
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                end.close()

    def close(self) -> None:
        self._server.close()
        for held in self.held:
            held.close()
