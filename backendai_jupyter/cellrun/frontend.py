"""What a run needs from whoever shows it: a way to publish messages and a way to ask for input.

The kernel publishes on its iopub socket and asks on its stdin channel; the magics show messages in the
IPython shell they run in and ask with ``input()``; a sweep collects the messages per combination.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["AskInput", "Publish"]

#: Shows one iopub-style message: (msg_type, content); callable from any thread.
Publish = Callable[[str, dict[str, Any]], None]
#: Asks for one line: (prompt, password) -> the answer; a coroutine, so other threads can schedule it.
AskInput = Callable[[str, bool], Coroutine[Any, Any, str]]
