"""One folded key per username and e-mail: the "already taken" check, the database's unique
constraints and the log-in lookup all use it, on SQLite and PostgreSQL alike."""

import pytest
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor

from tests.conftest import PASSWORD, make_user
from tests.users.test_api_auth import login, register_body
from users import messages
from users.models import User, identity_key

# (a, b): two spellings of one account. Escapes keep look-alikes readable.
DOTLESS_I, DOTTED_CAPITAL_I = "\u0131", "\u0130"
FINAL_SIGMA, SIGMA = "\u03c2", "\u03c3"
SAME_ACCOUNT = [
    (f"{DOTLESS_I}van", "ivan"),
    (f"{DOTTED_CAPITAL_I}van", "ivan"),
    ("IVAN", "ivan"),
    (f"niko{FINAL_SIGMA}", f"niko{SIGMA}"),
    ("NIKO\u03a3", f"niko{SIGMA}"),
    ("Stra\u00dfe", "strasse"),
    ("\ufb01sh", "fish"),  # the "fi" ligature
    ("\uff41nna", "anna"),  # fullwidth a
]
DIFFERENT_ACCOUNTS = [("ivan", "iv\u00e1n"), ("anna", "anne"), ("o", "\u03bf")]  # Greek omicron


@pytest.mark.parametrize(("a", "b"), SAME_ACCOUNT)
def test_spellings_of_one_name_share_a_key(a, b):
    assert identity_key(a) == identity_key(b)


@pytest.mark.parametrize(("a", "b"), DIFFERENT_ACCOUNTS)
def test_different_names_keep_different_keys(a, b):
    assert identity_key(a) != identity_key(b)


@pytest.mark.parametrize(("taken", "wanted"), SAME_ACCOUNT[:5])
def test_register_refuses_another_spelling_of_a_taken_username(api_client, taken, wanted):
    make_user(taken)

    response = api_client.post(
        "/api/users/register/", register_body(username=wanted, email="new@example.com")
    )

    assert (response.status_code, response.json()) == (400, {"username": [messages.USERNAME_TAKEN]})
    assert User.objects.count() == 1


def test_register_refuses_another_spelling_of_a_taken_email(api_client):
    make_user("first", email="ivan@example.com")

    response = api_client.post(
        "/api/users/register/", register_body(email=f"{DOTLESS_I}VAN@example.com")
    )

    assert (response.status_code, response.json()) == (400, {"email": [messages.EMAIL_TAKEN]})


def test_email_change_refuses_another_spelling_of_a_taken_email(auth_client, other_user):
    response = auth_client.patch("/api/users/me/", {"email": "MALLORY@example.com"})

    assert (response.status_code, response.json()) == (400, {"email": [messages.EMAIL_TAKEN]})


@pytest.mark.parametrize("spelling", [f"{DOTLESS_I}van", "IVAN", "ivan"])
def test_log_in_with_any_spelling_of_the_name(api_client, spelling):
    user = make_user("ivan")

    response = login(api_client, username=spelling, password=PASSWORD)

    assert response.status_code == 200
    assert User.objects.get(pk=user.pk).last_login is not None


def test_the_database_refuses_a_second_spelling_even_without_the_checks(db):
    """Whatever writes (a service, the admin, a shell), the constraint decides."""
    make_user(f"niko{SIGMA}")

    with pytest.raises(IntegrityError):
        make_user(f"NIKO{FINAL_SIGMA}", email="other@example.com")


def test_keys_follow_renames_and_email_changes(user):
    user.username = f"{DOTTED_CAPITAL_I}lker"
    user.email = "ILKER@Example.com"
    user.save(update_fields=["username", "email"])

    user.refresh_from_db()
    assert (user.username_key, user.email_key) == ("ilker", "ilker@example.com")


def test_an_account_without_email_has_no_email_key(db):
    first = make_user("nomail1", email="")
    second = make_user("nomail2", email="")

    assert first.email_key == second.email_key == ""


def test_admin_form_says_taken_instead_of_failing(client, db):
    admin = make_user("root", is_staff=True, is_superuser=True)
    make_user("ivan")
    client.force_login(admin)

    response = client.post(
        "/admin/users/user/add/",
        {"username": f"{DOTLESS_I}van", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 200
    assert messages.USERNAME_TAKEN in response.content.decode()
    assert User.objects.count() == 2


# --- The migration that introduced the keys -------------------------------------------------

BEFORE, AFTER = ("users", "0002_user_recurring_next_due"), ("users", "0003_user_identity_keys")


@pytest.mark.django_db(transaction=True)
def test_migration_derives_keys_and_keeps_accounts_that_already_clash(caplog):
    """Accounts the old rules let in twice ("ivan" with a dotless and a plain i) survive
    the migration: the oldest keeps its name, the younger one is set aside with a
    warning, nothing fails."""
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old_user = executor.loader.project_state([BEFORE]).apps.get_model("users", "User")
    ivan = old_user.objects.create(username="ivan", email="ivan@example.com", password="x")
    dotless = old_user.objects.create(
        username=f"{DOTLESS_I}van", email=f"{DOTLESS_I}van@example.com", password="x"
    )
    plain = old_user.objects.create(username="Anna", email="", password="x")

    try:
        executor = MigrationExecutor(connection)
        executor.migrate([AFTER])
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )

    keys = {u.pk: (u.username_key, u.email_key) for u in User.objects.all()}
    assert keys == {
        ivan.pk: ("ivan", "ivan@example.com"),
        dotless.pk: (f"ivan#{dotless.pk}", f"ivan@example.com#{dotless.pk}"),
        plain.pk: ("anna", ""),
    }
    assert User.objects.get_by_natural_key(f"{DOTLESS_I}VAN").pk == ivan.pk
    assert any(str(dotless.pk) in r.getMessage() for r in caplog.records)
