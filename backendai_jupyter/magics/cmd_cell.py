"""``%%backend [NAME] [IMAGE] [options]``: run the cell in a remote session, rendered as the kernel does."""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import getpass
import keyword
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..cellrun import CellOutcome, CellRun
from ..cellrun.execute_api import RunMode, transports_for
from ..sdk.errors import BackendError, NotFoundError
from ..wire import GONE_SESSION_STATUSES, READY_SESSION_STATUSES, TRANSPORTS
from .bridge import Emit, Interrupted, run_bridged
from .cmd_sessions import session_request, start_session
from .errors import from_sdk, translate, usage_error
from .parser import MagicParser, add_start_options, split_args

if TYPE_CHECKING:
    from .context import Context

__all__ = ["RemoteCellError", "cell_parser", "execute_live", "run_cell"]


class RemoteCellError(Exception):
    """The remote code failed; IPython shows the remote traceback (``_render_traceback_``), not ours."""

    traceback_lines: list[str] = []  # noqa: RUF012 (set per instance)

    def __init__(self, evalue: str, traceback_lines: list[str]) -> None:
        super().__init__(evalue)
        self.traceback_lines = traceback_lines

    def _render_traceback_(self) -> list[str]:
        return list(self.traceback_lines)


_error_classes: dict[str, type[RemoteCellError]] = {}


def remote_error(outcome: CellOutcome) -> RemoteCellError:
    """An exception named as the remote ``ename`` (so the error output reads e.g. ``ZeroDivisionError``)."""
    name = (
        outcome.ename
        if outcome.ename.isidentifier() and not keyword.iskeyword(outcome.ename)
        else "RemoteError"
    )
    cls = _error_classes.get(name)
    if cls is None:
        cls = type(name, (RemoteCellError,), {"__module__": "backendai_jupyter.remote"})
        _error_classes[name] = cls
    lines = outcome.traceback or [f"{outcome.ename}: {outcome.evalue}"]
    return cls(outcome.evalue, lines)


def cell_parser() -> MagicParser:
    """The options of ``%%backend``."""
    p = MagicParser("%%backend", description="Run this cell in a Backend.AI session (created when needed).")
    p.add_argument("session", nargs="?", metavar="NAME", help="session to run in (default: the attached one)")
    p.add_argument("image", nargs="?", metavar="IMAGE", help="image if the session must be created")
    add_start_options(p)
    p.add_argument("--rm", action="store_true", help="terminate the session after the cell")
    p.add_argument(
        "--transport",
        choices=list(TRANSPORTS),
        default=None,
        help="how the cell runs (default: BackendMagics.transport)",
    )
    return p


def _ask(prompt: str, password: bool) -> str:
    if password:
        return getpass.getpass(prompt)
    return input(prompt)


def execute_live(
    ctx: Context,
    session: str,
    code: str,
    *,
    transport: str = "auto",
    mode: RunMode = "query",
    options: Mapping[str, Any] | None = None,
) -> CellOutcome:
    """Run ``code`` (or a batch job) in ``session``, showing its output as it arrives.

    The first Ctrl-C interrupts the remote code and waits a moment for it to end; a second one stops
    waiting (the session keeps running).
    """
    client = ctx.client()
    console = ctx.console_for(session)
    runs: list[CellRun] = []

    def make(emit: Emit) -> Any:
        async def ask(prompt: str, password: bool) -> str:
            answer: concurrent.futures.Future[str] = concurrent.futures.Future()
            emit(("input", prompt, password, answer))
            return await asyncio.wrap_future(answer)

        async def go() -> CellOutcome:
            transports = transports_for(
                transport, client.async_client, session, code, console=console, mode=mode, options=options
            )
            run = CellRun(
                transports, publish=lambda msg_type, content: emit(("msg", msg_type, content)), ask_input=ask
            )
            runs.append(run)
            return await run.run()

        return go()

    def handle(event: Any) -> None:
        if event[0] == "msg":
            if event[1] != "error":  # the outcome carries the error; IPython shows it once
                ctx.publish(event[1], event[2])
        elif event[0] == "input":
            _, prompt, password, answer = event
            try:
                answer.set_result(_ask(prompt, password))
            except BaseException as exc:  # no stdin here, or Ctrl-C while asked: the run stops
                answer.set_exception(exc)

    def interrupt() -> None:
        for run in runs:
            run.interrupt()

    what = "the command" if mode == "batch" else "code"
    try:
        with translate(f"running {what} in session {session!r}"):
            outcome: CellOutcome = run_bridged(make, handle, on_interrupt=interrupt)
    except Interrupted:
        outcome = CellOutcome.failure("KeyboardInterrupt", f"interrupted; session {session} keeps running")
    return outcome


def _ensure(ctx: Context, ns: argparse.Namespace) -> str:
    """The session to run in: existing (alive) or created now with the options."""
    name = ns.session or ns.name or ctx.bound or ctx.cell_session_name()
    try:
        info = ctx.client().sessions.info(name)
        if info.status not in GONE_SESSION_STATUSES:
            if ns.image or ns.resources or ns.mount or ns.env:
                ctx.warn(f"session {name} already exists: the image and start options were not applied")
            return info.name or name
    except NotFoundError:
        pass
    except BackendError as exc:
        raise from_sdk(exc, action=f"looking up session {name!r}") from None
    ns.name = name
    request = session_request(ctx, ns, ns.image)
    ctx.print(f"starting session {name} ({request.image}) ...")
    created = start_session(ctx, request)
    if created.status in GONE_SESSION_STATUSES:
        raise usage_error(f"session {name} did not start ({created.status}); see %backend logs {name}")
    if created.status not in READY_SESSION_STATUSES:
        raise usage_error(
            f"session {name} is {created.status} (queued); run the cell again once "
            "%backend ps shows it RUNNING"
        )
    return created.name


def run_cell(ctx: Context, line: str, cell: str) -> None:
    """The ``%%backend`` cell magic."""
    ns = cell_parser().parse(split_args(line, prog="%%backend"))
    if ns.session and ns.name and ns.session != ns.name:
        raise usage_error(f"two session names given ({ns.session!r} and -t {ns.name!r}); give one")
    session = _ensure(ctx, ns)
    if not ns.rm and ctx.bound is None:
        ctx.bound = session
    if not cell.strip():
        ctx.print(f"session {session} is ready; put code below %%backend to run it there")
    else:
        outcome = execute_live(ctx, session, cell, transport=ns.transport or ctx.magics.transport)
    if ns.rm:
        with translate(f"removing session {session!r}"):
            ctx.client().sessions.destroy(session)
        ctx.removed(session)
    if cell.strip() and outcome.status == "error":
        raise remote_error(outcome)
