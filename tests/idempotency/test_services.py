"""project.idempotency.services called directly: each rule of a key on its own.

The HTTP behaviour (headers, replays, 409/422 bodies) is in test_api.py.
"""

import datetime as dt

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from project.idempotency import services
from project.idempotency.models import IdempotencyKey

pytestmark = pytest.mark.django_db

SCOPE, PATH = "user:1", "/api/budgets/"


def claim(key: str = "k1", fingerprint: str = "f1", **where) -> tuple[IdempotencyKey, bool]:
    with transaction.atomic():
        return services.key_claim(
            scope=where.get("scope", SCOPE),
            path=where.get("path", PATH),
            key=key,
            fingerprint=fingerprint,
        )


def stored(key: str = "k1", fingerprint: str = "f1") -> IdempotencyKey:
    row, replay = claim(key, fingerprint)
    assert replay is False
    services.key_store(row, status=201, headers={"Content-Type": "x"}, body=b"{}")
    return row


def expire(row: IdempotencyKey) -> None:
    IdempotencyKey.objects.filter(pk=row.pk).update(expires_at=timezone.now())


@pytest.mark.parametrize(
    ("key", "valid"),
    [("a", True), ("a b", True), ("~" * 255, True), ("", False), (" a", False),
     ("a ", False), ("a\tb", False), ("é", False), ("x" * 256, False)],
)  # fmt: skip
def test_key_is_valid(key, valid):
    assert services.key_is_valid(key) is valid


def test_the_digest_differs_by_scope_path_and_key():
    digests = {
        services.key_digest(scope=scope, path=path, key=key)
        for scope in ("user:1", "user:2")
        for path in ("/a/", "/b/")
        for key in ("k1", "k2")
    }
    assert len(digests) == 8


def test_the_fingerprint_covers_method_path_and_body_whatever_the_chunking():
    def fingerprint(method="POST", full_path="/a/?x=1", body=(b"ab", b"c")):
        return services.request_fingerprint(method=method, full_path=full_path, body=body)

    assert fingerprint() == fingerprint(body=(b"a", b"bc"))
    assert len({fingerprint(), fingerprint("PUT"), fingerprint(full_path="/a/"),
                fingerprint(body=(b"abd",))}) == 4  # fmt: skip


def test_a_new_key_is_claimed_for_the_configured_time():
    with override_settings(IDEMPOTENCY_KEY_TTL=60):
        row, replay = claim()

    assert replay is False and row.status is None
    assert row.expires_at - row.created_at == dt.timedelta(seconds=60)


def test_the_same_request_again_replays_the_stored_answer():
    first = stored()

    row, replay = claim()

    assert replay is True and row.pk == first.pk
    assert (row.status, row.headers, bytes(row.body)) == (201, {"Content-Type": "x"}, b"{}")


def test_the_same_key_with_another_request_is_refused():
    stored()

    with pytest.raises(services.KeyReused):
        claim(fingerprint="f2")


def test_the_same_key_in_another_scope_or_path_is_another_claim():
    stored()

    assert claim(scope="user:2")[1] is False
    assert claim(path="/api/categories/")[1] is False


def test_an_expired_key_is_claimed_afresh():
    old = stored()
    expire(old)

    row, replay = claim(fingerprint="f2")

    assert replay is False and row.pk != old.pk
    assert not IdempotencyKey.objects.filter(pk=old.pk).exists()


def test_a_released_claim_leaves_nothing_behind():
    row, _ = claim()

    services.key_release(row)

    assert claim()[1] is False


def test_purge_deletes_expired_keys_only_and_at_most_the_limit():
    rows = [stored(key=f"k{n}") for n in range(5)]
    for row in rows[:3]:
        expire(row)

    assert services.key_purge_expired(limit=2) == 2
    assert services.key_purge_expired(limit=None) == 1
    assert set(IdempotencyKey.objects.values_list("key", flat=True)) == {"k3", "k4"}
