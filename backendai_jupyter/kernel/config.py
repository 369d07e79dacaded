"""The kernel's settings as traitlets: set in kernel.json argv, the environment or Jupyter config files.

The session settings it shares with the magics (image, resources, mounts, environ, transport) come from
``settings.SessionTraits``; these are the kernel's own.
"""

from __future__ import annotations

from traitlets import Float, Unicode, default

from ..settings import SessionTraits, env_value

__all__ = ["BackendKernelConfig"]


class BackendKernelConfig(SessionTraits):
    """Every tunable of the "Backend.AI (remote)" kernel; each also reads ``BACKENDAI_JUPYTER_<NAME>``."""

    session_name = Unicode(
        help="Name of the remote session; empty: derived from the connection file (stable across restarts)."
    ).tag(config=True)
    attach = Unicode(
        help="Name or id of an existing session to attach to; it is never destroyed by this kernel."
    ).tag(config=True)
    endpoint = Unicode(help="API endpoint; empty: BACKEND_ENDPOINT or the SDK default.").tag(config=True)
    domain = Unicode(help="Domain name; empty: BACKEND_DOMAIN or 'default'.").tag(config=True)
    group = Unicode(help="Project (group) name; empty: BACKEND_GROUP or 'default'.").tag(config=True)
    startup_timeout = Float(
        600.0, help="Seconds to wait for a new session to become RUNNING (0: no limit)."
    ).tag(config=True)
    state_dir = Unicode(
        help="Where ownership records live; empty: <jupyter runtime dir>/backendai-sessions."
    ).tag(config=True)

    @default("session_name")
    def _session_name_default(self) -> str:
        return env_value("SESSION_NAME") or ""

    @default("attach")
    def _attach_default(self) -> str:
        return env_value("ATTACH") or ""

    @default("endpoint")
    def _endpoint_default(self) -> str:
        return env_value("ENDPOINT") or ""

    @default("domain")
    def _domain_default(self) -> str:
        return env_value("DOMAIN") or ""

    @default("group")
    def _group_default(self) -> str:
        return env_value("GROUP") or ""

    @default("state_dir")
    def _state_dir_default(self) -> str:
        return env_value("STATE_DIR") or ""
