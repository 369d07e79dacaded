"""``run``: run code, files or a command in a new session; ranges sweep every combination concurrently."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cellrun import CellRun
from ..cellrun.execute_api import transports_for
from ..display.console import NONZERO_EXIT, ConsoleRenderer
from ..widgets.options import format_table
from ..wire import GONE_SESSION_STATUSES, READY_SESSION_STATUSES
from .bridge import Emit, Interrupted, run_bridged
from .cmd_cell import execute_live, remote_error
from .cmd_sessions import SessionRequest, session_request, start_session
from .errors import one_line, translate, usage_error
from .parser import add_start_options
from .registry import Command
from .sweep import Case, RangeError, expand_cases, parse_range

if TYPE_CHECKING:
    from ..sdk.client import AsyncClient
    from .context import Context

__all__ = ["COMMANDS", "CaseResult"]

_EPILOG = """range expressions (each variable: NAME=EXPR):
  case:a,b,c            the listed values
  linspace:0,1,5        5 evenly spaced numbers from 0 to 1 (both included)
  range:1,10,2          like Python's range(1, 10, 2)
-e values and --exec may use $NAME; a swept variable no -e mentions is set as an env variable itself.
example: %backend run --rm -c "import os; print(os.environ['LR'])" --env-range LR=linspace:0.1,0.4,4 python"""


@dataclass
class CaseResult:
    """What one combination of a sweep did."""

    case: Case
    session: str
    state: str = "queued"
    exit_code: int | None = None
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    error: str = ""
    started: float = 0.0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the run finished without an error and with exit code 0 (or none)."""
        return self.state == "done" and not self.error and self.exit_code in (None, 0)


def _args(p: argparse.ArgumentParser) -> None:
    add_start_options(p)
    p.add_argument("-c", "--code", metavar="CODE", help="code to run (query mode)")
    p.add_argument("--exec", dest="exec_command", metavar="CMD", help="shell command to run (batch mode)")
    p.add_argument("--basedir", metavar="DIR", help="base directory of the FILES to upload")
    p.add_argument("--rm", action="store_true", help="terminate the session(s) when done")
    p.add_argument(
        "--env-range", action="append", default=[], metavar="NAME=EXPR", help="sweep an env variable"
    )
    p.add_argument(
        "--exec-range", action="append", default=[], metavar="NAME=EXPR", help="sweep a --exec variable"
    )
    p.add_argument(
        "--max-parallel",
        type=int,
        default=None,
        metavar="N",
        help="sessions at once in a sweep (default: BackendMagics.concurrency)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="show only the outputs, no status")
    p.add_argument("image", metavar="IMAGE", help="image to run in, e.g. python")
    p.add_argument("files", nargs="*", metavar="FILE", help="local files to upload and run (batch mode)")


def _run(ctx: Context, ns: argparse.Namespace) -> None:
    if ns.code is not None and ns.files:
        raise usage_error("run takes -c CODE or FILES, not both; drop one")
    if ns.code is None and not ns.files and ns.exec_command is None:
        raise usage_error('run needs -c CODE, FILES or --exec CMD; e.g. %backend run -c "print(1)" python')
    for path in ns.files:
        if not Path(path).is_file():
            raise usage_error(f"cannot upload {path!r}: it is not a file here; check the path")
    request = session_request(ctx, ns, ns.image)
    try:
        env_ranges = [parse_range(item) for item in ns.env_range]
        exec_ranges = [parse_range(item) for item in ns.exec_range]
        cases = expand_cases(
            env=request.environ, env_ranges=env_ranges, exec_command=ns.exec_command, exec_ranges=exec_ranges
        )
    except RangeError as exc:
        raise usage_error(f"run: {exc}") from None
    if len(cases) == 1 and not (env_ranges or exec_ranges):
        _run_one(ctx, ns, request)
        return
    limit = ns.max_parallel if ns.max_parallel is not None else int(ctx.magics.concurrency)
    if not 1 <= limit <= 64:
        raise usage_error(f"--max-parallel {limit} must be between 1 and 64")
    if ns.enqueue_only:
        raise usage_error("a sweep waits for its sessions; drop --enqueue-only")
    _sweep(ctx, ns, request, cases, limit)


# -- one run ---------------------------------------------------------------------------------------------


def _batch_options(ns: argparse.Namespace, command: str | None) -> dict[str, str]:
    return {"clean": "*", "build": "*" if ns.files else "", "exec": command or "*"}


def _run_one(ctx: Context, ns: argparse.Namespace, request: SessionRequest) -> None:
    if not request.name:
        request.name = f"run-{secrets.token_hex(4)}"
    created = start_session(ctx, request)
    name = created.name
    if not ns.quiet:
        verb = "started" if created.created else "reusing"
        ctx.print(f"{verb} session {name} ({request.image}): {created.status}")
    if created.status in GONE_SESSION_STATUSES or (
        request.enqueue_only and created.status not in READY_SESSION_STATUSES
    ):
        if created.status in GONE_SESSION_STATUSES:
            raise usage_error(f"session {name} did not start ({created.status}); see %backend logs {name}")
        ctx.print(
            f"session {name} is {created.status}; run the code once it is RUNNING "
            f"(see %backend events {name})"
        )
        return
    failure: BaseException | None = None
    try:
        if ns.files:
            with translate(f"uploading files to session {name!r}"):
                ctx.client().sessions.upload(name, ns.files, basedir=ns.basedir)
        transport = ctx.magics.transport
        if ns.code is not None:
            outcome = execute_live(ctx, name, ns.code, transport=transport)
        else:
            options = _batch_options(ns, ns.exec_command)
            outcome = execute_live(ctx, name, "", transport=transport, mode="batch", options=options)
        if outcome.status == "error":
            failure = (
                usage_error(f"the command in session {name} ended with exit code {outcome.exit_code}")
                if outcome.ename == NONZERO_EXIT
                else remote_error(outcome)  # a traceback (or an interrupt) shows as the remote error
            )
    finally:
        if ns.rm:
            with translate(f"removing session {name!r}"):
                ctx.client().sessions.destroy(name)
            ctx.removed(name)
            if not ns.quiet:
                ctx.print(f"removed session {name}")
    if failure is not None:
        raise failure


# -- sweeps -------------------------------------------------------------------------------------------


async def _no_input(prompt: str, password: bool) -> str:
    raise EOFError("a sweep cannot answer input prompts; give the value in the code or with -e")


async def _run_case(
    client: AsyncClient,
    result: CaseResult,
    *,
    request: SessionRequest,
    ns: argparse.Namespace,
    transport: str,
    gate: asyncio.Semaphore,
    emit: Emit,
) -> None:
    def state(value: str) -> None:
        result.state = value
        emit(("state", result))

    async with gate:
        result.started = time.monotonic()
        created = False
        try:
            state("starting")
            info = await client.sessions.create(
                request.image, **request.create_kwargs(name=result.session, environ=result.case.env)
            )
            created = True
            if info.status in GONE_SESSION_STATUSES:
                raise usage_error(f"session {result.session} did not start ({info.status})")
            state("running")
            if ns.files:
                await client.sessions.upload(result.session, ns.files, basedir=ns.basedir)
            batch = ns.code is None
            transports = transports_for(
                transport,
                client,
                result.session,
                "" if batch else ns.code,
                console=ConsoleRenderer(result.session[:8]),
                mode="batch" if batch else "query",
                options=_batch_options(ns, result.case.exec_command) if batch else None,
            )
            run = CellRun(
                transports,
                publish=lambda msg_type, content: _collect(result, [(msg_type, content)]),
                ask_input=_no_input,
            )
            outcome = await run.run()
            result.exit_code = outcome.exit_code
            if outcome.status == "error":
                result.error = f"{outcome.ename}: {outcome.evalue}"
            state("done" if not result.error and result.exit_code in (None, 0) else "failed")
        except asyncio.CancelledError:
            result.error = "interrupted"
            result.state = "cancelled"
            raise
        except Exception as exc:  # one failed combination must not stop the others
            result.error = one_line(exc)
            state("failed")
        finally:
            result.seconds = time.monotonic() - result.started
            if ns.rm and created:
                # shielded: an interrupted sweep still removes the sessions it started
                with contextlib.suppress(BaseException):
                    await asyncio.shield(client.sessions.destroy(result.session))


def _collect(result: CaseResult, messages: Sequence[Any]) -> None:
    for msg_type, content in messages:
        if msg_type == "stream":
            (result.stderr if content.get("name") == "stderr" else result.stdout).append(
                content.get("text", "")
            )
        elif msg_type == "error":
            result.stderr.append("\n".join(content.get("traceback") or [content.get("evalue", "")]) + "\n")
        elif msg_type in ("display_data", "update_display_data"):
            text = content.get("data", {}).get("text/plain")
            if text:
                result.stdout.append(f"{text}\n")


def _status_table(results: Sequence[CaseResult]) -> str:
    rows = []
    for r in results:
        took = f"{r.seconds:.1f} s" if r.seconds else ("..." if r.started else "")
        outcome = r.error or ("" if r.exit_code is None else f"exit {r.exit_code}")
        rows.append([str(r.case.index), r.session, r.case.label(), r.state, took, outcome[:60]])
    return format_table(["#", "session", "variables", "state", "time", "result"], rows)


def _sweep(
    ctx: Context, ns: argparse.Namespace, request: SessionRequest, cases: list[Case], limit: int
) -> None:
    base = request.name or f"sweep-{secrets.token_hex(3)}"
    results = [CaseResult(case=c, session=f"{base}-{c.index}") for c in cases]
    display_id = f"backendai-sweep-{secrets.token_hex(6)}"
    rich = type(ctx.shell.display_pub).__name__ not in ("DisplayPublisher",)
    shown = False
    if not ns.quiet:
        ctx.print(f"running {len(cases)} combinations as sessions {base}-1..{len(cases)}, {limit} at a time")

    def show_table() -> None:
        nonlocal shown
        text = _status_table(results)
        content = {
            "data": {"text/plain": text, "text/html": f"<pre>{html.escape(text)}</pre>"},
            "metadata": {},
            "transient": {"display_id": display_id},
        }
        ctx.publish("update_display_data" if shown else "display_data", content)
        shown = True

    def handle(event: Any) -> None:
        if ns.quiet or event[0] != "state":
            return
        result: CaseResult = event[1]
        if rich:
            show_table()
        elif result.state in ("done", "failed"):
            ctx.print(f"[{result.case.index}] {result.session} {result.case.label()}: {result.state}")

    client = ctx.client().async_client
    transport = ctx.magics.transport
    for r in results:
        ctx.owned.add(r.session)  # each is created by its case; marked now so an interrupt leaves them owned

    async def work(emit: Emit) -> None:
        gate = asyncio.Semaphore(limit)
        await asyncio.gather(
            *(
                _run_case(client, r, request=request, ns=ns, transport=transport, gate=gate, emit=emit)
                for r in results
            )
        )

    if rich and not ns.quiet:
        show_table()
    interrupted = False
    try:
        with translate("the sweep"):
            run_bridged(work, handle)
    except Interrupted:
        interrupted = True
    if ns.rm:
        for r in results:
            ctx.removed(r.session)
    if rich and not ns.quiet:
        show_table()
    for r in results:
        if r.state == "queued":
            continue
        ctx.print(
            f"--- [{r.case.index}] {r.session} {r.case.label()}: {r.state}"
            + (f" ({r.error})" if r.error else "")
            + " ---"
        )
        out = "".join(r.stdout)
        err = "".join(r.stderr)
        if out:
            ctx.print(out.rstrip("\n"))
        if err:
            ctx.warn(err.rstrip("\n"))
    failed = [r for r in results if not r.ok]
    if interrupted:
        left = "" if ns.rm else f"; remove its sessions with %backend rm {base}-1 ..."
        raise usage_error(
            f"the sweep was interrupted ({len(cases) - len(failed)} of {len(cases)} done){left}"
        )
    if failed:
        raise usage_error(
            f"{len(failed)} of {len(cases)} runs failed: " + ", ".join(f"#{r.case.index}" for r in failed)
        )
    if not ns.quiet:
        ctx.print(f"all {len(cases)} runs succeeded")


COMMANDS = {
    "run": Command(
        "run",
        "run code, files or a command in a new session; --env-range/--exec-range sweep",
        _args,
        _run,
        epilog=_EPILOG,
    )
}
