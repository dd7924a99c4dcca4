"""Rate limits shared through Redis: AUTH_RATE_LIMIT=5/min holds across two workers."""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
import uuid

from tests.support.servers import Response, http_request

LIMIT, TOTAL = 5, 12


def test_login_attempts_are_counted_across_workers(entrypoint_server, fresh_database, redis_url):
    """Login attempts spread deterministically over both workers; counters must be shared.

    A connection that has sent only part of its headers keeps the sync worker that accepted
    it busy, so the other worker serves the next requests. Order of processing:
    (LIMIT-2) requests on worker B while A holds P1; P2 pins B; P1 completes on A; the rest
    go to A; P2 completes on B. Per-process counters would let LIMIT-1 more through.
    """
    server = entrypoint_server(
        "ratelimit",
        DATABASE_URL=fresh_database.url,
        MIGRATE_ON_START="true",
        WEB_CONCURRENCY="2",
        AUTH_RATE_LIMIT=f"{LIMIT}/min",
        CACHE_URL=redis_url,
        GUNICORN_GRACEFUL_TIMEOUT="5",
        GUNICORN_CMD_ARGS="--access-logformat '%(p)s %(s)s %(m)s %(U)s'",
    )
    port = server.port
    credentials = {"username": f"nobody_{uuid.uuid4().hex[:10]}", "password": "wrong-password"}
    body = json.dumps(credentials).encode()
    head = f"POST /api/token/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
    rest = (
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body

    def pin() -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        sock.sendall(head)
        time.sleep(1.0)  # let a worker accept it before anything else arrives
        return sock

    def finish(sock: socket.socket) -> Response:
        sock.sendall(rest)
        response = http.client.HTTPResponse(sock)
        response.begin()
        raw = response.read()
        sock.close()
        return Response(response.status, response.headers, raw)

    def post() -> Response:
        return http_request(port, "POST", "/api/token/", credentials)

    first = LIMIT - 2
    p1 = pin()
    results = [post() for _ in range(first)]
    p2 = pin()
    results.append(finish(p1))
    results += [post() for _ in range(TOTAL - first - 2)]
    results.append(finish(p2))

    statuses = [r.status for r in results]
    assert statuses == [401] * LIMIT + [429] * (TOTAL - LIMIT)
    limited = [r for r in results if r.status == 429]
    assert all(re.fullmatch(r"\d+", r.headers.get("retry-after", "")) for r in limited)
    assert all(list(r.json()) == ["detail"] for r in limited)

    time.sleep(0.5)
    served = re.findall(r"<(\d+)> (\d{3}) POST /api/token/", server.log_path.read_text())
    allowed_by = {pid for pid, status in served if status != "429"}
    assert len(served) == TOTAL
    assert len(allowed_by) == 2, "the allowed attempts must span both workers"
