"""The kernel's remote compute session: lazy creation, attach, ownership records, restart and shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..cellrun.hints import KERNEL, with_next_step
from ..cellrun.outcome import SessionFailed
from ..sdk.errors import BackendAPIError, NotFoundError
from ..sdk.retry import poll_delays
from ..wire import GONE_SESSION_STATUSES, READY_SESSION_STATUSES

if TYPE_CHECKING:
    from ..sdk.client import AsyncClient

__all__ = [
    "OwnershipRecord",
    "RemoteSession",
    "SessionFailed",
    "SessionSettings",
    "StatusCallback",
    "session_name_for",
]

log = logging.getLogger(__name__)

#: Called with (status, elapsed seconds, final) while a new session starts.
StatusCallback = Callable[[str, float, bool], None]


@dataclass(frozen=True)
class SessionSettings:
    """What a new session is created with (from the kernel traits)."""

    image: str
    resources: Mapping[str, str]
    mounts: Sequence[str]
    environ: Mapping[str, str]
    name: str
    attach: str = ""
    startup_timeout: float = 600.0


@dataclass(frozen=True)
class OwnershipRecord:
    """What the state file says about the session of one kernel: its id and whether this kernel created it."""

    name: str
    id: str
    owned: bool
    image: str = ""
    created_at: float = 0.0


def session_name_for(connection_file: str | None) -> str:
    """A session name derived from the connection file (same across restarts): ``jupyter-<kernel id>``."""
    stem = Path(connection_file).stem if connection_file else ""
    if stem.startswith("kernel-"):
        stem = stem[len("kernel-") :]
    stem = re.sub(r"[^\w.-]+", "-", stem, flags=re.ASCII).strip(".-_")
    if not stem:
        stem = secrets.token_hex(6)
    return f"jupyter-{stem}"[:64].rstrip(".-")


class _StateFile:
    """A small JSON file per session name: the ownership record, written atomically."""

    def __init__(self, directory: Path, name: str) -> None:
        self.path = directory / f"{name}.json"

    def load(self) -> OwnershipRecord | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return OwnershipRecord(**{k: data[k] for k in OwnershipRecord.__dataclass_fields__ if k in data})
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def save(self, record: OwnershipRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(record)), encoding="utf-8")
        os.replace(tmp, self.path)

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class RemoteSession:
    """The one compute session behind a kernel: created on first use, owned or attached, recorded on disk."""

    def __init__(
        self,
        settings: SessionSettings,
        *,
        state_dir: Path,
        client: Callable[[], Awaitable[AsyncClient]],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self._client = client
        self._clock = clock
        self._sleep = sleep
        self._state = _StateFile(state_dir, settings.attach or settings.name)
        self._record: OwnershipRecord | None = None
        self._lock = asyncio.Lock()

    @property
    def name(self) -> str:
        """The session's name: the one in use, else the configured attach target, else ours."""
        if self._record is not None:
            return self._record.name
        return self.settings.attach or self.settings.name

    @property
    def ref(self) -> str | None:
        """The id to address the session with, once it exists (None before the first real cell)."""
        return self._record.id if self._record else None

    @property
    def owned(self) -> bool:
        """Whether this kernel created the session (and so may destroy it)."""
        return bool(self._record and self._record.owned)

    def known(self) -> OwnershipRecord | None:
        """The session this kernel knows of: in memory, else from the state file (after a restart)."""
        return self._record or self._state.load()

    def forget(self) -> None:
        """Drop the session (it is gone); the next real cell starts a new one."""
        record, self._record = self._record, None
        own = self._state.load()
        if own is not None and (record is None or own.id == record.id):
            self._state.clear()

    def attach_to(self, name: str, session_id: str) -> None:
        """Use an existing session from now on (``%backend attach``), recorded as not owned.

        A session this kernel created stays in its state file, so shutdown still destroys it.
        """
        self._record = OwnershipRecord(name=name, id=session_id, owned=False)

    def detach(self) -> str | None:
        """Stop using the current session without ending it; return its name (None if there was none)."""
        record, self._record = self._record, None
        return record.name if record else None

    async def ensure(self, on_status: StatusCallback | None = None) -> str:
        """The session id, creating or attaching to the session first if needed."""
        if self._record is not None:
            return self._record.id
        async with self._lock:
            if self._record is None:
                self._record = await (self._attach() if self.settings.attach else self._create(on_status))
            return self._record.id

    async def _attach(self) -> OwnershipRecord:
        client = await self._client()
        try:
            info = await client.sessions.info(self.settings.attach)
        except NotFoundError:
            raise SessionFailed(
                f"cannot attach to session {self.settings.attach!r}: it does not exist; "
                "check the name (BACKENDAI_JUPYTER_ATTACH / --BackendKernel.attach) or clear it "
                "to start a new one"
            ) from None
        if info.status in GONE_SESSION_STATUSES:
            raise SessionFailed(
                f"cannot attach to session {self.settings.attach!r}: it is {info.status}; "
                "clear the attach setting to start a new session"
            )
        record = OwnershipRecord(name=self.settings.attach, id=info.id or self.settings.attach, owned=False)
        self._state.save(record)
        return record

    async def _create(self, on_status: StatusCallback | None) -> OwnershipRecord:
        client = await self._client()
        previous = self._state.load()
        started = self._clock()
        s = self.settings
        try:
            created = await client.sessions.create(
                s.image,
                name=s.name,
                resources=dict(s.resources) or None,
                mounts=list(s.mounts) or None,
                environ=dict(s.environ) or None,
                enqueue_only=True,
                reuse=True,
            )
        except BackendAPIError as exc:
            raise SessionFailed(
                f"cannot start a session with image {s.image!r}: {with_next_step(exc, KERNEL, creating=True)}"
            ) from None
        # ownership: we created it now, or the state file says we created it before a Jupyter restart
        owned = created.created or bool(previous and previous.owned and previous.name == created.name)
        record = OwnershipRecord(
            name=created.name or s.name, id=created.id, owned=owned, image=s.image, created_at=time.time()
        )
        self._state.save(record)
        if created.status not in READY_SESSION_STATUSES:
            await self._wait_running(record, created.status, started, on_status)
        elif on_status is not None and created.created:
            on_status(created.status, self._clock() - started, True)
        return record

    async def _wait_running(
        self, record: OwnershipRecord, status: str, started: float, on_status: StatusCallback | None
    ) -> None:
        client = await self._client()
        delays = poll_delays()  # quick at first: local sessions start in about a second
        while status not in READY_SESSION_STATUSES:
            elapsed = self._clock() - started
            if status in GONE_SESSION_STATUSES:
                self.forget()
                raise SessionFailed(
                    f"session {record.name!r} did not start ({status}); run the cell again to retry, "
                    "or check the image and resources"
                )
            limit = self.settings.startup_timeout
            if limit and elapsed > limit:
                raise SessionFailed(
                    f"session {record.name!r} is still {status} after {elapsed:.0f} s; it stays queued: "
                    "run the cell again to keep waiting, or raise --BackendKernel.startup_timeout"
                )
            if on_status is not None:
                on_status(status, elapsed, False)
            await self._sleep(next(delays))
            try:
                status = (await client.sessions.info(record.id)).status
            except NotFoundError:
                self.forget()
                raise SessionFailed(
                    f"session {record.name!r} disappeared while starting; run the cell again to retry"
                ) from None
        if on_status is not None:
            on_status(status, self._clock() - started, True)

    async def restart(self) -> None:
        """Jupyter restart: restart the remote kernel (state reset, files kept) if we own the session."""
        record = self.known()
        if record is None or not record.owned:
            return
        client = await self._client()
        try:
            await client.sessions.restart(record.id)
        except NotFoundError:
            self.forget()

    async def shutdown(self) -> None:
        """Jupyter shutdown: destroy the session this kernel created, if any; attached ones keep running."""
        own = self._state.load()
        if own is not None and own.owned:
            client = await self._client()
            with contextlib.suppress(NotFoundError):
                await client.sessions.destroy(own.id, forced=True)
        self._record = None
        self._state.clear()
