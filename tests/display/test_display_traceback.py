"""Remote traceback text -> (ename, evalue, traceback), for real IPython and CPython output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backendai_jupyter.display.traceback import (
    find_traceback,
    is_traceback,
    make_error,
    parse_traceback,
    strip_ansi,
)

DATA = Path(__file__).resolve().parent / "data"
SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"

# real output captured by data/make_tracebacks.py: ipykernel's error messages, joined as the runner joins them
CASES: list[dict[str, Any]] = json.loads((DATA / "tracebacks.json").read_text())

# what the text itself can tell, where ipykernel's own fields hold more than the traceback shows
EXPECTED_OVERRIDES = {
    # str(SyntaxError) carries "(<file>, line n)", which IPython does not print
    "syntax-error": ("SyntaxError", "invalid syntax"),
    "incomplete-input": ("SyntaxError", "incomplete input"),
    "indentation-error": ("IndentationError", "expected an indented block after 'if' statement on line 1"),
    # exception notes are printed under the message and cannot be told apart from a second message line
    "note": ("ValueError", "v\na note"),
    # IPython printed this one as a plain CPython traceback on stderr, without an error message
    "exception-group": ("ExceptionGroup", "eg (2 sub-exceptions)"),
}


def stderr_of(case: dict[str, Any]) -> str:
    (text,) = [data for kind, data in case["console"] if kind == "stderr"]
    return str(text)


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_real_tracebacks(case: dict[str, Any]) -> None:
    text = stderr_of(case)
    match = find_traceback(text)
    assert match is not None
    assert match.before + match.traceback_text + match.after == text
    ename, evalue = EXPECTED_OVERRIDES.get(case["case"]) or (case["error"]["ename"], case["error"]["evalue"])
    assert (match.error.ename, match.error.evalue) == (ename, evalue)
    assert match.form == ("ipython" if case["form"] == "ipython" and case["error"] is not None else "plain")
    recorded = case["error"] and case["error"]["traceback"]
    if recorded:
        # every line the kernel sent is there, ANSI colours included
        assert "\n".join(match.error.traceback) == "\n".join(recorded).removesuffix("\n")
    assert is_traceback(text)
    assert parse_traceback(text) == match.error


def test_text_before_and_warnings_after_are_kept_apart() -> None:
    by_name = {c["case"]: c for c in CASES}
    before = find_traceback(stderr_of(by_name["stderr-before-error"]))
    assert before is not None
    assert before.before == "careful\n"
    assert before.after == ""
    exit_ = find_traceback(stderr_of(by_name["sys-exit"]))
    assert exit_ is not None
    assert exit_.before == ""
    assert exit_.after.startswith("/")
    assert "UserWarning: To exit" in exit_.after
    assert exit_.error.traceback[-1].endswith(" 3")


def sample_stderr() -> list[tuple[str, str]]:
    found = []
    for path in sorted(SAMPLES.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            for kind, data in record["result"]["console"]:
                if kind == "stderr":
                    found.append((f"{record['case']}-{record['call']}", data))
    return found


def test_sample_tracebacks() -> None:
    items = dict(sample_stderr())
    if not items:
        pytest.skip(f"no samples in {SAMPLES}")
    expected = {
        "runtime-error-1": ("ZeroDivisionError", "division by zero"),
        "interrupt-2": ("KeyboardInterrupt", ""),
        "sys-exit-1": ("SystemExit", "3"),
    }
    for name, text in items.items():
        match = find_traceback(text)
        if name in expected:
            assert match is not None, name
            assert (match.error.ename, match.error.evalue) == expected[name]
            assert match.form == "ipython"
            assert "\x1b[31m" in match.error.traceback[-1]  # ANSI kept
        else:
            assert match is None, name  # plain stderr such as "batch err\n" stays a stream


def test_official_docs_plain_example() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "<input>", line 3, in <module>\n'
        "ZeroDivisionError: division by zero\n"
    )
    error = parse_traceback(text)
    assert (error.ename, error.evalue) == ("ZeroDivisionError", "division by zero")
    assert error.traceback == tuple(text.removesuffix("\n").split("\n"))


def test_a_printed_traceback_before_the_real_error_stays_text() -> None:
    printed = 'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\nKeyError: 1\nhandled\n'
    real = next(stderr_of(c) for c in CASES if c["case"] == "zero-division")
    match = find_traceback(printed + real)
    assert match is not None
    assert match.before == printed
    assert match.error.ename == "ZeroDivisionError"


def test_plain_syntax_error_without_header() -> None:
    text = '  File "<input>", line 1\n    def f(:\n          ^\nSyntaxError: invalid syntax\n'
    error = parse_traceback(text)
    assert (error.ename, error.evalue) == ("SyntaxError", "invalid syntax")


def test_plain_syntax_error_inside_a_traceback() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "main.py", line 1, in <module>\n'
        '  File "/work/mod.py", line 2\n'
        "    x = = 1\n"
        "        ^\n"
        "SyntaxError: invalid syntax\n"
    )
    match = find_traceback(text)
    assert match is not None
    assert match.before == ""
    assert (match.error.ename, match.error.evalue) == ("SyntaxError", "invalid syntax")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "b\n",
        "batch err\n",
        'python-kernel: python-kernel: skipping the build phase due to missing "setup.py" file\n',
        "/x/y.py:3: DeprecationWarning: old\n  f()\n",
        "Traceback (most recent call last):\n",  # truncated: no exception line yet
        "see line 3 for the Traceback of the last run\n",
        "ERROR: something failed: retrying\n",
        "\x1b[31mred text\x1b[39m\n",
        '  File "notes.txt", line 3\nDone\n',  # a location line followed by ordinary text
    ],
)
def test_not_a_traceback(text: str) -> None:
    assert find_traceback(text) is None
    assert not is_traceback(text)


def test_parse_traceback_names_the_problem() -> None:
    with pytest.raises(ValueError, match="no Python traceback found in 'hello'"):
        parse_traceback("hello")


def test_make_error_and_strip_ansi() -> None:
    error = make_error("BackendAPIError", "404 session gone; run the cell again")
    assert error.content() == {
        "ename": "BackendAPIError",
        "evalue": "404 session gone; run the cell again",
        "traceback": ["\x1b[31mBackendAPIError\x1b[39m: 404 session gone; run the cell again"],
    }
    assert strip_ansi(error.traceback[0]) == "BackendAPIError: 404 session gone; run the cell again"
    assert strip_ansi("\x1b[38;5;28;01mimport\x1b[39;00m x") == "import x"


@given(
    prefix=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80).filter(
        lambda s: not is_traceback(s)
    ),
    case=st.sampled_from([c for c in CASES if c["form"] == "ipython" and c["case"] != "stderr-before-error"]),
)
def test_any_text_before_the_traceback_is_split_off(prefix: str, case: dict[str, Any]) -> None:
    text = stderr_of(case)
    # stderr text printed before an error always ends its line when IPython prints the traceback
    lead = prefix if not prefix or prefix.endswith("\n") else prefix + "\n"
    match = find_traceback(lead + text)
    assert match is not None
    assert match.before == lead
    assert match.before + match.traceback_text + match.after == lead + text
    assert match.error.ename == (EXPECTED_OVERRIDES.get(case["case"]) or (case["error"]["ename"],))[0]
