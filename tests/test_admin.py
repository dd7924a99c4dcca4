"""The admin lists every model with its columns, filters and search, in a fixed number of
queries, and category names saved there get the same uniqueness key as through the API."""

import datetime as dt
from decimal import Decimal

import pytest

from budgets.models import Category, RecurringRule
from budgets.services.recurring import recurring_rule_create
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
        "/admin/budgets/recurringrule/?q=rent&frequency=monthly&next_due_date__isempty=0",
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


def test_recurring_rule_changelist_has_no_n_plus_one(
    admin_client, user, django_assert_max_num_queries
):
    budget = make_budget(user)
    for day in range(1, 31):
        recurring_rule_create(
            user=user,
            budget=budget.pk,
            amount=Decimal("-1.00"),
            start_date=dt.date(2099, 1, day),
            frequency="monthly",
            category=make_category(user, f"C{day}").pk,
        )

    with django_assert_max_num_queries(12):
        assert admin_client.get("/admin/budgets/recurringrule/").status_code == 200


def test_a_rule_saved_in_admin_is_rescheduled_for_posting(admin_client, user):
    budget = make_budget(user)
    rule = recurring_rule_create(
        user=user,
        budget=budget.pk,
        amount=Decimal("-5.00"),
        start_date=dt.date(2099, 1, 1),
        frequency="monthly",
    )
    form = {
        "budget": budget.pk,
        "category": "",
        "amount": "-5.00",
        "description": "Gym",
        "start_date": "2098-06-15",
        "end_date": "",
        "frequency": "weekly",
        "interval": "2",
    }

    response = admin_client.post(f"/admin/budgets/recurringrule/{rule.pk}/change/", form)

    assert response.status_code == 302
    rule.refresh_from_db()
    user.refresh_from_db()
    assert (rule.frequency, rule.next_due_date) == ("weekly", dt.date(2098, 6, 15))
    assert user.recurring_next_due == dt.date(2098, 6, 15)


def test_a_rule_ending_before_it_starts_is_a_form_error_in_admin(admin_client, user):
    form = {
        "budget": make_budget(user).pk,
        "amount": "-5.00",
        "start_date": "2026-06-15",
        "end_date": "2026-06-14",
        "frequency": "daily",
        "interval": "1",
    }

    response = admin_client.post("/admin/budgets/recurringrule/add/", form)

    assert response.status_code == 200
    assert not RecurringRule.objects.exists()
