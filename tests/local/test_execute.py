"""Execution through REST and WebSocket: every output format, the run-ID state machine, batch mode."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from manager_helpers import Api, make_endpoint

SESSION = "exec-tests"


@pytest.fixture
async def session(api: Api) -> AsyncIterator[str]:
    """A running session shared in spirit (reused by name) by the tests of this module."""
    created = await api.create(SESSION)
    assert created["status"] == "RUNNING"
    return SESSION


async def final(api: Api, session: str, code: str, inputs: list[str] | None = None) -> dict[str, Any]:
    results = await api.run_to_end(session, code, inputs)
    assert results[-1]["status"] == "finished"
    return results[-1]


async def test_print_generated_run_id_and_fields(api: Api, session: str) -> None:
    result = await api.execute(session, "print('Hello, world!')")
    assert result == {
        "runId": result["runId"],
        "status": "finished",
        "exitCode": 0,
        "options": None,
        "console": [["stdout", "Hello, world!\n"]],
        "files": [],
    }
    assert re.fullmatch(r"[0-9a-f]{32}", result["runId"])


async def test_result_value_is_stdout_without_newline(api: Api, session: str) -> None:
    assert (await final(api, session, "1+1"))["console"] == [["stdout", "2"]]


async def test_exception_is_ansi_traceback_on_stderr_with_exit_code_zero(api: Api, session: str) -> None:
    result = await final(api, session, "a = 1\nprint('before')\na / 0")
    assert [kind for kind, _ in result["console"]] == ["stdout", "stderr"]
    assert "\x1b[" in result["console"][1][1]
    assert result["console"][1][1].rstrip().endswith("division by zero")
    assert result["exitCode"] == 0


async def test_five_second_loop_comes_back_in_continued_slices(api: Api, session: str) -> None:
    code = "import time\nfor i in range(5):\n    print(f'Tick {i+1}')\n    time.sleep(1)\nprint('done')"
    started = time.monotonic()
    results = await api.run_to_end(session, code)
    statuses = [r["status"] for r in results]
    assert statuses[-1] == "finished"
    assert set(statuses[:-1]) == {"continued"}
    assert len(statuses) >= 3
    text = "".join(item[1] for r in results for item in r["console"])
    assert text == "".join(f"Tick {i}\n" for i in range(1, 6)) + "done\n"
    assert 4.5 < time.monotonic() - started < 9


async def test_input_and_getpass(api: Api, session: str) -> None:
    results = await api.run_to_end(session, "name = input('>> ')\nprint(f'Hello, {name}!')", ["Lablup"])
    assert results[0]["status"] == "waiting-input"
    assert results[0]["options"] == {"is_password": False}
    assert results[0]["console"] == [["stdout", ">> "]]
    assert results[-1]["console"] == [["stdout", "Hello, Lablup!\n"]]
    results = await api.run_to_end(
        session, "import getpass\np = getpass.getpass()\nprint(len(p))", ["s3cret"]
    )
    assert results[0]["options"] == {"is_password": True}
    assert results[-1]["console"] == [["stdout", "6\n"]]


async def test_matplotlib_plot_is_a_png_data_uri(api: Api, session: str) -> None:
    code = (
        "import matplotlib.pyplot as plt\nplt.rcParams['figure.figsize']=(1,1)\nprint('plotting')\n"
        "plt.plot([1,2],[3,4]); plt.show()\nprint('done')"
    )
    result = await final(api, session, code)
    assert [kind for kind, _ in result["console"]] == ["stdout", "media", "stdout"]
    mime, data = result["console"][1][1]
    assert mime == "image/png"
    assert data.startswith("data:image/png;base64,iVBOR")


async def test_svg_html_drawing_and_dropped_types(api: Api, session: str) -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'
    result = await final(api, session, f"from IPython.display import SVG, display\ndisplay(SVG('{svg}'))")
    assert result["console"] == [["media", ["image/svg+xml", svg]]]
    result = await final(api, session, "import pandas as pd\npd.DataFrame({'a': [1, 2]})")
    assert result["console"][0][0] == "html"
    assert "<table" in result["console"][0][1]
    drawing = "display({'application/x-sorna-drawing': 'kZMAo2Zvbw=='}, raw=True)"
    result = await final(api, session, f"from IPython.display import display\n{drawing}")
    assert result["console"] == [["media", ["application/x-sorna-drawing", "kZMAo2Zvbw=="]]]
    result = await final(
        api, session, "from IPython.display import Markdown, Latex\ndisplay(Markdown('*x*'))"
    )
    assert result["console"] == []


async def test_drawing_module_output_if_available(api: Api, session: str) -> None:
    pytest.importorskip("backendai_jupyter.drawing")
    code = (
        "from backendai_jupyter.drawing import Canvas\nc = Canvas(100, 80)\nc.circle(50, 40, 20)\nc.update()"
    )
    result = await final(api, session, code)
    assert result["console"]
    assert result["console"][0][1][0] == "application/x-sorna-drawing"


async def test_bad_execute_requests_are_400(api: Api, session: str) -> None:
    for body in (
        {"mode": "query", "code": "1"},  # runId missing
        {"mode": "continue", "code": "", "runId": None},
        {"mode": "nonsense", "code": "", "runId": None},
        {"mode": "complete", "code": "pri", "runId": None},
    ):
        status, problem, _ = await api.call("POST", f"/session/{session}", json_body=body)
        assert status == 400, body
        assert problem["type"].endswith("/invalid-api-params")
    status, problem, _ = await api.call(
        "POST", "/session/no-such-session", json_body={"mode": "query", "runId": None}
    )
    assert status == 404
    assert problem["title"] == "No such session."


async def test_unknown_run_id_finishes_like_a_vanished_kernel(api: Api, session: str) -> None:
    result = await api.execute(session, "", mode="continue", run_id="feedfacefeedface")
    assert result["status"] == "finished"
    assert result["exitCode"] == 130


async def ws_run(api: Api, session: str, first: dict[str, Any], inputs: list[str]) -> list[dict[str, Any]]:
    ws = await api.ws(f"/stream/session/{session}/execute")
    frames: list[dict[str, Any]] = []
    try:
        await ws.send_str(json.dumps(first))
        async for msg in ws:
            assert msg.type == aiohttp.WSMsgType.TEXT
            frame = json.loads(msg.data)
            frames.append(frame)
            if frame["status"] == "waiting-input":
                await ws.send_str(inputs.pop(0))
            if frame["status"] in ("finished", "exec-timeout", "error"):
                break
        closing = await ws.receive(timeout=5)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED)
    finally:
        await ws.close()
    return frames


async def test_websocket_streams_with_input(api: Api, session: str) -> None:
    code = (
        "import time\nfor i in range(3):\n    print(i)\n    time.sleep(0.5)\n"
        "name = input('who? ')\nprint('hi', name)"
    )
    frames = await ws_run(api, session, {"code": code, "mode": "query", "options": {}}, ["Bob"])
    assert [f["status"] for f in frames][-2:] == ["waiting-input", "finished"]
    assert frames.count(frames[0]) == 1
    assert len(frames) >= 4
    assert set(frames[-1]) == {"status", "console", "exitCode", "options", "files"}
    out = "".join(item[1] for f in frames for item in f["console"] if item[0] == "stdout")
    assert out == "0\n1\n2\nwho? hi Bob\n"


async def test_websocket_rejects_a_bad_first_frame(api: Api, session: str) -> None:
    frames = await ws_run(api, session, {"code": "1", "mode": "continue"}, [])
    assert frames[0]["status"] == "error"


async def test_batch_mode_steps_env_and_input(api: Api, session: str) -> None:
    options = {
        "clean": "echo cleaning",
        "build": "",
        "exec": "echo mode=$_BACKEND_BATCH_MODE; python -c 'print(input(\"who? \"))'",
    }
    results = [await api.execute(session, "", mode="batch", options=options)]
    while results[-1]["status"] != "finished":
        mode = "input" if results[-1]["status"] == "waiting-input" else "continue"
        code = "Alice" if mode == "input" else ""
        results.append(await api.execute(session, code, mode=mode, run_id=results[0]["runId"]))
    assert [r["status"] for r in results] == ["clean-finished", "build-finished", "waiting-input", "finished"]
    assert results[0]["console"] == [["stdout", "cleaning\n"]]
    assert results[2]["options"] == {}
    assert results[2]["console"] == [["stdout", "mode=1\nwho? "]]
    assert results[3] == {**results[3], "exitCode": 0, "console": [["stdout", "Alice\n"]]}


async def test_runs_on_one_session_are_queued_fifo(api: Api, session: str) -> None:
    first = asyncio.create_task(final(api, session, "import time\ntime.sleep(1)\nprint('first')"))
    await asyncio.sleep(0.2)
    second = await final(api, session, "print('second')")
    assert (await first)["console"] == [["stdout", "first\n"]]
    assert second["console"] == [["stdout", "second\n"]]


async def test_kernel_death_finishes_the_run_and_ends_the_session(api: Api) -> None:
    await api.create("dying-sess")
    result = (await api.run_to_end("dying-sess", "import os\nos._exit(1)"))[-1]
    assert result["exitCode"] == 130
    deadline = time.monotonic() + 15
    while (await api.call("GET", "/session/dying-sess"))[0] != 404:
        assert time.monotonic() < deadline, "the session outlived its kernel"
        await asyncio.sleep(0.1)


async def test_exec_timeout(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    endpoint = make_endpoint(tmp_path, exec_timeout=1.0)
    try:
        api = Api(endpoint.url, endpoint.access_key, endpoint.secret_key, http)
        await api.create("slow-sess")
        results = await api.run_to_end("slow-sess", "import time\ntime.sleep(20)")
        assert results[-1]["status"] == "exec-timeout"
        assert results[-1]["exitCode"] is None
    finally:
        endpoint.stop()
