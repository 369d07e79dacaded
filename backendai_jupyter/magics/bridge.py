"""Run async SDK work on the SDK's loop thread while the caller's thread shows its events.

Output, progress bars and input prompts must happen in the thread that runs the magic (IPython's display
machinery and ``input()`` belong to it), so the async side only *emits* events into a queue and this
thread handles them until the work is done.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ..sdk.sync import LoopThread, loop_thread

__all__ = ["Emit", "Interrupted", "run_bridged"]

T = TypeVar("T")
#: Hands one event from the loop thread to the caller's thread.
Emit = Callable[[Any], None]

#: How often the caller's thread checks whether the work has ended.
_POLL = 0.05


class Interrupted(Exception):
    """The user interrupted (Ctrl-C / Jupyter interrupt) and the work was stopped."""


def run_bridged(
    make: Callable[[Emit], Coroutine[Any, Any, T]],
    handle: Callable[[Any], None],
    *,
    on_interrupt: Callable[[], None] | None = None,
    loop: LoopThread | None = None,
) -> T:
    """Run ``make(emit)`` on the loop thread; call ``handle(event)`` here for each emitted event.

    On the first interrupt ``on_interrupt`` (run on the loop thread) may stop the work gently and the
    events keep flowing until it ends; without it, or on a second interrupt, the work is cancelled and
    ``Interrupted`` is raised.
    """
    events: queue.SimpleQueue[Any] = queue.SimpleQueue()
    thread = loop if loop is not None else loop_thread()
    future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(make(events.put), thread.loop)
    gentle = on_interrupt
    while True:
        try:
            _pump(events, future, handle)
            return future.result()
        except KeyboardInterrupt:
            if gentle is not None:
                callback, gentle = gentle, None
                thread.loop.call_soon_threadsafe(callback)
                continue
            future.cancel()
            _drain(events, handle)
            raise Interrupted() from None
        except concurrent.futures.CancelledError:
            raise Interrupted() from None


def _pump(
    events: queue.SimpleQueue[Any], future: concurrent.futures.Future[Any], handle: Callable[[Any], None]
) -> None:
    while True:
        try:
            item = events.get(timeout=_POLL)
        except queue.Empty:
            if future.done():
                break
            continue
        handle(item)
    _drain(events, handle)


def _drain(events: queue.SimpleQueue[Any], handle: Callable[[Any], None]) -> None:
    while True:
        try:
            item = events.get_nowait()
        except queue.Empty:
            return
        handle(item)
