"""Completion requests: what the session is asked for a cursor position, and what the matches replace."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["CompletionQuery", "empty_reply", "replaced_token"]


@dataclass(frozen=True)
class CompletionQuery:
    """The fields of the execute API's completion request for one cursor position."""

    before: str
    row: int
    col: int
    line: str
    post: str

    @classmethod
    def at(cls, code: str, cursor: int) -> CompletionQuery:
        """The query for ``cursor`` (a character offset) in ``code``."""
        before = code[:cursor]
        line_start = before.rfind("\n") + 1
        line_end = code.find("\n", cursor)
        end = line_end if line_end >= 0 else len(code)
        return cls(
            before=before,
            row=before.count("\n"),
            col=cursor - line_start,
            line=code[line_start:end],
            post=code[cursor:end],
        )


def empty_reply(cursor: int) -> dict[str, Any]:
    """A ``complete_reply`` with no matches at ``cursor``."""
    return {"status": "ok", "matches": [], "cursor_start": cursor, "cursor_end": cursor, "metadata": {}}


def replaced_token(before: str, matches: list[str]) -> str:
    """The text the matches replace: the dotted name before the cursor if all extend it, else the word."""
    dotted = re.search(r"[\w.]*$", before)
    word = re.search(r"\w*$", before)
    dotted_text = dotted.group(0) if dotted else ""
    if dotted_text and matches and all(m.startswith(dotted_text) for m in matches):
        return dotted_text
    return word.group(0) if word else ""
