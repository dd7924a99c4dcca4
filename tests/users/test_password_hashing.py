"""Passwords are hashed with Argon2id at or above OWASP's minimum; hashes made before
(PBKDF2, or Argon2 with other parameters) keep working and are upgraded at log-in."""

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    get_hasher,
    identify_hasher,
    make_password,
)
from django.test import override_settings

from project import settings as project_settings
from tests.conftest import PASSWORD, make_user
from tests.users.test_api_auth import login
from users.models import User

# OWASP Password Storage Cheat Sheet, Argon2id: 19 MiB, 2 iterations, 1 degree of parallelism.
OWASP_MIN_MEMORY_KIB, OWASP_MIN_TIME_COST = 19456, 2


@pytest.fixture
def real_hashers():
    """The production hashers (the test settings use a fast one)."""
    with override_settings(PASSWORD_HASHERS=project_settings.PASSWORD_HASHERS):
        yield


def test_new_passwords_are_argon2id_at_or_above_owasp_minimum(real_hashers):
    hasher = get_hasher("default")
    encoded = make_password(PASSWORD)

    assert encoded.startswith("argon2$argon2id$")
    assert hasher.memory_cost >= OWASP_MIN_MEMORY_KIB
    assert hasher.time_cost >= OWASP_MIN_TIME_COST
    assert hasher.parallelism >= 1
    params = hasher.decode(encoded)
    assert (params["memory_cost"], params["time_cost"], params["parallelism"]) == (
        hasher.memory_cost,
        hasher.time_cost,
        hasher.parallelism,
    )


def test_the_test_settings_do_not_change_production_hashing():
    assert django_settings.PASSWORD_HASHERS != project_settings.PASSWORD_HASHERS
    assert project_settings.PASSWORD_HASHERS[0] == "users.hashers.Argon2idPasswordHasher"


@pytest.mark.parametrize(
    "old_hash",
    [
        lambda: make_password(PASSWORD, hasher="pbkdf2_sha256"),
        lambda: make_password(PASSWORD, hasher="pbkdf2_sha1"),
        # Django's stock Argon2 parameters (100 MiB, 8 lanes): same algorithm, other cost.
        lambda: Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt()),
    ],
    ids=["pbkdf2_sha256", "pbkdf2_sha1", "argon2-django-defaults"],
)
def test_older_hashes_log_in_and_are_upgraded(real_hashers, api_client, old_hash):
    user = make_user("alice")
    User.objects.filter(pk=user.pk).update(password=old_hash())
    before = User.objects.get(pk=user.pk).password

    wrong = login(api_client, password="not-the-password")
    unchanged = User.objects.get(pk=user.pk).password
    right = login(api_client)
    upgraded = User.objects.get(pk=user.pk).password

    assert (wrong.status_code, unchanged) == (401, before)
    assert right.status_code == 200
    assert upgraded != before
    assert upgraded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert identify_hasher(upgraded).algorithm == "argon2"
    assert login(api_client).status_code == 200  # and the new hash works
