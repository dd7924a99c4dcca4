"""Schemas shared by every router: the error bodies and the Money type."""

from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

CENT = Decimal("0.01")


class ErrorOut(Schema):
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


class StatusOut(Schema):
    status: str = Field(examples=["ok"])


def _reject_odd_decimal_strings(value: Any) -> Any:
    """Accept JSON numbers and plain decimal strings ("12", "-4.50"); refuse booleans,
    "1_000", "1e5" and other forms Python's Decimal would otherwise take."""
    if isinstance(value, bool):
        raise PydanticCustomError("decimal_type", "Input should be a number")
    if isinstance(value, str):
        text = value.strip()
        body = text[1:] if text[:1] in "+-" else text
        whole, _, frac = body.partition(".")
        if not body or not (whole or frac) or not (whole + frac).isdigit() or not body.isascii():
            raise PydanticCustomError("decimal_parsing", "Input should be a valid decimal")
        return text
    return value


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


def money_in(*, le: Decimal, gt: Decimal | None = None, ge: Decimal | None = None):
    """An input Money type: a decimal string or number with at most two decimals."""
    return Annotated[
        Decimal,
        BeforeValidator(_reject_odd_decimal_strings),
        Field(gt=gt, ge=ge, le=le, decimal_places=2, allow_inf_nan=False),
        AfterValidator(lambda value: value.quantize(CENT)),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "pattern": r"^\s*[+-]?(\d+(\.\d{0,2})?|\.\d{1,2})\s*$"},
                    {"type": "number"},
                ],
                "examples": ["5000.00"],
            },
            mode="validation",
        ),
    ]
