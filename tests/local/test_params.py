"""The shared parameter parsers of the local endpoint: one grammar per kind of value, wherever it is read."""

from __future__ import annotations

import math
import uuid
from typing import Any

import pytest

from backendai_jupyter.local.params import (
    bool_field,
    choice_field,
    field,
    int_field,
    parse_bool,
    parse_duration,
    parse_int,
    parse_session_name,
    parse_size,
    parse_uuid,
    str_field,
    strict_bool_field,
    to_bool,
)
from backendai_jupyter.local.problems import Problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (1024, 1024),
        (1.5, 1),
        ("0", 0),
        ("512m", 512 * 2**20),
        ("1g", 2**30),
        ("1G", 2**30),
        ("1gb", 2**30),
        ("1gi", 2**30),
        ("1GiB", 2**30),
        (" 2 GiB ", 2 * 2**30),
        ("1.5k", 1536),
        ("10", 10),
        ("10b", 10),
        ("3t", 3 * 2**40),
    ],
)
def test_parse_size_reads_both_former_grammars(text: Any, expected: int) -> None:
    # what the create body's ``mem`` and the vfolder ``quota`` each accepted before they shared a parser
    assert parse_size(text) == expected


@pytest.mark.parametrize("bad", ["", "x", "1x", "g", "-1g", "1 g b", True, None, [1], -1, math.inf, math.nan])
def test_parse_size_rejects(bad: Any) -> None:
    with pytest.raises(ValueError, match="is not a size"):
        parse_size(bad)


def test_parse_int_bounds_and_types() -> None:
    assert parse_int("12") == 12
    assert parse_int(3.0) == 3
    assert parse_int(5, low=1, high=5) == 5
    for bad in [True, "1.5", 2.5, None, "x", math.inf]:
        with pytest.raises(ValueError, match="must be an integer"):
            parse_int(bad)
    with pytest.raises(ValueError, match="at least 1"):
        parse_int(0, low=1)
    with pytest.raises(ValueError, match="at most 9"):
        parse_int(10, high=9)
    with pytest.raises(ValueError, match="between 1 and 9"):
        parse_int(10, low=1, high=9)


def test_parse_bool_and_to_bool() -> None:
    assert [parse_bool(v) for v in (True, 1, "yes", "ON", "t")] == [True] * 5
    assert [parse_bool(v) for v in (False, 0, "no", "off", "", " F ")] == [False] * 6
    with pytest.raises(ValueError, match="can't be converted to Bool"):
        parse_bool("maybe")
    with pytest.raises(Problem) as caught:
        to_bool([])
    assert caught.value.status == 400


def test_parse_duration() -> None:
    assert parse_duration("30s") == 30
    assert parse_duration(" 5M ") == 300
    assert parse_duration("1.5h") == 5400
    assert parse_duration("1w") == 7 * 86400
    for bad in ["", "5", "5y", "m5", "-1s"]:
        with pytest.raises(ValueError, match="not a duration"):
            parse_duration(bad)


def test_parse_uuid_and_session_name() -> None:
    value = uuid.uuid4()
    assert parse_uuid(value.hex) == value
    assert parse_uuid(str(value)) == value
    with pytest.raises(ValueError, match="not a UUID"):
        parse_uuid("my-session")
    assert parse_session_name("my.session-1") == "my.session-1"
    for bad in ["abc", "-abcd", "abcd-", "abcd\n", "x" * 65, "caf\u00e9", 1234]:
        with pytest.raises(ValueError, match="4-64 ASCII"):
            parse_session_name(bad)


def _data(call: Any) -> Any:
    with pytest.raises(Problem) as caught:
        call()
    assert (caught.value.status, caught.value.msg) == (400, "Input validation error")
    return caught.value.data


def test_field_readers_report_the_field_trafaret_style() -> None:
    params = {"a": "x", "n": "7", "flag": "yes", "strict": "yes", "mode": "rw"}
    assert field(params, "missing", "a") == "x"  # the first alias present
    assert field(params, "missing", default=None) is None
    assert _data(lambda: field(params, "missing")) == {"missing": "is required"}
    assert _data(lambda: str_field({"a": 1}, "a")) == {"a": "value is not a string"}
    assert int_field(params, "n") == 7
    assert _data(lambda: int_field(params, "a")) == {"a": "value can't be converted to int: 'x'"}
    assert bool_field(params, "flag", False) is True
    assert _data(lambda: strict_bool_field(params, "strict", None)) == {
        "strict": "value should be True or False"
    }
    assert choice_field(params, "mode", ("ro", "rw"), None) == "rw"
    assert _data(lambda: choice_field(params, "a", ("ro", "rw"), None)) == {
        "a": "value 'x' is not one of ro, rw"
    }
