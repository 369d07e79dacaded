"""The cell-run loop against scripted transports: the seam's contract, with no server.

The transports here are test doubles of the ``Transport`` protocol (not of a server): they script what a
transport reports so that the loop's rules (fallback, input, interrupt grace, silence) are checked one by
one. The execute-API transports themselves run against the local endpoint in tests/kernel and tests/magics.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from backendai_jupyter.cellrun import (
    CellOutcome,
    CellRun,
    InputRequest,
    Output,
    RunEnd,
    RunEvent,
    SessionFailed,
)
from backendai_jupyter.cellrun.transport import TransportName, transport_order
from backendai_jupyter.display.messages import IopubMessage, stream_message


class Scripted:
    """A transport that replays events; ``hang`` makes it wait forever after them (a run that never ends)."""

    def __init__(
        self, name: TransportName, events: Sequence[RunEvent], *, offered: bool = True, hang: bool = False
    ) -> None:
        self.name = name
        self._events = list(events)
        self._offered = offered
        self._hang = hang
        self.inputs: list[str] = []
        self.interrupts = 0
        self.closed = False
        self.started = False

    async def start(self) -> bool:
        self.started = True
        return self._offered

    async def events(self) -> AsyncIterator[RunEvent]:
        for event in self._events:
            yield event
        if self._hang:
            await asyncio.Event().wait()

    async def send_input(self, text: str) -> None:
        self.inputs.append(text)

    async def interrupt(self) -> None:
        self.interrupts += 1

    async def close(self) -> None:
        self.closed = True


class Frontend:
    def __init__(self, answers: Sequence[str] = (), fail: Exception | None = None) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.asked: list[tuple[str, bool]] = []
        self._answers = list(answers)
        self._fail = fail
        self.shown = asyncio.Event()

    def publish(self, msg_type: str, content: dict[str, Any]) -> None:
        self.published.append((msg_type, content))
        self.shown.set()

    async def ask(self, prompt: str, password: bool) -> str:
        self.asked.append((prompt, password))
        if self._fail is not None:
            raise self._fail
        return self._answers.pop(0)


def _end(*messages: IopubMessage, outcome: CellOutcome | None = None) -> RunEnd:
    return RunEnd(list(messages), outcome or CellOutcome())


async def test_falls_back_to_the_next_transport_and_says_which_ran() -> None:
    ws = Scripted("websocket", [], offered=False)
    rest = Scripted("rest", [Output([stream_message("stdout", "hi\n")]), _end(stream_message("stdout", "!"))])
    front = Frontend()
    run = CellRun([ws, rest], publish=front.publish, ask_input=front.ask)
    outcome = await run.run()
    assert outcome.status == "ok"
    assert run.transport_used == "rest"
    assert [c["text"] for _, c in front.published] == ["hi\n", "!"]
    assert rest.closed
    assert not ws.closed


async def test_no_transport_offered_is_a_session_error() -> None:
    front = Frontend()
    run = CellRun([Scripted("websocket", [], offered=False)], publish=front.publish, ask_input=front.ask)
    with pytest.raises(SessionFailed, match="none of the transports tried \\(websocket\\)"):
        await run.run()


async def test_input_prompts_are_answered_through_the_transport() -> None:
    rest = Scripted("rest", [InputRequest("name? ", False), InputRequest("pw: ", True), _end()])
    front = Frontend(answers=["ada", "secret"])
    outcome = await CellRun([rest], publish=front.publish, ask_input=front.ask).run()
    assert outcome.status == "ok"
    assert front.asked == [("name? ", False), ("pw: ", True)]
    assert rest.inputs == ["ada", "secret"]


async def test_no_stdin_stops_the_remote_code_and_names_the_reason() -> None:
    rest = Scripted("rest", [InputRequest("x? ", False), _end(stream_message("stdout", "late"))])
    front = Frontend(fail=EOFError("no input here"))
    outcome = await CellRun([rest], publish=front.publish, ask_input=front.ask).run()
    assert (outcome.ename, outcome.evalue) == ("EOFError", "no input here")
    assert rest.interrupts == 1
    assert rest.inputs == [""]  # the remote input() is unblocked so the run can drain
    assert front.published == [("error", outcome.content())]  # the run's own end is not shown


async def test_an_interrupt_ends_the_wait_after_the_grace_period() -> None:
    hanging = Scripted("websocket", [Output([stream_message("stdout", "working\n")])], hang=True)
    front = Frontend()
    run = CellRun([hanging], publish=front.publish, ask_input=front.ask, grace=0.05)
    task = asyncio.ensure_future(run.run())
    await asyncio.wait_for(front.shown.wait(), 5)
    run.interrupt()
    run.interrupt()  # a second interrupt is the same interrupt
    outcome = await asyncio.wait_for(task, 5)
    assert outcome.ename == "KeyboardInterrupt"
    assert hanging.interrupts == 1
    assert hanging.closed
    assert front.published[-1] == ("error", outcome.content())


async def test_silent_runs_publish_nothing_but_keep_the_outcome() -> None:
    failed = CellOutcome.failure("ValueError", "bad")
    rest = Scripted("rest", [Output([stream_message("stdout", "x")]), _end(outcome=failed)])
    front = Frontend()
    outcome = await CellRun([rest], publish=front.publish, ask_input=front.ask, silent=True).run()
    assert outcome is failed
    assert front.published == []


def test_transport_order() -> None:
    assert transport_order("auto") == ("websocket", "rest")
    assert transport_order("rest") == ("rest",)
    with pytest.raises(ValueError, match="'pigeon' is not one of"):
        transport_order("pigeon")
    with pytest.raises(ValueError, match="at least one transport"):
        CellRun([], publish=Frontend().publish, ask_input=Frontend().ask)
