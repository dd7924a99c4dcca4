"""gunicorn's sync and gthread workers, sending each answer in one write.

gunicorn writes an answer in pieces: the status line and headers, then the body, then
(chunked) the closing chunk, one ``sendall`` each. A replica killed between two of them
leaves nginx holding headers it has already passed on, so it cannot retry the request on
another replica and the client gets a cut-off answer. These workers hold the pieces back
and send them together when the request is done, so a replica that dies mid-request has
sent all of its answer or none of it, and nginx retries the "none" case (GET, HEAD, PUT,
DELETE, OPTIONS). The bytes and their order are gunicorn's own; only the number of writes
changes. Answers over ``HELD_LIMIT`` (large exports) start going out once that much is held.

docker-entrypoint.sh selects them for GUNICORN_WORKER_CLASS=sync (the default) and gthread.
"""

from __future__ import annotations

import socket
from typing import Any

from gunicorn.workers.gthread import ThreadWorker as _ThreadWorker
from gunicorn.workers.sync import SyncWorker as _SyncWorker

HELD_LIMIT = 256 * 1024


class WholeAnswerSocket:
    """A worker's client socket whose ``sendall`` is held until ``flush`` (end of the
    request), ``sendfile``, ``shutdown``/``close``, or more than ``HELD_LIMIT`` bytes held.
    Everything else (reading the request, ``send`` for 100 Continue) goes straight on."""

    def __init__(self, sock: socket.socket):
        self._sock = sock
        self._held: list[bytes] | None = []
        self._size = 0

    def sendall(self, data: bytes) -> None:
        if self._held is None:
            self._sock.sendall(data)
            return
        self._held.append(bytes(data))
        self._size += len(data)
        if self._size > HELD_LIMIT:
            self.flush()

    def flush(self) -> None:
        """Send what is held, in one write; from now on writes go straight through."""
        held, self._held = self._held, None
        if held:
            self._sock.sendall(b"".join(held))

    def sendfile(self, file, offset: int = 0, count: int | None = None) -> int:
        self.flush()
        return self._sock.sendfile(file, offset, count)

    def shutdown(self, how: int) -> None:
        self.flush()
        self._sock.shutdown(how)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class SyncWorker(_SyncWorker):
    """gunicorn's ``sync`` worker; each answer in one write."""

    def handle_request(self, listener, req, client, addr):
        whole = WholeAnswerSocket(client)
        try:
            return super().handle_request(listener, req, whole, addr)
        finally:
            whole.flush()


class ThreadWorker(_ThreadWorker):
    """gunicorn's ``gthread`` worker; each answer in one write."""

    def handle_request(self, req, conn):
        sock = conn.sock
        conn.sock = whole = WholeAnswerSocket(sock)
        try:
            return super().handle_request(req, conn)
        finally:
            conn.sock = sock
            whole.flush()
