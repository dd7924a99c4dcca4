"""The compose stack's shape on the host: nginx (the repository's template, rendered as the
official image does) in front of two entrypoint instances on PostgreSQL, migrated once."""

from __future__ import annotations

import re
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from checks_support import check_docs_assets, register_and_login, roundtrip
from conftest import entrypoint, entrypoint_migrate, start_nginx

from tests.support.servers import PostgresDatabase, free_port, http_request

MAX_BODY = 65536
IMPORT_MAX = 300_000
# What the replicas log per request: peer, forwarded headers, request id.
ACCESS_FORMAT = (
    "--access-logformat "
    "'peer=%(h)s xff=%({x-forwarded-for}i)s proto=%({x-forwarded-proto}i)s "
    'rid=%({x-request-id}i)s "%(r)s" %(s)s\''
)


@pytest.fixture(scope="module")
def stack(pg_admin_url, base_env, collected_static, work_dir):
    """One migrate job, then two replicas with migrations off, then the proxy."""
    database = PostgresDatabase(pg_admin_url, prefix="stack_proxy").create()
    env = {
        **base_env,
        "DATABASE_URL": database.url,
        "NUM_PROXIES": "1",
        "MAX_BODY_BYTES": str(MAX_BODY),
        "IMPORT_MAX_BYTES": str(IMPORT_MAX),
        "AUTH_RATE_LIMIT": "100000/min",
    }
    migrated = entrypoint_migrate(env)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    replicas = [
        entrypoint(
            env,
            work_dir,
            f"replica-{n}",
            MIGRATE_ON_START="false",
            WEB_CONCURRENCY="2",
            FORWARDED_ALLOW_IPS="127.0.0.1",
            GUNICORN_CMD_ARGS=ACCESS_FORMAT,
        )
        for n in (1, 2)
    ]
    nginx = None
    try:
        for replica in replicas:
            replica.start()
        upstreams = " ".join(f"127.0.0.1:{replica.port}" for replica in replicas)
        nginx = start_nginx(
            work_dir, "stack", upstreams=upstreams, max_body=MAX_BODY, import_max=IMPORT_MAX
        )
        yield nginx, replicas
    finally:
        if nginx is not None:
            nginx.stop()
        for replica in replicas:
            replica.stop()
        database.drop()


def _assert_json_error(response, status: int, detail: str) -> None:
    assert response.status == status, response
    assert response.headers["content-type"] == "application/json", response
    assert response.json() == {"detail": detail}


def _raw_exchange(port: int, data: bytes, timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_the_rendered_config_lists_both_replicas(stack):
    nginx, replicas = stack
    for replica in replicas:
        assert f"server 127.0.0.1:{replica.port} max_fails=1" in nginx.config
    assert "${" not in nginx.config  # every variable of the template was set
    assert "$proxy_add_x_forwarded_for" in nginx.config  # nginx's own variables were kept


def test_round_trip_through_the_proxy(stack):
    nginx, _ = stack
    roundtrip(nginx.port)
    check_docs_assets(nginx.port)
    anonymous = http_request(nginx.port, "GET", "/api/budgets/")
    assert anonymous.status == 401 and list(anonymous.json()) == ["detail"]  # the API's own


def test_forwarded_headers_and_request_id_reach_the_api(stack):
    nginx, replicas = stack
    response = http_request(
        nginx.port,
        "GET",
        "/api/health/",
        headers={"X-Request-ID": "ci-trace-42", "X-Forwarded-For": "203.0.113.9"},
    )
    assert response.status == 200
    assert response.headers["x-request-id"] == "ci-trace-42"
    time.sleep(0.3)
    logs = "".join(replica.log_path.read_text() for replica in replicas)
    line = next(line for line in logs.splitlines() if "rid=ci-trace-42" in line)
    # nginx appended the peer it saw; NUM_PROXIES=1 makes the API take that last entry.
    assert "peer=127.0.0.1 xff=203.0.113.9, 127.0.0.1 proto=http" in line

    generated = http_request(nginx.port, "GET", "/up", headers={"X-Request-ID": "bad id!"})
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])


def test_the_proxy_answers_its_own_errors_in_json(stack):
    nginx, _ = stack
    too_large = http_request(
        nginx.port,
        "POST",
        "/api/token/",
        body=b"x" * (MAX_BODY + 1),
        headers={"Content-Type": "application/json"},
    )
    _assert_json_error(too_large, 413, "Request body is too large.")
    at_limit = http_request(
        nginx.port,
        "POST",
        "/api/token/",
        body=b"x" * MAX_BODY,
        headers={"Content-Type": "application/json"},
    )
    assert at_limit.status == 400, at_limit  # reached the API, which parsed it

    # The CSV import alone takes larger bodies, up to IMPORT_MAX_BYTES + MAX_BODY_BYTES.
    csv = {"Content-Type": "multipart/form-data; boundary=x"}
    upload = http_request(
        nginx.port, "POST", "/api/transactions/import/", body=b"x" * 200_000, headers=csv
    )
    assert upload.status == 401, upload  # passed on: the API wants a token first
    too_large = http_request(
        nginx.port,
        "POST",
        "/api/transactions/import/",
        body=b"x" * (IMPORT_MAX + MAX_BODY + 1),
        headers=csv,
    )
    _assert_json_error(too_large, 413, "Request body is too large.")

    long_url = http_request(nginx.port, "GET", "/api/budgets/?q=" + "a" * 5000)
    _assert_json_error(long_url, 414, "Request URL is too long.")
    big_header = http_request(nginx.port, "GET", "/up", headers={"X-Big": "b" * 5000})
    _assert_json_error(big_header, 431, "Request headers are too large.")

    garbage = _raw_exchange(nginx.port, b"NOT HTTP AT ALL\r\n\r\n")
    head, _, body = garbage.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), garbage
    assert b"Content-Type: application/json" in head
    assert body.strip() == b'{"detail": "Bad request."}'


def test_no_replica_reachable_is_a_json_502(work_dir):
    nginx = start_nginx(work_dir, "dead", upstreams=f"127.0.0.1:{free_port()}")
    try:
        response = http_request(nginx.port, "GET", "/up")
    finally:
        nginx.stop()
    _assert_json_error(response, 502, "The API is not reachable right now; try again shortly.")


def test_a_replica_that_never_answers_is_a_json_504(work_dir):
    # A listening socket nobody accepts from: connections complete, nothing is answered.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        nginx = start_nginx(work_dir, "silent", upstreams=f"127.0.0.1:{port}", read_timeout=1)
        try:
            response = http_request(nginx.port, "GET", "/up")
        finally:
            nginx.stop()
    _assert_json_error(response, 504, "The API did not answer in time.")


STALLED = 50
PROBES = 200


def _stall(port: int, half_body: bool) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    if half_body:
        sock.sendall(
            b"POST /api/token/ HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n" + b"{" * 50
        )
    else:
        sock.sendall(b"GET /up HTTP/1.1\r\nHost: localhost\r\nX-Half: ")
    return sock


def test_stalled_clients_do_not_hold_up_other_requests(stack):
    """50 sockets with half-sent headers or bodies held open while 200 GET /up complete."""
    nginx, _ = stack
    stalled = [_stall(nginx.port, half_body=n % 2 == 0) for n in range(STALLED)]
    try:
        time.sleep(0.5)

        def probe(_):
            started = time.perf_counter()
            response = http_request(nginx.port, "GET", "/up", timeout=10)
            return response.status, response.json(), time.perf_counter() - started

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(probe, range(PROBES)))
        assert [(s, b) for s, b, _ in results] == [(200, {"status": "ok"})] * PROBES
        latencies = sorted(elapsed for _, _, elapsed in results)
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        print(
            f"GET /up with {STALLED} stalled sockets: p50 {latencies[PROBES // 2] * 1000:.1f} ms,"
            f" p99 {p99 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
        )
        assert p99 < 0.250

        # nginx, not a worker, times the stalled ones out (client_*_timeout 10s): it logs
        # a 408 and closes the connection without an answer, as nginx always does there.
        for sock in stalled:
            sock.settimeout(15)
        answers = [sock.recv(4096) for sock in stalled]
        assert answers == [b""] * STALLED
    finally:
        for sock in stalled:
            sock.close()


def test_killing_a_replica_fails_no_get(stack):
    """SIGKILL one replica (master and workers) while a bounded stream of GETs runs."""
    nginx, replicas = stack
    _, access = register_and_login(nginx.port, prefix="failover")
    paths = ["/up", "/api/budgets/", "/api/health/"]
    failures: list[object] = []
    done = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + 8

    def stream(worker: int) -> None:
        n = 0
        while time.monotonic() < stop_at and n < 400:
            path = paths[(worker + n) % len(paths)]
            try:
                response = http_request(nginx.port, "GET", path, token=access, timeout=10)
                ok = response.status == 200
            except Exception as exc:  # refused, reset, or an answer cut off (IncompleteRead)
                ok, response = False, exc
            with lock:
                done[0] += 1
                if not ok:
                    failures.append((path, response))
            n += 1

    threads = [threading.Thread(target=stream, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    victim = replicas[0]
    victim.kill()
    assert victim.process.returncode == -signal.SIGKILL
    for thread in threads:
        thread.join(timeout=30)

    assert not any(thread.is_alive() for thread in threads)
    assert done[0] > 100
    assert failures == []
    survivor = http_request(nginx.port, "GET", "/api/budgets/", token=access)
    assert survivor.status == 200
