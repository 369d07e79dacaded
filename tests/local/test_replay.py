"""Every request of the recorded 23.09 execute samples, replayed locally, gives a result of the same shape."""

from __future__ import annotations

import json
import textwrap
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from manager_helpers import Api

from backendai_jupyter.local.server import LocalEndpointThread

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
SAMPLE_FILES = sorted(SAMPLES.glob("execute-*.jsonl"))

# The "batch" case ran a main.py that is not part of the recording; this one produces the recorded shape:
# stdout (output and prompt) then stderr before waiting-input, then "got <name>" and exit status 3.
BATCH_MAIN = textwrap.dedent(
    """\
    import sys, time
    sys.stdout.write('batch out\\nwho? '); sys.stdout.flush()
    time.sleep(0.2)
    sys.stderr.write('batch err\\n'); sys.stderr.flush()
    time.sleep(0.2)
    name = input()
    print(f'got {name}')
    sys.exit(3)
    """
)


def load_cases() -> list[tuple[str, str, list[dict[str, Any]]]]:
    cases: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for path in SAMPLE_FILES:
        for line in path.read_text().splitlines():
            if line.strip():
                item = json.loads(line)
                cases[(path.stem, item["case"])].append(item)
    return [(f, c, sorted(calls, key=lambda i: i["call"])) for (f, c), calls in cases.items()]


CASES = load_cases()


def shape(result: dict[str, Any]) -> dict[str, Any]:
    """What must match: field names, status, exit code, options form, console item types in order."""
    options = result["options"]
    return {
        "fields": sorted(result),
        "status": result["status"],
        "exitCode": result["exitCode"],
        "options": None if options is None else sorted(options),
        "console": [item[0] for item in result["console"]],
    }


def test_samples_are_present() -> None:
    assert SAMPLE_FILES, f"no samples in {SAMPLES}"
    assert len(CASES) >= 14


@pytest.mark.parametrize(("sample", "case", "calls"), CASES, ids=[f"{f}:{c}" for f, c, _ in CASES])
async def test_replay_gives_the_recorded_shape(
    api: Api, shared_endpoint: LocalEndpointThread, sample: str, case: str, calls: list[dict[str, Any]]
) -> None:
    name = f"replay-{case}"
    created = await api.create(name)
    assert created["status"] == "RUNNING"
    if case == "batch":
        workdir = shared_endpoint.endpoint.registry.workdir_of(api.access_key, name)
        (workdir / "main.py").write_text(BATCH_MAIN)
    try:
        for item in calls:
            request = item["request"]
            if case == "interrupt" and item["call"] == 2:
                status, _, _ = await api.call("POST", f"/session/{name}/interrupt")
                assert status == 204
            status, body, _ = await api.call("POST", f"/session/{name}", json_body=request)
            assert status == 200, body
            result = body["result"]
            assert result["runId"] == request["runId"]
            assert shape(result) == shape(item["result"]), (case, item["call"], result)
    finally:
        await api.call("DELETE", f"/session/{name}")
