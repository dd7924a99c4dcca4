"""users.services.user_update, called directly: only named fields, each rule on its own."""

import pytest

from project.errors import FieldError
from users import messages
from users.models import User
from users.services import user_update


def test_only_the_fields_passed_change(user, django_assert_num_queries):
    # One UPDATE of first_name inside a savepoint (and release); no e-mail lookup.
    with django_assert_num_queries(3):
        updated = user_update(user=user, first_name="Alice")

    user.refresh_from_db()
    assert updated == user
    assert (user.first_name, user.last_name, user.email) == ("Alice", "", "alice@example.com")


def test_nothing_passed_writes_nothing(user, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert user_update(user=user) == user


def test_an_empty_name_is_written_not_skipped(user):
    user.last_name = "Smith"
    user.save()

    user_update(user=user, last_name="")

    user.refresh_from_db()
    assert user.last_name == ""


def test_email_domain_is_normalised_and_saved(user):
    user_update(user=user, email="Alice.New@EXAMPLE.COM")

    user.refresh_from_db()
    assert user.email == "Alice.New@example.com"


def test_keeping_your_own_email_is_not_taken(user):
    user_update(user=user, email="ALICE@example.com")

    user.refresh_from_db()
    assert user.email == "ALICE@example.com"


def test_anothers_email_is_refused_and_nothing_changes(user, other_user):
    with pytest.raises(FieldError) as refused:
        user_update(user=user, email="Mallory@Example.com", first_name="Eve")

    assert refused.value.errors == {"email": [messages.EMAIL_TAKEN]}
    assert User.objects.get(pk=user.pk).first_name == ""


def test_only_named_fields_can_be_written(user):
    with pytest.raises(TypeError):
        user_update(user=user, is_staff=True)
