"""Schemas shared by every router: the error bodies and the Money type."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.db import models
from ninja import Schema as NinjaSchema
from ninja.schema import DjangoGetter
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

CENT = Decimal("0.01")


def strip_whitespace(value: Any) -> Any:
    """A ``mode="before"`` validator: strings lose surrounding whitespace, the rest
    passes through for the type check to judge."""
    return value.strip() if isinstance(value, str) else value


def storable_text(value: Any) -> Any:
    """A ``mode="before"`` validator refusing NUL characters and lone UTF-16 surrogates
    in strings: the database cannot store them and would fail the query (a 500)
    instead of the client getting a 400."""
    if isinstance(value, str):
        if "\x00" in value:
            raise PydanticCustomError("string_nul", "Null characters are not allowed")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates like "\ud800" cannot be stored
            raise PydanticCustomError("string_unicode", "Invalid characters") from None
    return value


# Attribute values ninja's DjangoGetter passes through unchanged.
_PLAIN_TYPES = frozenset(
    {str, int, bool, float, Decimal, dt.date, dt.datetime, dt.time, dt.timedelta, type(None)}
)
_NO_FAST_PATH = object()
_ATTRIBUTE_NAMES: dict[type, Any] = {}


def _attribute_names(schema: type["Schema"]) -> Any:
    """The attribute each field reads from an object (its validation alias or name), or
    ``_NO_FAST_PATH`` when ninja's wrapper is needed: resolvers, dotted or structured
    aliases, strict extra handling, validated assignment."""
    names = _ATTRIBUTE_NAMES.get(schema)
    if names is None:
        config = schema.model_config
        names = []
        for name, field in schema.model_fields.items():
            alias = field.validation_alias if field.validation_alias is not None else field.alias
            key = name if alias is None else alias
            if not isinstance(key, str) or "." in key:
                names = _NO_FAST_PATH
                break
            names.append(key)
        if (
            schema._ninja_resolvers
            or config.get("extra") == "forbid"
            or config.get("validate_assignment", False)
        ):
            names = _NO_FAST_PATH
        _ATTRIBUTE_NAMES[schema] = names
    return names


class OutSchema(NinjaSchema):
    """Base of every response schema (and, through ``Schema``, every request schema).

    Validating a model instance or a dict (every response, its nested rows) reads its
    values into a dict in one pass instead of through ninja's ``DjangoGetter``, which
    costs a Python call with several type checks per field and object (a page of 20
    transactions: 200); values that are not plain (managers, querysets, callables, files)
    still get ninja's conversion, so the result is the same.
    """

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values: Any, handler: Any, info: ValidationInfo) -> Any:
        is_dict = type(values) is dict
        if is_dict or isinstance(values, models.Model):
            names = _attribute_names(cls)
            if names is not _NO_FAST_PATH:
                data = {}
                for key in names:
                    if is_dict:
                        if key not in values:
                            continue  # missing: the field's default, as with ninja's getter
                        value = values[key]
                    else:
                        try:
                            value = getattr(values, key)
                        except AttributeError:
                            continue
                    if type(value) not in _PLAIN_TYPES:
                        value = DjangoGetter(values, cls, info.context)._convert_result(value)
                    data[key] = value
                return handler(data)
        return super()._run_root_validator(values, handler, info)


class Schema(OutSchema):
    """Base of every request schema: strings are checked by ``storable_text`` (responses,
    read from the database, need not be)."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        return storable_text(value)


class RowSchema(BaseModel):
    """Base of schemas that validate many plain dicts in a loop (the rows of an
    imported file): the same string rules as ``Schema``, without ninja's wrapping of
    ORM objects, which costs more than the validation itself there."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        return storable_text(value)


class ErrorOut(OutSchema):
    detail: str = Field(examples=["Not found."])


FieldErrorsOut = Annotated[
    dict[str, list[str]],
    Field(
        description=(
            "Invalid input: JSON field name → messages. Errors not tied to one field "
            "are under `non_field_errors`."
        ),
        examples=[{"title": ["Title is required."]}],
    ),
]
# A 400 is either field errors or, for a body that is not JSON, {"detail": ...}.
BadRequestOut = FieldErrorsOut | ErrorOut


class StatusOut(OutSchema):
    status: str = Field(examples=["ok"])


def _reject_odd_decimal_strings(value: Any) -> Any:
    """Accept JSON numbers and plain decimal strings ("12", "-4.50", ".5"); refuse
    booleans, whitespace, "1_000", "1e5" and other forms Python's Decimal would take."""
    if isinstance(value, bool):
        raise PydanticCustomError("decimal_type", "Input should be a number")
    if isinstance(value, str):
        body = value[1:] if value[:1] in "+-" else value
        whole, _, frac = body.partition(".")
        digits = whole + frac
        if not digits or not digits.isascii() or not digits.isdigit():
            raise PydanticCustomError("decimal_parsing", "Input should be a valid decimal")
    return value


# Up to two significant decimals; trailing zeros are harmless ("1.500" is 1.50).
_FRACTION = r"(\.(\d{0,2}0*)?)?"
_NONZERO_FRACTION_ONLY = r"0*\.(0[1-9]|[1-9]\d?)0*"


def money_pattern(*, integer_digits: int, signed: bool, allow_zero: bool) -> str:
    """The exact set of decimal strings a money input accepts, as a JSON Schema pattern."""
    alternatives = [rf"0*[1-9]\d{{0,{integer_digits - 1}}}{_FRACTION}", _NONZERO_FRACTION_ONLY]
    if allow_zero:
        alternatives.append(r"0+(\.0*)?|\.0+")
    sign = "[+-]?" if signed else r"\+?"
    return rf"^{sign}({'|'.join(alternatives)})$"


def money_out(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT))


MoneyOut = Annotated[
    Decimal,
    PlainSerializer(money_out, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["5000.00"]},
        mode="serialization",
    ),
]


def money_in(*, integer_digits: int, signed: bool, allow_zero: bool):
    """An input Money type: a decimal string or JSON number with at most two decimals,
    below ``10**integer_digits``; positive only unless ``signed``; zero only if
    ``allow_zero``. The published JSON Schema describes exactly what is accepted."""
    top = Decimal(10) ** integer_digits - CENT
    bounds: dict[str, Any] = {"le": top}
    number: dict[str, Any] = {"type": "number", "maximum": float(top), "multipleOf": 0.01}
    if signed:
        bounds["ge"] = -top
        number["minimum"] = -float(top)
    elif allow_zero:
        bounds["ge"] = Decimal(0)
        number["minimum"] = 0
    else:
        bounds["gt"] = Decimal(0)
        number["exclusiveMinimum"] = 0
    if signed and not allow_zero:
        number["not"] = {"const": 0}
    validators: list[Any] = [AfterValidator(lambda value: value.quantize(CENT))]
    if signed and not allow_zero:
        validators.insert(0, AfterValidator(_not_zero))
    pattern = money_pattern(integer_digits=integer_digits, signed=signed, allow_zero=allow_zero)
    return Annotated[
        Decimal,
        BeforeValidator(_reject_odd_decimal_strings),
        Field(**bounds, decimal_places=2, allow_inf_nan=False),
        *validators,
        WithJsonSchema(
            {
                "anyOf": [{"type": "string", "pattern": pattern}, number],
                "examples": ["5000.00"],
            },
            mode="validation",
        ),
    ]


AMOUNT_ZERO = "Amount must not be zero."


def _not_zero(value: Decimal) -> Decimal:
    if value == 0:
        raise ValueError(AMOUNT_ZERO)
    return value
