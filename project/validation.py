"""Turn ninja/pydantic validation errors into the contract's ``{field: [messages]}`` body."""

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


def message_for(error: dict[str, Any], field: str | None) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    label = _label(field) if field else "Request body"
    if field is None:
        if kind == "missing":
            return "Request body is required."
        if kind in {"model_type", "model_attributes_type", "dict_type", "dataclass_type"}:
            return NOT_AN_OBJECT
    simple = {
        "missing": f"{label} is required.",
        "finite_number": f"{label} must be a finite number.",
        "decimal_parsing": f"{label} must be a valid number.",
        "decimal_type": f"{label} must be a valid number.",
        "int_parsing": f"{label} must be a whole number.",
        "int_type": f"{label} must be a whole number.",
        "int_from_float": f"{label} must be a whole number.",
        "bool_parsing": f"{label} must be true or false.",
        "bool_type": f"{label} must be true or false.",
        "string_type": f"{label} must be a string.",
        "string_nul": f"{label} must not contain null characters.",
        "string_unicode": f"{label} contains characters that are not valid Unicode text.",
        "int_parsing_size": f"{label} must be a whole number.",
        "date_parsing": f"{label} must be a valid date (YYYY-MM-DD).",
        "date_from_datetime_parsing": f"{label} must be a valid date (YYYY-MM-DD).",
        "date_from_datetime_inexact": f"{label} must be a date without a time (YYYY-MM-DD).",
        "date_type": f"{label} must be a valid date (YYYY-MM-DD).",
        "string_pattern_mismatch": f"{label} has an invalid format.",
        "value_error": None,
        "assertion_error": None,
    }
    if kind in {"string_too_short", "too_short"}:
        if ctx.get("min_length") == 1:
            return f"{label} may not be blank."
        return f"{label} must have at least {ctx.get('min_length')} characters."
    if kind in {"string_too_long", "too_long"}:
        return f"{label} must have at most {ctx.get('max_length')} characters."
    if kind == "decimal_max_places":
        return f"{label} must have at most {ctx.get('decimal_places')} decimal places."
    if kind in {"decimal_max_digits", "decimal_whole_digits"}:
        return f"{label} is too large."
    if kind == "greater_than":
        return f"{label} must be greater than {_number(ctx.get('gt'))}."
    if kind == "greater_than_equal":
        return f"{label} must be at least {_number(ctx.get('ge'))}."
    if kind == "less_than":
        return f"{label} must be less than {_number(ctx.get('lt'))}."
    if kind == "less_than_equal":
        return f"{label} must be at most {_number(ctx.get('le'))}."
    if kind == "literal_error":
        return f"{label} must be one of: {ctx.get('expected', '')}."
    if kind == "enum":
        return f"{label} must be one of: {ctx.get('expected', '')}."
    if kind in {"date_from_datetime_parsing", "date_parsing"} or kind.startswith("date_"):
        return simple.get(kind) or f"{label} must be a valid date (YYYY-MM-DD)."
    if kind in {"value_error", "assertion_error"}:
        return _sentence(str(ctx.get("error", error.get("msg", ""))))
    if simple.get(kind):
        return simple[kind]
    return _sentence(error.get("msg", "Invalid value."))


def field_errors(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    body: dict[str, list[str]] = {}
    for error in errors:
        field, _ = _field_and_rest(tuple(error.get("loc", ())))
        message = message_for(error, field)
        messages = body.setdefault(field or NON_FIELD_ERRORS, [])
        if message not in messages:
            messages.append(message)
    return body
