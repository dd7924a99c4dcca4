"""The admin lists every model with its columns, filters and search, in a fixed number of
queries, and category names saved there get the same uniqueness key as through the API."""

import datetime as dt
import html
from decimal import Decimal

import pytest

from budgets import messages
from budgets.models import Category, RecurringRule, SpendingLimit, Transaction, Transfer
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


def test_a_rule_with_another_users_category_is_a_form_error_in_admin(
    admin_client, user, other_user
):
    # Saved, such a rule could never post (its owner's reads would answer 503).
    form = {
        "budget": make_budget(user).pk,
        "category": make_category(other_user).pk,
        "amount": "-5.00",
        "start_date": "2026-06-15",
        "frequency": "daily",
        "interval": "1",
    }

    response = admin_client.post("/admin/budgets/recurringrule/add/", form)

    assert response.status_code == 200
    assert "The category must belong to the budget&#x27;s owner." in response.content.decode()
    assert not RecurringRule.objects.exists()


def test_a_posting_cannot_be_relinked_to_another_rule_in_admin(admin_client, user, other_user):
    # It would take that rule's (rule, date) slot: its occurrence would never post.
    def rule(owner):
        return recurring_rule_create(
            user=owner,
            budget=make_budget(owner).pk,
            amount=Decimal("-5.00"),
            start_date=dt.date(2099, 1, 1),
            frequency="monthly",
        )

    mine, theirs = rule(user), rule(other_user)
    posting = make_transaction(mine.budget, recurring_rule=mine, recurring_date=dt.date(2099, 1, 1))

    response = admin_client.post(
        f"/admin/budgets/transaction/{posting.pk}/change/",
        {
            "budget": mine.budget_id,
            "amount": "-1.00",
            "date": "2099-01-01",
            "description": "",
            "recurring_rule": theirs.pk,
        },
    )

    assert response.status_code == 302
    posting.refresh_from_db()
    assert (posting.amount, posting.recurring_rule_id) == (Decimal("-1.00"), mine.pk)


# --- Transfers and spending limits ---------------------------------------------------------


@pytest.fixture
def transfer(user):
    from budgets.services import transfer_create

    household, savings = make_budget(user), make_budget(user, title="Savings")
    return transfer_create(
        user=user,
        from_budget=household.pk,
        to_budget=savings.pk,
        amount=Decimal("25.00"),
        date=dt.date(2026, 2, 1),
    )


@pytest.mark.parametrize(
    "path",
    [
        "/admin/budgets/transfer/?q=x",
        "/admin/budgets/transfer/{transfer}/change/",
        "/admin/budgets/spendinglimit/?q=food",
        "/admin/budgets/transaction/?transfer__isempty=0",
        "/admin/budgets/transaction/{leg}/change/",
    ],
)
def test_transfer_and_limit_pages_render(admin_client, user, transfer, path):
    make_limit(user, make_budget(user), make_category(user))
    path = path.format(transfer=transfer.pk, leg=transfer.from_transaction)

    assert admin_client.get(path).status_code == 200


def make_limit(user, budget, category):
    return SpendingLimit.objects.create(
        budget=budget, category=category, month=dt.date(2026, 2, 1), amount=Decimal("10.00")
    )


def test_deleting_a_transfer_in_the_admin_deletes_both_legs(admin_client, transfer):
    response = admin_client.post(f"/admin/budgets/transfer/{transfer.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Transfer.objects.exists()
    assert not Transaction.objects.exists()


def test_a_leg_is_read_only_in_the_admin(admin_client, transfer):
    leg = transfer.from_transaction

    changed = admin_client.post(
        f"/admin/budgets/transaction/{leg}/change/",
        {"budget": transfer.from_budget_id, "amount": "-1.00", "date": "2026-01-01"},
    )
    deleted = admin_client.post(f"/admin/budgets/transaction/{leg}/delete/", {"post": "yes"})
    bulk = admin_client.post(
        "/admin/budgets/transaction/",
        {"action": "delete_selected", "_selected_action": [leg], "post": "yes"},
    )

    assert changed.status_code == deleted.status_code == bulk.status_code == 403
    assert Transaction.objects.get(pk=leg).amount == Decimal("-25.00")
    assert Transaction.objects.filter(transfer=transfer).count() == 2


def test_deleting_a_budget_in_the_admin_keeps_the_other_leg(admin_client, transfer):
    response = admin_client.post(
        f"/admin/budgets/budget/{transfer.from_budget_id}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Transfer.objects.exists()
    leg = Transaction.objects.get()
    assert (leg.budget_id, leg.amount, leg.transfer_id) == (
        transfer.to_budget_id,
        Decimal("25.00"),
        None,
    )


def test_a_limit_in_the_admin_needs_the_first_day_and_the_owners_category(
    admin_client, user, other_user
):
    budget = make_budget(user)
    payload = {"budget": budget.pk, "month": "2026-02-02", "amount": "10.00"}

    wrong_day = admin_client.post(
        "/admin/budgets/spendinglimit/add/", {**payload, "category": make_category(user).pk}
    )
    foreign = admin_client.post(
        "/admin/budgets/spendinglimit/add/",
        {**payload, "month": "2026-02-01", "category": make_category(other_user).pk},
    )

    assert wrong_day.status_code == foreign.status_code == 200
    assert messages.LIMIT_MONTH_NOT_FIRST_DAY in wrong_day.content.decode()
    assert "The category must belong to the budget&#x27;s owner." in foreign.content.decode()
    assert not SpendingLimit.objects.exists()


# --- Stored totals follow the admin's writes ------------------------------------------


def balance_and_count(budget) -> tuple[Decimal, int]:
    from budgets.models import Budget

    budget = Budget.objects.get(pk=budget.pk)
    return budget.balance, budget.transactions_count


def test_transactions_added_changed_and_deleted_in_the_admin_move_the_stored_totals(
    admin_client, user
):
    budget = make_budget(user, initial_amount=Decimal("100.00"))
    other = make_budget(user, title="Other", initial_amount=Decimal("50.00"))
    food = make_category(user)
    form = {"budget": budget.pk, "amount": "-30.00", "date": "2026-01-05", "description": ""}

    assert admin_client.post("/admin/budgets/transaction/add/", form).status_code == 302
    tx = Transaction.objects.get()
    assert balance_and_count(budget) == (Decimal("70.00"), 1)

    moved = {**form, "budget": other.pk, "amount": "-5.00", "category": food.pk}
    response = admin_client.post(f"/admin/budgets/transaction/{tx.pk}/change/", moved)
    assert response.status_code == 302
    assert balance_and_count(budget) == (Decimal("100.00"), 0)
    assert balance_and_count(other) == (Decimal("45.00"), 1)

    make_transaction(other, "-1.00")
    bulk = admin_client.post(
        "/admin/budgets/transaction/",
        {
            "action": "delete_selected",
            "_selected_action": list(Transaction.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )
    assert bulk.status_code == 302
    assert not Transaction.objects.exists()
    assert balance_and_count(other) == (Decimal("50.00"), 0)


def test_a_category_deleted_in_the_admin_leaves_its_rows_uncategorised_in_the_totals(
    admin_client, user
):
    budget = make_budget(user)
    food = make_category(user)
    make_transaction(budget, "-3.00", category=food)

    response = admin_client.post(f"/admin/budgets/category/{food.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    summary_rows = budget.month_totals.values_list("category_key", "count")
    assert list(summary_rows) == [(0, 1)]


def test_a_transaction_under_another_users_category_is_a_form_error_in_admin(
    admin_client, user, other_user
):
    budget = make_budget(user)
    foreign = make_category(other_user, "Theirs")

    response = admin_client.post(
        "/admin/budgets/transaction/add/",
        {"budget": budget.pk, "category": foreign.pk, "amount": "-1.00", "date": "2026-01-05"},
    )

    assert response.status_code == 200  # the form again, with the error
    assert html.escape(messages.CATEGORY_OF_ANOTHER_USER) in response.content.decode()
    assert not Transaction.objects.exists()


def test_a_budget_keeps_its_owner_in_the_admin(admin_client, user, other_user):
    budget = make_budget(user)

    response = admin_client.post(
        f"/admin/budgets/budget/{budget.pk}/change/",
        {
            "user": other_user.pk,
            "title": "Renamed",
            "description": "",
            "date": "2026-01-01",
            "initial_amount": "1000.00",
        },
    )

    assert response.status_code == 302
    budget.refresh_from_db()
    assert (budget.user_id, budget.title) == (user.pk, "Renamed")
