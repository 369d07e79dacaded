"""The in-process bus that carries session lifecycle events from the registry to every open event stream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PING_INTERVAL", "Event", "EventBus"]

#: seconds between ``: ping`` comments on an idle stream (docs/protocol.md §6)
PING_INTERVAL = 15.0


@dataclass(frozen=True)
class Event:
    """One lifecycle event as the manager publishes it; ``group`` is only used for filtering."""

    name: str
    data: dict[str, Any]
    group: str = "default"
    session_name: str = field(default="")


class EventBus:
    """Fan-out of events to every open stream (each has its own queue)."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[Event | None]] = set()
        self.ping_interval = PING_INTERVAL

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to every subscriber."""
        for queue in self._queues:
            queue.put_nowait(event)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[Event | None]]:
        """A queue receiving every event published while the block runs (``None`` = the bus closed)."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)

    def close(self) -> None:
        """End every open stream (server shutdown: the stream ends without a final event)."""
        for queue in self._queues:
            queue.put_nowait(None)
