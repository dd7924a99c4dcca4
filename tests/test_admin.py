"""The admin lists every model with its columns, filters and search, in a fixed number of
queries, and category names saved there get the same uniqueness key as through the API."""

import pytest

from budgets.models import Category
from tests.conftest import make_budget, make_category, make_transaction, make_user


@pytest.fixture
def admin_client(client, db):
    admin = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/budgets/budget/?q=house&date__gte=2020-01-01",
        "/admin/budgets/category/?q=food",
        "/admin/budgets/transaction/?q=x&category__isempty=1",
        "/admin/users/user/?q=alice",
    ],
)
def test_admin_changelists_render(admin_client, user, path):
    budget = make_budget(user)
    make_transaction(budget, category=make_category(user))

    assert admin_client.get(path).status_code == 200


def test_transaction_changelist_has_no_n_plus_one(
    admin_client, user, django_assert_max_num_queries
):
    budget = make_budget(user)
    category = make_category(user)
    for _ in range(30):
        make_transaction(budget, category=category)

    with django_assert_max_num_queries(12):
        assert admin_client.get("/admin/budgets/transaction/").status_code == 200


def test_category_saved_in_admin_gets_a_name_key(admin_client, user):
    response = admin_client.post(
        "/admin/budgets/category/add/", {"user": user.id, "name": "Épicerie"}
    )

    assert response.status_code == 302
    assert Category.objects.get().name_key == "épicerie"


def test_duplicate_category_in_admin_is_a_form_error_not_a_500(admin_client, user):
    make_category(user, name="épicerie")

    response = admin_client.post(
        "/admin/budgets/category/add/", {"user": user.id, "name": "ÉPICERIE"}
    )

    assert response.status_code == 200
    assert "Category already exists." in response.content.decode()
    assert Category.objects.count() == 1
