"""Parsing of API replies into the frozen models, including the docs/protocol.md §9 quirks."""

from __future__ import annotations

import dataclasses
import json

import pytest

from backendai_jupyter.sdk.types import (
    ConsoleItem,
    CreatedSession,
    ExecutionResult,
    FileEntry,
    ImageInfo,
    KeypairInfo,
    SessionEvent,
    SessionInfo,
    SessionListItem,
    VFolderFile,
    VFolderHosts,
    VFolderInfo,
)


def test_created_session_reads_both_port_spellings_and_v4_ids() -> None:
    new = CreatedSession.from_api(
        {"sessionId": "u1", "sessionName": "s1", "status": "RUNNING", "servicePorts": [{"name": "jupyter"}]},
        requested_name="s1",
    )
    reused = CreatedSession.from_api(
        {
            "sessionId": "u1",
            "sessionName": "s1",
            "status": "RUNNING",
            "service_ports": [{"name": "x"}],
            "created": False,
        },
        requested_name="s1",
    )
    v4 = CreatedSession.from_api(
        {"kernelId": "tok-1", "status": "PENDING", "created": True}, requested_name="tok-1"
    )
    assert (new.id, new.created, new.service_ports[0]["name"]) == ("u1", True, "jupyter")
    assert (reused.created, reused.service_ports[0]["name"]) == (False, "x")
    assert (v4.id, v4.name, v4.status) == ("tok-1", "tok-1", "PENDING")


def test_session_info_keeps_slot_strings_unparsed() -> None:
    raw = {
        "image": "cr/python:3.9",
        "status": "RUNNING",
        "occupiedSlots": "{'cpu': Decimal('1')}",
        "creationTime": "t",
    }
    by_name = SessionInfo.from_api(raw, ref="my-sess")
    by_id = SessionInfo.from_api(raw, ref="0b486625-1637-4054-824c-ae85d31c153f")
    assert (by_name.name, by_name.id, by_name.created) == ("my-sess", None, "t")
    assert (by_id.name, by_id.id) == (None, "0b486625-1637-4054-824c-ae85d31c153f")
    assert by_name.raw["occupiedSlots"] == "{'cpu': Decimal('1')}"
    with pytest.raises(TypeError):
        by_name.raw["status"] = "x"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        by_name.status = "x"  # type: ignore[misc]


def test_list_items_of_every_version() -> None:
    new = SessionListItem.from_api({"id": "u", "name": "n", "type": "INTERACTIVE", "status": "RUNNING"})
    old = SessionListItem.from_api(
        {"sess_id": "tok", "sess_type": "BATCH", "lang": "python", "status": "PENDING"}
    )
    assert (new.id, new.name, new.type) == ("u", "n", "INTERACTIVE")
    assert (old.id, old.name, old.type, old.image) == ("tok", "tok", "BATCH", "python")


def test_execution_result_round_trip_and_odd_console_items() -> None:
    reply = {
        "runId": "r1",
        "status": "finished",
        "exitCode": 0,
        "options": None,
        "console": [["stdout", "hi\n"], ["media", ["image/png", "data:image/png;base64,AAA"]], "junk"],
        "files": None,
    }
    result = ExecutionResult.from_api(reply)
    assert result.console[1] == ConsoleItem(kind="media", data=["image/png", "data:image/png;base64,AAA"])
    assert result.console[2].kind == "unknown"
    assert result.to_api() == {
        "runId": "r1",
        "status": "finished",
        "console": [
            ["stdout", "hi\n"],
            ["media", ["image/png", "data:image/png;base64,AAA"]],
            ["unknown", "junk"],
        ],
        "exitCode": 0,
        "options": {},
        "files": [],
    }
    frame = ExecutionResult.from_api(
        {"status": "waiting-input", "options": {"is_password": True}}, run_id="r9"
    )
    assert (frame.run_id, frame.options["is_password"], frame.exit_code) == ("r9", True, None)


def test_session_event_parsing() -> None:
    event = SessionEvent.from_sse(
        "kernel_terminated",
        json.dumps({"sessionId": "u", "sessionName": "n", "kernelId": "k", "exitCode": 1}),
    )
    assert (event.name, event.session_id, event.session_name, event.kernel_id, event.exit_code) == (
        "kernel_terminated",
        "u",
        "n",
        "k",
        1,
    )
    assert SessionEvent.from_sse("x", "not json").raw["data"] == "not json"


def test_file_listings_decode_json_strings() -> None:
    session_files = FileEntry.parse_listing({"files": json.dumps([{"filename": "a", "size": 1, "mtime": 2}])})
    assert [(f.filename, f.size, f.mtime) for f in session_files] == [("a", 1, 2.0)]
    assert FileEntry.parse_listing({"files": "{broken"}) == ()
    items = VFolderFile.parse_listing(
        {"items": [{"name": "d", "type": "DIRECTORY", "size": 0, "mode": "755"}]}
    )
    legacy = VFolderFile.parse_listing(
        {"files": json.dumps([{"filename": "sub", "mode": 0o040755, "size": 0}])}
    )
    assert items[0].is_dir
    assert legacy[0].is_dir
    assert legacy[0].name == "sub"


def test_vfolder_models() -> None:
    info = VFolderInfo.from_api({"id": "i", "name": "vf", "host": "local:volume1", "is_owner": True})
    hosts = VFolderHosts.from_api(
        {"default": "local:volume1", "allowed": ["local:volume1"], "volume_info": {}}
    )
    assert (info.name, info.is_owner, info.status) == ("vf", True, None)
    assert hosts.allowed == ("local:volume1",)


def test_image_and_keypair_models() -> None:
    image = ImageInfo.from_api(
        {
            "name": "stable/python",
            "tag": "3.9",
            "registry": "cr.backend.ai",
            "labels": [{"key": "k", "value": "v"}],
        }
    )
    assert image.full_name == "cr.backend.ai/stable/python:3.9"
    assert image.labels == {"k": "v"}
    keypair = KeypairInfo.from_api({"access_key": "AK", "secret_key": "SUPERSECRET", "role": "user"})
    assert "SUPERSECRET" not in repr(keypair)
    assert keypair.secret_key == "SUPERSECRET"
