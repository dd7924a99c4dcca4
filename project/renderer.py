"""The API's JSON encoder: orjson, writing what Django's encoder writes.

Every JSON body the API sends goes through ``dumps``: ninja's responses (``JSONRenderer``),
the ETags that hash those bodies (``project.conditional``) and the answers middleware and
Django's error views make (``project.errors``). orjson encodes a page of 20 transactions
several times faster than ``json.dumps`` with ``DjangoJSONEncoder`` (bench/README.md);
the values come out as that encoder writes them:

- datetimes: ISO 8601, milliseconds (not microseconds), UTC as ``Z``;
- dates and UUIDs: as ``isoformat()`` / ``str()`` (orjson's own, the same text);
- decimals, lazy translation strings: ``str()``;
- pydantic models: their ``model_dump()``; URLs and IP addresses: ``str()`` (as ninja's
  encoder does; enums are written by value, as ``json`` writes the usual ``str`` enums).

The only difference is whitespace: no spaces after ``,`` and ``:``.
"""

import datetime as dt
import decimal
import ipaddress
import uuid
from typing import Any

import orjson
from django.http import HttpRequest
from django.utils.duration import duration_iso_string
from django.utils.functional import Promise
from django.utils.timezone import is_aware
from ninja.renderers import BaseRenderer
from pydantic import AnyUrl, BaseModel
from pydantic_core import Url

# Written as str(): as DjangoJSONEncoder and ninja's encoder write them.
_AS_TEXT = (
    decimal.Decimal,
    uuid.UUID,
    Promise,
    Url,
    AnyUrl,
    ipaddress.IPv4Address,
    ipaddress.IPv4Network,
    ipaddress.IPv6Address,
    ipaddress.IPv6Network,
)
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def _datetime(value: dt.datetime) -> str:
    # DjangoJSONEncoder.default, datetime branch: "ECMA-262 Date Time String Format".
    text = value.isoformat()
    if value.microsecond:
        text = text[:23] + text[26:]
    if text.endswith("+00:00"):
        text = text.removesuffix("+00:00") + "Z"
    return text


def _time(value: dt.time) -> str:
    if is_aware(value):
        raise ValueError("JSON can't represent timezone-aware times.")
    text = value.isoformat()
    return text[:12] if value.microsecond else text


# The types every response is full of, looked up by exact type before the checks below.
_BY_TYPE = {dt.datetime: _datetime, dt.date: dt.date.isoformat, decimal.Decimal: str}


def _default(value: Any) -> Any:
    """What orjson does not encode itself (or, for datetimes, not the way Django does)."""
    convert = _BY_TYPE.get(type(value))
    if convert is not None:
        return convert(value)
    if isinstance(value, dt.datetime):
        return _datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return _time(value)
    if isinstance(value, dt.timedelta):
        return duration_iso_string(value)
    if isinstance(value, _AS_TEXT):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(data: Any) -> bytes:
    """``data`` as JSON bytes, values written as Django's JSON encoder writes them."""
    return orjson.dumps(data, default=_default, option=_OPTIONS)


class JSONRenderer(BaseRenderer):
    """ninja's renderer, through ``dumps``."""

    media_type = "application/json"

    def render(self, request: HttpRequest | None, data: Any, *, response_status: int) -> bytes:
        return dumps(data)
