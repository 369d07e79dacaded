"""The execute routes: REST ``POST /session/{id}`` and the ``/stream/session/{id}/execute`` WebSocket.

They find the caller's session in the registry and drive its ``execute.Executor``; what a run does is there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from typing import Any

from aiohttp import WSMsgType, web

from ..wire import MAX_WS_MESSAGE_SIZE, REST_FLUSH_SECONDS, WS_FLUSH_SECONDS
from .context import REGISTRY, REQUEST_ACCESS_KEY
from .execute import Executor, Run, lost_run
from .params import read_json_object
from .problems import Problem
from .registry import Session

__all__ = ["setup_routes"]

EXECUTE_MODES = ("query", "batch", "continue", "input")


def _session(request: web.Request) -> Session:
    name = request.match_info["session_name"]
    return request.app[REGISTRY].find(request[REQUEST_ACCESS_KEY], name)


def _start_or_find(executor: Executor, params: dict[str, Any]) -> Run:
    mode = params.get("mode")
    run_id = params.get("runId")
    if mode not in (*EXECUTE_MODES, "complete"):
        raise Problem.invalid_params(f"mode={mode!r}: use query, batch, continue or input.")
    if "runId" not in params:
        raise Problem.invalid_params("runId is required (null starts a new run).")
    if run_id is not None and not isinstance(run_id, str):
        raise Problem.invalid_params(f"runId={run_id!r}: must be a string or null.")
    code = params.get("code") or ""
    if not isinstance(code, str):
        raise Problem.invalid_params("code must be a string.")
    options = params.get("options") or {}
    if not isinstance(options, dict):
        raise Problem.invalid_params("options must be an object or null.")
    if mode == "complete":
        raise Problem.invalid_params("mode=complete is not an execute mode; use POST /session/{id}/complete.")
    if mode in ("continue", "input"):
        if run_id is None:
            raise Problem.invalid_params(f"runId is required for mode {mode!r}.")
        run = executor.runs.get(run_id)
        if run is None:
            return lost_run(run_id)
        if mode == "input":
            run.inputs.put_nowait(code)
        return run
    if mode == "batch":
        return executor.start_batch(run_id, options)
    return executor.start_query(run_id, code)


async def execute_rest(request: web.Request) -> web.Response:
    """``POST /session/{id}``: one step of the query / continue / input loop."""
    session = _session(request)
    params = await read_json_object(request, example='{"mode": "query", "code": "print(1)"}')
    run = _start_or_find(session.executor, params)
    result = await run.next_result(REST_FLUSH_SECONDS)
    session.executor.forget(run)
    return web.json_response({"result": result})


async def execute_ws(request: web.Request) -> web.WebSocketResponse:
    """``GET /stream/session/{id}/execute``: one run per socket, 0.2 s flushes, raw-text input frames."""
    session = _session(request)
    ws = web.WebSocketResponse(max_msg_size=MAX_WS_MESSAGE_SIZE)
    await ws.prepare(request)
    first = await ws.receive()
    try:
        params = json.loads(first.data) if first.type == WSMsgType.TEXT else None
    except ValueError:
        params = None
    if not isinstance(params, dict) or params.get("mode", "query") not in ("query", "batch"):
        await ws.send_json(
            {"status": "error", "msg": "The first frame must be JSON {code, mode: query|batch}."}
        )
        await ws.close()
        return ws
    executor = session.executor
    run_id = secrets.token_hex(8)
    options = params.get("options") or {}
    if params.get("mode") == "batch":
        run = executor.start_batch(run_id, options if isinstance(options, dict) else {})
    else:
        run = executor.start_query(run_id, str(params.get("code") or ""))

    async def read_input() -> None:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                run.inputs.put_nowait(msg.data)
        if not run.finished:
            await executor.interrupt()  # the client went away mid-run

    reader = asyncio.get_running_loop().create_task(read_input())
    try:
        while not ws.closed:
            result = await run.next_result(WS_FLUSH_SECONDS)
            if result["status"] == "continued" and not result["console"]:
                continue
            result.pop("runId")
            await ws.send_json(result)
            if run.finished:
                break
    finally:
        executor.runs.pop(run.run_id, None)  # nobody can continue a WebSocket run from elsewhere
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader
        await ws.close()
    return ws


def setup_routes(app: web.Application) -> None:
    """Add the execute routes (and their v4 ``/kernel`` aliases) to ``app``."""
    for prefix in ("/session", "/kernel"):
        app.router.add_post(prefix + "/{session_name}", execute_rest)
        app.router.add_get("/stream" + prefix + "/{session_name}/execute", execute_ws)
