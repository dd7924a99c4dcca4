"""A WSGI app for tests of the gunicorn workers (tests/test_gunicorn_workers.py): ``/up``
as the servers helper expects, and ``/slow``, an answer whose second half comes
``SLOW_PAUSE`` seconds after its first (chunked: no Content-Length)."""

import json
import time

SLOW_PAUSE = 3.0


def app(environ, start_response):
    if environ["PATH_INFO"] == "/up":
        body = json.dumps({"status": "ok"}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    def slow():
        yield b"first half;"
        time.sleep(SLOW_PAUSE)
        yield b"second half"

    start_response("200 OK", [("Content-Type", "text/plain")])
    return slow()
