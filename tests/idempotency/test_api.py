"""Idempotency-Key on POST, through Django's client (real URLconf and middleware).

Concurrency (409, 40 racing duplicates) is exercised over real HTTP in
tests/test_clients_http.py.
"""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from budgets.models import Budget, Category, Transaction
from project import errors
from project.idempotency import messages
from project.idempotency.models import IdempotencyKey
from project.idempotency.services import PURGE_BATCH, key_digest
from tests.conftest import PASSWORD, bearer
from users.models import User

BUDGET = {"title": "Household", "date": "2026-01-01", "initial_amount": "100.00"}
KEY = "3f1c2b9e-5d0a-4c8e-9b7a-1e2d3c4b5a69"


def keyed(key=KEY, **extra):
    return {"HTTP_IDEMPOTENCY_KEY": key, **extra}


def register_body(username="bob"):
    return {
        "username": username,
        "email": f"{username}@example.com",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }


def test_a_repeated_request_gets_the_stored_answer_and_writes_nothing(auth_client, user):
    first = auth_client.post("/api/budgets/", BUDGET, **keyed())
    again = auth_client.post("/api/budgets/", BUDGET, **keyed())

    assert first.status_code == 201
    assert messages.REPLAYED_HEADER not in first
    assert again.status_code == 201
    assert again[messages.REPLAYED_HEADER] == "true"
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert Budget.objects.filter(user=user).count() == 1


def test_the_replay_is_the_first_answer_even_after_the_object_changed(auth_client):
    first = auth_client.post("/api/budgets/", BUDGET, **keyed())
    budget_id = first.json()["id"]
    assert auth_client.patch(f"/api/budgets/{budget_id}/", {"title": "Renamed"}).status_code == 200

    again = auth_client.post("/api/budgets/", BUDGET, **keyed())

    assert again.content == first.content
    assert again.json()["title"] == "Household"


def test_the_same_key_with_another_body_is_a_422_and_writes_nothing(auth_client, user):
    auth_client.post("/api/budgets/", BUDGET, **keyed())

    response = auth_client.post("/api/budgets/", {**BUDGET, "title": "Other"}, **keyed())

    assert response.status_code == 422
    assert response.json() == {"detail": messages.KEY_REUSED}
    assert list(Budget.objects.filter(user=user).values_list("title", flat=True)) == ["Household"]


def test_the_same_body_with_another_query_string_is_another_request(auth_client):
    auth_client.post("/api/budgets/", BUDGET, **keyed())

    response = auth_client.post("/api/budgets/?x=1", BUDGET, **keyed())

    assert response.status_code == 422


def test_keys_are_per_path(auth_client, user):
    budget = auth_client.post("/api/budgets/", BUDGET, **keyed())
    category = auth_client.post("/api/categories/", {"name": "Food"}, **keyed())

    assert (budget.status_code, category.status_code) == (201, 201)
    assert messages.REPLAYED_HEADER not in category
    assert Category.objects.filter(user=user).count() == 1


def test_keys_are_per_user(auth_client, other_client, user, other_user):
    mine = auth_client.post("/api/budgets/", BUDGET, **keyed())
    theirs = other_client.post("/api/budgets/", BUDGET, **keyed())

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert messages.REPLAYED_HEADER not in theirs
    assert theirs.json()["user"] == other_user.id
    assert Budget.objects.filter(user=user).count() == 1
    assert Budget.objects.filter(user=other_user).count() == 1


def test_anonymous_keys_are_per_client_ip(api_client):
    first = api_client.post(
        "/api/users/register/", register_body(), **keyed(REMOTE_ADDR="10.0.0.1")
    )
    replay = api_client.post(
        "/api/users/register/", register_body(), **keyed(REMOTE_ADDR="10.0.0.1")
    )
    elsewhere = api_client.post(
        "/api/users/register/", register_body(), **keyed(REMOTE_ADDR="10.0.0.2")
    )

    assert first.status_code == 201
    assert (replay.status_code, replay[messages.REPLAYED_HEADER]) == (201, "true")
    # Another client with the same key is another request: it runs, and the name is taken.
    assert elsewhere.status_code == 400
    assert messages.REPLAYED_HEADER not in elsewhere
    assert User.objects.filter(username="bob").count() == 1


def test_anonymous_scope_follows_the_trusted_proxy_setting(api_client):
    behind_proxy = {"REMOTE_ADDR": "192.0.2.1"}
    with override_settings(NINJA_NUM_PROXIES=1):
        first = api_client.post(
            "/api/users/register/",
            register_body(),
            **keyed(HTTP_X_FORWARDED_FOR="203.0.113.5", **behind_proxy),
        )
        same_client = api_client.post(
            "/api/users/register/",
            register_body(),
            **keyed(HTTP_X_FORWARDED_FOR="203.0.113.5", **behind_proxy),
        )
        other_client = api_client.post(
            "/api/users/register/",
            register_body(),
            **keyed(HTTP_X_FORWARDED_FOR="203.0.113.6", **behind_proxy),
        )

    assert first.status_code == 201
    assert same_client[messages.REPLAYED_HEADER] == "true"
    assert other_client.status_code == 400
    assert IdempotencyKey.objects.get(
        digest=key_digest(scope="ip:203.0.113.5", path="/api/users/register/", key=KEY)
    )


@pytest.mark.parametrize(
    "key",
    ["", "x" * 256, "clé", "tab\there", "new\nline", "\x7f", " ", " lead", "trail "],
    ids=["empty", "256-chars", "non-ascii", "tab", "newline", "DEL", "space", "lead", "trail"],
)
def test_malformed_keys_are_a_400_and_nothing_runs(auth_client, user, key):
    response = auth_client.post("/api/budgets/", BUDGET, **keyed(key))

    assert response.status_code == 400
    assert response.json() == {messages.HEADER: [messages.KEY_INVALID]}
    assert Budget.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0


@pytest.mark.parametrize("key", ["a", "x" * 255, 'with spaces and "quotes" ~!@#$%^&*()'])
def test_any_printable_ascii_key_up_to_255_characters_works(auth_client, key):
    first = auth_client.post("/api/budgets/", BUDGET, **keyed(key))
    again = auth_client.post("/api/budgets/", BUDGET, **keyed(key))

    assert (first.status_code, again.status_code) == (201, 201)
    assert again[messages.REPLAYED_HEADER] == "true"
    assert IdempotencyKey.objects.get().key == key


def test_without_the_header_nothing_changes(auth_client, user):
    auth_client.post("/api/budgets/", BUDGET)
    auth_client.post("/api/budgets/", BUDGET)

    assert Budget.objects.filter(user=user).count() == 2
    assert IdempotencyKey.objects.count() == 0


def test_other_methods_ignore_the_header(auth_client, budget):
    path = f"/api/budgets/{budget.id}/"
    for _ in range(2):
        response = auth_client.patch(path, {"title": "Renamed"}, **keyed())
        assert response.status_code == 200
        assert messages.REPLAYED_HEADER not in response
    assert auth_client.get(path, **keyed()).status_code == 200
    assert IdempotencyKey.objects.count() == 0


def test_a_4xx_answer_is_stored_and_replayed(auth_client, other_user):
    foreign = Budget.objects.create(user=other_user, **{**BUDGET, "initial_amount": 5})
    body = {"budget": foreign.id, "amount": "-5.00", "date": "2026-01-02"}

    first = auth_client.post("/api/transactions/", body, **keyed())
    again = auth_client.post("/api/transactions/", body, **keyed())

    assert first.status_code == 400
    assert first.json() == {"budget": ["Budget not found."]}
    assert (again.status_code, again.content) == (400, first.content)
    assert again[messages.REPLAYED_HEADER] == "true"


def test_a_schema_400_is_stored_too(auth_client):
    first = auth_client.post("/api/budgets/", {"title": ""}, **keyed())
    again = auth_client.post("/api/budgets/", {"title": ""}, **keyed())

    assert first.status_code == 400
    assert (again.status_code, again.content) == (400, first.content)
    assert again[messages.REPLAYED_HEADER] == "true"


def test_a_5xx_is_not_stored_and_its_writes_are_rolled_back(auth_client, user, monkeypatch):
    from budgets import services

    real_create = services.budget_create

    def create_then_fail(**kwargs):
        real_create(**kwargs)
        raise RuntimeError("boom after the write")

    monkeypatch.setattr(services, "budget_create", create_then_fail)
    failed = auth_client.post("/api/budgets/", BUDGET, **keyed())
    monkeypatch.setattr(services, "budget_create", real_create)

    assert failed.status_code == 500
    assert Budget.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0
    retried = auth_client.post("/api/budgets/", BUDGET, **keyed())
    assert retried.status_code == 201
    assert messages.REPLAYED_HEADER not in retried
    assert Budget.objects.filter(user=user).count() == 1


def test_a_401_is_not_stored(api_client, user):
    wrong = api_client.post("/api/token/", {"username": "alice", "password": "wrong"}, **keyed())
    assert wrong.status_code == 401
    assert IdempotencyKey.objects.count() == 0


def test_a_429_is_not_stored(api_client):
    with override_settings(AUTH_RATE_LIMIT="1/min"):
        api_client.post("/api/users/register/", register_body("first"))
        throttled = api_client.post("/api/users/register/", register_body(), **keyed())
    assert throttled.status_code == 429
    assert IdempotencyKey.objects.count() == 0

    later = api_client.post("/api/users/register/", register_body(), **keyed())
    assert later.status_code == 201
    assert messages.REPLAYED_HEADER not in later


def test_an_invalid_token_uses_the_ip_scope_and_stores_nothing(api_client, user):
    response = api_client.post(
        "/api/budgets/", BUDGET, **keyed(HTTP_AUTHORIZATION="Bearer not-a-token")
    )
    assert response.status_code == 401
    assert IdempotencyKey.objects.count() == 0


def test_a_keyed_json_body_over_max_body_bytes_is_still_a_413(auth_client):
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100):
        response = auth_client.post(
            "/api/budgets/", {**BUDGET, "description": "x" * 200}, **keyed()
        )
    assert response.status_code == 413
    assert response.json() == {"detail": errors.TOO_LARGE}
    assert Budget.objects.count() == 0


def test_an_expired_key_runs_the_request_again(auth_client, user):
    auth_client.post("/api/budgets/", BUDGET, **keyed())
    IdempotencyKey.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    again = auth_client.post("/api/budgets/", BUDGET, **keyed())

    assert again.status_code == 201
    assert messages.REPLAYED_HEADER not in again
    assert Budget.objects.filter(user=user).count() == 2
    assert IdempotencyKey.objects.get().expires_at > timezone.now()


@override_settings(IDEMPOTENCY_KEY_TTL=3600)
def test_keys_are_kept_for_the_configured_time(auth_client):
    before = timezone.now()
    auth_client.post("/api/budgets/", BUDGET, **keyed())

    row = IdempotencyKey.objects.get()
    assert row.expires_at - row.created_at == dt.timedelta(seconds=3600)
    assert row.created_at >= before


def _expired_keys(count: int) -> None:
    past = timezone.now() - dt.timedelta(days=2)
    IdempotencyKey.objects.bulk_create(
        IdempotencyKey(
            digest=f"{n:064x}",
            scope="ip:192.0.2.1",
            path="/api/budgets/",
            key=f"old-{n}",
            fingerprint="0" * 64,
            status=201,
            created_at=past,
            expires_at=past + dt.timedelta(days=1),
        )
        for n in range(count)
    )


def test_each_keyed_write_purges_a_bounded_batch_of_expired_keys(auth_client):
    _expired_keys(PURGE_BATCH + 50)

    auth_client.post("/api/budgets/", BUDGET, **keyed())

    assert IdempotencyKey.objects.expired(timezone.now()).count() == 50
    assert IdempotencyKey.objects.filter(key=KEY).exists()


def test_the_purge_command_deletes_every_expired_key(auth_client, capsys):
    _expired_keys(PURGE_BATCH + 50)
    auth_client.post("/api/budgets/", BUDGET, **keyed())

    call_command("purge_idempotency_keys")

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == [KEY]
    assert "Deleted 50 expired idempotency keys." in capsys.readouterr().out


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL advisory locks")
def test_a_key_whose_first_request_is_still_running_is_a_409_at_once(auth_client, user):
    """Another session holds the key's lock, as the first request's transaction does."""
    import time

    import psycopg

    from project.idempotency.services import _ADVISORY_NAMESPACE, _lock_id

    digest = key_digest(scope=f"user:{user.id}", path="/api/budgets/", key=KEY)
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
    ) as other:
        other.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [_ADVISORY_NAMESPACE, _lock_id(digest)]
        )
        started = time.monotonic()
        response = auth_client.post("/api/budgets/", BUDGET, **keyed())
        elapsed = time.monotonic() - started

    assert response.status_code == 409
    assert response.json() == {"detail": messages.IN_PROGRESS}
    assert elapsed < 5
    assert Budget.objects.count() == 0
    assert auth_client.post("/api/budgets/", BUDGET, **keyed()).status_code == 201


def test_every_post_documents_the_header_and_its_answers():
    from tests.test_openapi import PATHS

    posts = {path: item["post"] for path, item in PATHS.items() if "post" in item}
    assert "/api/budgets/" in posts and "/api/users/logout-all/" in posts
    for path, operation in posts.items():
        header = [p for p in operation["parameters"] if p["in"] == "header"]
        assert header == [{**header[0], "name": messages.HEADER, "required": False}], path
        assert header[0]["schema"]["maxLength"] == 255
        for code in ("400", "409", "413", "422"):
            assert code in operation["responses"], (path, code)
        assert messages.REPLAYED_HEADER in operation["responses"]["400"].get("headers", {})


def test_keys_are_read_only_in_the_admin(client, auth_client):
    from tests.conftest import make_user

    auth_client.post("/api/budgets/", BUDGET, **keyed())
    client.force_login(make_user("root", is_staff=True, is_superuser=True))

    listing = client.get("/admin/idempotency/idempotencykey/?q=3f1c")
    assert listing.status_code == 200
    assert KEY in listing.content.decode()
    assert client.get("/admin/idempotency/idempotencykey/add/").status_code == 403


@pytest.mark.parametrize("path", ["/api/nowhere/", "/api/%00/", "/api/budgets/x/"])
def test_paths_without_a_route_store_nothing(auth_client, path):
    response = auth_client.post(path, BUDGET, **keyed())

    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})
    assert IdempotencyKey.objects.count() == 0


def test_a_forged_forwarded_for_cannot_break_the_scope(api_client):
    """With more trusted proxies configured than there are, the picked X-Forwarded-For
    entry is client text: it is bounded and made printable before it is stored."""
    forged = "x" * 500 + "\x7f\x01"
    with override_settings(NINJA_NUM_PROXIES=5):
        response = api_client.post(
            "/api/users/register/", register_body(), **keyed(HTTP_X_FORWARDED_FOR=forged)
        )

    assert response.status_code == 201
    assert IdempotencyKey.objects.get().scope == "ip:" + "x" * 64


IMPORT_URL = "/api/transactions/import/"


def import_csv(client, rows: int, key=KEY, extra_description=""):
    lines = ["date,budget,category,description,amount"] + [
        f"2026-02-01,Household,,Row {n:05d} {extra_description},-1.00" for n in range(rows)
    ]
    data = ("\r\n".join(lines) + "\r\n").encode()
    file = SimpleUploadedFile("rows.csv", data, content_type="text/csv")
    # allow_duplicates: running the import twice would really book everything twice.
    return client.post(IMPORT_URL, {"file": file, "allow_duplicates": "true"}, **keyed(key)), len(
        data
    )


def test_a_keyed_upload_larger_than_max_body_bytes_runs_once(user, budget):
    client = Client(**bearer(user))
    first, size = import_csv(client, rows=3000)
    again, _ = import_csv(client, rows=3000)
    other, _ = import_csv(client, rows=3000, extra_description="x")

    assert size > 64 * 1024  # beyond MAX_BODY_BYTES: read through a temporary copy
    assert (first.status_code, first.json()["imported"]) == (201, 3000)
    assert (again.status_code, again.content) == (201, first.content)
    assert again[messages.REPLAYED_HEADER] == "true"
    assert other.status_code == 422
    assert Transaction.objects.filter(budget=budget).count() == 3000


def test_a_keyed_body_over_the_idempotency_limit_is_a_413(user, budget):
    with override_settings(IDEMPOTENCY_MAX_BODY_BYTES=100 * 1024):
        response, size = import_csv(Client(**bearer(user)), rows=3000)

    assert size > 100 * 1024
    assert response.status_code == 413
    assert response.json() == {"detail": errors.TOO_LARGE}
    assert Transaction.objects.count() == 0


def test_the_app_keeps_its_label_and_table_under_project(db):
    # Moved from a top-level package: databases migrated before the move must see the
    # same app label, migration history and table.
    from django.apps import apps
    from django.db.migrations.recorder import MigrationRecorder

    config = apps.get_app_config("idempotency")
    assert (config.name, config.label) == ("project.idempotency", "idempotency")
    assert IdempotencyKey._meta.db_table == "idempotency_idempotencykey"
    assert MigrationRecorder.Migration.objects.filter(
        app="idempotency", name="0001_initial"
    ).exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite: the key's file lock")
def test_on_sqlite_a_running_key_is_busy_for_other_threads_and_processes(tmp_path, monkeypatch):
    """``key_running`` around a keyed request: a second request with the key, from this
    process (another thread) or another one, is told at once that it runs (409)."""
    import subprocess
    import sys

    from project.idempotency.services import key_running, lock_offset, sqlite_lock_path

    database = tmp_path / "db.sqlite3"
    monkeypatch.setitem(connection.settings_dict, "NAME", str(database))
    digest = key_digest(scope="user:1", path="/api/budgets/", key=KEY)
    hold = (
        "import fcntl, os, sys, time;"
        "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT);"
        "fcntl.lockf(fd, fcntl.LOCK_EX, 1, int(sys.argv[2]));"
        "print('held', flush=True); time.sleep(30)"
    )

    with key_running(digest) as first, key_running(digest) as second:
        assert (first, second) == (True, False)
    with key_running(digest) as after:
        assert after is True
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            hold,
            str(sqlite_lock_path(str(database))),
            str(lock_offset(digest)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with key_running(digest) as elsewhere:
            assert elsewhere is False
        with key_running(key_digest(scope="user:1", path="/api/budgets/", key="other")) as other:
            assert other is True
    finally:
        holder.kill()
        holder.wait()
    with key_running(digest) as released:
        assert released is True
