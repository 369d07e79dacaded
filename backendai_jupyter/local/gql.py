"""``POST /admin/gql`` (and the legacy ``/admin/graphql``) answered by graphql-core.

The schema covers what the official CLI 23.9.10 asks for in ``ps``, ``session info``, ``vfolder list``,
``image list``, ``keypair info``, ``admin user info`` and ``admin agent list``. ``filter`` understands ``field
== "v"``, ``!=``, ``like``/``ilike`` (``%`` wildcards) and ``in [...]`` joined by ``&``; ``order`` is
``field``, ``+field`` or ``-field``. Secret keys are never returned: ``secret_key`` is masked.
"""

from __future__ import annotations

import fnmatch
import json
import platform
import re
import sys
from collections.abc import Callable
from typing import Any

from aiohttp import web
from graphql import GraphQLScalarType, build_schema, graphql

from .context import CONFIG, CONTEXT, REGISTRY, REQUEST_ACCESS_KEY, REQUEST_USER
from .endpoint_state import User
from .gqlschema import SCHEMA_SDL
from .images import canonical_image, image_registry, resolve_image
from .params import read_json_object
from .problems import Problem
from .registry import Registry, Session

__all__ = ["SCHEMA", "setup_routes"]


MASKED = "(hidden)"


def _json_scalar(value: Any) -> Any:
    return value if isinstance(value, str) else json.dumps(value)


def _build() -> Any:
    schema = build_schema(SCHEMA_SDL)
    for name, serialize in (
        ("UUID", str),
        ("DateTime", str),
        ("JSONString", _json_scalar),
        ("BigInt", int),
    ):
        scalar = schema.type_map[name]
        if isinstance(scalar, GraphQLScalarType):
            # graphql-core 3.3 reads coerce_output_value, 3.2 serialize
            for attr in ("coerce_output_value", "serialize"):
                if hasattr(scalar, attr):
                    setattr(scalar, attr, serialize)
    return schema


SCHEMA = _build()

# ---- filters -----------------------------------------------------------------------------------------------

_CLAUSE = re.compile(r"^\s*(\w+)\s*(==|!=|ilike|like|in)\s*(.+?)\s*$")


def _literal(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text.strip("'\"")


def make_filter(expression: str | None) -> Callable[[dict[str, Any]], bool]:
    """A predicate for the manager's filter mini-language (the subset documented in the module docstring)."""
    if not expression:
        return lambda _item: True
    tests: list[Callable[[dict[str, Any]], bool]] = []
    for clause in expression.split("&"):
        match = _CLAUSE.match(clause.strip().strip("()"))
        if match is None:
            raise Problem(
                400, "graphql-error", "GraphQL-generated error.", msg=f"Unsupported filter: {clause!r}"
            )
        field, op, value = match.group(1), match.group(2), _literal(match.group(3))

        def test(item: dict[str, Any], field: str = field, op: str = op, value: Any = value) -> bool:
            actual = item.get(field)
            if op == "==":
                return bool(actual == value)
            if op == "!=":
                return bool(actual != value)
            if op == "in":
                return actual in (value if isinstance(value, list) else [value])
            pattern = str(value).replace("%", "*").replace("_", "?")
            if op == "ilike":
                return fnmatch.fnmatchcase(str(actual).lower(), pattern.lower())
            return fnmatch.fnmatchcase(str(actual), pattern)

        tests.append(test)
    return lambda item: all(t(item) for t in tests)


def _page(items: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    items = [i for i in items if make_filter(args.get("filter"))(i)]
    order = args.get("order")
    if order:
        key = order.lstrip("+-")
        items.sort(key=lambda i: (i.get(key) is None, str(i.get(key))), reverse=order.startswith("-"))
    offset, limit = int(args.get("offset", 0)), int(args.get("limit", 20))
    return {"items": items[offset : offset + limit], "total_count": len(items)}


# ---- object views ------------------------------------------------------------------------------------------


def _slots(values: dict[str, str]) -> dict[str, str]:
    return dict(values)


def _status_info(status: str, info: str | None) -> str | None:
    # as 23.09 leaves it: null while PENDING, "scheduled", then "" (PREPARING onwards) until a reason is set
    if info is not None:
        return info
    if status == "PENDING":
        return None
    return "scheduled" if status == "SCHEDULED" else ""


def session_view(session: Session, users: dict[str, User], registry: Registry) -> dict[str, Any]:
    """The GraphQL ``ComputeSession`` of one session (JSONString fields hold objects; the scalar dumps)."""
    record, spec = session.record, session.record.spec
    user = users.get(record.owner)
    image = canonical_image(spec.image)
    info = _status_info(record.status, record.status_info)
    kernel = {
        "id": record.kernel_id,
        "kernel_id": record.kernel_id,
        "session_id": record.id,
        "role": "master",
        "cluster_role": "main",
        # 23.09 numbers kernels from 1 (registry.py: main_kernel_config["cluster_idx"] = 1  # main1)
        "cluster_idx": 1,
        "cluster_hostname": "main1",
        "image": image,
        "registry": image_registry(spec.image),
        "architecture": spec.architecture,
        "status": record.status,
        "status_info": info,
        "status_data": record.status_data,
        "status_changed": record.status_changed,
        "agent": "local",
        "agent_addr": "127.0.0.1",
        "container_id": record.kernel_id,
        "resource_opts": spec.resource_opts,
        "occupied_slots": _slots(spec.resources),
        "preopen_ports": spec.preopen_ports,
        # no statistics are collected here; 23.09 answers null when Redis has none for the kernel
        "live_stat": None,
        "last_stat": None,
        "created_at": record.created_at,
        "terminated_at": record.terminated_at,
    }

    def dependencies(_info: Any) -> list[dict[str, Any]]:
        deps = []
        for dep in spec.dependencies:
            try:
                deps.append(session_view(registry.find(record.owner, dep, allow_stale=True), users, registry))
            except Problem:
                continue
        return deps

    return {
        "id": record.id,
        "session_id": record.id,
        "main_kernel_id": record.kernel_id,
        "tag": spec.tag,
        "name": record.name,
        "type": spec.type.upper(),
        "session_type": spec.type.upper(),
        "image": image,
        "architecture": spec.architecture,
        "registry": image_registry(spec.image),
        "cluster_template": None,
        "cluster_mode": spec.cluster_mode.replace("-", "_").upper(),
        "cluster_size": spec.cluster_size,
        "domain_name": spec.domain,
        "group_name": spec.group,
        "group_id": None,
        "agent_ids": ["local"],
        "user_email": user.email if user else None,
        "user_id": (user.uuid or None) if user else None,
        "access_key": record.owner,
        "created_user_email": user.email if user else None,
        "created_user_id": (user.uuid or None) if user else None,
        "status": record.status,
        "status_info": info,
        "status_data": record.status_data,
        "status_history": {},
        "status_changed": record.status_changed,
        "created_at": record.created_at,
        "terminated_at": record.terminated_at,
        "starts_at": None,
        "scheduled_at": record.created_at,
        "startup_command": spec.startup_command,
        "result": record.result,
        "commit_status": None,
        "abusing_reports": [],
        "idle_checks": {},
        "resource_opts": spec.resource_opts,
        "scaling_group": spec.scaling_group,
        "service_ports": [],
        "mounts": spec.mount_names,
        "vfolder_mounts": spec.mount_names,
        "occupying_slots": _slots(spec.resources),
        "occupied_slots": _slots(spec.resources),
        "requested_slots": _slots(spec.resources),
        "num_queries": record.num_queries,
        "containers": [kernel],
        "dependencies": dependencies,
    }


def _user_view(user: User) -> dict[str, Any]:
    return {
        "id": user.uuid,
        "uuid": user.uuid,
        "username": user.email.partition("@")[0],
        "email": user.email,
        "need_password_change": False,
        "full_name": "Local user",
        "description": "",
        "is_active": True,
        "status": "active",
        "status_info": None,
        "created_at": None,
        "modified_at": None,
        "domain_name": user.domain,
        "role": user.role,
        "groups": [{"id": None, "name": user.group}],
        "allowed_client_ip": None,
        "totp_activated": False,
        "sudo_session_enabled": False,
        "main_access_key": user.access_key,
        "resource_policy": "default",
    }


def _keypair_view(user: User, rate_limit: int) -> dict[str, Any]:
    return {
        "user_id": user.email,
        "full_name": "Local user",
        "user_info": {"email": user.email, "full_name": "Local user"},
        "projects": [user.group],
        "access_key": user.access_key,
        "secret_key": MASKED,
        "is_active": True,
        "is_admin": user.role in ("admin", "superadmin"),
        "resource_policy": "default",
        "created_at": None,
        "modified_at": None,
        "last_used": None,
        "rate_limit": rate_limit,
        "num_queries": 0,
        "concurrency_used": 0,
        "ssh_public_key": None,
        "ssh_private_key": None,
        "dotfiles": "",
        "bootstrap_script": "",
    }


def _image_views(images: dict[str, str]) -> list[dict[str, Any]]:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    views = []
    for pattern, python in images.items():
        name, _, tag = pattern.replace("*/", "").partition(":")
        tag = tag.replace("*", f"{version}-local") if tag else "latest"
        views.append(
            {
                "id": None,
                "name": name,
                "humanized_name": f"{name}:{tag}",
                "tag": tag,
                "registry": "local",
                "architecture": platform.machine(),
                "is_local": True,
                "digest": None,
                "labels": [
                    {"key": "ai.backend.runtime-path", "value": python},
                    {"key": "ai.backend.runtime-type", "value": "python"},
                ],
                "aliases": [pattern],
                "size_bytes": 0,
                "resource_limits": [],
                "supported_accelerators": [],
                "installed": True,
                "installed_agents": ["local"],
                "hash": None,
            }
        )
    return views


def _agent_view(registry: Registry) -> dict[str, Any]:
    running = [s for s in registry.sessions.values() if s.record.status == "RUNNING"]
    return {
        "id": "local",
        "status": "ALIVE",
        "status_changed": None,
        "region": "local",
        "architecture": platform.machine(),
        "scaling_group": "default",
        "schedulable": True,
        "available_slots": {"cpu": "1", "mem": str(1024**3)},
        "occupied_slots": {},
        "addr": "127.0.0.1",
        "first_contact": None,
        "lost_at": None,
        "live_stat": {},
        "version": "local",
        "compute_plugins": {},
        "hardware_metadata": {},
        "local_config": {},
        "compute_containers": [],
        "cpu_cur_pct": 0.0,
        "mem_cur_bytes": float(len(running)),
    }


# ---- root resolvers ----------------------------------------------------------------------------------------


def _root(request: web.Request) -> dict[str, Any]:
    ctx = request.app[CONTEXT]
    registry = request.app[REGISTRY]
    config = request.app[CONFIG]
    me: User = request[REQUEST_USER]
    requester = request[REQUEST_ACCESS_KEY]

    def sessions_of(access_key: str | None, status: str | None) -> list[dict[str, Any]]:
        statuses = {s.strip() for s in status.split(",")} if status else None
        owner = access_key or requester
        return [
            session_view(s, ctx.users, registry)
            for s in registry.sessions.values()
            if s.record.owner == owner and (statuses is None or s.record.status in statuses)
        ]

    def compute_session_list(_info: Any, **args: Any) -> dict[str, Any]:
        items = sessions_of(args.get("access_key"), args.get("status"))
        items.sort(key=lambda i: str(i["created_at"]), reverse=True)
        return _page(items, args)

    def compute_session(_info: Any, **args: Any) -> dict[str, Any] | None:
        session = registry.sessions.get(str(args["id"]))
        if session is None or session.record.owner != requester:
            return None
        return session_view(session, ctx.users, registry)

    def vfolder_items(_info: Any = None, **args: Any) -> list[dict[str, Any]]:
        if ctx.vfolders is None:
            return []
        out = []
        for item in ctx.vfolders.list_for(args.get("access_key") or requester):
            view = dict(item)
            view.setdefault("user", item.get("user"))
            view.setdefault("domain_name", "default")
            view.setdefault("unmanaged_path", None)
            view.setdefault("last_used", None)
            view.setdefault("num_files", 0)
            out.append(view)
        return out

    def vfolder_list(_info: Any, **args: Any) -> dict[str, Any]:
        return _page(vfolder_items(**args), args)

    def image(_info: Any, **args: Any) -> dict[str, Any] | None:
        try:
            python = resolve_image(config.images, args["reference"])
        except Problem:
            return None
        view = _image_views({args["reference"]: python})[0]
        view["name"], _, view["tag"] = args["reference"].partition(":")
        return view

    agent = _agent_view(registry)
    return {
        "compute_session_list": compute_session_list,
        "compute_session": compute_session,
        "vfolder_list": vfolder_list,
        "vfolder_own_list": vfolder_list,
        "vfolder_project_list": lambda _info, **args: _page([], args),
        "vfolder_invited_list": lambda _info, **args: _page([], args),
        "vfolders": vfolder_items,
        "images": lambda _info, **_args: _image_views(dict(config.images)),
        "image": image,
        "keypair": lambda _info, **args: _keypair_view(
            ctx.users.get(args.get("access_key") or requester, me), config.rate_limit
        ),
        "keypairs": lambda _info, **_args: [_keypair_view(u, config.rate_limit) for u in ctx.users.values()],
        "user": lambda _info, **_args: _user_view(me),
        "user_from_uuid": lambda _info, **_args: _user_view(me),
        "agent": lambda _info, **args: agent if args.get("agent_id") == "local" else None,
        "agents": lambda _info, **_args: [agent],
        "agent_list": lambda _info, **args: _page([agent], args),
    }


async def _run(request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
    example = '{"query": "...", "variables": {...}}'
    body = await read_json_object(request, example=example)
    if not isinstance(body.get("query"), str):
        raise Problem.invalid_params(f"The body needs a query string, as in {example}.")
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        raise Problem.invalid_params("variables must be an object.")
    result = await graphql(
        SCHEMA,
        body["query"],
        root_value=_root(request),
        variable_values=variables,
        operation_name=body.get("operation_name") or body.get("operationName"),
    )
    errors: list[dict[str, Any]] = [dict(e.formatted) for e in result.errors or []]
    return result.data, errors


async def admin_gql(request: web.Request) -> web.Response:
    """``POST /admin/gql``: ``{"data": ..., "errors": [...]}`` with status 200."""
    data, errors = await _run(request)
    return web.json_response({"data": data, "errors": errors} if errors else {"data": data})


async def admin_graphql(request: web.Request) -> web.Response:
    """``POST /admin/graphql`` (before v6.20210815): bare data; errors are 400 graphql-error."""
    data, errors = await _run(request)
    if errors:
        raise Problem(400, "graphql-error", "GraphQL-generated error.", data=errors)
    return web.json_response(data)


def setup_routes(app: web.Application) -> None:
    """Add the GraphQL routes to ``app``."""
    app.router.add_post("/admin/gql", admin_gql)
    app.router.add_post("/admin/graphql", admin_graphql)
