"""budgets.services.categories, called directly: names unique per user by their
case-folded key (the database decides), scoping, and what a delete leaves."""

import pytest

from budgets import messages, services
from budgets.models import Category, Transaction
from project.errors import FieldError, NotFound
from tests.conftest import make_budget, make_category, make_transaction

EXISTS = {"name": [messages.CATEGORY_EXISTS]}


def rows() -> list[tuple]:
    return list(Category.objects.order_by("id").values_list("id", "user_id", "name", "name_key"))


def test_create_stores_the_folded_key(user):
    category = services.category_create(user=user, name="Straße")

    assert (category.user, category.name, category.name_key) == (user, "Straße", "strasse")


# The last is "Food" in fullwidth letters, which NFKC folds to plain ASCII.
@pytest.mark.parametrize("duplicate", ["food", "FOOD", "\uff26\uff4f\uff4f\uff44"])
def test_create_refuses_a_name_that_folds_to_an_existing_one(user, duplicate):
    make_category(user, "Food")
    before = rows()

    with pytest.raises(FieldError) as excinfo:
        services.category_create(user=user, name=duplicate)

    assert excinfo.value.errors == EXISTS
    assert rows() == before
    # The refused insert was rolled back to a savepoint: the connection still works.
    assert services.category_create(user=user, name="Rent").name == "Rent"


def test_another_users_name_is_free(user, other_user):
    make_category(other_user, "Food")

    assert services.category_create(user=user, name="food").user == user


def test_update_renames_and_refolds(user):
    category = make_category(user, "Food")

    renamed = services.category_update(user=user, category_id=category.pk, name="ÉPICERIE")

    category.refresh_from_db()
    assert (renamed.name, category.name, category.name_key) == ("ÉPICERIE", "ÉPICERIE", "épicerie")


def test_update_may_change_only_the_case_of_its_own_name(user):
    category = make_category(user, "Food")

    assert services.category_update(user=user, category_id=category.pk, name="FOOD").name == "FOOD"


def test_update_to_another_existing_name_is_refused_and_changes_nothing(user):
    food = make_category(user, "Food")
    make_category(user, "Rent")
    before = rows()

    with pytest.raises(FieldError) as excinfo:
        services.category_update(user=user, category_id=food.pk, name="rent")

    assert excinfo.value.errors == EXISTS
    assert rows() == before


def test_update_with_nothing_passed_writes_nothing(user):
    category = make_category(user, "Food")
    before = list(Category.objects.values_list("name", "updated_at"))

    services.category_update(user=user, category_id=category.pk)

    assert list(Category.objects.values_list("name", "updated_at")) == before


@pytest.mark.parametrize("action", ["update", "delete"])
def test_another_users_category_is_not_found_and_unchanged(user, other_user, action):
    theirs = make_category(other_user, "Food")
    before = rows()

    with pytest.raises(NotFound):
        if action == "update":
            services.category_update(user=user, category_id=theirs.pk, name="Mine")
        else:
            services.category_delete(user=user, category_id=theirs.pk)

    assert rows() == before


def test_delete_leaves_its_transactions_uncategorised(user):
    category = make_category(user, "Food")
    tx = make_transaction(make_budget(user), category=category)

    services.category_delete(user=user, category_id=category.pk)

    tx.refresh_from_db()
    assert (Category.objects.count(), tx.category_id) == (0, None)
    assert Transaction.objects.count() == 1
