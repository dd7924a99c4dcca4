"""Turn ninja/pydantic validation errors into the contract's ``{field: [messages]}`` body."""

from collections.abc import Callable
from typing import Any

NON_FIELD_ERRORS = "non_field_errors"
NOT_AN_OBJECT = "Request body must be a JSON object."

# Where the request value came from; a body's second element is the parameter name.
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


def _label(field: str) -> str:
    return field.replace("_", " ").strip().capitalize() or "Value"


def _sentence(text: str) -> str:
    text = text.strip()
    for prefix in ("Value error, ", "Assertion failed, "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if not text:
        return "Invalid value."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _number(value: Any) -> str:
    """Bounds arrive as numbers or as reprs like ``Decimal('0')``; show them plainly."""
    text = str(value)
    if text.startswith("Decimal('") and text.endswith("')"):
        text = text[len("Decimal('") : -2]
    return text


def _field_and_rest(loc: tuple) -> tuple[str | None, tuple]:
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        if source == "body" and parts:
            parts.pop(0)  # the view's parameter name, e.g. "payload"
    names = [p for p in parts if isinstance(p, str)]
    if not names:
        return None, ()
    return names[0], tuple(parts[1:])


def _too_short(error: dict[str, Any]) -> str:
    if (error.get("ctx") or {}).get("min_length") == 1:
        return "{label} may not be blank."
    return "{label} must have at least {min_length} characters."


def _own_message(error: dict[str, Any]) -> str:
    # A validator's ValueError (or assert) already reads as a sentence for a form.
    text = _sentence(str((error.get("ctx") or {}).get("error", error.get("msg", ""))))
    return text.replace("{", "{{").replace("}", "}}")


_WHOLE_NUMBER = "{label} must be a whole number."
_VALID_NUMBER = "{label} must be a valid number."
_TRUE_OR_FALSE = "{label} must be true or false."
_VALID_DATE = "{label} must be a valid date (YYYY-MM-DD)."
_AT_MOST_CHARACTERS = "{label} must have at most {max_length} characters."
_ONE_OF = "{label} must be one of: {expected}."
_TOO_LARGE = "{label} is too large."

# pydantic error type -> message: a template filled with the field's label and the error's
# context (``ctx``), or a function of the error that picks the template. A type missing
# here falls back to pydantic's own message, as a sentence.
MESSAGES: dict[str, str | Callable[[dict[str, Any]], str]] = {
    "missing": "{label} is required.",
    "finite_number": "{label} must be a finite number.",
    "decimal_parsing": _VALID_NUMBER,
    "decimal_type": _VALID_NUMBER,
    "decimal_max_places": "{label} must have at most {decimal_places} decimal places.",
    "decimal_max_digits": _TOO_LARGE,
    "decimal_whole_digits": _TOO_LARGE,
    "int_parsing": _WHOLE_NUMBER,
    "int_type": _WHOLE_NUMBER,
    "int_from_float": _WHOLE_NUMBER,
    "int_parsing_size": _WHOLE_NUMBER,
    "bool_parsing": _TRUE_OR_FALSE,
    "bool_type": _TRUE_OR_FALSE,
    "string_type": "{label} must be a string.",
    "string_nul": "{label} must not contain null characters.",
    "string_unicode": "{label} contains characters that are not valid Unicode text.",
    "string_pattern_mismatch": "{label} has an invalid format.",
    "string_too_short": _too_short,
    "too_short": _too_short,
    "string_too_long": _AT_MOST_CHARACTERS,
    "too_long": _AT_MOST_CHARACTERS,
    "date_parsing": _VALID_DATE,
    "date_from_datetime_parsing": _VALID_DATE,
    "date_type": _VALID_DATE,
    "date_from_datetime_inexact": "{label} must be a date without a time (YYYY-MM-DD).",
    "greater_than": "{label} must be greater than {gt}.",
    "greater_than_equal": "{label} must be at least {ge}.",
    "less_than": "{label} must be less than {lt}.",
    "less_than_equal": "{label} must be at most {le}.",
    "literal_error": _ONE_OF,
    "enum": _ONE_OF,
    "value_error": _own_message,
    "assertion_error": _own_message,
}

# Errors about the request body as a whole (no field to name). A body that is not an object
# never gets this far: the API's parser refuses it (``NOT_AN_OBJECT``).
BODY_MESSAGES: dict[str, str] = {
    "missing": "Request body is required.",
}


class _Context(dict):
    """An error's ``ctx`` for a template; a key pydantic did not send reads as empty."""

    def __missing__(self, key: str) -> str:
        return ""


def message_for(error: dict[str, Any], field: str | None) -> str:
    kind = error.get("type", "")
    if field is None and kind in BODY_MESSAGES:
        return BODY_MESSAGES[kind]
    message = MESSAGES.get(kind)
    if message is None:
        return _sentence(error.get("msg", "Invalid value."))
    ctx = _Context({key: _number(value) for key, value in (error.get("ctx") or {}).items()})
    template = message(error) if callable(message) else message
    return template.format_map(_Context(ctx, label=_label(field) if field else "Request body"))


def field_errors(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    body: dict[str, list[str]] = {}
    for error in errors:
        field, _ = _field_and_rest(tuple(error.get("loc", ())))
        message = message_for(error, field)
        messages = body.setdefault(field or NON_FIELD_ERRORS, [])
        if message not in messages:
            messages.append(message)
    return body
