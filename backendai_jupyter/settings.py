"""Settings the kernel and the magics share: traits, their ``BACKENDAI_JUPYTER_*`` variables, ``K=V`` pairs.

Both ``BackendKernel`` and ``BackendMagics`` inherit :class:`SessionTraits`, so an image, resources, mounts,
environment or transport set in the environment means the same in both, and a malformed value is the same
:class:`SettingError` (the kernel reports it on every cell, the magics on every command that uses it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from traitlets import Dict, Enum, List, TraitError, Unicode, default
from traitlets.config import Configurable

from .wire import TRANSPORTS

__all__ = [
    "ENV_PREFIX",
    "SessionTraits",
    "SettingError",
    "env_choice",
    "env_list",
    "env_pairs",
    "env_value",
    "parse_pairs",
    "setting_problems",
    "trait_source",
]

#: Environment variables that set the traits, e.g. ``BACKENDAI_JUPYTER_IMAGE=python:3.11``.
ENV_PREFIX = "BACKENDAI_JUPYTER_"


class SettingError(ValueError):
    """A malformed setting; the message names the setting, the bad value and the fix."""


def parse_pairs(
    items: str | Iterable[str],
    *,
    name: str,
    example: str = "cpu=1,mem=2g",
    allow_json: bool = True,
    allow_empty: bool = True,
) -> dict[str, str]:
    """``"K=V,K2=V2"`` (one string, or several as repeated options give them) into a dict.

    Blank parts are skipped; an item that is a JSON object is read as one (``allow_json``); ``K=`` is an
    empty value unless ``allow_empty`` is false. ``name``
    (the option or variable) and ``example`` make the error say what was wrong and how to write it.
    """
    texts = [items] if isinstance(items, str) else list(items)
    pairs: dict[str, str] = {}
    for text in texts:
        stripped = text.strip()
        if allow_json and stripped.startswith("{"):
            pairs.update(_json_pairs(stripped, name=name, example=example))
            continue
        for part in stripped.split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep or not key.strip() or not (allow_empty or value.strip()):
                raise SettingError(f"{name} {part.strip()!r} is not KEY=VALUE; write it as e.g. {example}")
            pairs[key.strip()] = value.strip()
    return pairs


def _json_pairs(text: str, *, name: str, example: str) -> dict[str, str]:
    try:
        loaded = json.loads(text)
    except ValueError:
        raise SettingError(
            f"{name}={text!r} is not valid JSON; write it as {example} or a JSON object"
        ) from None
    if not isinstance(loaded, dict):
        raise SettingError(f"{name}={text!r} is not a JSON object; write it as {example}")
    return {str(k): str(v) for k, v in loaded.items()}


def env_value(name: str) -> str | None:
    """``BACKENDAI_JUPYTER_<name>``, or None when it is unset or blank."""
    value = os.environ.get(ENV_PREFIX + name)
    return value if value is not None and value.strip() else None


def env_list(name: str) -> list[str]:
    """``BACKENDAI_JUPYTER_<name>`` as a comma-separated list (empty items dropped)."""
    return [item.strip() for item in (env_value(name) or "").split(",") if item.strip()]


def env_pairs(name: str) -> dict[str, str]:
    """``BACKENDAI_JUPYTER_<name>`` as ``K=V,K2=V2`` pairs; a SettingError names the variable and the fix."""
    raw = env_value(name)
    return parse_pairs(raw, name=ENV_PREFIX + name) if raw else {}


def env_choice(name: str, choices: Iterable[str], fallback: str) -> str:
    """``BACKENDAI_JUPYTER_<name>`` (lower-cased) if it is one of ``choices``; a SettingError otherwise."""
    allowed = tuple(choices)
    value = (env_value(name) or fallback).strip().lower()
    if value not in allowed:
        raise SettingError(f"{ENV_PREFIX}{name}={value!r} is not one of {', '.join(allowed)}")
    return value


class SessionTraits(Configurable):
    """How new sessions start and how cells reach them; each trait also reads ``BACKENDAI_JUPYTER_<NAME>``."""

    image = Unicode(
        help="Image of new sessions, e.g. 'python' or 'cr.backend.ai/stable/python:3.9' (env: ..._IMAGE)."
    ).tag(config=True)
    resources = Dict(
        value_trait=Unicode(),
        help="Resource slots of new sessions, e.g. {'cpu': '2', 'mem': '4g'} (env: cpu=2,mem=4g).",
    ).tag(config=True)
    mounts = List(Unicode(), help="Vfolders mounted into every new session (env: a,b).").tag(config=True)
    environ = Dict(
        value_trait=Unicode(), help="Environment variables of every new session (env: K=V,K2=V2)."
    ).tag(config=True)
    transport = Enum(
        list(TRANSPORTS),
        default_value="auto",
        help="How cells run: 'auto' prefers the WebSocket stream and falls back to REST polling.",
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

    @default("transport")
    def _transport_default(self) -> str:
        return env_choice("TRANSPORT", TRANSPORTS, "auto")


def setting_problems(configurable: Configurable) -> dict[str, str]:
    """The config traits whose value cannot be read (a bad environment variable), with the reason."""
    problems: dict[str, str] = {}
    for name in configurable.class_trait_names(config=True):
        try:
            getattr(configurable, name)
        except (SettingError, TraitError) as exc:
            problems[name] = str(exc)
    return problems


def trait_source(configurable: Configurable, name: str, section: str) -> str:
    """Where a trait's value comes from: a config file or ``%config``, its variable, or the default."""
    if name in configurable.config.get(section, {}):
        return "config (file or %config)"
    if env_value(name.upper()) is not None:
        return f"environment ({ENV_PREFIX}{name.upper()})"
    return "default"
