"""Server-Sent Events: a pure incremental parser and an async iterator over an aiohttp response."""

from __future__ import annotations

import codecs
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

__all__ = ["SSEEvent", "SSEParser", "iter_sse"]


@dataclass(frozen=True)
class SSEEvent:
    """One dispatched event; ``retry`` is in milliseconds (SSE spec), ``id`` is the last event ID seen."""

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None

    def json(self) -> Any:
        """The data field parsed as JSON."""
        return json.loads(self.data)


class SSEParser:
    """Feed text chunks split anywhere; get back the events they complete (WHATWG SSE rules)."""

    def __init__(self) -> None:
        self._buffer = ""
        self._skip_lf = False
        self._event = ""
        self._data: list[str] = []
        self._last_id: str | None = None
        self._retry: int | None = None

    @property
    def last_event_id(self) -> str | None:
        """The last ``id`` seen, for a ``Last-Event-ID`` reconnection header."""
        return self._last_id

    @property
    def retry(self) -> int | None:
        """The last reconnection delay the server asked for, in milliseconds."""
        return self._retry

    def feed(self, chunk: str) -> list[SSEEvent]:
        """Consume a chunk; return the events completed by it."""
        events: list[SSEEvent] = []
        if self._skip_lf and chunk.startswith("\n"):
            chunk = chunk[1:]
        self._skip_lf = False
        self._buffer += chunk
        start = 0
        text = self._buffer
        length = len(text)
        while start < length:
            cr = text.find("\r", start)
            lf = text.find("\n", start)
            if cr == -1 and lf == -1:
                break
            if cr == -1 or (lf != -1 and lf < cr):
                end, next_start = lf, lf + 1
            elif cr + 1 < length:
                end, next_start = cr, cr + 2 if text[cr + 1] == "\n" else cr + 1
            else:
                # A CR at the very end: the LF of a CRLF may arrive in the next chunk.
                end, next_start = cr, cr + 1
                self._skip_lf = True
            event = self._line(text[start:end])
            if event is not None:
                events.append(event)
            start = next_start
        self._buffer = text[start:]
        return events

    def _line(self, line: str) -> SSEEvent | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> SSEEvent | None:
        event_type, data = self._event, self._data
        self._event, self._data = "", []
        if not data:
            return None
        return SSEEvent(
            event=event_type or "message", data="\n".join(data), id=self._last_id, retry=self._retry
        )


async def iter_sse(response: aiohttp.ClientResponse) -> AsyncIterator[SSEEvent]:
    """Yield the events of a streaming response as they arrive (UTF-8, split anywhere)."""
    parser = SSEParser()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    async for chunk in response.content.iter_any():
        for event in parser.feed(decoder.decode(chunk)):
            yield event
    for event in parser.feed(decoder.decode(b"", final=True)):
        yield event
