"""Parameter sweeps: ``case:``, ``linspace:`` and ``range:`` expressions, expanded into every combination.

Pure functions (no I/O). The semantics follow the backend.ai CLI: ``--env-range=X=case:a,b`` and
``--exec-range=N=range:1,4`` bind variables; ``-e KEY=...$X...`` and ``--exec '...$N...'`` are templates
filled in with each combination. A range variable that no ``-e`` template mentions is also set as an
environment variable of its own, so ``--env-range=LR=linspace:0.1,0.3,3`` works without ``-e LR=$LR``.
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

__all__ = [
    "MAX_CASES",
    "Case",
    "RangeError",
    "expand_cases",
    "parse_range",
    "parse_range_value",
]

#: More combinations than this are refused (a typo in a range would otherwise start thousands of sessions).
MAX_CASES = 1024
#: A single range expression may not produce more values than this.
MAX_VALUES = 1024

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class RangeError(ValueError):
    """A range expression is malformed; the message names it and shows a correct form."""


@dataclass(frozen=True)
class Case:
    """One combination: its index (from 1), the session environment and the batch command."""

    index: int
    env: Mapping[str, str] = field(default_factory=dict)
    exec_command: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)

    def label(self) -> str:
        """``X=1 Y=a`` (the swept variables), or ``-`` when nothing was swept."""
        return " ".join(f"{k}={v}" for k, v in self.variables.items()) or "-"


def _decimal(text: str, expr: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise RangeError(f"{expr!r}: {text.strip()!r} is not a number; write e.g. linspace:0,1,5") from None
    if not value.is_finite():
        raise RangeError(f"{expr!r}: {text.strip()!r} is not a finite number; write e.g. linspace:0,1,5")
    return value


def _int(text: str, expr: str, example: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise RangeError(f"{expr!r}: {text.strip()!r} is not a whole number; write e.g. {example}") from None


def _format_decimal(value: Decimal) -> str:
    """Plain notation without trailing zeros: ``0.25``, ``1``, ``-3.5``."""
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def parse_range_value(expr: str) -> tuple[str, ...]:
    """Values of ``case:a,b,c``, ``linspace:START,STOP,NUM`` or ``range:[START,]STOP[,STEP]``."""
    kind, sep, body = expr.partition(":")
    if not sep:
        raise RangeError(f"{expr!r} has no kind; write case:a,b, linspace:0,1,5 or range:1,10,2")
    if kind == "case":
        values = tuple(v.strip() for v in body.split(","))
        if not body.strip() or any(v == "" for v in values):
            raise RangeError(f"{expr!r} has an empty case; write e.g. case:a,b,c")
        if len(values) > MAX_VALUES:
            raise RangeError(f"{expr!r} has {len(values)} cases; at most {MAX_VALUES} are allowed")
        return values
    if kind == "linspace":
        parts = body.split(",")
        if len(parts) != 3:
            raise RangeError(f"{expr!r} needs START,STOP,NUM; write e.g. linspace:0,1,5")
        start, stop = _decimal(parts[0], expr), _decimal(parts[1], expr)
        num = _int(parts[2], expr, "linspace:0,1,5")
        if not 1 <= num <= MAX_VALUES:
            raise RangeError(f"{expr!r}: NUM={num} must be between 1 and {MAX_VALUES}")
        if num == 1:
            return (_format_decimal(start),)
        step = (stop - start) / (num - 1)
        return (*(_format_decimal(start + step * i) for i in range(num - 1)), _format_decimal(stop))
    if kind == "range":
        parts = body.split(",")
        if not 1 <= len(parts) <= 3 or not body.strip():
            raise RangeError(f"{expr!r} needs [START,]STOP[,STEP]; write e.g. range:1,10,2")
        numbers = [_int(p, expr, "range:1,10,2") for p in parts]
        if len(numbers) == 3 and numbers[2] == 0:
            raise RangeError(f"{expr!r}: STEP must not be 0; write e.g. range:1,10,2")
        values_range = range(*numbers)
        if len(values_range) == 0:
            raise RangeError(f"{expr!r} is empty; write e.g. range:1,10,2 (STOP is not included)")
        if len(values_range) > MAX_VALUES:
            raise RangeError(f"{expr!r} has {len(values_range)} values; at most {MAX_VALUES} are allowed")
        return tuple(str(v) for v in values_range)
    raise RangeError(f"{expr!r}: unknown kind {kind!r}; use case:, linspace: or range:")


def parse_range(item: str) -> tuple[str, tuple[str, ...]]:
    """``NAME=EXPR`` -> (NAME, values)."""
    key, sep, expr = item.partition("=")
    if not sep:
        raise RangeError(f"{item!r} is not NAME=EXPR; write e.g. X=case:a,b or N=range:1,4")
    if not _KEY.match(key):
        raise RangeError(f"{key!r} in {item!r} is not a variable name; use letters, digits and '_'")
    return key, parse_range_value(expr)


def _fill(template: str, values: Mapping[str, str], what: str) -> str:
    try:
        return string.Template(template).substitute(values)
    except KeyError as exc:
        raise RangeError(
            f"{what} {template!r} uses ${exc.args[0]}, which no --env-range/--exec-range defines"
        ) from None
    except ValueError:
        raise RangeError(f"{what} {template!r} has a stray '$'; write $$ for a literal dollar sign") from None


def _uses(template: str, name: str) -> bool:
    return re.search(rf"\$(?:{name}\b|\{{{name}\}})", template) is not None


def expand_cases(
    *,
    env: Mapping[str, str],
    env_ranges: Sequence[tuple[str, Sequence[str]]] = (),
    exec_command: str | None = None,
    exec_ranges: Sequence[tuple[str, Sequence[str]]] = (),
) -> list[Case]:
    """Every combination of the ranges, with templates filled in, duplicates removed, in a stable order."""
    names = [k for k, _ in env_ranges] + [k for k, _ in exec_ranges]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise RangeError(f"range variable {duplicates[0]!r} is defined twice; give each variable one range")
    if exec_ranges and exec_command is None:
        raise RangeError("--exec-range needs --exec CMD with $VARIABLES to fill in")
    total = 1
    for _, values in [*env_ranges, *exec_ranges]:
        total *= max(1, len(values))
        if total > MAX_CASES:
            raise RangeError(f"the ranges make more than {MAX_CASES} combinations; narrow them")
    # a variable only swept (not used in any -e template) becomes an environment variable itself
    standalone = [k for k, _ in env_ranges if not any(_uses(t, k) for t in env.values())]
    keys = [k for k, _ in env_ranges] + [k for k, _ in exec_ranges]
    value_lists = [list(v) for _, v in env_ranges] + [list(v) for _, v in exec_ranges]
    cases: list[Case] = []
    seen: set[tuple[tuple[tuple[str, str], ...], str | None]] = set()
    for combo in itertools.product(*value_lists):
        variables = dict(zip(keys, combo, strict=True))
        filled_env = {k: _fill(v, variables, f"-e {k}=") if keys and "$" in v else v for k, v in env.items()}
        for key in standalone:
            filled_env.setdefault(key, variables[key])
        command = exec_command
        if command is not None and keys:
            command = _fill(command, variables, "--exec")
        signature = (tuple(sorted(filled_env.items())), command)
        if signature in seen:
            continue
        seen.add(signature)
        cases.append(Case(index=len(cases) + 1, env=filled_env, exec_command=command, variables=variables))
    return cases
