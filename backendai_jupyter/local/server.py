"""The local endpoint as a whole: the manager app, the storage-proxy emulation, start/stop, a thread."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from types import TracebackType

from aiohttp import web

from . import (
    events,
    execute_routes,
    gql,
    manager,
    session_files,
    sessions,
    storage,
    vfolder_routes,
    webserver,
)
from .auth import make_auth_middleware, on_response_prepare, problem_middleware
from .config import LocalConfig
from .context import AUTHENTICATOR, BUS, CONFIG, CONTEXT, REGISTRY
from .endpoint_state import LocalContext
from .eventbus import EventBus
from .registry import Registry
from .signing import Authenticator
from .state import load_credentials

__all__ = ["LocalEndpoint", "LocalEndpointThread", "create_app"]

log = logging.getLogger(__name__)

#: the manager keeps aiohttp's default body limit for what it reads whole (docs/protocol.md §9)
CLIENT_MAX_SIZE = 1024**2
SHUTDOWN_TIMEOUT = 2.0


def create_app(config: LocalConfig, ctx: LocalContext, registry: Registry, bus: EventBus) -> web.Application:
    """The manager application (every route, middleware and shared object) for one endpoint."""
    app = web.Application(
        middlewares=[problem_middleware, make_auth_middleware(webserver.web_session_user)],
        client_max_size=CLIENT_MAX_SIZE,
    )
    app[CONTEXT] = ctx
    app[CONFIG] = config
    app[BUS] = bus
    app[REGISTRY] = registry
    app[AUTHENTICATOR] = Authenticator(rate_limit=config.rate_limit)
    app.on_response_prepare.append(on_response_prepare)
    manager.setup_routes(app)
    webserver.setup_routes(app)
    # order matters: fixed paths (/session/_/match, /kernel/create) before /session/{session_name}
    sessions.setup_routes(app)
    execute_routes.setup_routes(app)
    events.setup_routes(app)
    gql.setup_routes(app)
    vfolder_routes.setup_routes(app)
    session_files.setup_routes(app)
    webserver.mirror_func_routes(app)
    return app


class LocalEndpoint:
    """A Backend.AI-compatible endpoint on this machine (manager API + storage proxy) on the current loop."""

    def __init__(self, config: LocalConfig) -> None:
        self.config = config
        self.url = ""
        self.storage_url = ""
        self.access_key = ""
        self.user_email = ""
        self._secret_key = ""
        self._password = ""
        self._runners: list[web.AppRunner] = []
        self._registry: Registry | None = None
        self._bus: EventBus | None = None

    @property
    def secret_key(self) -> str:
        """The data dir's secret key (kept out of ``repr``)."""
        return self._secret_key

    @property
    def user_password(self) -> str:
        """The generated password of :attr:`user_email` for session mode."""
        return self._password

    def __repr__(self) -> str:
        return f"LocalEndpoint(url={self.url!r}, data_dir={str(self.config.data_dir)!r})"

    @property
    def registry(self) -> Registry:
        """The session registry (after :meth:`start`)."""
        if self._registry is None:
            raise RuntimeError("LocalEndpoint.registry: call start() first.")
        return self._registry

    async def _serve(self, app: web.Application, port: int) -> str:
        runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_TIMEOUT, access_log=None)
        await runner.setup()
        self._runners.append(runner)
        site = web.TCPSite(runner, self.config.host, port)
        await site.start()
        bound = runner.addresses[0][1]
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"http://{host}:{bound}"

    async def start(self) -> None:
        """Load or create the data dir's keys, then serve the manager and storage apps."""
        data_dir = self.config.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(data_dir, 0o700)
        creds = load_credentials(
            data_dir, access_key=self.config.access_key, secret_key=self.config.secret_key
        )
        user = creds.user
        ctx = LocalContext(data_dir=data_dir, token_secret=creds.token_secret, users={user.access_key: user})
        self.access_key, self._secret_key = user.access_key, user.secret_key
        self.user_email, self._password = user.email, creds.password
        self._bus = EventBus()
        self._registry = Registry(ctx, self.config, self._bus)
        ctx.sessions = self._registry
        app = create_app(self.config, ctx, self._registry, self._bus)
        try:
            # bind the storage proxy first: the manager hands out its URL from the first request on
            self.storage_url = await self._serve(storage.create_app(ctx), self.config.storage_port)
            ctx.storage_url = self.storage_url
            self.url = await self._serve(app, self.config.port)
        except BaseException:
            await self.stop()
            raise
        self._registry.start_background()
        log.info("local endpoint serving at %s", self.url)

    async def stop(self) -> None:
        """End every session kernel, then stop serving."""
        if self._bus is not None:
            self._bus.close()
        if self._registry is not None:
            await self._registry.shutdown()
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners = []

    async def __aenter__(self) -> LocalEndpoint:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


class LocalEndpointThread:
    """The same endpoint on a private event-loop thread, for synchronous callers (the embedded default)."""

    def __init__(self, config: LocalConfig) -> None:
        self.endpoint = LocalEndpoint(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    url = property(lambda self: self.endpoint.url, doc="The manager URL (after start).")
    storage_url = property(lambda self: self.endpoint.storage_url, doc="The storage proxy URL (after start).")
    access_key = property(lambda self: self.endpoint.access_key, doc="The data dir's access key.")
    secret_key = property(lambda self: self.endpoint.secret_key, doc="The data dir's secret key.")
    user_email = property(lambda self: self.endpoint.user_email, doc="The session-mode user.")
    user_password = property(lambda self: self.endpoint.user_password, doc="The session-mode password.")

    def __repr__(self) -> str:
        return f"LocalEndpointThread({self.endpoint!r})"

    def start(self) -> None:
        """Start the loop thread and the endpoint on it; returns once it serves."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="backendai-local-endpoint", daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.endpoint.start(), loop).result()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the endpoint (all session kernels end) and the loop thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.endpoint.stop(), loop).result(timeout=60)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
            self._loop = self._thread = None

    def __enter__(self) -> LocalEndpointThread:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
