"""A script using only backendai_jupyter.sdk, on both backends: from plain Python and from inside a loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

from realstack_support import SESSION_RESOURCES, Backend, same_content, unique, write_random

from backendai_jupyter.sdk.compat import Session
from backendai_jupyter.sdk.sync import Client

# the marks come with the backend params (conftest.py): realstack -> realstack, local -> integration


def script(stack: Backend, workdir: Path) -> tuple[bool, str, bool]:
    """vfolder create/upload/download + session create/destroy with the sync client."""
    source = workdir / "data.bin"
    write_random(source, 3 * 1024 * 1024 + 7)
    name = unique("rs-script")
    with Client(stack.config()) as client:
        client.vfolders.create(name, host=stack.vfolder_host)
        try:
            client.vfolders.upload(name, [source])
            (back,) = client.vfolders.download(name, ["data.bin"], dest=workdir / "back")
            identical = same_content(source, back)
        finally:
            client.vfolders.delete(name)
        session = client.sessions.create(
            stack.image, name=unique("rs-script"), resources=SESSION_RESOURCES, max_wait=90
        )
        status = client.sessions.info(session.id).status
        client.sessions.destroy(session.id)
        gone = all(item.id != session.id for item in client.sessions.list(status="RUNNING", limit=100).items)
    return identical, status, gone


def test_script_from_plain_python(stack: Backend, tmp_path: Path) -> None:
    assert script(stack, tmp_path) == (True, "RUNNING", True)


def test_script_from_inside_a_running_asyncio_loop(stack: Backend, tmp_path: Path) -> None:
    async def main() -> tuple[bool, str, bool]:
        # blocking calls from a coroutine, as in a notebook cell: they run on the SDK's loop thread
        assert asyncio.get_running_loop().is_running()
        return script(stack, tmp_path)

    assert asyncio.run(main()) == (True, "RUNNING", True)


def test_official_style_session_and_vfolder(stack: Backend, tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_text("hello vfolder\n")
    name = unique("rs-compat")
    with Session(config=stack.config()) as api_session:
        api_session.VFolder.create(name, host=stack.vfolder_host)
        folder = api_session.VFolder(name)
        try:
            folder.upload([source], basedir=tmp_path)
            assert [i["name"] for i in folder.list_files(".")["items"]] == ["notes.txt"]
            folder.download(["notes.txt"], basedir=tmp_path / "back")
            assert (tmp_path / "back" / "notes.txt").read_text() == "hello vfolder\n"
            assert name in {row["name"] for row in api_session.VFolder.list()}
        finally:
            folder.delete()
        kern = api_session.ComputeSession.get_or_create(
            stack.image, client_token=unique("rs-compat"), resources=SESSION_RESOURCES, max_wait=90
        )
        try:
            assert kern.created is True
            assert kern.get_info()["status"] == "RUNNING"
        finally:
            kern.destroy()
