"""Session subcommands: ps, start, rm, restart, interrupt, info, logs, events, attach, detach, files."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..sdk.errors import BackendError, NotFoundError, PermissionDeniedError
from ..sdk.types import CreatedSession, SessionEvent
from ..widgets.options import format_size, format_table, session_rows
from ..wire import (
    ACTIVE_SESSION_STATUSES,
    DEAD_SESSION_STATUSES,
    EVENT_STATUS,
    FINAL_EVENT_STATUSES,
    GONE_SESSION_STATUSES,
    READY_SESSION_STATUSES,
    STARTING_SESSION_STATUSES,
)
from .bridge import Emit, Interrupted, run_bridged
from .errors import from_sdk, interrupted, translate, usage_error
from .parser import add_start_options, parse_env, parse_pairs
from .registry import Command

if TYPE_CHECKING:
    from .context import Context

__all__ = ["COMMANDS", "SessionRequest", "session_request", "start_session"]


class SessionRequest:
    """What to create a session with: the options given, filled in from the BackendMagics traits."""

    def __init__(
        self,
        *,
        image: str,
        name: str | None,
        resources: Mapping[str, str],
        mounts: list[str],
        environ: Mapping[str, str],
        max_wait: int,
        enqueue_only: bool,
    ) -> None:
        self.image = image
        self.name = name
        self.resources = dict(resources)
        self.mounts = mounts
        self.environ = dict(environ)
        self.max_wait = max_wait
        self.enqueue_only = enqueue_only

    def create_kwargs(
        self, *, name: str | None = None, environ: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Keyword arguments for ``sessions.create`` (``name``/``environ`` override per sweep case)."""
        return {
            "name": name or self.name,
            "resources": self.resources or None,
            "mounts": self.mounts or None,
            "environ": dict(environ if environ is not None else self.environ) or None,
            "max_wait": self.max_wait,
            "enqueue_only": self.enqueue_only,
        }


def session_request(ctx: Context, ns: argparse.Namespace, image: str | None) -> SessionRequest:
    """Merge the start options with the traits (options win; -r/-e add to the trait values)."""
    m = ctx.magics
    resources = {**m.resources, **parse_pairs(ns.resources, option="-r", example="cpu=2 -r mem=4g")}
    environ = {**m.environ, **parse_env(ns.env)}
    mounts = list(dict.fromkeys([*m.mounts, *ns.mount]))
    max_wait = ns.max_wait if ns.max_wait is not None else int(m.max_wait)
    return SessionRequest(
        image=image or m.image,
        name=ns.name,
        resources=resources,
        mounts=mounts,
        environ=environ,
        max_wait=max_wait,
        enqueue_only=bool(ns.enqueue_only),
    )


def start_session(ctx: Context, request: SessionRequest) -> CreatedSession:
    """Create (or reuse) a session; a refusal is a UsageError with the next step."""
    with translate(f"starting a session with image {request.image!r}"):
        created = ctx.client().sessions.create(request.image, **request.create_kwargs())
    ctx.started(created)
    return created


def _describe(created: CreatedSession, image: str) -> str:
    verb = "started" if created.created else "reusing"
    return f"{verb} session {created.name} ({image}, id {created.id[:8]}): {created.status}"


# -- ps -----------------------------------------------------------------------------------------------


def _ps_args(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group()
    which.add_argument("--running", action="store_true", help="active sessions (the default)")
    which.add_argument("--dead", action="store_true", help="terminated, cancelled and failed sessions")
    which.add_argument("--all", action="store_true", help="every session")
    which.add_argument("--status", metavar="STATUS", help="only this status (e.g. PENDING)")
    p.add_argument("--page", type=_positive, default=1, metavar="N", help="page number (from 1)")
    p.add_argument("--page-size", type=_page_size, default=None, metavar="N", help="rows per page (1-100)")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (e.g. 2)") from None
    if not 1 <= value <= 10**6:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 1 and 1000000")
    return value


def _page_size(text: str) -> int:
    value = _positive(text)
    if value > 100:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 1 and 100")
    return value


def _ps(ctx: Context, ns: argparse.Namespace) -> None:
    if ns.status:
        if not ns.status.replace("_", "").isalpha():
            raise usage_error(f"--status {ns.status!r} is not a status; use e.g. RUNNING or PENDING")
        statuses: tuple[str, ...] | None = (ns.status.upper(),)
        what = ns.status.upper()
    elif ns.all:
        statuses, what = None, "all"
    elif ns.dead:
        statuses, what = DEAD_SESSION_STATUSES, "dead"
    else:
        statuses, what = ACTIVE_SESSION_STATUSES, "active"
    size = ns.page_size or int(ctx.magics.page_size)
    with translate("listing sessions"):
        page = ctx.client().sessions.list(status=statuses, limit=size, offset=(ns.page - 1) * size)
    rows = session_rows(page.items)
    if not rows:
        ctx.print(f"no {what} sessions" + (f" on page {ns.page}" if ns.page > 1 else ""))
        return
    bound = {ctx.bound} if ctx.bound else set()
    table = []
    for row in rows:
        marks = ("*" if row.name in bound else "") + ("+" if row.name in ctx.owned else "")
        table.append([*row.cells(), marks])
    ctx.print(format_table(["name", "id", "status", "image", "age", ""], table))
    pages = max(1, -(-page.total_count // size))
    notes = []
    if any("*" in r[-1] for r in table):
        notes.append("* = used by %%backend")
    if any("+" in r[-1] for r in table):
        notes.append("+ = started from here")
    footer = f"{page.total_count} {what} session(s), page {ns.page} of {pages}"
    if ns.page < pages:
        footer += f"; next: %backend ps {_flags(ns)}--page {ns.page + 1}"
    ctx.print(footer + (f"  ({'; '.join(notes)})" if notes else ""))


def _flags(ns: argparse.Namespace) -> str:
    out = ""
    if ns.all:
        out = "--all "
    elif ns.dead:
        out = "--dead "
    elif ns.status:
        out = f"--status {ns.status} "
    if ns.page_size:
        out += f"--page-size {ns.page_size} "
    return out


# -- start, rm, restart, interrupt, info, logs ---------------------------------------------------------


def _start_args(p: argparse.ArgumentParser) -> None:
    add_start_options(p)
    p.add_argument("image", nargs="?", help="image to start (default: BackendMagics.image)")


def _start(ctx: Context, ns: argparse.Namespace) -> None:
    request = session_request(ctx, ns, ns.image)
    created = start_session(ctx, request)
    ctx.print(_describe(created, request.image))
    if created.status in GONE_SESSION_STATUSES:
        raise usage_error(
            f"session {created.name} did not start ({created.status}); see %backend logs {created.name}"
        )
    if not ctx.bound:
        ctx.bound = created.name
        ctx.print(f"%%backend cells now run in {created.name} (change with %backend attach NAME)")


def _names_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="+", metavar="NAME", help="session name(s) or id(s)")


def _name_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", metavar="NAME", help="session name or id (default: the attached one)")


def _rm_args(p: argparse.ArgumentParser) -> None:
    _names_arg(p)
    p.add_argument("--forced", action="store_true", help="terminate even if the agent does not answer")


def _rm(ctx: Context, ns: argparse.Namespace) -> None:
    failures = []
    client = ctx.client()
    for name in dict.fromkeys(ns.names):
        try:
            try:
                client.sessions.destroy(name, forced=ns.forced)
            except PermissionDeniedError:
                # managers refuse to end a session while its container is being prepared unless
                # forced; removing a session that is still starting is what the user asked for
                if client.sessions.info(name).status not in STARTING_SESSION_STATUSES:
                    raise
                client.sessions.destroy(name, forced=True)
        except NotFoundError:
            failures.append(f"{name!r} does not exist (see %backend ps)")
            continue
        except BackendError as exc:
            failures.append(str(from_sdk(exc, action=f"removing {name!r}")))
            continue
        ctx.removed(name)
        ctx.print(f"removed session {name}")
    if failures:
        raise usage_error("; ".join(failures))


def _restart(ctx: Context, ns: argparse.Namespace) -> None:
    name = ctx.target(ns.name)
    with translate(f"restarting {name!r}"):
        ctx.client().sessions.restart(name)
    ctx.print(f"restarted session {name} (its state was reset; files are kept)")


def _interrupt(ctx: Context, ns: argparse.Namespace) -> None:
    name = ctx.target(ns.name)
    with translate(f"interrupting {name!r}"):
        ctx.client().sessions.interrupt(name)
    ctx.print(f"sent an interrupt to session {name}")


def _info(ctx: Context, ns: argparse.Namespace) -> None:
    name = ctx.target(ns.name)
    info = ctx.session_info(name)
    rows = [
        ["name", info.name or name],
        ["id", info.id or "-"],
        ["status", info.status + (f" ({info.status_info})" if info.status_info else "")],
        ["image", info.image or "-"],
        ["type", info.type or "-"],
        ["created", info.created or "-"],
        ["ownership", "started from here" if name in ctx.owned else "not started from here"],
    ]
    for key in ("resource_opts", "occupied_slots", "occupiedSlots", "mounts", "numQueriesExecuted"):
        if key in info.raw:
            rows.append([key, str(info.raw[key])])
    ctx.print(format_table(["field", "value"], rows))


def _logs(ctx: Context, ns: argparse.Namespace) -> None:
    name = ctx.target(ns.name)
    ctx.session_info(name)
    with translate(f"reading the logs of {name!r}"):
        text = ctx.client().sessions.logs(name)
    ctx.print(text.rstrip("\n") if text.strip() else f"(session {name} has no logs yet)")


# -- events -------------------------------------------------------------------------------------------


def _events_args(p: argparse.ArgumentParser) -> None:
    _name_arg(p)
    p.add_argument(
        "--timeout", type=float, default=0.0, metavar="SECONDS", help="stop after this long (0: no limit)"
    )


def _event_line(event: SessionEvent) -> str:
    when = dt.datetime.now().strftime("%H:%M:%S")
    extra = [
        f"reason={event.reason}" if event.reason else "",
        f"exit={event.exit_code}" if event.exit_code is not None else "",
    ]
    return f"{when}  {event.name:<20} {event.session_name or ''}  {' '.join(x for x in extra if x)}".rstrip()


def _events(ctx: Context, ns: argparse.Namespace) -> None:
    if ns.timeout < 0 or ns.timeout != ns.timeout:
        raise usage_error(f"--timeout {ns.timeout} must be 0 (no limit) or more seconds")
    name = ctx.target(ns.name)
    info = ctx.session_info(name)
    if info.status in GONE_SESSION_STATUSES:
        reason = f" ({info.status_info})" if info.status_info else ""
        ctx.print(f"session {name} is {info.status}{reason}; it will send no more events")
        return
    starting = info.status not in READY_SESSION_STATUSES
    ctx.print(
        f"session {name} is {info.status}; showing its events until it "
        + ("starts or ends" if starting else "ends")
        + " (interrupt to stop watching)"
    )

    async def watch(emit: Emit) -> SessionEvent | None:
        stream = ctx.client().async_client.events.stream_for(name)
        async with stream:
            async for event in stream:
                emit(event)
                announced = EVENT_STATUS.get(event.name)
                if announced in FINAL_EVENT_STATUSES or (starting and announced == "RUNNING"):
                    return event
        return None

    async def limited(emit: Emit) -> SessionEvent | None:
        if ns.timeout:
            try:
                return await asyncio.wait_for(watch(emit), ns.timeout)
            except asyncio.TimeoutError:
                emit(f"stopped watching after {ns.timeout:g} s")
                return None
        return await watch(emit)

    def show(item: Any) -> None:
        ctx.print(_event_line(item) if isinstance(item, SessionEvent) else str(item))

    try:
        with translate(f"watching the events of {name!r}"):
            last = run_bridged(limited, show)
    except Interrupted:
        ctx.print("stopped watching (interrupted)")
        raise interrupted(f"%backend events {name}") from None
    if last is None and not ns.timeout:
        ctx.print("the event stream ended (the server closed it)")


# -- attach, detach -----------------------------------------------------------------------------------


def _attach_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="an existing session's name or id")


def _attach(ctx: Context, ns: argparse.Namespace) -> None:
    info, where = ctx.attach(ns.name)
    name = info.name or ns.name
    owner = "started from here" if name in ctx.owned else "not owned: detach or shutdown leaves it running"
    ctx.print(f"attached to session {name} ({info.status}); {where} run there ({owner})")


def _detach(ctx: Context, ns: argparse.Namespace) -> None:
    names = []
    if ctx.kernel is not None and ctx.kernel.current() is not None:
        detached = ctx.kernel.detach()
        if detached:
            names.append(detached)
    if ctx.bound:
        names.append(ctx.bound)
        ctx.bound = None
    if not names:
        raise usage_error("nothing is attached; see %backend ps and %backend attach NAME")
    for name in dict.fromkeys(names):
        ctx.print(f"detached from session {name}; it keeps running (end it with %backend rm {name})")


# -- session files ------------------------------------------------------------------------------------


def _upload_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="session name or id")
    p.add_argument(
        "files", nargs="+", metavar="FILE", help="local files (each under 1 MiB; use vfolders for more)"
    )
    p.add_argument("--basedir", metavar="DIR", help="keep paths relative to this local directory")


def _upload(ctx: Context, ns: argparse.Namespace) -> None:
    ctx.session_info(ns.name)
    with translate(f"uploading to session {ns.name!r}"):
        ctx.client().sessions.upload(ns.name, ns.files, basedir=ns.basedir)
    size = sum(Path(f).stat().st_size for f in ns.files)
    ctx.print(f"uploaded {len(ns.files)} file(s) ({format_size(size)}) to session {ns.name}")


def _download_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="session name or id")
    p.add_argument("files", nargs="+", metavar="PATH", help="paths in the session (relative to /home/work)")
    p.add_argument("--dest", default=".", metavar="DIR", help="local directory to write into (default: .)")


def _download(ctx: Context, ns: argparse.Namespace) -> None:
    ctx.session_info(ns.name)
    with translate(f"downloading from session {ns.name!r}"):
        written = ctx.client().sessions.download(ns.name, ns.files, dest=ns.dest)
    for path in written:
        ctx.print(f"  {path}")
    ctx.print(f"downloaded {len(written)} file(s) from session {ns.name} into {ns.dest}")


def _ls_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="session name or id")
    p.add_argument("path", nargs="?", default=".", help="directory in the session (default: .)")


def _ls(ctx: Context, ns: argparse.Namespace) -> None:
    ctx.session_info(ns.name)
    with translate(f"listing {ns.path!r} in session {ns.name!r}"):
        files = ctx.client().sessions.list_files(ns.name, ns.path)
    rows = []
    for entry in sorted(files, key=lambda f: f.filename):
        modified = dt.datetime.fromtimestamp(entry.mtime).strftime("%Y-%m-%d %H:%M") if entry.mtime else "-"
        rows.append([entry.filename, format_size(entry.size), entry.mode or "-", modified])
    ctx.print(format_table(["name", "size", "mode", "modified"], rows, empty=f"(no files in {ns.path})"))


COMMANDS = {
    "ps": Command("ps", "list sessions (--running, --dead, --all, paging)", _ps_args, _ps),
    "start": Command(
        "start",
        "start a session: start [-t NAME] [-r K=V] [-m VFOLDER] [-e K=V] [IMAGE]",
        _start_args,
        _start,
    ),
    "rm": Command("rm", "terminate sessions (pending ones are cancelled)", _rm_args, _rm),
    "restart": Command(
        "restart", "restart a session's kernel (state reset, files kept)", _name_arg, _restart
    ),
    "interrupt": Command("interrupt", "interrupt the code running in a session", _name_arg, _interrupt),
    "info": Command("info", "show a session's details", _name_arg, _info),
    "logs": Command("logs", "show a session's container logs", _name_arg, _logs),
    "events": Command(
        "events", "stream a session's lifecycle events until it settles", _events_args, _events
    ),
    "attach": Command("attach", "run cells in an existing session without owning it", _attach_args, _attach),
    "detach": Command("detach", "stop using the attached session (it keeps running)", run=_detach),
    "upload": Command("upload", "upload small local files into a session", _upload_args, _upload),
    "download": Command("download", "download files from a session", _download_args, _download),
    "ls": Command("ls", "list files in a session", _ls_args, _ls),
}
