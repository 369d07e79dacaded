"""Strict request-parameter reading, as the manager's ``check_api_params`` does it (protocol.md §1)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from .problems import Problem

__all__ = ["read_json_object", "read_params", "reject_unknown", "to_bool"]


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


def to_bool(value: Any) -> bool:
    """Booleans as ``t.ToBool`` reads them: true/false, "1"/"0", "yes"/"no", ..."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"1", "true", "t", "yes", "y", "on"}:
            return True
        if lowered in {"0", "false", "f", "no", "n", "off", ""}:
            return False
    raise Problem.invalid_params(f"value can't be converted to Bool: {value!r}")
