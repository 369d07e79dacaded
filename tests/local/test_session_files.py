"""Session file routes over HTTP: list format, upload/download limits, tar parts, mount links, escapes."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

try:
    from .storage_conftest import OTHER_AK, Stack, problem_type, running_stack
except ImportError:  # tests/local is not a package: pytest put this folder on sys.path
    from storage_conftest import OTHER_AK, Stack, problem_type, running_stack  # type: ignore[no-redef]

from backendai_jupyter.local.session_files import MAX_FILE_SIZE

SESSION = "sess-files"


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path) as running:
        yield running


@pytest.fixture
def workdir(stack: Stack, tmp_path: Path) -> Path:
    """A session scratch folder with a file, a subfolder, a vfolder mount link and a link leading out."""
    work = stack.sessions.add("AKIATESTSTORAGE00001", SESSION)
    (work / "hello.txt").write_text("hello")
    (work / "sub").mkdir()
    (work / "sub" / "inner.txt").write_text("inner")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (work / "escape").symlink_to(outside)
    return work


async def mount(stack: Stack, workdir: Path, name: str) -> Path:
    """Create a vfolder and link it into the scratch folder, as the manager side mounts it."""
    await stack.create_vfolder(name)
    target = stack.vfolder_path(name)
    (workdir / name).symlink_to(target)
    return target


def form(*files: tuple[str, bytes]) -> aiohttp.FormData:
    data = aiohttp.FormData()
    for name, content in files:
        data.add_field("src", io.BytesIO(content), filename=name)  # aiohttp percent-encodes "/" as %2F
    return data


async def multipart_tars(resp: aiohttp.ClientResponse) -> list[tarfile.TarFile]:
    reader = aiohttp.MultipartReader.from_response(resp)
    archives = []
    while (part := await reader.next()) is not None:
        assert isinstance(part, aiohttp.BodyPartReader)
        assert part.headers["Content-Encoding"] == "identity"
        archives.append(tarfile.open(fileobj=io.BytesIO(await part.read()), mode="r"))  # noqa: SIM115 -- in memory
    return archives


async def test_list_files_format(stack: Stack, workdir: Path) -> None:
    status, body = await stack.call("GET", f"/session/{SESSION}/files", json={"path": "."})
    assert status == 200
    assert set(body) == {"files", "errors", "abspath"}
    assert (body["errors"], body["abspath"]) == ("", "/home/work")
    files = {f["filename"]: f for f in json.loads(body["files"])}  # JSON inside a string, as on 23.09
    assert set(files) == {"hello.txt", "sub", "escape"}
    assert set(files["hello.txt"]) == {"mode", "size", "ctime", "mtime", "atime", "filename"}
    assert files["hello.txt"]["size"] == 5
    assert files["hello.txt"]["mode"].startswith("-rw")
    assert files["sub"]["mode"].startswith("d")
    assert files["escape"]["mode"].startswith("l")

    status, body = await stack.call("GET", f"/session/{SESSION}/files", json={"path": "sub"})
    assert body["abspath"] == "/home/work/sub"
    assert [f["filename"] for f in json.loads(body["files"])] == ["inner.txt"]
    status, body = await stack.call("GET", f"/session/{SESSION}/files", json={"path": "nope"})
    assert status == 200
    assert body["files"] == "[]"
    assert "/home/work/nope" in body["errors"]


async def test_absolute_paths_inside_home_work(stack: Stack, workdir: Path) -> None:
    # the official CLI lists "/home/work" by default; the agent accepts absolute paths below it
    status, body = await stack.call("GET", f"/session/{SESSION}/files", json={"path": "/home/work"})
    assert status == 200
    assert body["abspath"] == "/home/work"
    status, body = await stack.call("GET", f"/session/{SESSION}/files", json={"path": "/home/work/sub/"})
    assert [f["filename"] for f in json.loads(body["files"])] == ["inner.txt"]
    async with stack.request(
        "POST", f"/session/{SESSION}/download_single", json={"file": "/home/work/hello.txt"}
    ) as resp:
        assert await resp.read() == b"hello"
    for bad in ("/home/workx", "/home/work/../work/hello.txt", "/home", "/etc/passwd", "//home/work"):
        status, body = await stack.call("POST", f"/session/{SESSION}/download_single", json={"file": bad})
        assert status == 400, bad


async def test_list_files_parameters(stack: Stack, workdir: Path) -> None:
    status, body = await stack.call("GET", f"/session/{SESSION}/files")
    assert (status, problem_type(body)) == (400, "invalid-api-params"), "a JSON body is required"
    status, body = await stack.call("GET", f"/session/{SESSION}/files", json={"path": ".", "all": True})
    assert status == 400
    for bad in ("..", "../..", "/etc", "escape", "escape/secret.txt", "sub\\..\\..", "a\x00"):
        status, body = await stack.call("GET", f"/session/{SESSION}/files", json={"path": bad})
        assert (status, problem_type(body)) == (400, "invalid-api-params"), bad
    status, body = await stack.call("GET", "/session/no-such-session/files", json={"path": "."})
    assert (status, problem_type(body)) == (404, "object-not-found")
    status, body = await stack.call("GET", f"/session/{SESSION}/files", ak=OTHER_AK, json={"path": "."})
    assert status == 404, "another key's session is not found"


async def test_upload(stack: Stack, workdir: Path) -> None:
    files = [("a.txt", b"A"), ("deep/er/b.bin", b"\x00\x01" * 1000), ("sub/inner.txt", b"replaced")]
    async with stack.request("POST", f"/session/{SESSION}/upload", data=form(*files)) as resp:
        assert resp.status == 204
    for name, content in files:
        assert (workdir / name).read_bytes() == content
    # the v4 path is the same handler
    async with stack.request("POST", f"/kernel/{SESSION}/upload", data=form(("v4.txt", b"4"))) as resp:
        assert resp.status == 204
    assert (workdir / "v4.txt").read_bytes() == b"4"


async def test_upload_limits(stack: Stack, workdir: Path) -> None:
    just_fits = b"x" * (MAX_FILE_SIZE - 1)
    async with stack.request(
        "POST", f"/session/{SESSION}/upload", data=form(("fits.bin", just_fits))
    ) as resp:
        assert resp.status == 204
    too_large = form(("ok.txt", b"ok"), ("big.bin", b"x" * MAX_FILE_SIZE))
    async with stack.request("POST", f"/session/{SESSION}/upload", data=too_large) as resp:
        assert resp.status == 400
        assert (await resp.json())["msg"] == "Too large file"
    twenty = [(f"f{i}.txt", b"1") for i in range(20)]
    async with stack.request("POST", f"/session/{SESSION}/upload", data=form(*twenty)) as resp:
        assert resp.status == 204
    twenty_one = [(f"g{i}.txt", b"1") for i in range(21)]
    async with stack.request("POST", f"/session/{SESSION}/upload", data=form(*twenty_one)) as resp:
        assert resp.status == 400
        assert (await resp.json())["msg"] == "Too many files"
    assert not (workdir / "ok.txt").exists(), "nothing of a refused request is written"
    assert not (workdir / "g0.txt").exists()


@pytest.mark.parametrize("name", ["../evil.txt", "/tmp/evil.txt", "escape/evil.txt", "sub/../../evil.txt"])
async def test_upload_escapes(stack: Stack, workdir: Path, tmp_path: Path, name: str) -> None:
    async with stack.request("POST", f"/session/{SESSION}/upload", data=form((name, b"bad"))) as resp:
        assert resp.status == 400
    assert sorted(p.name for p in (tmp_path / "outside").iterdir()) == ["secret.txt"]
    assert not (workdir.parent / "evil.txt").exists()


async def test_percent_encoded_names(stack: Stack, workdir: Path) -> None:
    # sent as is (no client quoting): decoding happens once, before the path checks
    raw = aiohttp.FormData(quote_fields=False)
    raw.add_field("src", b"bad", filename="..%2F..%2Fevil.txt")
    async with stack.request("POST", f"/session/{SESSION}/upload", data=raw) as resp:
        assert resp.status == 400
    assert not (workdir.parent / "evil.txt").exists()
    # quoted by aiohttp: a literal "%2F" in a name survives as such
    async with stack.request(
        "POST", f"/session/{SESSION}/upload", data=form(("odd%2Fname.txt", b"1"))
    ) as resp:
        assert resp.status == 204
    assert (workdir / "odd%2Fname.txt").read_bytes() == b"1"


async def test_mount_links_are_allowed(stack: Stack, workdir: Path) -> None:
    folder = await mount(stack, workdir, "data")
    async with stack.request(
        "POST", f"/session/{SESSION}/upload", data=form(("data/in/vf.txt", b"v"))
    ) as resp:
        assert resp.status == 204
    assert (folder / "in" / "vf.txt").read_bytes() == b"v"
    status, body = await stack.call("GET", f"/session/{SESSION}/files", json={"path": "data/in"})
    assert status == 200
    assert [f["filename"] for f in json.loads(body["files"])] == ["vf.txt"]
    async with stack.request(
        "POST", f"/session/{SESSION}/download_single", json={"file": "data/in/vf.txt"}
    ) as resp:
        assert await resp.read() == b"v"
    async with stack.request("POST", f"/session/{SESSION}/download", json={"files": ["data"]}) as resp:
        assert resp.status == 200
        (archive,) = await multipart_tars(resp)
    assert "data/in/vf.txt" in archive.getnames()


async def test_download(stack: Stack, workdir: Path) -> None:
    for method in ("GET", "POST"):  # GET up to 24.03.7, POST since
        async with stack.request(
            method, f"/session/{SESSION}/download", json={"files": ["hello.txt", "sub"]}
        ) as resp:
            assert resp.status == 200
            assert resp.content_type == "multipart/mixed"
            first, second = await multipart_tars(resp)
        assert first.getnames() == ["hello.txt"]
        member = first.extractfile("hello.txt")
        assert member is not None
        assert member.read() == b"hello"
        assert sorted(second.getnames()) == ["sub", "sub/inner.txt"]
    async with stack.request("GET", f"/kernel/{SESSION}/download", json={"files": ["hello.txt"]}) as resp:
        assert resp.status == 200


async def test_download_errors(stack: Stack, workdir: Path) -> None:
    (workdir / "big.bin").write_bytes(b"x" * (MAX_FILE_SIZE + 1))
    cases = [
        ({"files": ["missing.txt"]}, 404, "No such file."),
        ({"files": ["hello.txt"] * 6}, 400, "Missing or invalid API parameters."),
        ({"files": ["big.bin"]}, 400, "Missing or invalid API parameters."),
        ({"files": ["../x"]}, 400, "Missing or invalid API parameters."),
        ({"files": ["escape/secret.txt"]}, 400, "Missing or invalid API parameters."),
        ({"files": []}, 400, "Missing or invalid API parameters."),
        ({"files": ["hello.txt"], "extra": 1}, 400, "Missing or invalid API parameters."),
    ]
    for body, status, title in cases:
        got, reply = await stack.call("POST", f"/session/{SESSION}/download", json=body)
        assert (got, reply["title"]) == (status, title), body
    got, reply = await stack.call("POST", f"/session/{SESSION}/download", json={"files": ["big.bin"]})
    assert reply["msg"] == "Too large file"
    got, reply = await stack.call("POST", f"/session/{SESSION}/download", json={"files": ["a"] * 6})
    assert reply["msg"] == "Too many files"


async def test_download_single(stack: Stack, workdir: Path) -> None:
    for method in ("GET", "POST"):
        async with stack.request(
            method, f"/session/{SESSION}/download_single", json={"file": "sub/inner.txt"}
        ) as resp:
            assert resp.status == 200
            assert await resp.read() == b"inner"
    (workdir / "big.bin").write_bytes(b"x" * (MAX_FILE_SIZE + 1))
    for body, status in [
        ({"file": "missing"}, 404),
        ({"file": "sub"}, 400),
        ({"file": "big.bin"}, 400),
        ({"file": "escape/secret.txt"}, 400),
        ({"file": "/etc/passwd"}, 400),
        ({}, 400),
        ({"file": "hello.txt", "x": 1}, 400),
    ]:
        got, _ = await stack.call("POST", f"/session/{SESSION}/download_single", json=body)
        assert got == status, body
