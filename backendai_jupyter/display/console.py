"""Turn Backend.AI console items into Jupyter iopub messages, and decide a cell's error outcome.

``ConsoleRenderer`` (one per remote session) maps ONE console item ``[type, data]`` (docs/protocol.md §5.1,
docs/runner.md §3 and §5) to messages; it keeps the session's drawing canvases. ``ExecutionRenderer`` (one per
cell) feeds a run's items through it and turns a remote traceback into exactly one ``error`` message and an
error reply, as the kernel rules of docs/design.md §3 require.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from .drawing_svg import DrawingBoard
from .media import DRAWING_MIME, looks_like_html, media_bundle
from .messages import IopubMessage, display_message, stream_message
from .traceback import RemoteError, TracebackMatch, find_traceback, make_error

__all__ = ["NONZERO_EXIT", "ConsoleRenderer", "ExecutionRenderer"]

#: The ``ename`` of a run that failed only by its exit code (no traceback to show).
NONZERO_EXIT = "NonZeroExitCode"


class ConsoleRenderer:
    """Console items of one remote session -> iopub messages (drawings kept per canvas id)."""

    def __init__(self, session_key: str = "session") -> None:
        self.session_key = session_key
        self.board = DrawingBoard()
        self._displayed: set[str] = set()

    def begin_run(self) -> None:
        """Start a new cell: a canvas drawn again in it gets a fresh display there, updated in place after."""
        self._displayed.clear()

    def reset(self) -> None:
        """Forget drawing state (the remote session restarted, so canvas ids start again at 0)."""
        self.board.reset()
        self._displayed.clear()

    def render(self, item: Any) -> list[IopubMessage]:
        """The iopub messages for one console item ``[type, data]``."""
        if not isinstance(item, list | tuple) or len(item) != 2 or not isinstance(item[0], str):
            return [display_message({"text/plain": _text(item)})]
        kind, data = item
        if kind in ("stdout", "stderr"):
            text = _text(data)
            return [stream_message(kind, text)] if text else []
        if kind == "media":
            return self.render_media(data)
        if kind == "html":
            return [display_message(media_bundle("text/html", _text(data)))]
        if kind == "log":
            return [stream_message("stderr", _log_line(data))]
        if kind == "completion":
            return []  # completions answer a complete request; they are never output
        # an item type this client does not know: show it rather than lose it
        return [display_message({"text/plain": f"[{kind}] {_text(data)}"})]

    def render_media(self, data: Any) -> list[IopubMessage]:
        """The messages for a ``media`` item's data: ``[mime, data]``, ``{"type", "data"}`` or raw HTML."""
        mime, payload = _split_media(data)
        if mime is None:
            if isinstance(payload, str) and looks_like_html(payload):
                # the 23.09 runner sends a text/html display as a media record holding raw HTML
                return [display_message(media_bundle("text/html", payload))]
            return [display_message({"text/plain": _text(payload)})]
        if mime.split(";", 1)[0].strip().lower() == DRAWING_MIME:
            return self.render_drawing(payload)
        return [display_message(media_bundle(mime, payload))]

    def render_drawing(self, payload: Any) -> list[IopubMessage]:
        """Apply a sorna-drawing batch and show (or update in place) each canvas it touched."""
        try:
            canvas_ids = self.board.apply(payload)
        except ValueError as exc:
            return [display_message({"text/plain": f"<Canvas: cannot draw this batch: {exc}>"})]
        messages = []
        for cid in canvas_ids:
            display_id = self.display_id(cid)
            data = {"image/svg+xml": self.board.render_svg(cid), "text/plain": f"<Canvas {cid}>"}
            update = display_id in self._displayed
            self._displayed.add(display_id)
            messages.append(display_message(data, display_id=display_id, update=update))
        return messages

    def display_id(self, cid: int) -> str:
        """The display id of canvas ``cid`` (a canvas re-created by a later ``Canvas()`` gets a new one)."""
        generation = self.board.generation(cid)
        suffix = f"-{generation}" if generation > 1 else ""
        return f"sorna-canvas-{self.session_key}-{cid}{suffix}"


class ExecutionRenderer:
    """One cell's run: items -> messages, with the remote error turned into one ``error`` message and reply.

    - A stderr item holding IPython's traceback (what 23.09+ runners send for every uncaught exception)
      becomes one ``error`` message at once; text before it (and warnings after it) stay stderr streams.
    - A plain CPython traceback (legacy 1.x runners, batch programs) is held back: if the run ends right
      after it, it is the cell's error; if more output follows, it was only printed and is sent as stderr.
    - ``exit_code_reliable``: the server reports real exit codes (26.x query mode, batch mode), so a
      non-zero ``exitCode`` without a traceback also fails the cell.
    - ``exec-timeout`` and an interrupt without a traceback fail the cell too.
    """

    def __init__(
        self,
        console: ConsoleRenderer,
        *,
        exit_code_reliable: bool = False,
        plain_tracebacks: bool = True,
    ) -> None:
        self.console = console
        self.exit_code_reliable = exit_code_reliable
        self.plain_tracebacks = plain_tracebacks
        self._error: RemoteError | None = None
        self._held: TracebackMatch | None = None
        console.begin_run()

    @property
    def error(self) -> RemoteError | None:
        """The cell's error, once decided."""
        return self._error

    def feed(self, item: Any) -> list[IopubMessage]:
        """The messages to publish now for one console item."""
        messages = self._release_held()
        if (
            self._error is None
            and isinstance(item, list | tuple)
            and len(item) == 2
            and item[0] == "stderr"
            and isinstance(item[1], str)
            and (match := find_traceback(item[1])) is not None
        ):
            if match.before:
                messages.append(stream_message("stderr", match.before))
            if match.form == "ipython":
                messages.extend(self._fail(match.error))
                if match.after:
                    messages.append(stream_message("stderr", match.after))
            elif self.plain_tracebacks:
                self._held = match
            else:
                messages.append(stream_message("stderr", match.traceback_text + match.after))
            return messages
        return messages + self.console.render(item)

    def feed_all(self, items: Iterable[Any]) -> list[IopubMessage]:
        """The messages for a batch of console items (one API response's ``console``)."""
        return [message for item in items for message in self.feed(item)]

    def finish(
        self, *, status: str = "finished", exit_code: int | None = None, interrupted: bool = False
    ) -> list[IopubMessage]:
        """The last messages of the run, after its final status; decides the error for :meth:`reply`."""
        messages: list[IopubMessage] = []
        held, self._held = self._held, None
        if held is not None and self._error is None:
            messages.extend(self._fail(held.error))
            if held.after:
                messages.append(stream_message("stderr", held.after))
        if self._error is None:
            if status == "exec-timeout":
                messages.extend(
                    self._fail(
                        make_error(
                            "ExecutionTimeout",
                            "the run reached the session's execution time limit and Backend.AI terminated"
                            " the session; run the cell again to start a new one",
                        )
                    )
                )
            elif interrupted:
                messages.extend(self._fail(make_error("KeyboardInterrupt", "")))
            elif self.exit_code_reliable and exit_code not in (None, 0):
                messages.extend(
                    self._fail(make_error(NONZERO_EXIT, f"the remote run ended with exit code {exit_code}"))
                )
        return messages

    def reply(self) -> dict[str, Any]:
        """The status fields of the ``execute_reply``: ``{"status": "ok"}`` or the error fields."""
        if self._error is None:
            return {"status": "ok"}
        return {"status": "error", **self._error.content()}

    def _fail(self, error: RemoteError) -> list[IopubMessage]:
        self._error = error
        return [IopubMessage("error", error.content())]

    def _release_held(self) -> list[IopubMessage]:
        # more output after a plain traceback: it was printed by a program that went on, not its end
        if self._held is None:
            return []
        held, self._held = self._held, None
        return [stream_message("stderr", held.traceback_text + held.after)]


def _split_media(data: Any) -> tuple[str | None, Any]:
    if isinstance(data, str):
        stripped = data.lstrip()
        if stripped.startswith(("{", "[")):
            try:
                data = json.loads(stripped)
            except ValueError:
                return None, data
        else:
            return None, data
    if isinstance(data, dict) and isinstance(data.get("type"), str):
        return data["type"], data.get("data", "")
    if (
        isinstance(data, Sequence)
        and not isinstance(data, str)
        and len(data) == 2
        and isinstance(data[0], str)
    ):
        return data[0], data[1]
    return None, data


def _text(data: Any) -> str:
    if isinstance(data, str):
        return data
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return json.dumps(data, ensure_ascii=False, default=str)


def _log_line(data: Any) -> str:
    if isinstance(data, list | tuple) and len(data) == 4:
        level, timestamp, logger, message = (_text(part) for part in data)
        line = f"{timestamp} {level.upper()} {logger}: {message}"
    else:
        line = _text(data)
    return line if line.endswith("\n") else line + "\n"
