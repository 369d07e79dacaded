"""The ``/folders`` routes over HTTP: CRUD, file operations, strict parameters, path escapes, legacy."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

try:
    from .storage_conftest import AK, OTHER_AK, Stack, problem_type, running_stack
except ImportError:  # tests/local is not a package: pytest put this folder on sys.path
    from storage_conftest import AK, OTHER_AK, Stack, problem_type, running_stack  # type: ignore[no-redef]

from backendai_jupyter.local.vfolder_store import HOST, VFolderStore


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path) as running:
        yield running


async def test_create_list_info_delete(stack: Stack) -> None:
    created = await stack.create_vfolder("data")
    assert created["name"] == "data"
    assert created["host"] == HOST
    assert created["status"] == "ready"
    assert set(created) == {
        "id", "name", "quota_scope_id", "host", "usage_mode", "permission", "max_size", "creator",
        "ownership_type", "user", "group", "cloneable", "status",
    }  # fmt: skip
    assert created["creator"] == "tester@example.com"
    assert created["user"] == "u-1"
    folder = stack.data_dir / "vfolders" / created["id"]
    assert folder.is_dir()
    assert stack.vfolder_path("data") == folder

    # the SDK sends a JSON body on GET /folders
    status, listing = await stack.call("GET", "/folders", json={"all": False})
    assert status == 200
    assert [v["name"] for v in listing] == ["data"]
    assert {"is_owner", "permission", "ownership_type", "type", "user_email", "cur_size"} <= set(listing[0])
    status, body = await stack.call("GET", "/folders", json={"all": True})
    assert status == 400
    assert body["msg"] == "Deprecated use of 'all' option"

    (folder / "f.txt").write_bytes(b"12345")
    status, info = await stack.call("GET", "/folders/data")
    assert status == 200
    assert info["num_files"] == 1
    assert info["numFiles"] == 1
    assert info["used_bytes"] == 5

    # persisted: a fresh store reads the same records
    assert VFolderStore(stack.data_dir).list_for(AK)[0]["id"] == created["id"]

    status, _ = await stack.call("DELETE", "/folders/data")
    assert status == 204
    assert not folder.exists()
    status, body = await stack.call("GET", "/folders/data")
    assert status == 404
    assert problem_type(body) == "object-not-found"
    assert body["title"] == "No such virtual folder."


async def test_create_validation(stack: Stack) -> None:
    await stack.create_vfolder(".dotted")
    status, body = await stack.call("POST", "/folders", json={"name": ".dotted"})
    assert status == 400
    assert problem_type(body) == "vfolder-already-exists"
    for bad in ["../x", "a/b", "", ".ssh", ".bashrc", "x" * 65, 5]:
        status, body = await stack.call("POST", "/folders", json={"name": bad})
        assert (status, problem_type(body)) == (400, "invalid-api-params"), bad
    status, body = await stack.call("POST", "/folders", json={"name": "ok", "colour": "blue"})
    assert status == 400
    assert body["data"] == {"colour": "colour is not allowed key"}
    status, body = await stack.call("POST", "/folders", json={"name": "ok", "host": "elsewhere:v"})
    assert status == 400
    assert "local:volume1" in body["msg"]
    status, body = await stack.call("POST", "/folders", json={"name": "ok", "usage_mode": "weird"})
    assert status == 400
    assert "usage_mode" in body["data"]
    status, body = await stack.call("POST", "/folders", json={"name": "ok", "group": "default"})
    assert status == 400
    for quota in [-1, "ten", True]:  # a negative quota used to be kept as max_size -1
        status, body = await stack.call("POST", "/folders", json={"name": "ok", "quota": quota})
        assert (status, problem_type(body)) == (400, "invalid-api-params"), quota
        assert "quota" in body["data"]
    # what the official SDK sends, nulls included
    sdk_body = {"name": "sdk", "host": None, "unmanaged_path": None, "group": None, "usage_mode": "general",
                "permission": "rw", "cloneable": False}  # fmt: skip
    status, body = await stack.call("POST", "/folders", json=sdk_body)
    assert status == 201
    assert body["host"] == HOST
    status, body = await stack.call("POST", "/folders", json={"name": "q", "quota": "10m"})
    assert status == 201
    assert body["max_size"] == 10


async def test_folders_are_private_to_their_owner(stack: Stack) -> None:
    await stack.create_vfolder("mine")
    await stack.create_vfolder("mine", ak=OTHER_AK)  # same name, other owner: allowed
    status, listing = await stack.call("GET", "/folders", ak=OTHER_AK)
    assert status == 200
    assert len(listing) == 1
    assert listing[0]["id"] != (await stack.call("GET", "/folders"))[1][0]["id"]
    status, _ = await stack.call("GET", "/folders/nothere", ak=OTHER_AK)
    assert status == 404
    status, _ = await stack.call(
        "GET", "/folders", ak=OTHER_AK, params={"owner_user_email": "tester@example.com"}
    )
    assert status == 403
    status, listing = await stack.call("GET", "/folders", params={"owner_user_email": "other@example.com"})
    assert status == 200
    assert [v["name"] for v in listing] == ["mine"]


async def test_hosts_types_rename_options(stack: Stack) -> None:
    status, hosts = await stack.call("GET", "/folders/_/hosts")
    assert status == 200
    assert hosts["default"] == HOST
    assert hosts["allowed"] == [HOST]
    assert HOST in hosts["volume_info"]
    for path in ("/folders/_/allowed-types", "/folders/_/allowed_types"):
        assert await stack.call("GET", path) == (200, ["user"])
    assert (await stack.call("GET", "/folders/_/all_hosts"))[1]["allowed"] == [HOST]

    created = await stack.create_vfolder("old")
    await stack.create_vfolder("taken")
    status, body = await stack.call("POST", "/folders/old/rename", json={"new_name": "taken"})
    assert status == 400
    assert "already has the name" in body["msg"]
    status, body = await stack.call("POST", "/folders/old/rename", json={"new_name": "../evil"})
    assert status == 400
    status, _ = await stack.call("POST", "/folders/old/rename", json={"new_name": "new"})
    assert status == 201
    status, info = await stack.call("GET", "/folders/new")
    assert status == 200
    assert info["id"] == created["id"]

    status, _ = await stack.call(
        "POST", "/folders/new/update-options", json={"cloneable": True, "permission": "ro"}
    )
    assert status == 201
    info = (await stack.call("GET", "/folders/new"))[1]
    assert info["cloneable"] is True
    assert info["permission"] == "ro"
    status, body = await stack.call("POST", "/folders/new/update-options", json={"permission": "all"})
    assert status == 400

    status, _ = await stack.call("DELETE", "/folders", json={"id": created["id"]})
    assert status == 204
    assert (await stack.call("GET", "/folders/new"))[0] == 404


async def test_mkdir_ls_rename_move_delete(stack: Stack) -> None:
    await stack.create_vfolder("work")
    root = stack.vfolder_path("work")
    assert await stack.call("POST", "/folders/work/mkdir", json={"path": "a/b"}) == (201, None)
    status, body = await stack.call("POST", "/folders/work/mkdir", json={"path": "a/b"})
    assert status == 400
    assert "already exists" in body["msg"]
    assert "'a/b'" in body["msg"]
    assert (await stack.call("POST", "/folders/work/mkdir", json={"path": "a/b", "exist_ok": True}))[0] == 201
    status, body = await stack.call("POST", "/folders/work/mkdir", json={"path": "x/y", "parents": False})
    assert status == 400
    (root / "a" / "f.txt").write_bytes(b"hello")
    (root / "a" / "link").symlink_to("f.txt")

    # the official SDK lists with ?path=.
    status, listing = await stack.call("GET", "/folders/work/files", params={"path": "a"})
    assert status == 200
    items = {i["name"]: i for i in listing["items"]}
    assert items["b"]["type"] == "DIRECTORY"
    assert items["f.txt"]["type"] == "FILE"
    assert items["link"]["type"] == "SYMLINK"
    assert items["f.txt"]["size"] == 5
    assert items["f.txt"]["mode"] == oct((root / "a" / "f.txt").stat().st_mode)[-3:]
    assert items["f.txt"]["modified"].endswith("+00:00")
    legacy = {f["filename"]: f for f in json.loads(listing["files"])}
    assert legacy["f.txt"]["mode"].startswith("-rw")
    assert legacy["b"]["mode"].startswith("d")
    status, listing = await stack.call("GET", "/folders/work/files", json={"path": "."})
    assert status == 200
    assert [i["name"] for i in listing["items"]] == ["a"]
    assert (await stack.call("GET", "/folders/work/files", json={"path": "nope"}))[0] == 400

    status, body = await stack.call(
        "POST",
        "/folders/work/rename-file",
        json={"target_path": "a/f.txt", "new_name": "g.txt", "is_dir": False},
    )
    assert (status, body) == (200, {})
    assert (root / "a" / "g.txt").read_bytes() == b"hello"
    status, body = await stack.call(
        "POST", "/folders/work/rename_file", json={"target_path": "a/g.txt", "new_name": "x/y"}
    )
    assert status == 400
    assert "plain name" in body["msg"]
    status, body = await stack.call(
        "POST", "/folders/work/rename-file", json={"target_path": "a/g.txt", "new_name": "b"}
    )
    assert status == 400
    assert "already exists" in body["msg"]

    assert await stack.call("POST", "/folders/work/move-file", json={"src": "a/g.txt", "dst": "a/b"}) == (
        200,
        {},
    )
    assert (root / "a" / "b" / "g.txt").is_file()
    assert await stack.call(
        "POST", "/folders/work/move-file", json={"src": "a/b/g.txt", "dst": "top.txt"}
    ) == (200, {})
    assert (root / "top.txt").is_file()
    status, body = await stack.call("POST", "/folders/work/move-file", json={"src": "a", "dst": "a/b"})
    assert status == 400

    status, body = await stack.call("DELETE", "/folders/work/delete-files", json={"files": ["a"]})
    assert status == 400
    assert "recursive" in body["msg"]
    assert (root / "a").exists()
    status, body = await stack.call("DELETE", "/folders/work/delete_files", json={"files": ["a/link"]})
    assert status == 200
    assert not (root / "a" / "link").is_symlink()
    status, body = await stack.call(
        "DELETE", "/folders/work/delete-files", json={"files": ["a", "top.txt"], "recursive": True}
    )
    assert (status, body) == (200, {})
    assert not (root / "a").exists()
    assert not (root / "top.txt").exists()
    status, body = await stack.call("DELETE", "/folders/work/delete-files", json={"files": ["gone"]})
    assert status == 400
    assert "'gone'" in body["msg"]
    status, body = await stack.call(
        "DELETE", "/folders/work/delete-files", json={"files": ["."], "recursive": True}
    )
    assert status == 400
    assert root.is_dir()


@pytest.mark.parametrize(
    ("method", "route", "body"),
    [
        ("POST", "mkdir", {"path": "../escape"}),
        ("POST", "mkdir", {"path": "/tmp/escape"}),
        ("POST", "mkdir", {"path": "out/escape"}),
        ("POST", "mkdir", {"path": "a\x00b"}),
        ("POST", "mkdir", {"path": "..\\escape"}),
        ("GET", "files", {"path": "out"}),
        ("GET", "files", {"path": ".."}),
        ("POST", "rename-file", {"target_path": "out", "new_name": "x"}),
        ("POST", "rename-file", {"target_path": "in.txt", "new_name": ".."}),
        ("POST", "move-file", {"src": "in.txt", "dst": "out/in.txt"}),
        ("POST", "move-file", {"src": "in.txt", "dst": "../in.txt"}),
        ("DELETE", "delete-files", {"files": ["in.txt", "../victim"]}),
        ("DELETE", "delete-files", {"files": ["out/victim"]}),
        ("POST", "request-upload", {"path": "../x", "size": 1}),
        ("POST", "request-upload", {"path": "out/x", "size": 1}),
        ("POST", "request-download", {"path": "/etc/passwd"}),
        ("POST", "request-download", {"path": "out/victim"}),
    ],
)
async def test_path_escapes_are_400(
    stack: Stack, tmp_path: Path, method: str, route: str, body: dict[str, object]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_text("keep me")
    await stack.create_vfolder("jail")
    root = stack.vfolder_path("jail")
    (root / "in.txt").write_text("x")
    (root / "out").symlink_to(outside)
    status, reply = await stack.call(method, f"/folders/jail/{route}", json=body)
    assert status == 400, reply
    assert problem_type(reply) == "invalid-api-params"
    assert "Invalid" in reply["msg"]
    assert sorted(p.name for p in outside.iterdir()) == ["victim"]
    assert (root / "in.txt").exists()


async def test_strict_parameters(stack: Stack) -> None:
    await stack.create_vfolder("p")
    for route, body in [
        ("mkdir", {"path": "a", "mode": 7}),
        ("request-upload", {"path": "a", "size": 1, "extra": 1}),
        ("request-download", {"path": "a", "zip": True}),
        ("move-file", {"src": "a"}),
        ("request-upload", {"path": "a", "size": "many"}),
    ]:
        status, reply = await stack.call("POST", f"/folders/p/{route}", json=body)
        assert (status, problem_type(reply)) == (400, "invalid-api-params"), (route, reply)
        assert reply["msg"] == "Input validation error"


async def test_legacy_multipart_upload_and_download_single(stack: Stack) -> None:
    await stack.create_vfolder("old")
    form = aiohttp.FormData()
    form.add_field("src", b"one", filename="one.txt")
    form.add_field("src", io.BytesIO(b"two" * 1000), filename="sub/dir/two.bin")
    async with stack.request("POST", "/folders/old/upload", data=form) as resp:
        assert resp.status == 201
    root = stack.vfolder_path("old")
    assert (root / "one.txt").read_bytes() == b"one"
    assert (root / "sub" / "dir" / "two.bin").read_bytes() == b"two" * 1000

    form = aiohttp.FormData()
    form.add_field("src", b"bad", filename="../../evil.txt")
    async with stack.request("POST", "/folders/old/upload", data=form) as resp:
        assert resp.status == 400
    assert not (stack.data_dir / "evil.txt").exists()
    assert not (root.parent / "evil.txt").exists()

    form = aiohttp.FormData()
    for i in range(11):
        form.add_field("src", b"x", filename=f"many{i}.txt")
    async with stack.request("POST", "/folders/old/upload", data=form) as resp:
        assert resp.status == 400
        assert "Too many files" in (await resp.json())["msg"]

    async with stack.request(
        "GET", "/folders/old/download_single", params={"file": "sub/dir/two.bin"}
    ) as resp:
        assert resp.status == 200
        assert await resp.read() == b"two" * 1000
    async with stack.request("GET", "/folders/old/download_single", params={"file": "sub"}) as resp:
        assert resp.status == 400
    async with stack.request(
        "GET", "/folders/old/download_single", params={"file": "sub", "archive": "true"}
    ) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(await resp.read()))
        assert archive.read("dir/two.bin") == b"two" * 1000
    async with stack.request("GET", "/folders/old/download_single", params={"file": "../x"}) as resp:
        assert resp.status == 400


async def test_request_tickets(stack: Stack) -> None:
    await stack.create_vfolder("t")
    url, token = await stack.ticket("t", "upload", {"path": "dir/f.bin", "size": 10})
    assert url == stack.storage_url + "/upload"
    assert token.count(".") == 2
    url, token = await stack.ticket("t", "download", {"file": "dir/f.bin"})  # "file" is the legacy alias
    assert url == stack.storage_url + "/download"
    status, body = await stack.call("POST", "/folders/t/request-upload", json={"path": "f", "size": -1})
    assert status == 400
    status, body = await stack.call("POST", "/folders/t/request-upload", json={"path": ".", "size": 3})
    assert status == 400
    assert "directory" in body["msg"]
    status, body = await stack.call("POST", "/folders/missing/request-upload", json={"path": "f", "size": 3})
    assert status == 404
