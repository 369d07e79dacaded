"""Compute sessions of the local endpoint: records, statuses and events, scheduling, reuse, idle timeout.

A session moves PENDING > SCHEDULED > PREPARING > RUNNING (> RESTARTING > RUNNING) > TERMINATING > TERMINATED,
or PENDING > CANCELLED, publishing the 23.09 events on the way. Sessions beyond ``max_concurrent_sessions``
per access key stay PENDING (no error, as on a real manager). Records are persisted in
``<data_dir>/sessions.json``; kernels are not, so sessions still active when the server stopped are marked
TERMINATED when it starts again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from pathlib import Path
from typing import Any

from ..wire import READY_SESSION_STATUSES
from .config import LocalConfig
from .endpoint_state import LocalContext
from .eventbus import Event, EventBus
from .execute import Executor
from .problems import Problem
from .records import ACTIVE_STATUSES, ENDED_STATUSES, SETTLED_STATUSES, SessionRecord, SessionSpec, now_iso
from .runtime import KernelRuntime
from .state import SESSIONS_FILE, read_json, write_private

__all__ = ["Registry", "Session"]

log = logging.getLogger(__name__)


class Session:
    """A record plus its live parts: the kernel runtime, the executor and the started event.

    It is the ``runtarget.RunTarget`` of its executor.
    """

    def __init__(self, record: SessionRecord, *, session_dir: Path, config: LocalConfig) -> None:
        self.record = record
        self.config = config
        self.dir = session_dir
        self.workdir = session_dir / "work"
        self.log_path = session_dir / "kernel.log"
        self.runtime: KernelRuntime | None = None
        self.executor = Executor(self)
        self.settled = asyncio.Event()
        #: cleared while the kernel restarts, so that new runs wait for the fresh kernel
        self.not_restarting = asyncio.Event()
        self.not_restarting.set()
        self.last_activity = time.monotonic()
        self.start_task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        """Whether the session counts as alive (findable by name)."""
        return self.record.status in ACTIVE_STATUSES

    def touch(self) -> None:
        """Restart the idle timer (execution start and finish, as the manager does)."""
        self.last_activity = time.monotonic()

    def count_query(self) -> None:
        """Count one query-mode run (``numQueriesExecuted``)."""
        self.record.num_queries += 1

    async def wait_running(self, timeout: float) -> KernelRuntime:
        """The runtime once the session runs; 404 if it ended instead, 503 if it does not start in time."""
        try:
            await asyncio.wait_for(self.settled.wait(), timeout)
        except asyncio.TimeoutError:
            raise Problem(
                503,
                "service-unavailable",
                "Service unavailable.",
                msg=f"Session {self.record.name} did not start within {timeout:g} s "
                f"(status {self.record.status}).",
            ) from None
        await self.not_restarting.wait()
        if self.runtime is None or self.record.status not in READY_SESSION_STATUSES:
            raise Problem.not_found(
                "No such session.", msg=f"Session {self.record.name} is {self.record.status}."
            )
        return self.runtime


class Registry:
    """All sessions of one endpoint. Implements the ``SessionDirectory`` protocol for the storage parts."""

    def __init__(self, ctx: LocalContext, config: LocalConfig, bus: EventBus) -> None:
        self.ctx = ctx
        self.config = config
        self.bus = bus
        self.sessions: dict[str, Session] = {}
        self._idle_task: asyncio.Task[None] | None = None
        self._load()

    # ---- persistence ---------------------------------------------------------------------------------------

    @property
    def _state_file(self) -> Path:
        return self.ctx.data_dir / SESSIONS_FILE

    def _load(self) -> None:
        for item in read_json(self._state_file, []):
            try:
                record = SessionRecord.from_json(dict(item))
            except (TypeError, KeyError):
                log.warning("skipping an unreadable session record in %s", self._state_file)
                continue
            if record.status in ACTIVE_STATUSES:
                # the kernel died with the previous server process
                record.status, record.status_info = "TERMINATED", "server-restarted"
                record.terminated_at = record.terminated_at or now_iso()
            self.sessions[record.id] = Session(
                record, session_dir=self._session_dir(record.id), config=self.config
            )
        self.save()

    def save(self) -> None:
        write_private(self._state_file, [s.record.to_json() for s in self.sessions.values()])

    def _session_dir(self, session_id: str) -> Path:
        return self.ctx.data_dir / "sessions" / session_id

    # ---- lookup --------------------------------------------------------------------------------------------

    def find(self, owner: str, name_or_id: str, *, allow_stale: bool = False) -> Session:
        """The caller's session by UUID (tried first) or name; 404 / too-many-sessions-matched otherwise."""
        session = self.sessions.get(name_or_id)
        if session is None:
            with contextlib.suppress(ValueError):
                session = self.sessions.get(str(uuid.UUID(name_or_id)))
        if session is not None and session.record.owner == owner and (allow_stale or session.active):
            return session
        matches = [
            s
            for s in self.sessions.values()
            if s.record.owner == owner and s.record.name == name_or_id and (allow_stale or s.active)
        ]
        if allow_stale and len(matches) > 1:
            # logs and rename: prefer the live one, then the newest
            live = [s for s in matches if s.active]
            matches = live or sorted(matches, key=lambda s: s.record.created_at)[-1:]
        if not matches:
            raise Problem.not_found("No such session.", msg=f"There is no session named {name_or_id!r}.")
        if len(matches) > 1:
            raise Problem(
                404,
                "too-many-sessions-matched",
                "Too many sessions matched.",
                data={
                    "matches": [
                        {
                            "id": s.record.id,
                            "name": s.record.name,
                            "status": s.record.status,
                            "created_at": s.record.created_at,
                        }
                        for s in matches
                    ]
                },
            )
        return matches[0]

    def workdir_of(self, access_key: str, name_or_id: str) -> Path:
        """The scratch folder of an active session of ``access_key`` (the storage parts' entry point)."""
        return self.find(access_key, name_or_id).workdir

    def active_named(self, owner: str, name: str) -> Session | None:
        """The owner's active session with this name, if any."""
        return next(
            (
                s
                for s in self.sessions.values()
                if s.active and s.record.owner == owner and s.record.name == name
            ),
            None,
        )

    # ---- events and statuses -------------------------------------------------------------------------------

    def _publish(
        self, session: Session, name: str, *, reason: str | None = None, exit_code: int | None = None
    ) -> None:
        record = session.record
        data: dict[str, Any] = {
            "reason": reason,
            "sessionName": record.name,
            "ownerAccessKey": record.owner,
            "sessionId": record.id,
            "exitCode": exit_code,
        }
        if name.startswith("kernel_"):
            # the 23.09 manager numbers the main kernel 1 ("main1") and sends clusterIdx when non-zero
            data.update(kernelId=record.kernel_id, clusterRole="main", clusterIdx=1)
        self.bus.publish(Event(name, data, group=record.spec.group, session_name=record.name))

    def _set_status(self, session: Session, status: str, *, info: str | None = None) -> None:
        record = session.record
        record.status, record.status_changed = status, now_iso()
        if info is not None:
            record.status_info = info
        if status in ENDED_STATUSES:
            record.terminated_at = record.status_changed
        if status in SETTLED_STATUSES:
            session.settled.set()
        self.save()

    # ---- create --------------------------------------------------------------------------------------------

    async def create(self, owner: str, spec: SessionSpec) -> Session:
        """Enqueue a new session (PENDING) and schedule it; the caller decides how long to wait."""
        record = SessionRecord(id=str(uuid.uuid4()), owner=owner, spec=spec)
        session = Session(record, session_dir=self._session_dir(record.id), config=self.config)
        self.sessions[record.id] = session
        self.save()
        self._publish(session, "session_enqueued")
        # scheduling happens after the reply, as on the manager: an enqueue-only create answers PENDING
        asyncio.get_running_loop().call_soon(self.schedule)
        return session

    def _running_count(self, owner: str) -> int:
        return sum(
            1
            for s in self.sessions.values()
            if s.record.owner == owner and s.active and s.record.status != "PENDING"
        )

    def _ready_to_start(self, session: Session) -> bool:
        spec = session.record.spec
        if spec.starts_at is not None and time.time() < spec.starts_at:
            return False
        for dep in spec.dependencies:
            with contextlib.suppress(Problem):
                if self.find(session.record.owner, dep).active:
                    return False
        return self._running_count(session.record.owner) < self.config.max_concurrent_sessions

    def schedule(self) -> None:
        """Start pending sessions while their owners are under the concurrency limit (oldest first)."""
        pending = sorted(
            (s for s in self.sessions.values() if s.record.status == "PENDING" and s.start_task is None),
            key=lambda s: s.record.created_at,
        )
        for session in pending:
            if self._ready_to_start(session):
                self._set_status(session, "SCHEDULED")
                self._publish(session, "session_scheduled")
                session.start_task = asyncio.get_running_loop().create_task(self._start(session))
            elif session.record.spec.starts_at is not None or session.record.spec.dependencies:
                asyncio.get_running_loop().call_later(1.0, self.schedule)

    async def _prepare_workdir(self, session: Session) -> None:
        workdir = session.workdir
        workdir.mkdir(parents=True, exist_ok=True)
        for link_name, target in session.record.spec.mounts.items():
            link = workdir / link_name
            link.parent.mkdir(parents=True, exist_ok=True)
            if link.is_symlink() or link.exists():
                continue
            link.symlink_to(target, target_is_directory=True)
        script = session.record.spec.bootstrap_script
        if script:
            (workdir / "bootstrap.sh").write_text(script)
            proc = await asyncio.create_subprocess_exec(
                "/bin/sh",
                "bootstrap.sh",
                cwd=workdir,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            await proc.wait()

    async def _start(self, session: Session) -> None:
        record = session.record
        try:
            self._set_status(session, "PREPARING")
            self._publish(session, "kernel_preparing")
            await self._prepare_workdir(session)
            self._publish(session, "kernel_creating")
            runtime = KernelRuntime(
                python=record.spec.python,
                data_dir=self.ctx.data_dir,
                workdir=session.workdir,
                environ=record.spec.environ,
                log_path=session.log_path,
                on_death=lambda: self._on_kernel_death(session),
            )
            await runtime.start()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("session %s failed to start", record.name)
            record.status_data = {"error": {"src": "other", "name": type(exc).__name__, "repr": repr(exc)}}
            self._set_status(session, "CANCELLED", info="failed-to-start")
            self._publish(session, "session_cancelled", reason="failed-to-start")
            self.schedule()
            return
        session.runtime = runtime
        session.touch()
        self._set_status(session, "RUNNING")
        self._publish(session, "kernel_started")
        self._publish(session, "session_started")
        if record.spec.type == "batch" and record.spec.startup_command:
            asyncio.get_running_loop().create_task(self._run_batch(session))

    def _on_kernel_death(self, session: Session) -> None:
        # the kernel process ended by itself (exit(), crash, OOM): the session ends, as a container would
        if session.record.status in READY_SESSION_STATUSES:
            asyncio.get_running_loop().create_task(self.terminate(session, reason="self-terminated"))

    async def _run_batch(self, session: Session) -> None:
        command = session.record.spec.startup_command or ""
        exit_code = await session.executor.run_startup_command(command)
        success = exit_code == 0
        session.record.result = "SUCCESS" if success else "FAILURE"
        self._publish(
            session,
            "session_success" if success else "session_failure",
            reason="task-done" if success else "task-failed",
            exit_code=exit_code,
        )
        await self.terminate(session, reason="task-done" if success else "task-failed", exit_code=exit_code)

    # ---- destroy, restart ----------------------------------------------------------------------------------

    async def terminate(
        self, session: Session, *, reason: str, exit_code: int | None = None
    ) -> dict[str, Any]:
        """End the session whatever its state; returns its last stats."""
        record = session.record
        if record.status in ENDED_STATUSES:
            return {"status": record.status.lower()}
        if record.status == "PENDING" or (session.start_task is not None and session.runtime is None):
            if session.start_task is not None and not session.start_task.done():
                session.start_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await session.start_task
            self._set_status(session, "CANCELLED", info=reason)
            self._publish(session, "session_cancelled", reason=reason)
            self.schedule()
            return {"status": "cancelled"}
        self._set_status(session, "TERMINATING", info=reason)
        self._publish(session, "session_terminating", reason=reason)
        self._publish(session, "kernel_terminating", reason=reason, exit_code=exit_code)
        await session.executor.close()
        if session.runtime is not None:
            runtime, session.runtime = session.runtime, None
            await runtime.stop()
        self._set_status(session, "TERMINATED", info=reason)
        self._publish(session, "kernel_terminated", reason=reason, exit_code=exit_code)
        self._publish(session, "session_terminated", reason=reason)
        self.schedule()
        return {"status": "terminated", "num_queries_executed": record.num_queries}

    async def destroy(self, session: Session, *, forced: bool) -> dict[str, Any]:
        """``DELETE /session/{id}`` with the manager's status rules."""
        status = session.record.status
        if status == "PULLING" or (
            status in ("SCHEDULED", "PREPARING", "TERMINATING", "ERROR") and not forced
        ):
            raise Problem(
                403,
                "generic-forbidden",
                "Forbidden operation.",
                msg=f"Cannot destroy a session in {status} status; add forced=true to force it.",
            )
        return await self.terminate(session, reason="force-terminated" if forced else "user-requested")

    async def restart(self, session: Session) -> None:
        """Restart the kernel: state reset, scratch files kept."""
        if session.record.status not in READY_SESSION_STATUSES:
            raise Problem(
                400,
                "invalid-api-params",
                "Missing or invalid API parameters.",
                msg=f"Session {session.record.name} is {session.record.status}; "
                "only running sessions restart.",
            )
        self._set_status(session, "RESTARTING")
        session.not_restarting.clear()
        await session.executor.close()
        try:
            if session.runtime is not None:
                await session.runtime.stop()
                await session.runtime.start()
        except Exception as exc:
            log.exception("restart of %s failed", session.record.name)
            self._set_status(session, "ERROR", info="restart-failed")
            raise Problem(500, "kernel-restart-failed", "Kernel restart failed.", msg=repr(exc)) from exc
        finally:
            session.not_restarting.set()
        session.touch()
        self._set_status(session, "RUNNING")

    # ---- background work -----------------------------------------------------------------------------------

    def start_background(self) -> None:
        """Start the idle checker (only when an idle timeout is configured)."""
        if self.config.idle_timeout > 0:
            self._idle_task = asyncio.get_running_loop().create_task(self._idle_checker())

    async def _idle_checker(self) -> None:
        period = max(0.05, min(5.0, self.config.idle_timeout / 4))
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            for session in list(self.sessions.values()):
                if (
                    session.record.status == "RUNNING"
                    and not session.executor.busy
                    and now - session.last_activity > self.config.idle_timeout
                ):
                    await self.terminate(session, reason="idle-timeout")

    async def shutdown(self) -> None:
        """Terminate every session kernel (server stop)."""
        if self._idle_task is not None:
            self._idle_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._idle_task
        live = [s for s in self.sessions.values() if s.active]
        await asyncio.gather(
            *(self.terminate(s, reason="server-shutdown") for s in live), return_exceptions=True
        )
