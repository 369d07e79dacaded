"""Console items -> Jupyter iopub messages, and a cell's error outcome, for every recorded sample and more."""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

import msgpack
import pytest

from backendai_jupyter.display import (
    ConsoleRenderer,
    ExecutionRenderer,
    IopubMessage,
    StatusLine,
    format_elapsed,
    status_text,
)
from backendai_jupyter.drawing import Canvas, Colors

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
MIME_KEY = re.compile(r"^[\w\-\+\.]+/[\w\-\+\.]+$")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def check_schema(message: IopubMessage) -> None:
    """The parts of the v5 message schema that proxy kernels get wrong (docs/peers.md §5)."""
    kind, content = message
    if kind == "stream":
        assert content["name"] in ("stdout", "stderr")
        assert isinstance(content["text"], str)
        assert content["text"]
    elif kind in ("display_data", "update_display_data"):
        assert isinstance(content["metadata"], dict)
        assert content["data"]
        assert all(MIME_KEY.match(key) for key in content["data"])
        assert "text/plain" in content["data"]
        if kind == "update_display_data":
            assert content["transient"]["display_id"]
    elif kind == "error":
        assert set(content) == {"ename", "evalue", "traceback"}
        assert all(isinstance(line, str) for line in content["traceback"])
    else:
        raise AssertionError(f"unexpected message type {kind}")


def load_runs() -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in sorted(SAMPLES.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            runs[f"{path.stem}:{record['case']}"].append(record)
    return dict(runs)


RUNS = load_runs()
# the error each recorded run must end with; every other run replies ok
EXPECTED_ERRORS = {
    "execute-query-23.09:runtime-error": ("ZeroDivisionError", "division by zero"),
    "execute-query-23.09:interrupt": ("KeyboardInterrupt", ""),
    "execute-batch-23.09:sys-exit": ("SystemExit", "3"),
}


def test_samples_are_present() -> None:
    if not SAMPLES.exists():
        pytest.skip(f"{SAMPLES} is missing (the shared samples live next to the checkout)")
    assert len(RUNS) >= 10


@pytest.mark.parametrize("name", sorted(RUNS))
def test_every_sample_run(name: str) -> None:
    console = ConsoleRenderer("abc")
    run = ExecutionRenderer(console)
    messages: list[IopubMessage] = []
    for record in RUNS[name]:
        result = record["result"]
        for item in result["console"]:
            produced = run.feed(item)
            kind, data = item
            # each console item maps to the expected message types
            if kind == "stdout":
                assert produced == [("stream", {"name": "stdout", "text": data})]
            elif kind == "stderr" and name not in EXPECTED_ERRORS:
                assert produced == [("stream", {"name": "stderr", "text": data})]
            elif kind == "stderr":
                types = [m.msg_type for m in produced]
                assert types.count("error") == 1
                assert set(types) <= {"error", "stream"}
            elif kind == "media":
                mime, payload = data
                (message,) = produced
                assert message.msg_type == "display_data"
                if payload.startswith("data:"):
                    b64 = message.content["data"][mime]
                    assert not b64.startswith("data:")  # Jupyter wants bare base64
                    assert b64 == payload.split(",", 1)[1]
                    assert base64.b64decode(b64).startswith(PNG_MAGIC)
                else:
                    assert message.content["data"][mime] == payload
            messages.extend(produced)
        final = result
    messages.extend(run.finish(status=final["status"], exit_code=final["exitCode"]))
    for message in messages:
        check_schema(message)
    errors = [m for m in messages if m.msg_type == "error"]
    if name in EXPECTED_ERRORS:
        (error,) = errors  # exactly one error output, not the stderr text as well
        assert (error.content["ename"], error.content["evalue"]) == EXPECTED_ERRORS[name]
        reply = run.reply()
        assert reply["status"] == "error"
        assert reply["ename"] == EXPECTED_ERRORS[name][0]
        assert not any(m.msg_type == "stream" and "Traceback" in m.content["text"] for m in messages)
    else:
        assert errors == []
        assert run.reply() == {"status": "ok"}


def test_sys_exit_keeps_the_warning_as_stderr() -> None:
    (record,) = RUNS.get("execute-batch-23.09:sys-exit") or pytest.skip("samples missing")
    run = ExecutionRenderer(ConsoleRenderer())
    messages = run.feed_all(record["result"]["console"])
    assert [m.msg_type for m in messages] == ["error", "stream"]
    assert "UserWarning: To exit" in messages[1].content["text"]


def test_batch_exit_codes_fail_the_cell_when_reliable() -> None:
    for name, code in (
        ("execute-batch-23.09:batch", 3),
        ("execute-batch-23.09:batch-custom-build-fail", 127),
    ):
        records = RUNS.get(name) or pytest.skip("samples missing")
        run = ExecutionRenderer(ConsoleRenderer(), exit_code_reliable=True)
        for record in records:
            run.feed_all(record["result"]["console"])
        last = records[-1]["result"]
        (error,) = run.finish(status=last["status"], exit_code=last["exitCode"])
        assert error.msg_type == "error"
        assert error.content["ename"] == "NonZeroExitCode"
        assert str(code) in error.content["evalue"]
        assert run.reply()["status"] == "error"


def test_exit_code_zero_and_unreliable_codes_are_ok() -> None:
    run = ExecutionRenderer(ConsoleRenderer(), exit_code_reliable=True)
    assert run.finish(status="finished", exit_code=0) == []
    assert run.reply() == {"status": "ok"}
    run = ExecutionRenderer(ConsoleRenderer())  # 23.09 query mode: exitCode means nothing
    assert run.finish(status="finished", exit_code=1) == []
    assert run.reply() == {"status": "ok"}


def test_exec_timeout_and_interrupt_without_traceback() -> None:
    run = ExecutionRenderer(ConsoleRenderer())
    (error,) = run.finish(status="exec-timeout")
    assert error.content["ename"] == "ExecutionTimeout"
    assert "run the cell again" in error.content["evalue"]
    run = ExecutionRenderer(ConsoleRenderer())
    run.feed(["stderr", "Interrupted!"])  # the legacy runner's interrupt note
    (error,) = run.finish(interrupted=True)
    assert error.content["ename"] == "KeyboardInterrupt"


PLAIN_TB = 'Traceback (most recent call last):\n  File "<input>", line 1, in <module>\nValueError: bad\n'


def test_plain_traceback_at_the_end_is_the_error() -> None:
    run = ExecutionRenderer(ConsoleRenderer())
    assert run.feed(["stdout", "start\n"]) == [("stream", {"name": "stdout", "text": "start\n"})]
    assert run.feed(["stderr", "warning: x\n" + PLAIN_TB]) == [
        ("stream", {"name": "stderr", "text": "warning: x\n"})
    ]
    (error,) = run.finish(status="finished", exit_code=0)
    assert error.content["ename"] == "ValueError"
    assert error.content["evalue"] == "bad"
    assert run.reply()["status"] == "error"


def test_plain_traceback_followed_by_output_was_only_printed() -> None:
    run = ExecutionRenderer(ConsoleRenderer())
    assert run.feed(["stderr", PLAIN_TB]) == []
    messages = run.feed(["stdout", "still running\n"])
    assert messages == [
        ("stream", {"name": "stderr", "text": PLAIN_TB}),
        ("stream", {"name": "stdout", "text": "still running\n"}),
    ]
    assert run.finish() == []
    assert run.reply() == {"status": "ok"}


def test_plain_tracebacks_can_be_left_as_text() -> None:
    run = ExecutionRenderer(ConsoleRenderer(), plain_tracebacks=False)
    assert run.feed(["stderr", PLAIN_TB]) == [("stream", {"name": "stderr", "text": PLAIN_TB})]
    assert run.finish() == []
    assert run.reply() == {"status": "ok"}


def test_only_the_first_traceback_is_the_error() -> None:
    (record,) = RUNS.get("execute-query-23.09:runtime-error") or pytest.skip("samples missing")
    traceback_text = record["result"]["console"][1][1]
    run = ExecutionRenderer(ConsoleRenderer())
    first = run.feed(["stderr", traceback_text])
    second = run.feed(["stderr", traceback_text])
    assert [m.msg_type for m in first] == ["error"]
    assert [m.msg_type for m in second] == ["stream"]


def drawing_batches() -> tuple[int, str, str]:
    canvas = Canvas(100, 80)
    canvas.circle(50, 40, 20, fill=Colors.Red)
    first = canvas.update()
    canvas.create_turtle().forward(30)
    second = canvas.update()
    assert first is not None
    assert second is not None
    return canvas.id, first, second


def test_drawing_updates_in_place() -> None:
    cid, first, second = drawing_batches()
    console = ConsoleRenderer("sess1")
    run = ExecutionRenderer(console)
    (shown,) = run.feed(["media", ["application/x-sorna-drawing", first]])
    (updated,) = run.feed(["media", ["application/x-sorna-drawing", second]])
    display_id = f"sorna-canvas-sess1-{cid}"
    assert shown.msg_type == "display_data"
    assert updated.msg_type == "update_display_data"
    for message in (shown, updated):
        check_schema(message)
        assert message.content["transient"] == {"display_id": display_id}
        assert message.content["data"]["text/plain"] == f"<Canvas {cid}>"
    root = ET.fromstring(updated.content["data"]["image/svg+xml"])
    tags = [child.tag.split("}")[1] for child in root]
    assert tags == ["title", "rect", "circle", "line", "polygon"]  # cumulative state of both batches
    # a later cell drawing on the same canvas gets its own display first, then updates it
    run = ExecutionRenderer(console)
    (again,) = run.feed(["media", ["application/x-sorna-drawing", second]])
    assert again.msg_type == "display_data"
    assert again.content["transient"] == {"display_id": display_id}


def test_drawing_legacy_media_dict_and_bad_payload() -> None:
    _cid, first, _ = drawing_batches()
    console = ConsoleRenderer("s")
    # the runner-level form {"type", "data"}, also as a JSON string
    raw = json.dumps({"type": "application/x-sorna-drawing", "data": first})
    (message,) = console.render(["media", raw])
    assert message.msg_type == "display_data"
    assert "image/svg+xml" in message.content["data"]
    (bad,) = console.render(["media", ["application/x-sorna-drawing", "%%%"]])
    assert bad.msg_type == "display_data"
    assert set(bad.content["data"]) == {"text/plain"}
    assert "cannot draw" in bad.content["data"]["text/plain"]


def test_recreated_canvas_gets_a_new_display() -> None:
    console = ConsoleRenderer("s")
    header = [[0, "canvas", 10, 10, "#ffffffff", "#000000ff"]]
    payload = base64.b64encode(msgpack.packb(header)).decode()
    (first,) = console.render(["media", ["application/x-sorna-drawing", payload]])
    (second,) = console.render(["media", ["application/x-sorna-drawing", payload]])
    assert first.content["transient"]["display_id"] == "sorna-canvas-s-0"
    assert second.msg_type == "display_data"
    assert second.content["transient"]["display_id"] == "sorna-canvas-s-0-2"
    console.reset()
    (third,) = console.render(["media", ["application/x-sorna-drawing", payload]])
    assert third.msg_type == "display_data"
    assert third.content["transient"]["display_id"] == "sorna-canvas-s-0"


@pytest.mark.parametrize(
    ("item", "data"),
    [
        # the 23.09 runner's broken form: a media record whose payload is raw HTML
        (
            ["media", "<table><tr><td>1</td></tr></table>"],
            {"text/html": "<table><tr><td>1</td></tr></table>"},
        ),
        (["media", ["text/html", "<b>x</b>"]], {"text/html": "<b>x</b>"}),
        (["media", ["text/html; charset=utf-8", "<i>y</i>"]], {"text/html": "<i>y</i>"}),
        (["html", "<div>legacy</div>"], {"text/html": "<div>legacy</div>"}),
        (["media", ["image/svg+xml", "<svg/>"]], {"image/svg+xml": "<svg/>"}),
        (["media", ["image/svg+xml", "data:image/svg+xml,%3Csvg%2F%3E"]], {"image/svg+xml": "<svg/>"}),
        (["media", ["image/svg+xml", "data:image/svg+xml;base64,PHN2Zy8+"]], {"image/svg+xml": "<svg/>"}),
        (["media", ["image/jpeg", "data:image/jpeg;base64,/9j/4A=="]], {"image/jpeg": "/9j/4A=="}),
        (["media", ["image/gif", "R0lGODlh"]], {"image/gif": "R0lGODlh"}),  # already bare base64
        (["media", ["text/markdown", "# T"]], {"text/markdown": "# T", "text/plain": "# T"}),
        (["media", ["application/json", '{"a": 1}']], {"application/json": {"a": 1}}),
        (["media", ["text/plain", "just text"]], {"text/plain": "just text"}),
        # unknown media types fall back to text/plain (and keep a valid mime for front ends that know it)
        (["media", ["application/x-unknown", "payload"]], {"text/plain": "payload"}),
        (["media", ["not a mime", "payload"]], {"text/plain": "payload"}),
        (["media", 42], {"text/plain": "42"}),
    ],
)
def test_media_and_html(item: list[Any], data: dict[str, Any]) -> None:
    (message,) = ConsoleRenderer().render(item)
    check_schema(message)
    assert message.msg_type == "display_data"
    assert message.content["metadata"] == {}
    for key, value in data.items():
        assert message.content["data"][key] == value


def test_audio_gets_an_html_player() -> None:
    (message,) = ConsoleRenderer().render(["media", ["audio/ogg", "data:audio/ogg;base64,T2dnUw=="]])
    bundle = message.content["data"]
    assert bundle["audio/ogg"] == "T2dnUw=="
    assert '<audio controls src="data:audio/ogg;base64,T2dnUw=="' in bundle["text/html"]


def test_bad_image_data_falls_back_to_text() -> None:
    (message,) = ConsoleRenderer().render(["media", ["image/png", "data:image/png;base64,***"]])
    assert set(message.content["data"]) == {"text/plain"}


def test_gitgraph() -> None:
    commits = [
        {"oid": "0123456789", "parent_ids": [], "author": "Ann", "message": "init\n\nbody", "branch": "main"},
        {
            "oid": "abcdef0123",
            "parent_ids": ["0123456789"],
            "author": "Bob",
            "message": "<fix>",
            "branch": "",
        },
    ]
    for data in (commits, json.dumps(commits)):
        (message,) = ConsoleRenderer().render(["media", ["application/vnd.sorna.gitgraph", data]])
        bundle = message.content["data"]
        assert bundle["text/plain"] == "* 0123456 (main) init - Ann\n* abcdef0 <fix> - Bob"
        assert "&lt;fix&gt;" in bundle["text/html"]
        assert bundle["text/html"].startswith("<ul")


def test_log_completion_and_unknown_items() -> None:
    console = ConsoleRenderer()
    assert console.render(["log", ["warning", "2024-01-01T00:00:00", "runner", "low memory"]]) == [
        ("stream", {"name": "stderr", "text": "2024-01-01T00:00:00 WARNING runner: low memory\n"})
    ]
    assert console.render(["log", "raw line"]) == [("stream", {"name": "stderr", "text": "raw line\n"})]
    assert console.render(["completion", ["print"]]) == []
    assert console.render(["stdout", ""]) == []
    (unknown,) = console.render(["goto", {"line": 3}])
    assert unknown.content["data"] == {"text/plain": '[goto] {"line": 3}'}
    (broken,) = console.render("not an item")
    assert broken.msg_type == "display_data"
    assert broken.content["data"]["text/plain"] == "not an item"


def test_streams_keep_ansi() -> None:
    text = "\x1b[1;32mok\x1b[0m\n"
    assert ConsoleRenderer().render(["stdout", text]) == [("stream", {"name": "stdout", "text": text})]


def test_status_line() -> None:
    line = StatusLine("st-1")
    first = line.show(status_text("pending", session="nb-1", elapsed=3.21, image="python:3.11"))
    second = line.show(status_text("RUNNING", session="nb-1", elapsed=75))
    assert first.msg_type == "display_data"
    assert second.msg_type == "update_display_data"
    assert first.content["transient"] == second.content["transient"] == {"display_id": "st-1"}
    assert first.content["data"]["text/plain"] == (
        "Backend.AI session 'nb-1' (python:3.11): PENDING - waiting for resources (3.2 s)"
    )
    assert second.content["data"]["text/plain"].endswith("RUNNING - ready (1 min 15 s)")
    for message in (first, second):
        check_schema(message)
    assert StatusLine().display_id != StatusLine().display_id
    assert format_elapsed(12.9) == "12 s"
    with pytest.raises(ValueError, match="negative"):
        format_elapsed(-1)
