"""Recurring rules over HTTP: CRUD with full bodies, validation tables, isolation between
users, upcoming occurrences, and lazy posting before reads (free when nothing is due)."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from budgets import messages
from budgets.models import RecurringRule, Transaction
from budgets.services.recurring import MAX_BACKFILL
from tests.budgets.test_reports import SUMMARY_QUERIES
from tests.conftest import TIMESTAMP, make_budget, make_category

URL = "/api/recurring/"
NOT_FOUND = {"detail": "Not found."}
ABSENT_IDS = [987654, 0, -1, 2**63, 10**30]


@pytest.fixture(autouse=True)
def _pinned_today(monkeypatch):
    """The app and the test agree on "today" even if the test runs across midnight."""
    pinned = timezone.localdate()
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: pinned)


def today() -> dt.date:
    return timezone.localdate()


def days_ago(n: int) -> str:
    return (today() - dt.timedelta(days=n)).isoformat()


def detail_url(rule_id) -> str:
    return f"{URL}{rule_id}/"


def body_for(budget, /, **fields) -> dict:
    return {
        "budget": budget.pk,
        "amount": "-1150.00",
        "description": "Rent",
        "start_date": (today() + dt.timedelta(days=3)).isoformat(),
        "frequency": "monthly",
        **fields,
    }


def create(client, budget, **fields) -> dict:
    response = client.post(URL, body_for(budget, **fields))
    assert response.status_code == 201, response.json()
    return response.json()


def snapshot() -> list[tuple]:
    return list(
        RecurringRule.objects.order_by("id").values_list(
            "id", "budget_id", "amount", "category_id", "description", "start_date", "end_date",
            "frequency", "interval", "next_due_date", "updated_at",
        )
    )  # fmt: skip


# --- CRUD ----------------------------------------------------------------------------


def test_create_rule(auth_client, user, budget, category):
    start = today() + dt.timedelta(days=3)

    body = create(auth_client, budget, category=category.pk, interval=2, end_date="2099-12-31")

    assert body == {
        "id": mock.ANY,
        "budget": budget.pk,
        "amount": "-1150.00",
        "category": category.pk,
        "description": "Rent",
        "start_date": start.isoformat(),
        "end_date": "2099-12-31",
        "frequency": "monthly",
        "interval": 2,
        "last_posted_date": None,
        "next_due_date": start.isoformat(),
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }
    user.refresh_from_db()
    assert user.recurring_next_due == start


def test_defaults(auth_client, budget):
    body = create(auth_client, budget, amount=2500)

    assert (body["interval"], body["category"], body["end_date"]) == (1, None, None)
    assert body["amount"] == "2500.00"


def test_get_list_put_patch_delete(auth_client, budget, category):
    rule = create(auth_client, budget)
    other = create(auth_client, make_budget(budget.user, title="Other"), frequency="weekly")

    assert auth_client.get(detail_url(rule["id"])).json() == rule
    listed = auth_client.get(URL).json()
    assert [r["id"] for r in listed["results"]] == [other["id"], rule["id"]]
    assert auth_client.get(URL, {"budget": budget.pk}).json()["results"] == [rule]

    put = auth_client.put(
        detail_url(rule["id"]),
        body_for(budget, amount="10.00", frequency="yearly", category=category.pk),
    )
    assert put.status_code == 200
    assert (put.json()["amount"], put.json()["frequency"]) == ("10.00", "yearly")

    patched = auth_client.patch(detail_url(rule["id"]), {"description": " Gym ", "end_date": None})
    assert patched.status_code == 200
    assert (patched.json()["description"], patched.json()["category"]) == ("Gym", category.pk)

    assert auth_client.delete(detail_url(rule["id"])).status_code == 204
    assert auth_client.get(detail_url(rule["id"])).status_code == 404


def test_patch_with_an_empty_body_changes_nothing(auth_client, budget):
    rule = create(auth_client, budget)
    before = snapshot()

    response = auth_client.patch(detail_url(rule["id"]), {})

    assert (response.status_code, response.json()) == (200, rule)
    assert snapshot() == before


# --- Validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"amount": "0"}, {"amount": [messages.AMOUNT_ZERO]}),
        ({"amount": "1.001"}, {"amount": ["Amount must have at most 2 decimal places."]}),
        ({"amount": None}, {"amount": ["Amount must be a valid number."]}),
        ({"amount": "1e3"}, {"amount": ["Amount must be a valid number."]}),
        (
            {"frequency": "hourly"},
            {"frequency": ["Frequency must be one of: 'daily', 'weekly', 'monthly' or 'yearly'."]},
        ),
        ({"interval": 0}, {"interval": ["Interval must be at least 1."]}),
        ({"interval": 1001}, {"interval": ["Interval must be at most 1000."]}),
        ({"interval": True}, {"interval": ["Interval must be a whole number."]}),
        ({"interval": 1.5}, {"interval": ["Interval must be a whole number."]}),
        (
            {"start_date": "2026-02-30"},
            {"start_date": ["Start date must be a valid date (YYYY-MM-DD)."]},
        ),
        (
            {"start_date": "2026-02-01T00:00:00"},
            {"start_date": ["Start date must be a valid date (YYYY-MM-DD)."]},
        ),
        ({"start_date": None}, {"start_date": ["Start date must be a valid date (YYYY-MM-DD)."]}),
        ({"end_date": "2026-13-01"}, {"end_date": ["End date must be a valid date (YYYY-MM-DD)."]}),
        (
            {"start_date": "2026-06-02", "end_date": "2026-06-01"},
            {"end_date": [messages.RULE_END_BEFORE_START]},
        ),
        (
            {"description": "x" * 256},
            {"description": ["Description must have at most 255 characters."]},
        ),
        (
            {"description": "a\x00b"},
            {"description": ["Description must not contain null characters."]},
        ),
        ({"budget": 987654}, {"budget": [messages.BUDGET_NOT_FOUND]}),
        ({"budget": "x"}, {"budget": ["Budget must be a whole number."]}),
        ({"category": 987654}, {"category": [messages.CATEGORY_NOT_FOUND]}),
    ],
)
def test_invalid_create_is_a_400_and_stores_nothing(auth_client, user, budget, fields, errors):
    response = auth_client.post(URL, body_for(budget, **fields))

    assert (response.status_code, response.json()) == (400, errors)
    assert not RecurringRule.objects.exists()
    user.refresh_from_db()
    assert user.recurring_next_due is None


@pytest.mark.parametrize("field", ["budget", "amount", "start_date", "frequency"])
def test_required_fields(auth_client, budget, field):
    body = body_for(budget)
    del body[field]

    response = auth_client.post(URL, body)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_a_start_too_far_back_is_refused(auth_client, budget):
    response = auth_client.post(
        URL, body_for(budget, frequency="daily", start_date=days_ago(MAX_BACKFILL))
    )

    assert response.status_code == 400
    assert response.json() == {
        "start_date": [messages.RULE_BACKFILL_TOO_LONG.format(limit=MAX_BACKFILL)]
    }


def test_patch_is_checked_against_the_stored_dates(auth_client, budget):
    rule = create(auth_client, budget, end_date="2099-01-01")
    before = snapshot()

    response = auth_client.patch(detail_url(rule["id"]), {"start_date": "2099-02-01"})

    assert (response.status_code, response.json()) == (
        400,
        {"end_date": [messages.RULE_END_BEFORE_START]},
    )
    assert snapshot() == before


@pytest.mark.parametrize("field", ["budget", "amount", "start_date", "frequency", "interval"])
def test_patch_refuses_null_for_required_fields(auth_client, budget, field):
    rule = create(auth_client, budget)
    before = snapshot()

    response = auth_client.patch(detail_url(rule["id"]), {field: None})

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert snapshot() == before


# --- Isolation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "payload"),
    [
        ("get", "", None),
        ("put", "", "full"),
        ("patch", "", {"amount": "1.00"}),
        ("delete", "", None),
        ("get", "upcoming/", None),
    ],
)
def test_another_users_rule_is_a_404(
    auth_client, other_client, other_user, method, suffix, payload
):
    foreign = create(other_client, make_budget(other_user))
    before = snapshot()
    if payload == "full":
        payload = body_for(make_budget(other_user, title="x"))

    response = getattr(auth_client, method)(detail_url(foreign["id"]) + suffix, payload)

    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert snapshot() == before


@pytest.mark.parametrize("rule_id", ABSENT_IDS)
def test_absent_ids_are_a_404(auth_client, rule_id):
    for method in ("get", "patch", "delete"):
        response = getattr(auth_client, method)(
            detail_url(rule_id), {} if method == "patch" else None
        )
        assert (response.status_code, response.json()) == (404, NOT_FOUND), (method, rule_id)


def test_lists_never_show_other_users_rules(auth_client, other_client, other_user, budget):
    foreign_budget = make_budget(other_user)
    create(other_client, foreign_budget)
    mine = create(auth_client, budget)

    assert [r["id"] for r in auth_client.get(URL).json()["results"]] == [mine["id"]]
    assert auth_client.get(URL, {"budget": foreign_budget.pk}).json()["count"] == 0


def test_another_users_budget_or_category_in_a_body_is_a_400(auth_client, other_user, budget):
    rule = create(auth_client, budget)
    foreign_budget, foreign_category = make_budget(other_user), make_category(other_user)
    before = snapshot()

    response = auth_client.patch(
        detail_url(rule["id"]), {"budget": foreign_budget.pk, "category": foreign_category.pk}
    )

    assert (response.status_code, response.json()) == (
        400,
        {"budget": [messages.BUDGET_NOT_FOUND], "category": [messages.CATEGORY_NOT_FOUND]},
    )
    assert snapshot() == before


def test_requires_a_token(api_client):
    for method, path in [("get", URL), ("post", URL), ("get", detail_url(1) + "upcoming/")]:
        response = getattr(api_client, method)(path)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"


# --- Upcoming ------------------------------------------------------------------------


def test_upcoming(auth_client, budget, category):
    start = today() + dt.timedelta(days=1)
    rule = create(
        auth_client, budget, start_date=start.isoformat(), frequency="weekly", category=category.pk
    )

    response = auth_client.get(detail_url(rule["id"]) + "upcoming/", {"count": 3})

    assert response.status_code == 200
    assert response.json() == {
        "rule": rule["id"],
        "occurrences": [
            {
                "date": (start + dt.timedelta(weeks=n)).isoformat(),
                "budget": budget.pk,
                "amount": "-1150.00",
                "category": category.pk,
                "description": "Rent",
            }
            for n in range(3)
        ],
    }
    assert len(auth_client.get(detail_url(rule["id"]) + "upcoming/").json()["occurrences"]) == 10


@pytest.mark.parametrize(
    ("count", "message"),
    [
        ("0", "Count must be at least 1."),
        ("101", "Count must be at most 100."),
        ("abc", "Count must be a whole number."),
        ("1.5", "Count must be a whole number."),
    ],
)
def test_upcoming_count_is_bounded(auth_client, budget, count, message):
    rule = create(auth_client, budget)

    response = auth_client.get(detail_url(rule["id"]) + "upcoming/", {"count": count})

    assert (response.status_code, response.json()) == (400, {"count": [message]})


def test_upcoming_of_an_ended_rule_is_empty(auth_client, budget):
    rule = create(auth_client, budget, start_date=days_ago(40), end_date=days_ago(35))

    response = auth_client.get(detail_url(rule["id"]) + "upcoming/", {"count": 100})

    assert response.json()["occurrences"] == []


# --- Lazy posting before reads -------------------------------------------------------


def test_reads_post_due_occurrences_exactly_once(auth_client, user, budget, category):
    rule = create(
        auth_client, budget, frequency="daily", start_date=days_ago(2), category=category.pk
    )

    listed = auth_client.get("/api/transactions/").json()

    assert listed["count"] == 3
    assert {(t["recurring_rule"], t["category"], t["amount"]) for t in listed["results"]} == {
        (rule["id"], category.pk, "-1150.00")
    }
    assert sorted(t["date"] for t in listed["results"]) == [days_ago(2), days_ago(1), days_ago(0)]
    for path in (
        "/api/budgets/",
        f"/api/budgets/{budget.pk}/",
        f"/api/budgets/{budget.pk}/summary/",
    ):
        assert auth_client.get(path).status_code == 200
    assert Transaction.objects.count() == 3
    got = auth_client.get(detail_url(rule["id"])).json()
    assert (got["last_posted_date"], got["next_due_date"]) == (
        days_ago(0),
        (today() + dt.timedelta(days=1)).isoformat(),
    )


@pytest.mark.parametrize(
    "path",
    ["/api/budgets/", "/api/budgets/{budget}/", "/api/budgets/{budget}/summary/",
     "/api/transactions/export/", URL],
)  # fmt: skip
def test_every_read_that_shows_money_posts_first(auth_client, budget, path):
    create(auth_client, budget, start_date=days_ago(0), amount="-100.00")

    response = auth_client.get(path.format(budget=budget.pk))

    assert response.status_code == 200
    assert Transaction.objects.filter(budget=budget).count() == 1
    assert auth_client.get(f"/api/budgets/{budget.pk}/").json()["balance"] == "900.00"


def test_reads_post_at_most_the_per_request_limit(auth_client, budget, settings):
    settings.RECURRING_POST_PER_REQUEST = 4
    create(auth_client, budget, frequency="daily", start_date=days_ago(9))

    assert auth_client.get("/api/transactions/").json()["count"] == 4
    assert auth_client.get("/api/transactions/").json()["count"] == 8
    assert auth_client.get("/api/transactions/").json()["count"] == 10
    assert auth_client.get("/api/transactions/").json()["count"] == 10


# The token's user, then the read's own queries: rules that are not due add nothing.
@pytest.mark.parametrize(
    ("path", "queries"),
    [("/api/transactions/", 3), ("/api/budgets/", 3), ("/api/budgets/{budget}/", 2),
     ("/api/budgets/{budget}/summary/", SUMMARY_QUERIES)],
)  # fmt: skip
def test_reads_cost_no_extra_query_when_nothing_is_due(
    auth_client, budget, django_assert_num_queries, path, queries
):
    create(auth_client, budget, start_date=days_ago(0))
    auth_client.get("/api/transactions/")  # posts today's occurrence
    create(auth_client, budget, start_date=(today() + dt.timedelta(days=1)).isoformat())

    with django_assert_num_queries(queries):
        response = auth_client.get(path.format(budget=budget.pk))

    assert response.status_code == 200


def test_reads_post_only_the_callers_occurrences(auth_client, other_client, other_user, budget):
    create(other_client, make_budget(other_user), start_date=days_ago(0))

    assert auth_client.get("/api/transactions/").json()["count"] == 0
    assert Transaction.objects.count() == 0
    assert other_client.get("/api/transactions/").json()["count"] == 1


def test_deleting_a_rule_keeps_what_it_posted(auth_client, budget):
    rule = create(auth_client, budget, start_date=days_ago(0))
    auth_client.get("/api/transactions/")

    assert auth_client.delete(detail_url(rule["id"])).status_code == 204

    results = auth_client.get("/api/transactions/").json()["results"]
    assert [(t["recurring_rule"], t["amount"]) for t in results] == [(None, "-1150.00")]


def test_editing_a_rule_keeps_posted_transactions(auth_client, budget):
    rule = create(auth_client, budget, start_date=days_ago(0))
    auth_client.get("/api/transactions/")

    response = auth_client.patch(
        detail_url(rule["id"]),
        {"amount": "-5.00", "start_date": days_ago(20), "frequency": "daily"},
    )

    assert response.status_code == 200
    assert response.json()["next_due_date"] == (today() + dt.timedelta(days=1)).isoformat()
    results = auth_client.get("/api/transactions/").json()["results"]
    assert [t["amount"] for t in results] == ["-1150.00"]
    assert Transaction.objects.get().amount == Decimal("-1150.00")
