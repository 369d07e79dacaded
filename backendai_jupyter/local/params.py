"""Request parameters, read strictly as the manager's ``check_api_params`` does (docs/protocol.md §1).

The one home of parameter parsing in ``local/``: reading the body or query, rejecting unknown keys, the value
parsers every route shares (booleans, bounded integers, sizes, durations, UUIDs) and the field readers that
report a bad field the trafaret way (``Input validation error`` with ``{key: why}``). A value parser raises
``ValueError`` with the reason; the caller words the 400 around it.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Final

from aiohttp import web

from ..wire import SESSION_NAME_PATTERN
from .problems import Problem

__all__ = [
    "bool_field",
    "choice_field",
    "field",
    "int_field",
    "invalid_field",
    "parse_bool",
    "parse_duration",
    "parse_int",
    "parse_session_name",
    "parse_size",
    "parse_uuid",
    "read_json_object",
    "read_params",
    "reject_unknown",
    "str_field",
    "strict_bool_field",
    "to_bool",
]

_TRUE: Final = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE: Final = frozenset({"0", "false", "f", "no", "n", "off", ""})
#: a number, an optional binary unit (k, m, g... and an optional ``i``), an optional ``b``: 1g, 1GiB, 512 mb
_SIZE: Final = re.compile(r"(\d+(?:\.\d+)?)\s*(?:([kmgtpe])i?)?b?", re.IGNORECASE)
_SIZE_UNITS: Final = "kmgtpe"
_DURATION: Final = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_DURATION_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MISSING: Final = object()


# ---- reading the request -----------------------------------------------------------------------------------


async def read_params(request: web.Request) -> dict[str, Any]:
    """Parameters from the JSON body when there is one, else from the query string (first value per key)."""
    if request.body_exists:
        raw = await request.read()
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise Problem.invalid_params(f"Malformed body: {exc}") from exc
            if not isinstance(body, dict):
                raise Problem.invalid_params("The body must be a JSON object.")
            return body
    params: dict[str, Any] = {}
    for key, value in request.query.items():
        params.setdefault(key, value)
    return params


async def read_json_object(request: web.Request, *, example: str) -> dict[str, Any]:
    """The JSON object body of a route the manager reads with ``request.json()`` (required, also on GET)."""
    try:
        body = await request.json()
    except ValueError as exc:
        raise Problem.invalid_params(
            f"Malformed body ({exc}): send a JSON object such as {example}."
        ) from exc
    if not isinstance(body, dict):
        raise Problem.invalid_params(f"The body must be a JSON object such as {example}.")
    return body


def reject_unknown(params: Mapping[str, Any], allowed: Iterable[str], *, where: str = "") -> None:
    """400 invalid-api-params ``Input validation error`` for keys outside ``allowed`` (trafaret ``Dict``)."""
    known = set(allowed)
    extra = {key: f"{key} is not allowed key" for key in params if key not in known}
    if extra:
        raise Problem.invalid_params(
            f"Input validation error ({where})" if where else "Input validation error", extra
        )


# ---- value parsers: ValueError with the reason -------------------------------------------------------------


def parse_bool(value: Any) -> bool:
    """Booleans as ``t.ToBool`` reads them: true/false, 1/0, "yes"/"no", "on"/"off", ""..."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise ValueError(f"value can't be converted to Bool: {value!r}")


def parse_int(value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """An integer from an int, an integral float or decimal text (``t.ToInt``), within ``low``..``high``."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("must be an integer")
    try:
        number = int(value)
    except ValueError:
        raise ValueError("must be an integer") from None
    if low is not None and high is not None and not low <= number <= high:
        raise ValueError(f"must be between {low} and {high}")
    if low is not None and number < low:
        raise ValueError(f"must be at least {low}")
    if high is not None and number > high:
        raise ValueError(f"must be at most {high}")
    return number


def parse_size(value: Any) -> int:
    """Bytes from a number of bytes or a size in binary units: ``1024``, ``"512m"``, ``"1g"``, ``"2 GiB"``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        # JSON bodies may carry -1 or, through Python's decoder, Infinity and NaN
        if not math.isfinite(value) or value < 0:
            raise ValueError("is not a size; give a number of bytes >= 0, or e.g. 512m or 1g")
        return int(value)
    match = _SIZE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError("is not a size; use e.g. 512m or 1g")
    unit = (match.group(2) or "").lower()
    return int(float(match.group(1)) * 1024 ** (_SIZE_UNITS.index(unit) + 1 if unit else 0))


def parse_duration(text: str) -> float:
    """Seconds from a duration with one unit: ``30s``, ``5m``, ``1.5h``, ``2d``, ``1w``."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError("is not a duration like 30s, 5m, 1h")
    return float(match.group(1)) * _DURATION_SECONDS[match.group(2).lower()]


def parse_session_name(value: Any) -> str:
    """A session name: 4-64 ASCII word characters, dots and dashes, a letter or digit at each end."""
    # fullmatch: with re.match the pattern's "$" would also accept a name that ends in a newline
    if not isinstance(value, str) or re.fullmatch(SESSION_NAME_PATTERN, value, re.ASCII) is None:
        raise ValueError(
            "use 4-64 ASCII letters, digits, '_', '.' or '-', starting and ending with a letter or digit"
        )
    return value


def parse_uuid(value: Any) -> uuid.UUID:
    """A UUID from its text (any of the forms ``uuid.UUID`` accepts)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValueError("is not a UUID") from None


def to_bool(value: Any) -> bool:
    """:func:`parse_bool`, a bad value being 400 invalid-api-params."""
    try:
        return parse_bool(value)
    except ValueError as exc:
        raise Problem.invalid_params(str(exc)) from None


# ---- field readers: trafaret-like 400s ---------------------------------------------------------------------


def invalid_field(key: str, why: str) -> Problem:
    """400 ``Input validation error`` naming the field and why, as trafaret reports it."""
    return Problem.invalid_params("Input validation error", {key: why})


def field(params: Mapping[str, Any], *keys: str, default: Any = _MISSING) -> Any:
    """The value of the first of ``keys`` present (aliases); 400 if none is and there is no default."""
    for key in keys:
        if key in params:
            return params[key]
    if default is _MISSING:
        raise invalid_field(keys[0], "is required")
    return default


def str_field(params: Mapping[str, Any], *keys: str, default: Any = _MISSING) -> Any:
    """A string field (``default`` is returned as given when the field is absent)."""
    value = field(params, *keys, default=default)
    if value is not default and not isinstance(value, str):
        raise invalid_field(keys[0], "value is not a string")
    return value


def choice_field(
    params: Mapping[str, Any], key: str, choices: Iterable[str], default: str | None
) -> str | None:
    """A field whose value must be one of ``choices`` (None only as the default)."""
    value = field(params, key, default=default)
    if value is not None and value not in choices:
        raise invalid_field(key, f"value {value!r} is not one of {', '.join(choices)}")
    return None if value is None else str(value)


def strict_bool_field(params: Mapping[str, Any], key: str, default: bool | None) -> bool | None:
    """A JSON boolean field (``t.Bool``: no conversion from text)."""
    value = field(params, key, default=default)
    if value is not None and not isinstance(value, bool):
        raise invalid_field(key, "value should be True or False")
    return value


def bool_field(params: Mapping[str, Any], key: str, default: bool) -> bool:
    """A boolean field converted from text as ``t.ToBool`` does."""
    try:
        return parse_bool(field(params, key, default=default))
    except ValueError as exc:
        raise invalid_field(key, str(exc)) from None


def int_field(params: Mapping[str, Any], key: str) -> int:
    """A required integer field (an int or its decimal text)."""
    value = field(params, key)
    try:
        return parse_int(value)
    except ValueError:
        raise invalid_field(key, f"value can't be converted to int: {value!r}") from None
