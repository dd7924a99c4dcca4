"""project.gunicorn_workers: every answer leaves the worker in one write, so a replica
killed mid-request has sent nothing and the proxy can retry the request elsewhere."""

import io
import socket
import time

import pytest

from project import gunicorn_workers
from project.gunicorn_workers import HELD_LIMIT, WholeAnswerSocket
from tests.support.servers import HOST, AppServer, free_port, gunicorn_command, http_request

APP = "tests.support.slow_answer_app:app"
SYNC = "project.gunicorn_workers.SyncWorker"
THREAD = "project.gunicorn_workers.ThreadWorker"


class RecordingSocket:
    def __init__(self):
        self.calls: list[tuple[str, object]] = []

    def sendall(self, data):
        self.calls.append(("sendall", bytes(data)))

    def sendfile(self, file, offset=0, count=None):
        self.calls.append(("sendfile", (offset, count)))
        return count or 0

    def shutdown(self, how):
        self.calls.append(("shutdown", how))

    def close(self):
        self.calls.append(("close", None))

    def recv(self, size):
        self.calls.append(("recv", size))
        return b"request"


def test_writes_are_held_and_go_out_together_on_flush():
    sock = RecordingSocket()
    whole = WholeAnswerSocket(sock)

    whole.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
    whole.sendall(b"5\r\nhello\r\n")
    whole.sendall(b"0\r\n\r\n")
    assert sock.calls == []

    whole.flush()
    assert sock.calls == [("sendall", b"HTTP/1.1 200 OK\r\n\r\n5\r\nhello\r\n0\r\n\r\n")]
    whole.flush()  # nothing held any more
    whole.sendall(b"late")  # after a flush, straight through
    assert sock.calls[1:] == [("sendall", b"late")]


def test_a_large_answer_starts_going_out_past_the_limit():
    sock = RecordingSocket()
    whole = WholeAnswerSocket(sock)

    whole.sendall(b"h" * 100)
    whole.sendall(b"b" * HELD_LIMIT)
    whole.sendall(b"rest")

    assert sock.calls == [("sendall", b"h" * 100 + b"b" * HELD_LIMIT), ("sendall", b"rest")]


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (lambda whole: whole.sendfile(io.BytesIO(b"x"), 0, 1), ("sendfile", (0, 1))),
        (lambda whole: whole.shutdown(socket.SHUT_WR), ("shutdown", socket.SHUT_WR)),
        (lambda whole: whole.close(), ("close", None)),
    ],
)
def test_what_is_held_goes_first_when_the_socket_is_used_otherwise(action, expected):
    sock = RecordingSocket()
    whole = WholeAnswerSocket(sock)
    whole.sendall(b"head")

    action(whole)

    assert sock.calls == [("sendall", b"head"), expected]


def test_reading_goes_straight_to_the_socket():
    sock = RecordingSocket()

    assert WholeAnswerSocket(sock).recv(10) == b"request"
    assert sock.calls == [("recv", 10)]


def test_the_workers_keep_gunicorns_behaviour_otherwise():
    from gunicorn.workers.gthread import ThreadWorker
    from gunicorn.workers.sync import SyncWorker

    assert issubclass(gunicorn_workers.SyncWorker, SyncWorker)
    assert issubclass(gunicorn_workers.ThreadWorker, ThreadWorker)


# --- a real gunicorn, killed in the middle of an answer ---------------------------------


@pytest.fixture
def serve(tmp_path):
    started: list[AppServer] = []

    def start(worker_class: str) -> AppServer:
        port = free_port()
        command = gunicorn_command(port, workers=1, worker_class=worker_class, app=APP)
        server = AppServer(env={"PATH": "/usr/bin:/bin"}, log_path=tmp_path / "g.log",
                           port=port, command=command)  # fmt: skip
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def _slow_request(port: int) -> socket.socket:
    sock = socket.create_connection((HOST, port), timeout=10)
    sock.sendall(b"GET /slow HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
    return sock


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("worker_class", [SYNC, THREAD])
def test_a_whole_answer_arrives_intact(serve, worker_class):
    server = serve(worker_class)

    response = http_request(server.port, "GET", "/slow")

    assert (response.status, response.raw) == (200, b"first half;second half")
    assert response.headers["transfer-encoding"] == "chunked"


@pytest.mark.parametrize(("worker_class", "sent"), [("sync", True), (SYNC, False), (THREAD, False)])
def test_a_worker_killed_mid_answer_has_sent_nothing(serve, worker_class, sent):
    """gunicorn's own sync worker has sent the headers and half the body by then: no proxy
    can retry that request. Ours has sent nothing: the proxy retries it elsewhere."""
    server = serve(worker_class)
    with _slow_request(server.port) as sock:
        time.sleep(1)  # the first half is written, the second is 2 s away at least

        server.kill()
        received = _read_all(sock)

    assert received.startswith(b"HTTP/1.1 200 OK") is sent
    if not sent:
        assert received == b""
