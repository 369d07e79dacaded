"""The official SDK docs' examples, with only the import line changed, against a code-running endpoint.

Sources (read for the calling conventions): lablup/backend.ai ``docs/client/dev/examples.rst`` —
"Query mode", "Batch mode", "Handling user inputs", "Asynchronous-mode Execution" and the listing and
create/destroy examples. Deviations are marked ``# deviation:`` (a typo in the docs, or a scripted answer
where the docs call ``input()``).
"""

from __future__ import annotations

import asyncio
import functools
import getpass  # noqa: F401 - the docs' example imports it
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from backendai_jupyter.sdk import config as config_module
from backendai_jupyter.sdk.compat import AsyncSession, Session

pytestmark = pytest.mark.integration

IMAGE = "python:3.9-ubuntu20.04"


@pytest.fixture
def documented_env(local_endpoint: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The docs configure the client through BACKEND_* variables; point them at the local endpoint."""
    for key, value in local_endpoint.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(config_module, "_current", None)


def handle_media(record: list[Any]) -> None:
    """The docs leave this to the reader; print a marker so tests can see it was reached."""
    print(f"[media {record[0]}]")


def test_query_mode(documented_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    with Session() as api_session:
        my_session = api_session.ComputeSession.get_or_create(IMAGE, client_token="doc-query")
        code = 'print("hello world")'
        mode = "query"
        run_id = None
        try:
            while True:
                result = my_session.execute(run_id, code, mode=mode)
                run_id = result["runId"]  # keeps track of this particular run loop
                for rec in result.get("console", []):
                    if rec[0] == "stdout":
                        print(rec[1], end="", file=sys.stdout)
                    elif rec[0] == "stderr":
                        print(rec[1], end="", file=sys.stderr)
                    else:
                        handle_media(rec)
                sys.stdout.flush()
                if result["status"] == "finished":
                    break
                else:
                    mode = "continued"
                    code = ""
        finally:
            my_session.destroy()
    assert "hello world" in capsys.readouterr().out


def test_batch_mode(documented_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "mycode.py").write_text("import sys\nprint('batch args', sys.argv[1:])\n")
    with Session() as session:
        compute_sess = session.ComputeSession.get_or_create(IMAGE, client_token="doc-batch")
        compute_sess.upload([tmp_path / "mycode.py"], basedir=tmp_path)
        code = ""
        mode = "batch"
        run_id = None
        # deviation: no "build": "*" (it would run setup.py install into the endpoint's environment)
        opts = {
            "exec": "python mycode.py arg1 arg2",
        }
        try:
            while True:
                result = compute_sess.execute(run_id, code, mode=mode, opts=opts)  # deviation: docs say kern
                opts.clear()
                run_id = result["runId"]
                for rec in result.get("console", []):
                    if rec[0] == "stdout":
                        print(rec[1], end="", file=sys.stdout)
                    elif rec[0] == "stderr":
                        print(rec[1], end="", file=sys.stderr)
                    else:
                        handle_media(rec)
                sys.stdout.flush()
                if result["status"] == "finished":
                    break
                else:
                    mode = "continued"
                    code = ""
        finally:
            compute_sess.destroy()
    assert "batch args ['arg1', 'arg2']" in capsys.readouterr().out


def test_handling_user_inputs(documented_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter(["Alice", "s3cret"])
    asked_password: list[bool] = []

    def typed_answer(is_password: bool) -> str:  # deviation: stands in for input()/getpass.getpass()
        asked_password.append(is_password)
        return next(answers)

    with Session() as api_session:
        my_session = api_session.ComputeSession.get_or_create(IMAGE, client_token="doc-input")
        code = 'import getpass\nname = input("name? ")\npw = getpass.getpass()\nprint("hello", name, len(pw))'
        mode = "query"
        run_id = None
        try:
            while True:
                result = my_session.execute(run_id, code, mode=mode)
                run_id = result["runId"]
                for rec in result.get("console", []):
                    if rec[0] == "stdout":
                        print(rec[1], end="", file=sys.stdout)
                    elif rec[0] == "stderr":
                        print(rec[1], end="", file=sys.stderr)
                    else:
                        handle_media(rec)
                sys.stdout.flush()
                if result["status"] == "finished":
                    break
                elif result["status"] == "waiting-input":
                    mode = "input"
                    if result["options"].get("is_password", False):
                        code = typed_answer(True)
                    else:
                        code = typed_answer(False)
                else:
                    mode = "continued"
                    code = ""
        finally:
            my_session.destroy()
    assert asked_password == [False, True]
    assert "hello Alice 6" in capsys.readouterr().out


def test_asynchronous_mode_stream_execute(documented_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter(["Bob"])

    async def main() -> None:
        async with AsyncSession() as api_session:
            compute_sess = await api_session.ComputeSession.get_or_create(IMAGE, client_token="mysession")
            code = 'name = input("who? ")\nprint("hello", name)'
            mode = "query"
            try:
                async with compute_sess.stream_execute(code, mode=mode) as stream:
                    # no need for explicit run_id since WebSocket connection represents it!
                    async for result in stream:
                        if result.type != aiohttp.WSMsgType.TEXT:
                            continue
                        result = json.loads(result.data)
                        for rec in result.get("console", []):
                            if rec[0] == "stdout":
                                print(rec[1], end="", file=sys.stdout)
                            elif rec[0] == "stderr":
                                print(rec[1], end="", file=sys.stderr)
                            else:
                                handle_media(rec)
                        sys.stdout.flush()
                        if result["status"] == "finished":
                            break
                        elif result["status"] == "waiting-input":
                            mode = "input"
                            code = next(answers)  # deviation: stands in for input()
                            await stream.send_text(code)
                        else:
                            mode = "continued"
                            code = ""
            finally:
                await compute_sess.destroy()

    asyncio.run(main())
    assert "hello Bob" in capsys.readouterr().out


def test_listing_and_create_destroy(documented_env: None) -> None:
    with Session() as api_session:
        my_session = api_session.ComputeSession.get_or_create(IMAGE, client_token="doc-listing")
        try:
            fetch_func = functools.partial(api_session.ComputeSession.paginated_list, status="RUNNING")
            current_offset = 0
            seen: list[dict[str, Any]] = []
            while True:
                result = fetch_func(page_offset=current_offset, page_size=20)
                if result.total_count == 0:
                    break
                current_offset += len(result.items)
                seen.extend(result.items)
                if current_offset >= result.total_count:
                    break
            assert my_session.id in {item["id"] for item in seen}
        finally:
            my_session.destroy()
