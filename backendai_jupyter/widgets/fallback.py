"""When widgets cannot be shown: a text table and the ``%backend`` commands that do the same."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from .options import SessionRow, format_table

__all__ = [
    "WIDGET_MODES",
    "choices_text",
    "sessions_text",
    "widgets_usable",
]

#: Values of ``BackendMagics.widgets``; the environment variable BACKENDAI_JUPYTER_WIDGETS sets the default.
WIDGET_MODES = ("auto", "on", "off")


def widgets_usable(shell: Any, mode: str = "auto") -> tuple[bool, str]:
    """Whether a widget can be shown in ``shell``, and if not, why (for the one-line note)."""
    if mode == "off":
        return False, "widgets are turned off (BackendMagics.widgets = 'off')"
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False, "ipywidgets is not installed (pip install ipywidgets)"
    if mode == "on":
        return True, ""
    if os.environ.get("BACKENDAI_JUPYTER_WIDGETS", "").lower() in ("0", "off", "no", "false"):
        return False, "widgets are turned off (BACKENDAI_JUPYTER_WIDGETS)"
    # widgets need a kernel with a comm channel to the front end: IPython's kernel shell, or the
    # "Backend.AI (remote)" kernel's local shell (its kernel has a comm manager); a terminal has none
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        return False, "this front end cannot show widgets"
    if type(shell).__name__ != "ZMQInteractiveShell" and getattr(kernel, "comm_manager", None) is None:
        return False, "this front end cannot show widgets"
    return True, ""


def sessions_text(rows: Sequence[SessionRow]) -> str:
    """The session list as text, followed by the commands the picker's buttons stand for."""
    table = format_table(
        ["name", "id", "status", "image", "age"], [r.cells() for r in rows], empty="(no sessions)"
    )
    example = rows[0].name if rows else "NAME"
    commands = [
        "commands:",
        "  %backend ps --all                        refresh (all sessions)",
        f"  %backend attach {example:<24} attach",
        f"  %backend rm {example:<28} terminate",
        "  %backend start -t NAME -r cpu=1 -m VFOLDER IMAGE   create",
    ]
    return table + "\n\n" + "\n".join(commands)


def choices_text(title: str, choices: Iterable[tuple[str, str]], command: str) -> str:
    """A list of (label, value) choices and the command that uses one of them."""
    rows = [[label] for label, _ in choices]
    return f"{title}\n" + format_table(["choice"], rows) + f"\n\nuse one with: {command}"
