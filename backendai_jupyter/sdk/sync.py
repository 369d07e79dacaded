"""The sync facade of the client: ``Client``, usable from any thread, also inside Jupyter's running loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING

from ._facade import LoopThread, SyncResource, loop_thread, sync_iter_method, sync_method
from .client import AsyncClient, OTPPrompt
from .config import APIConfig

if TYPE_CHECKING:
    from typing_extensions import Self

    from .resources.auth import SyncAuth
    from .resources.events import SyncEvents
    from .resources.images import SyncImages
    from .resources.manager import SyncManager
    from .resources.sessions import SyncSessions
    from .resources.vfolders import SyncVFolders

__all__ = ["Client", "LoopThread", "SyncResource", "loop_thread", "sync_iter_method", "sync_method"]


class Client(SyncResource[AsyncClient]):
    """The blocking facade of ``AsyncClient``; safe to use inside Jupyter's running event loop."""

    def __init__(
        self,
        config: APIConfig | None = None,
        *,
        otp_prompt: OTPPrompt | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        loop: LoopThread | None = None,
    ) -> None:
        # The OTP prompt runs in the caller's thread (it may call input()), so the async client gets none.
        super().__init__(AsyncClient(config, sleep=sleep), loop=loop)
        self._otp_prompt = otp_prompt

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._loop.run(self._async.close())

    def __repr__(self) -> str:
        return f"Client({self._async.config!r}, api_version={self.api_version!r})"

    @property
    def config(self) -> APIConfig:
        """The settings in use."""
        return self._async.config

    @property
    def async_client(self) -> AsyncClient:
        """The underlying AsyncClient (it lives on the loop thread; await it only there)."""
        return self._async

    @property
    def api_version(self) -> str:
        """The negotiated API version (the configured one before negotiation)."""
        return self._async.api_version

    @property
    def manager_version(self) -> str | None:
        """The manager release the server reported, once negotiated."""
        return self._async.manager_version

    negotiate = sync_method(AsyncClient.negotiate)
    request = sync_method(AsyncClient.request)

    @cached_property
    def sessions(self) -> SyncSessions:
        """Compute sessions."""
        from .resources.sessions import SyncSessions

        return SyncSessions(self._async.sessions, loop=self._loop)

    @cached_property
    def vfolders(self) -> SyncVFolders:
        """Virtual folders."""
        from .resources.vfolders import SyncVFolders

        return SyncVFolders(self._async.vfolders, loop=self._loop)

    @cached_property
    def images(self) -> SyncImages:
        """Images."""
        from .resources.images import SyncImages

        return SyncImages(self._async.images, loop=self._loop)

    @cached_property
    def auth(self) -> SyncAuth:
        """Authentication helpers."""
        from .resources.auth import SyncAuth

        return SyncAuth(self._async.auth, loop=self._loop, otp_prompt=self._otp_prompt)

    @cached_property
    def manager(self) -> SyncManager:
        """Manager status and announcement."""
        from .resources.manager import SyncManager

        return SyncManager(self._async.manager, loop=self._loop)

    @cached_property
    def events(self) -> SyncEvents:
        """Session lifecycle events."""
        from .resources.events import SyncEvents

        return SyncEvents(self._async.events, loop=self._loop)
