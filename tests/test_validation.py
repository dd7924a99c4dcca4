"""project/validation.py: every entry of its tables, triggered through a real schema.

Each case validates real input against a real schema (the app's own where one can
produce that error type; a small one here where none does yet), checks that pydantic
reports the entry's error type, then checks the message the contract's body carries.
"""

import datetime as dt
import enum
import math
from decimal import Decimal
from typing import Annotated

import pytest
from pydantic import AfterValidator, Field, ValidationError, create_model

from budgets.months import MONTH_INVALID
from budgets.schemas import (
    BudgetIn,
    RecurringRuleIn,
    SpendingLimitIn,
    TransactionFilters,
    TransactionImportOptions,
    TransactionIn,
)
from project.pagination import PageNumberPagination
from project.schemas import Schema
from project.validation import BODY_MESSAGES, MESSAGES, field_errors
from users.schemas import RegisterIn

BUDGET = {"title": "Trip", "date": "2026-03-01", "initial_amount": "100.00"}
TRANSACTION = {"budget": 1, "amount": "-5.00", "date": "2026-03-01"}
RULE = {"budget": 1, "amount": "-5.00", "start_date": "2026-03-01", "frequency": "monthly"}
REGISTRATION = {
    "username": "alice",
    "email": "alice@example.com",
    "password": "x",
    "password_confirm": "x",
}


# Error types no schema of the app produces yet (its own validators answer first, or it
# has no such field): a small schema each, built on the app's Schema base.
class Pattern(Schema):
    code: str = Field(pattern=r"^[A-Z]{3}$")


class Digits(Schema):
    amount: Decimal = Field(max_digits=4, decimal_places=2)


class Bounds(Schema):
    share: int = Field(lt=100)


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Paint(Schema):
    colour: Colour


class Day(Schema):
    day: dt.date


def _even(value: int) -> int:
    if value % 2:
        raise AssertionError("must be even")  # what a validator's ``assert`` raises
    return value


class Even(Schema):
    number: Annotated[int, AfterValidator(_even)]


class Initials(Schema):
    initials: str = Field(min_length=2)


# (pydantic error type, schema, input, field, message)
FIELD_CASES = [
    ("missing", BudgetIn, {"date": "2026-03-01", "initial_amount": "1"}, "title",
     "Title is required."),
    ("finite_number", BudgetIn, {**BUDGET, "initial_amount": math.nan}, "initial_amount",
     "Initial amount must be a finite number."),
    ("decimal_parsing", BudgetIn, {**BUDGET, "initial_amount": "12,50"}, "initial_amount",
     "Initial amount must be a valid number."),
    ("decimal_type", BudgetIn, {**BUDGET, "initial_amount": True}, "initial_amount",
     "Initial amount must be a valid number."),
    ("decimal_max_places", BudgetIn, {**BUDGET, "initial_amount": "1.001"}, "initial_amount",
     "Initial amount must have at most 2 decimal places."),
    ("decimal_max_digits", Digits, {"amount": "123.45"}, "amount", "Amount is too large."),
    ("decimal_whole_digits", Digits, {"amount": "123.4"}, "amount", "Amount is too large."),
    ("int_parsing", TransactionIn, {**TRANSACTION, "budget": "one"}, "budget",
     "Budget must be a whole number."),
    ("int_type", TransactionIn, {**TRANSACTION, "budget": True}, "budget",
     "Budget must be a whole number."),
    ("int_from_float", TransactionIn, {**TRANSACTION, "budget": 1.5}, "budget",
     "Budget must be a whole number."),
    ("int_parsing_size", TransactionIn, {**TRANSACTION, "budget": "9" * 5000}, "budget",
     "Budget must be a whole number."),
    ("bool_parsing", TransactionImportOptions, {"dry_run": "maybe"}, "dry_run",
     "Dry run must be true or false."),
    ("bool_type", TransactionImportOptions, {"dry_run": [True]}, "dry_run",
     "Dry run must be true or false."),
    ("string_type", BudgetIn, {**BUDGET, "title": 5}, "title", "Title must be a string."),
    ("string_nul", BudgetIn, {**BUDGET, "title": "a\x00b"}, "title",
     "Title must not contain null characters."),
    ("string_unicode", BudgetIn, {**BUDGET, "title": "\ud800"}, "title",
     "Title contains characters that are not valid Unicode text."),
    ("string_pattern_mismatch", Pattern, {"code": "eur"}, "code", "Code has an invalid format."),
    ("string_too_short", RegisterIn, {**REGISTRATION, "password": ""}, "password",
     "Password may not be blank."),
    ("too_short", BudgetIn, {**BUDGET, "title": " "}, "title", "Title may not be blank."),
    ("string_too_long", RegisterIn, {**REGISTRATION, "password": "x" * 129}, "password",
     "Password must have at most 128 characters."),
    ("too_long", BudgetIn, {**BUDGET, "title": "x" * 256}, "title",
     "Title must have at most 255 characters."),
    ("date_parsing", BudgetIn, {**BUDGET, "date": "2026-03-01T10:00"}, "date",
     "Date must be a valid date (YYYY-MM-DD)."),
    ("date_from_datetime_parsing", BudgetIn, {**BUDGET, "date": "2026-13-01"}, "date",
     "Date must be a valid date (YYYY-MM-DD)."),
    ("date_type", Day, {"day": [2026, 3, 1]}, "day", "Day must be a valid date (YYYY-MM-DD)."),
    ("date_from_datetime_inexact", Day, {"day": "2026-03-01T10:00:00"}, "day",
     "Day must be a date without a time (YYYY-MM-DD)."),
    ("greater_than", BudgetIn, {**BUDGET, "initial_amount": "0"}, "initial_amount",
     "Initial amount must be greater than 0."),
    ("greater_than_equal", PageNumberPagination.Input, {"page": 0}, "page",
     "Page must be at least 1."),
    ("less_than", Bounds, {"share": 100}, "share", "Share must be less than 100."),
    ("less_than_equal", PageNumberPagination.Input, {"page_size": 101}, "page_size",
     "Page size must be at most 100."),
    ("literal_error", TransactionFilters, {"type": "gift"}, "type",
     "Type must be one of: 'income' or 'expense'."),
    ("enum", Paint, {"colour": "green"}, "colour", "Colour must be one of: 'red' or 'blue'."),
    ("value_error", TransactionIn, {**TRANSACTION, "amount": "0"}, "amount",
     "Amount must not be zero."),
    ("assertion_error", Even, {"number": 3}, "number", "Must be even."),
]  # fmt: skip


def _errors(schema, data) -> list[dict]:
    with pytest.raises(ValidationError) as raised:
        schema.model_validate(data)
    return raised.value.errors()


@pytest.mark.parametrize(
    ("kind", "schema", "data", "field", "message"),
    FIELD_CASES,
    ids=[case[0] for case in FIELD_CASES],
)
def test_field_message(kind, schema, data, field, message):
    errors = [error for error in _errors(schema, data) if error["type"] == kind]

    assert [error["loc"] for error in errors] == [(field,)]
    assert field_errors(errors) == {field: [message]}


def test_a_bound_of_another_size_is_named():
    (error,) = _errors(RecurringRuleIn, {**RULE, "interval": 10_000})

    assert field_errors([error]) == {"interval": ["Interval must be at most 1000."]}


def test_a_length_above_one_is_named():
    (error,) = _errors(Initials, {"initials": "A"})

    assert (error["type"], field_errors([error])) == (
        "string_too_short",
        {"initials": ["Initials must have at least 2 characters."]},
    )


def test_a_type_without_an_entry_keeps_its_own_message_as_a_sentence():
    # The app's own error types (``month_parsing``) carry their message.
    (error,) = _errors(SpendingLimitIn, {"category": 1, "month": "2026-13", "amount": "1"})

    assert error["type"] not in MESSAGES
    assert field_errors([error]) == {"month": [MONTH_INVALID]}


# Body-level errors as ninja reports them: the body model is the view's parameter
# (``payload``) and every location starts with its source, ``body``.
def test_body_message():
    view_body = create_model("ViewBody", payload=(BudgetIn, ...))
    errors = [{**error, "loc": ("body", *error["loc"])} for error in _errors(view_body, {})]

    assert [error["type"] for error in errors] == ["missing"]
    assert field_errors(errors) == {"non_field_errors": ["Request body is required."]}


def test_every_entry_has_a_case():
    assert {case[0] for case in FIELD_CASES} == set(MESSAGES)
    assert set(BODY_MESSAGES) == {"missing"}
