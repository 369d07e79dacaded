"""argparse for magics: a bad argument is a short UsageError naming the value and the fix, never an exit."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

from .. import settings
from .errors import usage_error

__all__ = [
    "HelpShown",
    "MagicParser",
    "add_start_options",
    "parse_env",
    "parse_pairs",
    "split_args",
]


class HelpShown(Exception):
    """``--help`` was printed; the command has nothing else to do."""


class MagicParser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of printing usage and calling ``sys.exit``."""

    def __init__(self, prog: str, **kwargs: Any) -> None:
        kwargs.setdefault("add_help", True)
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(prog=prog, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Raise a one-line UsageError pointing at ``--help``."""
        raise usage_error(f"{self.prog}: {message}; see {self.prog} --help")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        """``--help`` (or a parse failure argparse reports by exiting): never leave the process."""
        if status:
            raise usage_error(f"{self.prog}: {(message or 'invalid arguments').strip()}")
        raise HelpShown()

    def print_help(self, file: Any = None) -> None:
        """Print help to the current stdout (captured by IPython, unlike the stdout bound at import)."""
        (file or sys.stdout).write(self.format_help())

    def parse(self, args: Sequence[str]) -> argparse.Namespace:
        """Parse; every problem becomes a UsageError, ``--help`` a HelpShown."""
        try:
            return self.parse_args(list(args))
        except ValueError as exc:  # argparse raises these for some malformed option strings
            raise usage_error(f"{self.prog}: {exc}; see {self.prog} --help") from None


def split_args(line: str, *, prog: str = "%backend") -> list[str]:
    """Split a magic line like a shell would; an unbalanced quote is a UsageError."""
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:
        raise usage_error(f"{prog}: cannot split {line!r}: {exc}; close the quote") from None


def parse_pairs(items: Iterable[str], *, option: str, example: str) -> dict[str, str]:
    """``["K=V", "K2=V2,K3=V3"]`` (repeated ``option`` values) -> a dict; a malformed item is a UsageError."""
    try:
        return settings.parse_pairs(items, name=option, example=f"{option} {example}", allow_json=False)
    except settings.SettingError as exc:
        raise usage_error(str(exc)) from None


def parse_env(items: Iterable[str]) -> dict[str, str]:
    """``-e KEY=VALUE`` items (a value may hold commas, so each item is one pair)."""
    env: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not key.strip().replace("_", "a").isalnum():
            raise usage_error(f"-e {item!r} is not NAME=VALUE; write it as e.g. -e SEED=42")
        env[key.strip()] = value
    return env


def add_start_options(parser: argparse.ArgumentParser) -> None:
    """The options ``start``, ``run`` and ``%%backend`` share (named as in the backend.ai CLI)."""
    parser.add_argument("-t", "--name", metavar="NAME", help="session name (default: generated)")
    parser.add_argument(
        "-r",
        "--resources",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="resource slots, e.g. -r cpu=2 -r mem=4g (default: BackendMagics.resources)",
    )
    parser.add_argument(
        "-m",
        "--mount",
        metavar="VFOLDER",
        action="append",
        default=[],
        help="vfolder to mount (repeat for more; default: BackendMagics.mounts)",
    )
    parser.add_argument(
        "-e",
        "--env",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="environment variable of the session (repeat for more)",
    )
    parser.add_argument(
        "--max-wait",
        metavar="SECONDS",
        type=_seconds,
        default=None,
        help="wait at most this long for the session to start (0: no limit)",
    )
    parser.add_argument(
        "--enqueue-only", action="store_true", help="return at once; do not wait for the session to start"
    )


def _seconds(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (e.g. 60)") from None
    if value < 0 or value != value or value > 10**7:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds between 0 and 10000000")
    return int(value)
