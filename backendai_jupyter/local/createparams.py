"""Strict reading of a session create body (docs/protocol.md §4.1): each field, its aliases, types, limits."""

from __future__ import annotations

import contextlib
import platform
import time
from collections.abc import Mapping
from datetime import timezone
from pathlib import PurePosixPath
from typing import Any

from dateutil import parser as dateparser

from .endpoint_state import LocalContext
from .images import resolve_image
from .params import parse_duration, parse_int, parse_session_name, parse_size, reject_unknown, to_bool
from .problems import Problem
from .records import SessionSpec

__all__ = ["CreateRequest", "parse_create", "parse_starts_at"]

#: field -> aliases, as the 23.09 manager's create handler accepts them
TOP_ALIASES: Mapping[str, tuple[str, ...]] = {
    "image": ("lang",),
    "name": ("session_name", "clientSessionToken"),
    "type": ("sessionType",),
    "architecture": ("arch",),
    "group": ("groupName", "group_name"),
    "domain": ("domainName", "domain_name"),
    "clusterSize": ("cluster_size",),
    "clusterMode": ("cluster_mode",),
    "enqueueOnly": (),
    "maxWaitSeconds": (),
    "reuseIfExists": (),
    "startupCommand": ("startup_command",),
    "starts_at": ("startsAt",),
    "bootstrap_script": ("bootstrapScript",),
    "dependencies": (),
    "callback_url": ("callbackUrl", "callbackURL"),
    "tag": (),
    "owner_access_key": (),
    "config": (),
}
CONFIG_ALIASES: Mapping[str, tuple[str, ...]] = {
    "mounts": (),
    "mount_map": ("mountMap",),
    "environ": (),
    "resources": (),
    "resource_opts": ("resourceOpts",),
    "scalingGroup": ("scaling_group",),
    "preopen_ports": ("preopenPorts",),
    "agentList": ("agent_list",),
}
SESSION_TYPES = ("interactive", "batch", "inference")
CLUSTER_MODES = ("single-node", "multi-node")


class CreateRequest:
    """A parsed create call: the session spec plus how the caller wants to wait."""

    def __init__(
        self, spec: SessionSpec, *, owner: str | None, enqueue_only: bool, max_wait: float, reuse: bool
    ) -> None:
        self.spec = spec
        self.owner = owner
        self.enqueue_only = enqueue_only
        self.max_wait = max_wait
        self.reuse = reuse


def _flatten(params: Mapping[str, Any], aliases: Mapping[str, tuple[str, ...]], where: str) -> dict[str, Any]:
    lookup = {alias: key for key, names in aliases.items() for alias in (key, *names)}
    reject_unknown(params, lookup, where=where)
    out: dict[str, Any] = {}
    for key, value in params.items():
        canonical = lookup[key]
        if canonical in out and out[canonical] != value:
            raise Problem.invalid_params(f"{key}: given twice under different names ({where}).")
        out[canonical] = value
    return out


def _opt_str(values: Mapping[str, Any], key: str) -> str | None:
    value = values.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Problem.invalid_params(f"{key}={value!r}: must be a string.")
    return value


def _int(values: Mapping[str, Any], key: str, default: int, *, low: int) -> int:
    value = values.get(key)
    if value is None:
        return default
    try:
        return parse_int(value, low=low)
    except ValueError as exc:
        raise Problem.invalid_params(f"{key}={value!r}: {exc}.") from None


def _memory(value: Any) -> int:
    try:
        return parse_size(value)
    except ValueError as exc:
        raise Problem.invalid_params(f"resources: {value!r} {exc}.") from None


def parse_starts_at(value: str) -> float:
    """Epoch seconds from an ISO 8601 time or a relative duration (``30s``, ``5m``, ``1h``)."""
    with contextlib.suppress(ValueError):
        return time.time() + parse_duration(value)
    try:
        when = dateparser.isoparse(value)
    except ValueError:
        raise Problem.invalid_params(
            f"starts_at={value!r}: use ISO 8601 or a duration like 30s, 5m, 1h."
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def _mount_target(name: str, target: Any) -> str:
    if not isinstance(target, str) or not target or "\0" in target:
        raise Problem.invalid_params(f"mount_map[{name!r}]={target!r}: must be a folder name.")
    path = PurePosixPath(target)
    if path.is_absolute():
        # a container path under /home/work maps to the same place in the scratch folder
        try:
            path = path.relative_to("/home/work")
        except ValueError:
            raise Problem.invalid_params(
                f"mount_map[{name!r}]={target!r}: use a relative folder name or a path under /home/work."
            ) from None
    if not path.parts or any(part in ("..", ".") for part in path.parts):
        raise Problem.invalid_params(f"mount_map[{name!r}]={target!r}: must stay inside the scratch folder.")
    return str(path)


def _config(ctx: LocalContext, owner: str, raw: Any, spec: SessionSpec) -> None:
    if raw is None:
        return
    if not isinstance(raw, dict):
        raise Problem.invalid_params("config must be an object.")
    config = _flatten(raw, CONFIG_ALIASES, "config")
    mounts = config.get("mounts") or []
    mount_map = config.get("mount_map") or {}
    if not isinstance(mounts, list) or not all(isinstance(m, str) for m in mounts):
        raise Problem.invalid_params("config.mounts must be a list of vfolder names.")
    if not isinstance(mount_map, dict):
        raise Problem.invalid_params("config.mount_map must be an object {vfolder: folder}.")
    for name in [*mounts, *(m for m in mount_map if m not in mounts)]:
        if ctx.vfolders is None:
            raise Problem.not_found(
                "No such virtual folder.", msg=f"Cannot mount {name!r}: no vfolders here."
            )
        target = _mount_target(name, mount_map.get(name, name))
        spec.mounts[target] = str(ctx.vfolders.path_of(owner, name))
        spec.mount_names.append(name)
    environ = config.get("environ") or {}
    if not isinstance(environ, dict):
        raise Problem.invalid_params("config.environ must be an object {NAME: value}.")
    spec.environ = {str(k): str(v) for k, v in environ.items()}
    resources = config.get("resources") or {}
    if not isinstance(resources, dict):
        raise Problem.invalid_params("config.resources must be an object {slot: amount}.")
    spec.resources = {str(k): str(_memory(v)) if k == "mem" else str(v) for k, v in resources.items()}
    opts = config.get("resource_opts") or {}
    if not isinstance(opts, dict):
        raise Problem.invalid_params("config.resource_opts must be an object.")
    spec.resource_opts = dict(opts)
    spec.scaling_group = _opt_str(config, "scalingGroup") or "default"
    ports = config.get("preopen_ports") or []
    if not isinstance(ports, list) or not all(isinstance(p, int) and 1024 <= p <= 65535 for p in ports):
        raise Problem.invalid_params(f"config.preopen_ports={ports!r}: ports must be integers 1024..65535.")
    spec.preopen_ports = list(ports)


def parse_create(
    ctx: LocalContext, images: Mapping[str, str], params: Mapping[str, Any], *, requester: str
) -> CreateRequest:
    """Validate a create body; unknown keys and bad values are 400, an unknown image 404."""
    values = _flatten(params, TOP_ALIASES, "body")
    image = _opt_str(values, "image")
    if not image:
        raise Problem.invalid_params("image is required (e.g. 'python:3.11-ubuntu22.04').")
    name = _opt_str(values, "name")
    if not name:
        raise Problem.invalid_params("name is required: 4-64 letters, digits, '.', '-' or '_'.")
    try:
        parse_session_name(name)
    except ValueError as exc:
        raise Problem.invalid_params(f"name={name!r}: {exc}.") from None
    if name == "from-template":
        raise Problem.invalid_params("name='from-template' is reserved: choose another name.")
    session_type = (_opt_str(values, "type") or "interactive").lower()
    if session_type not in SESSION_TYPES:
        raise Problem.invalid_params(f"type={session_type!r}: use one of {', '.join(SESSION_TYPES)}.")
    cluster_mode = _opt_str(values, "clusterMode") or "single-node"
    if cluster_mode not in CLUSTER_MODES:
        raise Problem.invalid_params(f"clusterMode={cluster_mode!r}: use single-node or multi-node.")
    cluster_size = _int(values, "clusterSize", 1, low=1)
    startup = _opt_str(values, "startupCommand")
    if session_type == "batch" and not startup:
        raise Problem.invalid_params("Batch sessions must have a non-empty startup command (startupCommand).")
    starts_at_raw = _opt_str(values, "starts_at")
    if starts_at_raw and session_type != "batch":
        raise Problem.invalid_params("Parameter starts_at should be used only for batch sessions")
    dependencies = values.get("dependencies") or []
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise Problem.invalid_params("dependencies must be a list of session names or IDs.")
    owner = _opt_str(values, "owner_access_key")
    if owner is not None and owner not in ctx.users:
        raise Problem.not_found("No such keypair.", msg=f"owner_access_key={owner!r} is unknown here.")
    spec = SessionSpec(
        name=name,
        image=image,
        python=resolve_image(images, image),
        type=session_type,
        architecture=_opt_str(values, "architecture") or platform.machine(),
        domain=_opt_str(values, "domain") or "default",
        group=_opt_str(values, "group") or "default",
        cluster_mode=cluster_mode,
        cluster_size=cluster_size,
        tag=_opt_str(values, "tag"),
        startup_command=startup,
        bootstrap_script=_opt_str(values, "bootstrap_script"),
        callback_url=_opt_str(values, "callback_url"),
        starts_at=parse_starts_at(starts_at_raw) if starts_at_raw else None,
        dependencies=list(dependencies),
    )
    _config(ctx, owner or requester, values.get("config"), spec)
    spec.resources = spec.resources or {"cpu": "1", "mem": str(1024**3)}
    if cluster_size > 1:
        raise Problem(
            412, "quota-exceeded", "Quota exceeded.", msg="The local endpoint runs one node: clusterSize=1."
        )
    max_wait = _int(values, "maxWaitSeconds", 0, low=0)
    return CreateRequest(
        spec,
        owner=owner,
        enqueue_only=to_bool(values.get("enqueueOnly", False)),
        max_wait=float(max_wait),
        reuse=to_bool(values.get("reuseIfExists", True)),
    )
