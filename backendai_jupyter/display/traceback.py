"""Find a remote Python traceback in stderr text and rebuild Jupyter's ``error`` fields from it.

Forms understood (docs/runner.md §1.4-§1.5, the samples):

- IPython's verbose, ANSI-coloured form that a 23.09+ runner sends for every error (``----`` rule, then
  ``Name    Traceback (most recent call last)``, frames, ``Name: value``), chained exceptions included;
- IPython's short forms: syntax errors (``Cell In[n], line k`` + caret) and ``exception_only`` reports such as
  ``SystemExit`` (``An exception has occurred, use %tb to see the full traceback.``);
- CPython's plain form that the legacy 1.x runner sends (``Traceback (most recent call last):``), chained
  exceptions, exception groups and bare ``File "...", line n`` syntax errors.

Text before the traceback and warnings printed after it (``path:line: SomeWarning: ...``) are kept apart, so a
caller can pass them on as stderr. The traceback lines keep their ANSI escapes (Jupyter renders them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "RemoteError",
    "TracebackMatch",
    "find_traceback",
    "is_traceback",
    "make_error",
    "parse_traceback",
    "strip_ansi",
]

Form = Literal["ipython", "plain"]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_NAME = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_RULE = re.compile(r"^-{20,}\s*$")
_VERBOSE_HEADER = re.compile(rf"^(?P<name>{_NAME})\s+Traceback \(most recent call last\)\s*$")
_PLAIN_HEADER = re.compile(r"^Traceback \(most recent call last\):\s*$")
_GROUP_HEADER = re.compile(r"^(?P<indent>\s*)\+ Exception Group Traceback \(most recent call last\):\s*$")
_EXCEPTION_ONLY = re.compile(r"^An exception has occurred, use %tb to see the full traceback\.\s*$")
_SYNTAX_LOCATION = re.compile(r"^\s+(?:Cell In\[\d+\], line \d+|File \"[^\"]*\", line \d+)\s*$")
_EXCEPTION_LINE = re.compile(rf"^(?P<name>{_NAME})(?::(?: (?P<msg>.*)|\s*))?$")
_CHAIN_SENTENCES = {
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
}
# warnings.formatwarning: "path:lineno: Category: message" (then an indented source line)
_WARNING_LINE = re.compile(r"^\S.*:\d+: [A-Za-z_]\w*(?:Warning|Error)?: ")


def strip_ansi(text: str) -> str:
    """``text`` without ANSI escape sequences."""
    return _ANSI.sub("", text)


@dataclass(frozen=True)
class RemoteError:
    """The fields of a Jupyter ``error`` message: exception class name, message and traceback lines."""

    ename: str
    evalue: str
    traceback: tuple[str, ...]

    def content(self) -> dict[str, Any]:
        """The ``error`` message content (also the error fields of an ``execute_reply``)."""
        return {"ename": self.ename, "evalue": self.evalue, "traceback": list(self.traceback)}


@dataclass(frozen=True)
class TracebackMatch:
    """A traceback found in a chunk of text: ``before + traceback_text + after == text``."""

    before: str
    traceback_text: str
    after: str
    error: RemoteError
    form: Form


@dataclass(frozen=True)
class _Block:
    """One traceback header: where it starts, what kind it is and the line to look for the exception from."""

    start: int
    kind: Literal["verbose", "plain", "group", "exception_only", "syntax"]
    body: int
    name: str = ""  # the exception name of IPython's verbose header
    indent: str = ""  # the indentation of an exception group's box


def make_error(ename: str, evalue: str) -> RemoteError:
    """An error raised by this client (not by remote code): one coloured ``Name: message`` line."""
    line = f"\x1b[31m{ename}\x1b[39m: {evalue}" if evalue else f"\x1b[31m{ename}\x1b[39m"
    return RemoteError(ename, evalue, (line,))


def is_traceback(text: str) -> bool:
    """Whether ``text`` holds a Python traceback (with its final ``Name: message`` line)."""
    return find_traceback(text) is not None


def parse_traceback(text: str) -> RemoteError:
    """The error fields of the traceback in ``text``; raise ValueError when there is none."""
    match = find_traceback(text)
    if match is None:
        shown = strip_ansi(text)[:60]
        raise ValueError(f"no Python traceback found in {shown!r}: expected IPython's or CPython's format")
    return match.error


def find_traceback(text: str) -> TracebackMatch | None:
    """Locate the traceback in ``text`` (ANSI allowed) and split it from the text around it."""
    if "Traceback" not in text and "line " not in text and "An exception has occurred" not in text:
        return None  # fast path: most stderr chunks are plain messages
    raw_lines = text.split("\n")
    lines = [strip_ansi(line) for line in raw_lines]
    blocks = _find_blocks(lines)
    if not blocks:
        return None
    last = blocks[-1]
    found = _exception_line(lines, last)
    if found is None:
        return None
    exc_index, name, first_msg, prefix = found
    msg_end, end = _exception_end(lines, exc_index, group=last.kind == "group")
    message = [first_msg] + [_unprefix(line, prefix) for line in lines[exc_index + 1 : msg_end]]
    while len(message) > 1 and not message[-1].strip():
        message.pop()
    start = _chain_start(lines, blocks)
    offsets = _line_offsets(raw_lines)
    tb_start = offsets[start]
    tb_end = offsets[end] if end < len(raw_lines) else len(text)
    tb_text = text[tb_start:tb_end]
    tb_lines = tb_text.removesuffix("\n").split("\n")
    error = RemoteError(name.rsplit(".", 1)[-1], "\n".join(message), tuple(tb_lines))
    ipython = last.kind in ("verbose", "exception_only") or _is_ipython_syntax(lines, last)
    form: Form = "ipython" if ipython else "plain"
    return TracebackMatch(text[:tb_start], tb_text, text[tb_end:], error, form)


def _find_blocks(lines: list[str]) -> list[_Block]:
    blocks: list[_Block] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        header = _VERBOSE_HEADER.match(line)
        if _RULE.match(line) and i + 1 < len(lines) and (h := _VERBOSE_HEADER.match(lines[i + 1])):
            blocks.append(_Block(i, "verbose", i + 2, h["name"]))
            i += 2
            continue
        if header:
            blocks.append(_Block(i, "verbose", i + 1, header["name"]))
        elif _PLAIN_HEADER.match(line):
            blocks.append(_Block(i, "plain", i + 1))
        elif group := _GROUP_HEADER.match(line):
            blocks.append(_Block(i, "group", i + 1, indent=group["indent"]))
        elif _EXCEPTION_ONLY.match(line):
            blocks.append(_Block(i, "exception_only", i + 1))
        elif _SYNTAX_LOCATION.match(line) and not _inside_frames(blocks, lines, i):
            blocks.append(_Block(i, "syntax", i + 1))
        i += 1
    return blocks


def _chain_start(lines: list[str], blocks: list[_Block]) -> int:
    """First line of the last traceback, including the tracebacks it is chained to."""
    start = blocks[-1].start
    for block in reversed(blocks[:-1]):
        # chained exceptions are joined by one of CPython's two sentences; anything else was printed apart
        if not any(line.strip() in _CHAIN_SENTENCES for line in lines[block.start : start]):
            break
        start = block.start
    return start


def _inside_frames(blocks: list[_Block], lines: list[str], index: int) -> bool:
    # a `File "x", line n` line right after a plain header is a frame of that traceback, not a syntax error
    if not blocks or blocks[-1].kind not in ("plain", "group", "syntax"):
        return False
    return all(line.startswith((" ", "\t")) or not line for line in lines[blocks[-1].body : index])


def _exception_line(lines: list[str], block: _Block) -> tuple[int, str, str, str] | None:
    """Index, dotted class name, first message line and line prefix of the block's exception line."""
    for i in range(block.body, len(lines)):
        line = lines[i]
        if block.kind == "verbose":
            # IPython prints "Name: value" with the same name as its header; frames never start with it
            if line == block.name or line.startswith(block.name + ":"):
                return i, block.name, line[len(block.name) + 1 :].removeprefix(" "), ""
            continue
        if block.kind == "group":
            prefix = block.indent + "| "
            if not line.startswith(prefix) or line[len(prefix) : len(prefix) + 1].isspace():
                continue
            match = _EXCEPTION_LINE.match(line[len(prefix) :])
            if match:
                return i, match["name"], match["msg"] or "", prefix
            continue
        if block.kind == "exception_only" and not line.strip():
            continue
        if block.kind in ("plain", "syntax") and line.startswith((" ", "\t")):
            continue  # frames, source lines and carets are indented
        match = _EXCEPTION_LINE.match(line)
        if match is None or (block.kind == "syntax" and not match["name"].endswith("Error")):
            return None  # a location line followed by ordinary text is not a syntax error report
        return i, match["name"], match["msg"] or "", ""
    return None


def _exception_end(lines: list[str], exc_index: int, *, group: bool) -> tuple[int, int]:
    """End of the exception message and end of the traceback (exclusive line indexes)."""
    end = exc_index + 1
    while end < len(lines) and not _WARNING_LINE.match(lines[end]):
        if group and not lines[end].strip():
            break  # an exception group's sub-exception boxes end at the first blank line
        end += 1
    # a group's message is its first line; the boxes that follow belong to the traceback only
    return (exc_index + 1 if group else end), end


def _unprefix(line: str, prefix: str) -> str:
    return line[len(prefix) :] if prefix and line.startswith(prefix) else line


def _is_ipython_syntax(lines: list[str], block: _Block) -> bool:
    return block.kind == "syntax" and "Cell In[" in lines[block.start]


def _line_offsets(raw_lines: list[str]) -> list[int]:
    offsets = [0]
    for line in raw_lines:
        offsets.append(offsets[-1] + len(line) + 1)
    return offsets
