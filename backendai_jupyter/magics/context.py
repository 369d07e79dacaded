"""What every subcommand works with: the settings, the SDK client, output, and the bound session."""

from __future__ import annotations

import contextlib
import secrets
import sys
from typing import TYPE_CHECKING, Any

from ..cellrun.binding import KernelBinding, kernel_binding
from ..display.console import ConsoleRenderer
from ..sdk.config import APIConfig
from ..sdk.errors import BackendError, NotFoundError
from ..sdk.sync import Client
from ..sdk.types import CreatedSession, SessionInfo
from ..wire import GONE_SESSION_STATUSES
from .errors import from_sdk, usage_error

if TYPE_CHECKING:
    from .magic import BackendMagics

__all__ = ["Context"]


class Context:
    """Per-shell state of the magics; subcommands get it as their first argument."""

    def __init__(self, magics: BackendMagics) -> None:
        self.magics = magics
        self._client: Client | None = None
        self._overrides: dict[str, Any] = {}
        #: the session ``%%backend`` cells use when they name none (set by attach/start/%%backend NAME)
        self.bound: str | None = None
        #: sessions these magics created (the others were attached to or made elsewhere)
        self.owned: set[str] = set()
        self._consoles: dict[str, ConsoleRenderer] = {}
        self._cell_session: str | None = None

    @property
    def shell(self) -> Any:
        """The IPython shell the magics live in."""
        return self.magics.shell

    @property
    def kernel(self) -> KernelBinding | None:
        """The remote kernel's binding when running inside "Backend.AI (remote)"."""
        return kernel_binding(self.shell)

    # -- the SDK client ------------------------------------------------------------------------------

    def api_config(self) -> APIConfig:
        """The client settings: ``login`` arguments, then BackendMagics traits, then BACKEND_* / defaults."""
        args: dict[str, Any] = {}
        for name in ("endpoint", "domain", "group"):
            value = getattr(self.magics, name)
            if value:
                args[name] = value
        args.update(self._overrides)
        try:
            return APIConfig(**args)
        except BackendError as exc:
            raise from_sdk(exc, action="reading the settings") from None

    def client(self) -> Client:
        """The sync SDK client (made on first use; ``login`` replaces it)."""
        if self._client is None:
            self._client = Client(self.api_config())
        return self._client

    def use_settings(self, **overrides: Any) -> Client:
        """Switch to a client with some settings given as arguments (``login``); returns it."""
        self.close()
        self._overrides.update({k: v for k, v in overrides.items() if v is not None})
        return self.client()

    def forget_settings(self, *names: str) -> None:
        """Drop arguments given by ``use_settings`` (``logout``)."""
        for name in names:
            self._overrides.pop(name, None)
        self.close()

    def close(self) -> None:
        """Close the client (a new one is made on next use)."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):  # closing a pool must never fail a command
                client.close()

    # -- output --------------------------------------------------------------------------------------

    def print(self, text: str = "") -> None:
        """A line on stdout (the stdout IPython captures now, not the one bound at import)."""
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def warn(self, text: str) -> None:
        """A line on stderr."""
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def publish(self, msg_type: str, content: dict[str, Any]) -> None:
        """Show one iopub-style message (stream, display_data, update_display_data, error text) here."""
        if msg_type == "stream":
            stream = sys.stderr if content.get("name") == "stderr" else sys.stdout
            stream.write(str(content.get("text", "")))
            stream.flush()
        elif msg_type in ("display_data", "update_display_data"):
            self.shell.display_pub.publish(
                data=content.get("data", {}),
                metadata=content.get("metadata") or {},
                transient=content.get("transient") or {},
                update=msg_type == "update_display_data",
            )
        elif msg_type == "clear_output":
            self.shell.display_pub.clear_output(wait=bool(content.get("wait")))

    def console_for(self, session_id: str) -> ConsoleRenderer:
        """The renderer of one session (it keeps drawing canvases across cells)."""
        if session_id not in self._consoles:
            self._consoles[session_id] = ConsoleRenderer(session_key=session_id[:8])
        return self._consoles[session_id]

    # -- sessions: which one is bound, which ones were started here ------------------------------------

    def cell_session_name(self) -> str:
        """The session name ``%%backend`` cells use when none is given or bound (made once per shell)."""
        if self._cell_session is None:
            self._cell_session = f"ipython-{secrets.token_hex(4)}"
        return self._cell_session

    def started(self, created: CreatedSession) -> None:
        """Record a session these magics asked for: owned if the server created it now (not reused)."""
        if created.created:
            self.owned.add(created.name)

    def removed(self, name: str) -> None:
        """Forget a session that was terminated: not owned, not bound any more."""
        self.owned.discard(name)
        if self.bound == name:
            self.bound = None

    def attach(self, name: str) -> tuple[SessionInfo, str]:
        """Bind ``%%backend`` cells (and, inside the remote kernel, its cells) to an existing session.

        Returns the session's info and what now runs there; a session that is going away is refused.
        """
        info = self.session_info(name)
        if info.status in GONE_SESSION_STATUSES:
            raise usage_error(
                f"cannot attach to {name!r}: it is {info.status}; start a new one with %backend start -t NAME"
            )
        bound = info.name or name
        self.bound = bound
        where = "%%backend cells"
        if self.kernel is not None:
            self.kernel.attach(bound, info.id or bound)
            where = "this kernel's cells and %%backend cells"
        return info, where

    def session_info(self, name: str) -> SessionInfo:
        """The session's info; an unknown name is a UsageError that says how to find the right one."""
        try:
            return self.client().sessions.info(name)
        except NotFoundError:
            raise usage_error(
                f"no session named {name!r}; list them with %backend ps "
                f"(or start one: %backend start -t {name})"
            ) from None
        except BackendError as exc:
            raise from_sdk(exc, action=f"looking up session {name!r}") from None

    def target(self, name: str | None) -> str:
        """The session a command is about: the one named, else the bound one, else a UsageError."""
        if name:
            return name
        if self.bound:
            return self.bound
        if self.kernel is not None and (current := self.kernel.current()) is not None:
            return current[0]
        raise usage_error(
            "no session given and none is attached; name one (see %backend ps) or run %backend attach NAME"
        )
