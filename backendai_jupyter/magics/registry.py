"""Subcommands as data: a name, a one-line help, how to add its arguments, and what it runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import usage_error
from .parser import MagicParser

if TYPE_CHECKING:
    from .context import Context

__all__ = ["Command", "dispatch", "overview", "suggest"]


@dataclass(frozen=True)
class Command:
    """One ``%backend`` subcommand (or a group of them, such as ``vfolder``)."""

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None] | None = None
    run: Callable[[Context, argparse.Namespace], object] | None = None
    subcommands: Mapping[str, Command] = field(default_factory=dict)
    epilog: str = ""


def suggest(word: str, names: Sequence[str]) -> str:
    """`` Did you mean 'ps'?`` for a near miss, else ``""``."""
    import difflib

    close = difflib.get_close_matches(word, list(names), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def overview(prog: str, commands: Mapping[str, Command]) -> str:
    """The list of subcommands with their help lines."""
    width = max(len(n) for n in commands)
    lines = [f"usage: {prog} COMMAND [options]   ({prog} COMMAND --help for details)", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {cmd.help}" for name, cmd in commands.items()]
    return "\n".join(lines)


def dispatch(ctx: Context, prog: str, commands: Mapping[str, Command], args: Sequence[str]) -> object:
    """Find the subcommand named by ``args[0]``, parse the rest with its parser and run it."""
    if not args or args[0] in ("-h", "--help", "help"):
        ctx.print(overview(prog, commands))
        return None
    name, rest = args[0], list(args[1:])
    command = commands.get(name)
    if command is None:
        shown = name if len(name) <= 40 else name[:40] + "..."
        raise usage_error(
            f"{prog}: unknown command {shown!r}.{suggest(name, list(commands))} "
            f"Commands: {', '.join(commands)}; see {prog} --help"
        )
    sub_prog = f"{prog} {name}"
    if command.subcommands:
        return dispatch(ctx, sub_prog, command.subcommands, rest)
    parser = MagicParser(
        sub_prog,
        description=command.help,
        epilog=command.epilog or None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if command.arguments is not None:
        command.arguments(parser)
    namespace = parser.parse(rest)
    if command.run is None:  # pragma: no cover - every leaf command has a run function
        raise usage_error(f"{sub_prog} cannot run on its own; see {sub_prog} --help")
    return command.run(ctx, namespace)
