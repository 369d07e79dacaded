"""Range expressions and combination expansion (pure; property-tested with hypothesis)."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backendai_jupyter.magics.sweep import MAX_CASES, RangeError, expand_cases, parse_range, parse_range_value


def test_the_three_kinds() -> None:
    assert parse_range_value("case:a,b,c") == ("a", "b", "c")
    assert parse_range_value("linspace:0,1,5") == ("0", "0.25", "0.5", "0.75", "1")
    assert parse_range_value("linspace:2,3,1") == ("2",)
    assert parse_range_value("range:1,10,3") == ("1", "4", "7")
    assert parse_range_value("range:3") == ("0", "1", "2")
    assert parse_range("LR=linspace:0.1,0.3,3") == ("LR", ("0.1", "0.2", "0.3"))


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("case:", "empty case"),
        ("case:a,,b", "empty case"),
        ("linspace:0,1", "START,STOP,NUM"),
        ("linspace:0,x,3", "'x' is not a number"),
        ("linspace:0,1,0", "NUM=0"),
        ("range:1,5,0", "STEP must not be 0"),
        ("range:5,1", "is empty"),
        ("range:a", "not a whole number"),
        ("range:1,2,3,4", r"\[START,\]STOP"),
        ("steps:1,2", "unknown kind 'steps'"),
        ("1,2,3", "has no kind"),
    ],
)
def test_bad_expressions_name_the_problem(expr: str, message: str) -> None:
    with pytest.raises(RangeError, match=message):
        parse_range_value(expr)


def test_bad_names_and_assignments() -> None:
    with pytest.raises(RangeError, match="not NAME=EXPR"):
        parse_range("case:a")
    with pytest.raises(RangeError, match="not a variable name"):
        parse_range("1X=case:a")


def test_templates_standalone_variables_and_duplicates() -> None:
    cases = expand_cases(
        env={"MSG": "lr=$LR", "FIXED": "1"},
        env_ranges=[("LR", ("0.1", "0.2")), ("SEED", ("1", "2"))],
        exec_command="python train.py --epochs $N",
        exec_ranges=[("N", ("1", "2"))],
    )
    assert len(cases) == 8
    assert [c.index for c in cases] == list(range(1, 9))
    first = cases[0]
    assert first.env == {"MSG": "lr=0.1", "FIXED": "1", "SEED": "1"}  # SEED is used by no template: set as is
    assert first.exec_command == "python train.py --epochs 1"
    assert first.label() == "LR=0.1 SEED=1 N=1"
    # env values and commands without ranges are left alone ($HOME is not a sweep variable)
    assert expand_cases(env={"P": "$HOME"})[0].env == {"P": "$HOME"}
    with pytest.raises(RangeError, match="defined twice"):
        expand_cases(env={}, env_ranges=[("X", ("1",)), ("X", ("2",))])
    with pytest.raises(RangeError, match=r"uses \$Y"):
        expand_cases(env={"A": "$Y"}, env_ranges=[("X", ("1",))])
    with pytest.raises(RangeError, match="needs --exec"):
        expand_cases(env={}, exec_ranges=[("N", ("1",))])
    with pytest.raises(RangeError, match="more than"):
        expand_cases(
            env={}, env_ranges=[("A", tuple(map(str, range(100)))), ("B", tuple(map(str, range(100))))]
        )


@given(st.lists(st.text(alphabet="abcxyz019._-", min_size=1, max_size=6), min_size=1, max_size=20))
def test_case_round_trips(values: list[str]) -> None:
    assert parse_range_value("case:" + ",".join(values)) == tuple(values)


@given(st.integers(-50, 50), st.integers(-50, 50), st.integers(-7, 7).filter(bool))
def test_range_matches_python(start: int, stop: int, step: int) -> None:
    expected = tuple(str(v) for v in range(start, stop, step))
    if not expected:
        with pytest.raises(RangeError):
            parse_range_value(f"range:{start},{stop},{step}")
    else:
        assert parse_range_value(f"range:{start},{stop},{step}") == expected


@given(
    st.decimals(-1000, 1000, places=3, allow_nan=False, allow_infinity=False),
    st.decimals(-1000, 1000, places=3, allow_nan=False, allow_infinity=False),
    st.integers(2, 50),
)
def test_linspace_endpoints_count_and_monotony(start: Decimal, stop: Decimal, num: int) -> None:
    values = [Decimal(v) for v in parse_range_value(f"linspace:{start},{stop},{num}")]
    assert len(values) == num
    assert values[0] == start
    assert values[-1] == stop
    diffs = [b - a for a, b in itertools.pairwise(values)]
    assert all(d >= 0 for d in diffs) or all(d <= 0 for d in diffs)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C", "D"]),
            st.lists(st.sampled_from("uvwxyz"), min_size=1, max_size=4, unique=True),
        ),
        max_size=3,
        unique_by=lambda t: t[0],
    )
)
def test_expansion_is_the_full_product_without_duplicates(ranges: list[tuple[str, list[str]]]) -> None:
    cases = expand_cases(env={}, env_ranges=[(k, tuple(v)) for k, v in ranges])
    assert len(cases) == math.prod(len(v) for _, v in ranges)
    assert len({tuple(sorted(c.env.items())) for c in cases}) == len(cases)
    assert len(cases) <= MAX_CASES
    for case in cases:
        assert set(case.env) == {k for k, _ in ranges}
