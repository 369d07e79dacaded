"""Transfer progress: one byte-counting bar per transfer (a widget in a notebook, text elsewhere)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from ..sdk.types import TransferProgress
from ..widgets.options import format_size

__all__ = ["PROGRESS_MODES", "TransferBar", "summary"]

#: Values of ``BackendMagics.progress``.
PROGRESS_MODES = ("auto", "widget", "text", "none")


def _bar_class(mode: str) -> Callable[..., Any] | None:
    if mode == "none":
        return None
    if mode == "text":
        from tqdm.std import tqdm as text_tqdm

        return text_tqdm  # type: ignore[no-any-return]
    if mode == "widget":
        try:
            from tqdm.notebook import tqdm as widget_tqdm

            return widget_tqdm  # type: ignore[no-any-return]
        except ImportError:  # no ipywidgets: text is the best we can do
            return _bar_class("text")
    from tqdm.auto import tqdm as auto_tqdm

    return auto_tqdm  # type: ignore[no-any-return]


class TransferBar:
    """Counts bytes of several files into one bar; ``update`` takes the SDK's per-file progress."""

    def __init__(self, *, total: int | None, description: str, mode: str = "auto") -> None:
        self.total = total
        self.started = time.monotonic()
        self._done: dict[str, int] = {}
        self._shown = 0
        factory = _bar_class(mode)
        self._bar: Any = None
        if factory is not None:
            try:
                self._bar = factory(
                    total=total,
                    desc=description,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    file=sys.stderr,
                    leave=True,
                    mininterval=0.2,
                )
            except Exception:  # a front end without widgets: no bar rather than a failed transfer
                self._bar = None

    @property
    def done(self) -> int:
        """Bytes moved so far over all files."""
        return sum(self._done.values())

    def update(self, progress: TransferProgress) -> None:
        """Record one file's progress and move the bar."""
        self._done[progress.path] = progress.done
        current = self.done
        if self._bar is not None and current != self._shown:
            self._bar.update(current - self._shown)
        self._shown = current

    def close(self) -> float:
        """Close the bar; return the seconds the transfer took."""
        if self._bar is not None:
            self._bar.close()
        return time.monotonic() - self.started


def summary(verb: str, files: int, size: int, seconds: float) -> str:
    """``uploaded 3 files (100.0 MiB) in 1.2 s (83.3 MiB/s)``."""
    noun = "file" if files == 1 else "files"
    speed = f"{format_size(size / seconds)}/s" if seconds > 0 else "-"
    return f"{verb} {files} {noun} ({format_size(size)}) in {seconds:.1f} s ({speed})"
