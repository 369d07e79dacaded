"""Session lifecycle routes: create (validation, reuse, enqueue, limits), info, destroy, restart..."""

from __future__ import annotations

import ast
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from manager_helpers import Api, make_endpoint, pid_alive

from backendai_jupyter import wire
from backendai_jupyter.local.images import canonical_image
from backendai_jupyter.local.records import ACTIVE_STATUSES, ENDED_STATUSES, SETTLED_STATUSES
from backendai_jupyter.local.server import LocalEndpointThread

IMAGE = "python:3.11-ubuntu22.04"


async def wait_status(api: Api, name: str, wanted: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status, info, _ = await api.call("GET", f"/session/{name}")
        if status == 200 and info["status"] == wanted:
            return dict(info)
        assert time.monotonic() < deadline, (name, wanted, info)
        await asyncio.sleep(0.1)  # polling a status, not a retry backoff


async def test_create_reuse_info_destroy(api: Api, shared_endpoint: LocalEndpointThread) -> None:
    created = await api.create("life-1", image=IMAGE, reuseIfExists=True)
    assert created == {
        "sessionId": created["sessionId"],
        "sessionName": "life-1",
        "status": "RUNNING",
        "servicePorts": [],
        "created": True,
    }
    again = await api.create("life-1", image=IMAGE)
    assert again == {
        "sessionId": created["sessionId"],
        "sessionName": "life-1",
        "status": "RUNNING",
        "service_ports": [],
        "created": False,
    }
    # a different image under the same name (aliases are compared by their canonical names)
    other = {"image": "python:3.9-ubuntu20.04", "name": "life-1"}
    status, problem, _ = await api.call("POST", "/session", json_body=other)
    assert status == 400
    assert problem["type"].endswith("/session-already-exists")
    assert problem["data"] == {"existingSessionId": created["sessionId"]}

    status, info, _ = await api.call("GET", f"/session/{created['sessionId']}")
    assert status == 200
    assert info["status"] == "RUNNING"
    assert info["image"] == info["lang"] == canonical_image(IMAGE) == f"cr.backend.ai/stable/{IMAGE}"
    assert info["registry"] == "cr.backend.ai"
    assert isinstance(info["occupiedSlots"], str)
    assert "Decimal" in info["occupiedSlots"]
    assert ast.literal_eval(info["environ"]) == {}
    assert {"age", "creationTime", "terminationTime", "numQueriesExecuted", "statusInfo"} <= set(info)
    assert info["statusInfo"] == ""

    session = shared_endpoint.endpoint.registry.find(api.access_key, "life-1")
    assert session.runtime is not None
    pid = session.runtime.pid
    assert pid is not None
    assert pid_alive(pid)
    status, body, _ = await api.call("DELETE", "/session/life-1")
    assert status == 200
    assert body["stats"]["status"] == "terminated"
    assert not pid_alive(pid)
    status, problem, _ = await api.call("GET", "/session/life-1")
    assert status == 404
    assert problem["type"].endswith("/object-not-found")


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        ({"image": "no-such-image:1", "name": "bad-img"}, 404, "object-not-found"),
        ({"image": IMAGE, "name": "x"}, 400, "invalid-api-params"),
        ({"image": IMAGE, "name": "-bad-name-"}, 400, "invalid-api-params"),
        ({"image": IMAGE, "name": "okname", "colour": "red"}, 400, "invalid-api-params"),
        ({"image": IMAGE, "name": "okname", "config": {"nope": 1}}, 400, "invalid-api-params"),
        ({"image": IMAGE, "name": "okname", "config": {"clusterSize": 1}}, 400, "invalid-api-params"),
        ({"image": IMAGE, "name": "okname", "type": "weird"}, 400, "invalid-api-params"),
        ({"image": IMAGE, "name": "okname", "type": "batch"}, 400, "invalid-api-params"),
        ({"image": IMAGE, "name": "okname", "starts_at": "1h"}, 400, "invalid-api-params"),
        ({"image": IMAGE, "name": "okname", "clusterSize": 2}, 412, "quota-exceeded"),
        ({"image": IMAGE, "name": "okname", "config": {"preopen_ports": [80]}}, 400, "invalid-api-params"),
        (
            {"image": IMAGE, "name": "okname", "config": {"mount_map": {"v": "/etc"}}},
            400,
            "invalid-api-params",
        ),
        ({"name": "okname"}, 400, "invalid-api-params"),
        # the name pattern ends in "$", which re.match also lets match before a final newline
        ({"image": IMAGE, "name": "okname\n"}, 400, "invalid-api-params"),
        ({"image": IMAGE, "name": "okname", "config": {"resources": {"mem": -1}}}, 400, "invalid-api-params"),
        ({"image": IMAGE, "name": "okname", "clusterSize": True}, 400, "invalid-api-params"),
    ],
)
async def test_create_is_strictly_validated(api: Api, body: dict[str, Any], status: int, kind: str) -> None:
    got, problem, _ = await api.call("POST", "/session", json_body=body)
    assert (got, problem["type"].rsplit("/", 1)[1]) == (status, kind), problem


async def test_unknown_key_data_names_the_key(api: Api) -> None:
    _, problem, _ = await api.call(
        "POST", "/session", json_body={"image": IMAGE, "name": "okname", "colour": 1}
    )
    assert problem["data"] == {"colour": "colour is not allowed key"}
    _, problem, _ = await api.call("POST", "/session", json_body={"image": "r-base:4.0", "name": "zzzz"})
    assert problem["title"] == "No such environment image."


async def test_aliases_and_v4_create(api: Api) -> None:
    body = {
        "lang": "cr.backend.ai/stable/python:3.9-ubuntu20.04",
        "clientSessionToken": "v4-sess",
        "sessionType": "interactive",
        "config": {"environ": {"GREETING": "hey"}, "resources": {"mem": "512m"}},
    }
    status, created, _ = await api.call("POST", "/kernel/create", json_body=body)
    assert status == 201
    assert created["kernelId"] == "v4-sess"
    assert created["created"] is True
    status, info, _ = await api.call("GET", "/kernel/v4-sess")
    assert status == 200
    assert ast.literal_eval(info["environ"]) == {"GREETING": "hey"}
    assert "536870912" in info["occupiedSlots"]
    results = await api.run_to_end("v4-sess", "import os; print(os.environ['GREETING'], os.getcwd())")
    printed = results[-1]["console"][0][1]
    assert printed.startswith("hey ")
    assert printed.rstrip().endswith("/work")
    assert (await api.call("DELETE", "/kernel/v4-sess"))[0] == 200


async def test_restart_resets_state_and_keeps_files(api: Api) -> None:
    await api.create("restart-me")
    await api.run_to_end("restart-me", "x = 41\nopen('kept.txt', 'w').write('yes')")
    status, _, _ = await api.call("PATCH", "/session/restart-me")
    assert status == 204
    result = (await api.run_to_end("restart-me", "print(open('kept.txt').read())\nx"))[-1]
    assert result["console"][0] == ["stdout", "yes\n"]
    assert result["console"][1][0] == "stderr"
    assert "NameError" in result["console"][1][1]
    await api.call("DELETE", "/session/restart-me")


async def test_interrupt_stops_the_run_and_keeps_state(api: Api) -> None:
    await api.create("interrupt-me")
    await api.run_to_end("interrupt-me", "kept = 7")
    first = await api.execute("interrupt-me", "import time\nprint('start')\ntime.sleep(30)")
    assert first["status"] == "continued"
    status, _, _ = await api.call("POST", "/session/interrupt-me/interrupt")
    assert status == 204
    after = await api.execute("interrupt-me", "", mode="continue", run_id=first["runId"])
    assert after["status"] == "finished"
    assert "KeyboardInterrupt" in after["console"][-1][1]
    assert (await api.run_to_end("interrupt-me", "kept"))[-1]["console"] == [["stdout", "7"]]
    await api.call("DELETE", "/session/interrupt-me")


async def test_complete_rename_logs_match(api: Api) -> None:
    await api.create("misc-sess")
    await api.run_to_end("misc-sess", "my_long_variable_name = 1")
    status, body, _ = await api.call(
        "POST",
        "/session/misc-sess/complete",
        json_body={
            "code": "my_long_var",
            "options": {"row": 0, "col": 11, "line": "my_long_var", "post": ""},
        },
    )
    assert status == 200
    assert body["result"]["status"] == "finished"
    assert "my_long_variable_name" in body["result"]["completions"]

    status, _, _ = await api.call("POST", "/session/misc-sess/rename", params={"name": "misc-renamed"})
    assert status == 204
    assert (await api.call("GET", "/session/misc-sess"))[0] == 404
    status, body, _ = await api.call("GET", "/session/_/match", params={"id": "misc-ren"})
    assert status == 200
    assert [m["name"] for m in body["matches"]] == ["misc-renamed"]
    status, body, _ = await api.call("GET", "/session/misc-renamed/logs")
    assert status == 200
    assert isinstance(body["result"]["logs"], str)
    status, _, _ = await api.call("POST", "/session/misc-renamed/rename", params={"owner_access_key": "x"})
    assert status == 400
    await api.call("DELETE", "/session/misc-renamed")
    status, body, _ = await api.call("GET", "/session/misc-renamed/logs")
    assert status == 200  # logs stay readable after termination


async def test_enqueue_only_then_running(api: Api) -> None:
    created = await api.create("queued-sess", enqueueOnly=True)
    assert created["status"] == "PENDING"
    assert created["created"] is True
    await wait_status(api, "queued-sess", "RUNNING")
    await api.call("DELETE", "/session/queued-sess")


async def test_concurrency_limit_keeps_sessions_pending(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    endpoint = make_endpoint(tmp_path, max_concurrent_sessions=1)
    try:
        api = Api(endpoint.url, endpoint.access_key, endpoint.secret_key, http)
        assert (await api.create("first-one"))["status"] == "RUNNING"
        waited = await api.create("second-one", maxWaitSeconds=1)
        assert waited["status"] == "TIMEOUT"
        assert (await api.call("GET", "/session/second-one"))[1]["status"] == "PENDING"
        status, body, _ = await api.call("DELETE", "/session/first-one")
        assert status == 200
        await wait_status(api, "second-one", "RUNNING")
        status, body, _ = await api.call("DELETE", "/session/second-one")
        assert body["stats"]["status"] == "terminated"
        # a PENDING session is cancelled by destroy
        await api.create("third-one", enqueueOnly=True)
        await api.create("fourth-one", enqueueOnly=True)
        await wait_status(api, "third-one", "RUNNING")
        status, body, _ = await api.call("DELETE", "/session/fourth-one")
        assert (status, body["stats"]["status"]) == (200, "cancelled")
    finally:
        endpoint.stop()
    # records persist; sessions alive at stop come back as TERMINATED
    records = json.loads((tmp_path / "sessions.json").read_text())
    assert {r["spec"]["name"]: r["status"] for r in records}["third-one"] == "TERMINATED"


async def test_idle_timeout_terminates(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    endpoint = make_endpoint(tmp_path, idle_timeout=1.0)
    try:
        api = Api(endpoint.url, endpoint.access_key, endpoint.secret_key, http)
        await api.create("idle-one")
        session = endpoint.endpoint.registry.find(api.access_key, "idle-one")
        deadline = time.monotonic() + 15
        while session.record.status != "TERMINATED":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        assert session.record.status_info == "idle-timeout"
    finally:
        endpoint.stop()


async def test_session_directory_protocol(api: Api, shared_endpoint: LocalEndpointThread) -> None:
    created = await api.create("dir-sess")
    registry = shared_endpoint.endpoint.registry
    workdir = registry.workdir_of(api.access_key, created["sessionId"])
    assert workdir == registry.workdir_of(api.access_key, "dir-sess")
    assert workdir.is_dir()
    await api.call("DELETE", "/session/dir-sess")
    with pytest.raises(Exception, match="No such session"):
        registry.workdir_of(api.access_key, "dir-sess")


async def test_vfolder_is_mounted_as_a_symlink(api: Api) -> None:
    status, created, _ = await api.call("POST", "/folders", json_body={"name": "mountme"})
    if status == 404:
        pytest.skip("vfolder routes not available")
    assert status == 201, created
    try:
        await api.create("mount-sess", config={"mounts": ["mountme"], "mount_map": {"mountme": "data/in"}})
        code = "open('data/in/f.txt', 'w').write('via mount')\nimport os\nprint(os.path.islink('data/in'))"
        assert (await api.run_to_end("mount-sess", code))[-1]["console"] == [["stdout", "True\n"]]
        status, listing, _ = await api.call("GET", "/folders/mountme/files", params={"path": ""})
        assert status == 200
        assert "f.txt" in json.dumps(listing)
        status, problem, _ = await api.call(
            "POST",
            "/session",
            json_body={"image": IMAGE, "name": "mount-bad", "config": {"mounts": ["nope-vf"]}},
        )
        assert status == 404, problem
    finally:
        await api.call("DELETE", "/session/mount-sess")
        await api.call("DELETE", "/folders/mountme")


async def test_batch_session_runs_its_startup_command(api: Api) -> None:
    body = {
        "image": IMAGE,
        "name": "batch-sess",
        "type": "batch",
        "startupCommand": "echo from-batch; exit 0",
        "enqueueOnly": True,
    }
    status, created, _ = await api.call("POST", "/session", json_body=body)
    assert status == 201
    deadline = time.monotonic() + 30
    while True:
        status, _info, _ = await api.call("GET", f"/session/{created['sessionId']}")
        if status == 404:
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    status, body, _ = await api.call("GET", "/session/_/logs", params={"taskId": created["sessionId"]})
    assert status == 200
    assert "from-batch" in body


def test_local_status_groups_keep_their_membership() -> None:
    # derived from wire's groups; the local meaning (ERROR stays findable) is written in records.py
    assert frozenset(wire.SESSION_STATUSES) - {"TERMINATED", "CANCELLED"} == ACTIVE_STATUSES
    assert frozenset({"RUNNING", "ERROR", "CANCELLED", "TERMINATED"}) == SETTLED_STATUSES
    assert frozenset({"TERMINATED", "CANCELLED"}) == ENDED_STATUSES
