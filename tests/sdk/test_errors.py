"""Error mapping: one table from status and problem type to the documented exception tree."""

from __future__ import annotations

import json

import pytest

from backendai_jupyter.sdk.errors import (
    AuthenticationError,
    BackendAPIError,
    BackendClientError,
    BackendError,
    BadRequestError,
    ConfigError,
    ConflictError,
    InvalidAuthParamsError,
    InvalidParametersError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    TooManySessionsMatchedError,
    error_from_response,
)

P = "https://api.backend.ai/probs/"


def problem(status: int, reason: str, type_: str, title: str, **extra: object) -> BackendAPIError:
    body = json.dumps({"type": P + type_, "title": title, **extra}).encode()
    return error_from_response(status, reason, body, "application/problem+json")


@pytest.mark.parametrize(
    ("status", "type_", "cls"),
    [
        (400, "generic-bad-request", BadRequestError),
        (400, "invalid-api-params", InvalidParametersError),
        (400, "invalid-auth-params", InvalidAuthParamsError),
        (400, "session-already-exists", ConflictError),
        (400, "vfolder-already-exists", ConflictError),
        (401, "auth-failed", AuthenticationError),
        (401, "password-expired", AuthenticationError),
        (403, "insufficient-privilege", PermissionDeniedError),
        (404, "object-not-found", NotFoundError),
        (404, "url-not-found", NotFoundError),
        (404, "too-many-sessions-matched", TooManySessionsMatchedError),
        (405, "method-not-allowed", BackendAPIError),
        (409, "whatever", ConflictError),
        (412, "quota-exceeded", QuotaExceededError),
        (429, "rate-limit-exceeded", RateLimitError),
        (500, "kernel-execution-failed", ServerError),
        (503, "server-frozen", ServerError),
        (500, "object-not-found", ServerError),
    ],
)
def test_table(status: int, type_: str, cls: type[BackendAPIError]) -> None:
    err = problem(status, "Reason", type_, "Title.")
    assert type(err) is cls
    assert err.status == status
    assert err.type == P + type_


@pytest.mark.parametrize(
    "type_",
    [
        "kernel-not-found",
        "session-not-found",
        "vfolder-not-found",
        "image-not-found",
        "group-not-found",
        "app-not-found",
        "generic-not-found",
        "task-template-not-found",
        "domain-not-found",
        "object-not-found",
        "url-not-found",
    ],
)
def test_every_historic_not_found_type(type_: str) -> None:
    # Old servers sometimes sent these with other statuses; the type decides.
    assert isinstance(problem(400, "Bad Request", type_, "gone"), NotFoundError)


def test_str_is_one_line_with_short_type() -> None:
    err = problem(404, "Not Found", "object-not-found", "No such session.")
    assert str(err) == "404 Not Found: No such session. (object-not-found)"
    assert err.title == "No such session."
    assert err.msg is None


def test_msg_and_data() -> None:
    err = problem(
        400,
        "Bad Request",
        "invalid-api-params",
        "Invalid API parameters.",
        msg="Input validation error",
        data={"foo": "foo is not allowed key"},
    )
    assert str(err) == (
        "400 Bad Request: Invalid API parameters. - Input validation error (invalid-api-params)"
    )
    assert err.data["data"] == {"foo": "foo is not allowed key"}
    assert err.msg == "Input validation error"


def test_non_json_body_is_wrapped() -> None:
    err = error_from_response(502, "Bad Gateway", b"<html>\n upstream down\n</html>", "text/html")
    assert isinstance(err, ServerError)
    assert err.data == {
        "type": P + "generic-error",
        "title": "Bad Gateway",
        "content": "<html>\n upstream down\n</html>",
    }
    assert "\n" not in str(err)
    assert str(err).startswith("502 Bad Gateway: Bad Gateway - <html> upstream down </html>")


def test_official_signature_and_tree() -> None:
    err = BackendAPIError(418, "I'm a teapot", {"type": P + "x", "title": "t"})
    assert err.args == (418, "I'm a teapot", {"type": P + "x", "title": "t"})
    assert isinstance(err, BackendError)
    assert issubclass(ConfigError, BackendClientError)
    assert issubclass(ConflictError, BadRequestError)


def test_matches_of_ambiguous_name() -> None:
    err = problem(
        404,
        "Not Found",
        "too-many-sessions-matched",
        "Too many sessions matched.",
        data={"matches": [{"id": "a", "name": "s1"}, {"id": "b", "name": "s1"}]},
    )
    assert isinstance(err, TooManySessionsMatchedError)
    assert [m["id"] for m in err.matches] == ["a", "b"]
