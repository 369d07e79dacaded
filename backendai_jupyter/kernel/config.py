"""The kernel's settings as traitlets: set in kernel.json argv, the environment or Jupyter config files."""

from __future__ import annotations

import json
import os
from typing import Any

from traitlets import Dict, Enum, Float, List, Unicode, default
from traitlets.config import Configurable

__all__ = ["ENV_PREFIX", "BackendKernelConfig", "env_list", "env_pairs", "env_value", "parse_pairs"]

#: Environment variables that set the kernel traits, e.g. ``BACKENDAI_JUPYTER_IMAGE=python:3.11``.
ENV_PREFIX = "BACKENDAI_JUPYTER_"


def parse_pairs(text: str, *, name: str) -> dict[str, str]:
    """Parse ``"K=V,K2=V2"`` (or a JSON object) into a dict; ``name`` is quoted in the error."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise ValueError(
                f"{name}={text!r} is not valid JSON; write it as K=V,K2=V2 or a JSON object"
            ) from exc
        if not isinstance(loaded, dict):
            raise ValueError(f"{name}={text!r} is not a JSON object; write it as K=V,K2=V2")
        return {str(k): str(v) for k, v in loaded.items()}
    pairs: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{name}: {part!r} is not KEY=VALUE; write it as e.g. cpu=1,mem=2g")
        pairs[key.strip()] = value.strip()
    return pairs


def env_value(name: str) -> str | None:
    """``BACKENDAI_JUPYTER_<name>``, or None when it is unset or blank."""
    value = os.environ.get(ENV_PREFIX + name)
    return value if value is not None and value.strip() else None


def env_list(name: str) -> list[str]:
    """``BACKENDAI_JUPYTER_<name>`` as a comma-separated list (empty items dropped)."""
    return [item.strip() for item in (env_value(name) or "").split(",") if item.strip()]


def env_pairs(name: str) -> dict[str, str]:
    """``BACKENDAI_JUPYTER_<name>`` as ``K=V,K2=V2`` pairs; ValueError names the variable and the fix."""
    raw = env_value(name)
    return parse_pairs(raw, name=ENV_PREFIX + name) if raw else {}


class BackendKernelConfig(Configurable):
    """Every tunable of the "Backend.AI (remote)" kernel; each also reads ``BACKENDAI_JUPYTER_<NAME>``."""

    image = Unicode(
        help="Image of the compute session, e.g. 'python' or 'cr.backend.ai/stable/python:3.9'."
    ).tag(config=True)
    resources = Dict(
        value_trait=Unicode(), help="Resource slots, e.g. {'cpu': '1', 'mem': '2g'} (env: cpu=1,mem=2g)."
    ).tag(config=True)
    mounts = List(Unicode(), help="Names of vfolders to mount into the session.").tag(config=True)
    environ = Dict(value_trait=Unicode(), help="Environment variables set in the session.").tag(config=True)
    session_name = Unicode(
        help="Name of the remote session; empty: derived from the connection file (stable across restarts)."
    ).tag(config=True)
    attach = Unicode(
        help="Name or id of an existing session to attach to; it is never destroyed by this kernel."
    ).tag(config=True)
    endpoint = Unicode(help="API endpoint; empty: BACKEND_ENDPOINT or the SDK default.").tag(config=True)
    domain = Unicode(help="Domain name; empty: BACKEND_DOMAIN or 'default'.").tag(config=True)
    group = Unicode(help="Project (group) name; empty: BACKEND_GROUP or 'default'.").tag(config=True)
    transport = Enum(
        ["auto", "websocket", "rest"],
        default_value="auto",
        help="How cells run: 'auto' prefers the WebSocket stream and falls back to REST polling.",
    ).tag(config=True)
    startup_timeout = Float(
        600.0, help="Seconds to wait for a new session to become RUNNING (0: no limit)."
    ).tag(config=True)
    state_dir = Unicode(
        help="Where ownership records live; empty: <jupyter runtime dir>/backendai-sessions."
    ).tag(config=True)

    @default("image")
    def _image_default(self) -> str:
        return env_value("IMAGE") or "python"

    @default("resources")
    def _resources_default(self) -> dict[str, str]:
        return env_pairs("RESOURCES")

    @default("mounts")
    def _mounts_default(self) -> list[str]:
        return env_list("MOUNTS")

    @default("environ")
    def _environ_default(self) -> dict[str, str]:
        return env_pairs("ENVIRON")

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

    @default("transport")
    def _transport_default(self) -> str:
        value = (env_value("TRANSPORT") or "auto").lower()
        if value not in ("auto", "websocket", "rest"):
            raise ValueError(f"{ENV_PREFIX}TRANSPORT={value!r} is not one of auto, websocket, rest")
        return value

    @default("state_dir")
    def _state_dir_default(self) -> str:
        return env_value("STATE_DIR") or ""

    def summary(self) -> dict[str, Any]:
        """The settings as a plain dict (no secrets live in these traits)."""
        return {name: getattr(self, name) for name in self.class_trait_names(config=True)}
