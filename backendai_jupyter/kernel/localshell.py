"""The kernel's local IPython shell: ``%backend``/``%%backend``/``%%local`` code runs here, not remotely."""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell

__all__ = ["LocalShell", "Segment", "split_cell"]

#: Sends one iopub message: (msg_type, content).
Publish = Callable[[str, dict[str, Any]], None]

_LOCAL_CELL = re.compile(r"^\s*%%(backend|local)\b")
_LOCAL_LINE = re.compile(r"^%backend\b")


@dataclass(frozen=True)
class Segment:
    """A run of lines of one cell and where it runs."""

    code: str
    local: bool


def split_cell(code: str) -> list[Segment]:
    """Split a cell into local and remote parts.

    A ``%%backend``/``%%local`` cell is all local; otherwise runs of lines starting with ``%backend`` are
    local and the lines between them remote.
    """
    match = _LOCAL_CELL.match(code)
    if match:
        if match.group(1) == "local":  # %%local is ours, not a magic: its body is plain local code
            body = code.split("\n", 1)[1] if "\n" in code else ""
            return [Segment(body, True)]
        return [Segment(code, True)]
    if not any(_LOCAL_LINE.match(line) for line in code.splitlines()):
        return [Segment(code, False)]
    segments: list[Segment] = []
    for line in code.splitlines(keepends=True):
        local = bool(_LOCAL_LINE.match(line))
        if segments and segments[-1].local == local:
            segments[-1] = Segment(segments[-1].code + line, local)
        else:
            segments.append(Segment(line, local))
    return [s for s in segments if s.local or s.code.strip()]


class _Publisher(DisplayPublisher):
    """Sends ``display()`` calls of the local shell to the frontend as display_data/update_display_data."""

    publish_to: Publish | None = None

    def publish(
        self,
        data: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        source: str | None = None,
        *,
        transient: dict[str, Any] | None = None,
        update: bool = False,
        **kwargs: Any,
    ) -> None:
        if self.publish_to is None:
            return
        content: dict[str, Any] = {"data": data, "metadata": metadata or {}, "transient": transient or {}}
        self.publish_to("update_display_data" if update else "display_data", content)

    def clear_output(self, wait: bool = False) -> None:
        if self.publish_to is not None:
            self.publish_to("clear_output", {"wait": wait})


class LocalShell:
    """A private IPython shell in the kernel process (so magics and widgets work in the remote kernel too)."""

    def __init__(self, publish: Publish) -> None:
        self._publish = publish
        self.shell = InteractiveShell(colors="neutral", autocall=0, autoawait=True)  # type: ignore[no-untyped-call]
        publisher = _Publisher(shell=self.shell)  # type: ignore[no-untyped-call]
        publisher.publish_to = publish
        self.shell.display_pub = publisher
        self._errors: list[dict[str, Any]] = []
        self.shell._showtraceback = self._showtraceback  # type: ignore[method-assign]
        self._load_magics()

    def _load_magics(self) -> None:
        # the magics come with a later release; until then %backend is an unknown magic
        manager = self.shell.extension_manager
        if manager is not None:
            with contextlib.suppress(Exception):
                manager.load_extension("backendai_jupyter.magics")

    def _showtraceback(self, etype: type, evalue: BaseException, stb: list[str]) -> None:
        # like ipykernel's shell: one `error` message instead of traceback text on stdout
        content = {"ename": etype.__name__, "evalue": str(evalue), "traceback": stb}
        self._errors.append(content)
        self._publish("error", content)

    async def run(self, code: str, *, silent: bool = False) -> dict[str, Any] | None:
        """Run ``code``; return the error content if it failed, else None."""
        self._errors.clear()
        try:
            transformed, failure = self.shell.transform_cell(code), None  # type: ignore[no-untyped-call]
        except Exception:
            transformed, failure = code, sys.exc_info()
        result = await self.shell.run_cell_async(
            code,
            store_history=False,
            silent=silent,
            transformed_cell=transformed,
            preprocessing_exc_tuple=failure,
        )
        sys.stdout.flush()
        sys.stderr.flush()
        if result.success:
            return None
        if self._errors:
            return self._errors[-1]
        error = result.error_in_exec or result.error_before_exec
        return {"ename": type(error).__name__, "evalue": str(error), "traceback": []}
