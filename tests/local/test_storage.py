"""The storage-proxy emulation over HTTP: tus upload (resume, empty, 50 MiB), ranged download, zip, tokens."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import time
import tracemalloc
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

import pytest
from yarl import URL

try:
    from .storage_conftest import Stack, problem_type, running_stack
except ImportError:  # tests/local is not a package: pytest put this folder on sys.path
    from storage_conftest import Stack, problem_type, running_stack  # type: ignore[no-redef]

from backendai_jupyter.local.tokens import issue_download_token, issue_upload_token

TUS = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}
MiB = 1 << 20


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path) as running:
        await running.create_vfolder("vf")
        yield running


def with_token(url: str, token: str, **extra: str) -> URL:
    return URL(url).with_query({"token": token, **extra})


async def head_offset(stack: Stack, url: URL) -> int:
    async with stack.http.head(url) as resp:
        assert resp.status == 200, resp.status
        assert resp.headers["Cache-Control"] == "no-store"
        return int(resp.headers["Upload-Offset"])


async def patch(stack: Stack, url: URL, data: bytes, offset: int) -> int:
    async with stack.http.patch(url, data=data, headers={**TUS, "Upload-Offset": str(offset)}) as resp:
        assert resp.status == 204, await resp.text()
        return int(resp.headers["Upload-Offset"])


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


async def test_options_advertises_tus(stack: Stack) -> None:
    async with stack.http.options(stack.storage_url + "/upload") as resp:
        assert resp.status == 200
        assert resp.headers["Tus-Resumable"] == "1.0.0"
        assert resp.headers["Tus-Version"] == "1.0.0"
        assert int(resp.headers["Tus-Max-Size"]) == 100 * 2**30


async def test_tus_cycle(stack: Stack) -> None:
    payload = os.urandom(3 * MiB + 17)
    url, token = await stack.ticket("vf", "upload", {"path": "deep/er/data.bin", "size": len(payload)})
    upload = with_token(url, token)
    root = stack.vfolder_path("vf")
    temps = list((root / ".upload").iterdir())
    assert len(temps) == 1, "request-upload opens a temp file"
    async with stack.http.head(upload) as resp:
        assert resp.headers["Upload-Length"] == str(len(payload))
        assert resp.headers["Tus-Resumable"] == "1.0.0"
    offset = 0
    while offset < len(payload):
        offset = await patch(stack, upload, payload[offset : offset + MiB], offset)
        if offset < len(payload):
            assert await head_offset(stack, upload) == offset
    assert (root / "deep" / "er" / "data.bin").read_bytes() == payload
    assert not (root / ".upload").exists(), "the temp file moved and its folder went away"
    async with stack.http.head(upload) as resp:
        assert resp.status == 404
    async with stack.http.patch(upload, data=b"more", headers={**TUS, "Upload-Offset": "0"}) as resp:
        assert resp.status == 404, "a finished session takes no more bytes"
        assert problem_type(await resp.json()) == "storage/no-such-upload-session"


async def test_offset_mismatch_is_409(stack: Stack) -> None:
    url, token = await stack.ticket("vf", "upload", {"path": "x.bin", "size": 10})
    upload = with_token(url, token)
    assert await patch(stack, upload, b"12345", 0) == 5
    async with stack.http.patch(upload, data=b"12345", headers={**TUS, "Upload-Offset": "0"}) as resp:
        assert resp.status == 409, "a repeated chunk is never appended twice"
        assert problem_type(await resp.json()) == "storage/upload-offset-mismatch"
    assert await head_offset(stack, upload) == 5
    assert await patch(stack, upload, b"67890", 5) == 10
    assert (stack.vfolder_path("vf") / "x.bin").read_bytes() == b"1234567890"


async def test_resume_after_cut_connection(stack: Stack) -> None:
    payload = os.urandom(5 * MiB + 1234)
    url, token = await stack.ticket("vf", "upload", {"path": "resumed.bin", "size": len(payload)})
    upload = with_token(url, token)
    sent = 3 * MiB + 777  # more than one disk write, plus a partial buffer
    # a raw socket so that the body can stop short of its Content-Length, as a dropped connection does
    reader, writer = await asyncio.open_connection(upload.host, upload.port)
    head = (
        f"PATCH {upload.raw_path_qs} HTTP/1.1\r\nHost: {upload.host}:{upload.port}\r\n"
        f"Content-Length: {len(payload)}\r\nUpload-Offset: 0\r\nTus-Resumable: 1.0.0\r\n"
        "Content-Type: application/offset+octet-stream\r\n\r\n"
    )
    writer.write(head.encode() + payload[:sent])
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    del reader
    # the server notices the cut asynchronously and nothing signals it to the client: poll HEAD (bounded)
    deadline = time.monotonic() + 20
    while (offset := await head_offset(stack, upload)) != sent and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    assert offset == sent, "every byte that arrived is kept, in order"
    assert not (stack.vfolder_path("vf") / "resumed.bin").exists(), "no partial file at the destination"
    assert await patch(stack, upload, payload[offset:], offset) == len(payload)
    assert (stack.vfolder_path("vf") / "resumed.bin").read_bytes() == payload


async def test_zero_byte_files(stack: Stack) -> None:
    root = stack.vfolder_path("vf")
    url, token = await stack.ticket("vf", "upload", {"path": "empty/none.txt", "size": 0})
    # complete at once: aiotusclient sends no PATCH at all for an empty file
    assert (root / "empty" / "none.txt").read_bytes() == b""
    upload = with_token(url, token)
    assert await head_offset(stack, upload) == 0
    assert await patch(stack, upload, b"", 0) == 0, "one empty PATCH (other tus clients) also works"
    assert await patch(stack, with_token(url, token, dst_dir="sub"), b"", 0) == 0
    assert (root / "sub" / "empty" / "none.txt").read_bytes() == b""
    assert not (root / ".upload").exists()


async def test_50_mib_round_trip_in_constant_memory(stack: Stack, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    with source.open("wb") as handle:
        for _ in range(50):
            handle.write(os.urandom(MiB))
    size = source.stat().st_size
    url, token = await stack.ticket("vf", "upload", {"path": "big/big.bin", "size": size})
    upload = with_token(url, token)
    tracemalloc.start()
    try:
        offset = 0
        with source.open("rb") as handle:
            while offset < size:  # 16 MiB per PATCH, as the SDK does, each streamed from the file
                handle.seek(offset)
                async with stack.http.patch(
                    upload,
                    data=_limited(handle, min(16 * MiB, size - offset)),
                    headers={**TUS, "Upload-Offset": str(offset)},
                ) as resp:
                    assert resp.status == 204
                    offset = int(resp.headers["Upload-Offset"])
        url, token = await stack.ticket("vf", "download", {"path": "big/big.bin"})
        digest = hashlib.sha256()
        async with stack.http.get(with_token(url, token)) as resp:
            assert resp.status == 200
            assert int(resp.headers["Content-Length"]) == size
            async for chunk_bytes in resp.content.iter_chunked(MiB):
                digest.update(chunk_bytes)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest.hexdigest() == sha256_file(source)
    assert sha256_file(stack.vfolder_path("vf") / "big" / "big.bin") == sha256_file(source)
    assert peak < 12 * MiB, f"peak Python allocations {peak / MiB:.1f} MiB: something buffered a whole file"


async def _limited(handle: BinaryIO, length: int) -> AsyncIterator[bytes]:
    while length > 0:
        data = handle.read(min(256 << 10, length))
        if not data:
            return
        length -= len(data)
        yield data


async def test_range_and_if_range(stack: Stack) -> None:
    root = stack.vfolder_path("vf")
    content = bytes(range(256)) * 40
    (root / "r.bin").write_bytes(content)
    url, token = await stack.ticket("vf", "download", {"path": "r.bin"})
    download = with_token(url, token)
    async with stack.http.get(download) as resp:
        assert resp.status == 200
        assert await resp.read() == content
        last_modified = resp.headers["Last-Modified"]
        assert resp.headers["Content-Type"] == "application/octet-stream"
        assert resp.headers["Content-Disposition"] == "attachment;filename=\"r.bin\"; filename*=UTF-8''r.bin"
    async with stack.http.get(download, headers={"Range": "bytes=1000-"}) as resp:
        assert resp.status == 206
        assert await resp.read() == content[1000:]
    async with stack.http.get(download, headers={"Range": "bytes=1000-", "If-Range": last_modified}) as resp:
        assert resp.status == 206, "unchanged file: the SDK appends"
        assert await resp.read() == content[1000:]
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    async with stack.http.get(download, headers={"Range": "bytes=1000-", "If-Range": old}) as resp:
        assert resp.status == 200, "changed since: the SDK restarts from zero"
        assert await resp.read() == content
    async with stack.http.get(with_token(url, token, no_cache="true")) as resp:
        assert resp.headers["Cache-Control"] == "no-store"


async def test_directory_download(stack: Stack, tmp_path: Path) -> None:
    root = stack.vfolder_path("vf")
    (root / "d" / "sub").mkdir(parents=True)
    (root / "d" / "empty").mkdir()
    (root / "d" / "a.txt").write_text("alpha")
    (root / "d" / "sub" / "b.bin").write_bytes(os.urandom(300_000))
    (tmp_path / "secret.txt").write_text("must not leak")
    (root / "d" / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (root / "d" / "alias.txt").symlink_to("a.txt")
    os.mkfifo(root / "d" / "pipe")  # reading it would block forever: left out of the zip, refused alone
    url, token = await stack.ticket("vf", "download", {"path": "d"})
    async with stack.http.get(with_token(url, token)) as resp:
        assert resp.status == 400
        assert problem_type(await resp.json()) == "storage/invalid-api-params"
    async with stack.http.get(with_token(url, token, archive="true")) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/zip"
        assert 'filename="d.zip"' in resp.headers["Content-Disposition"]
        archive = zipfile.ZipFile(io.BytesIO(await resp.read()))
    names = sorted(archive.namelist())
    assert names == ["a.txt", "alias.txt", "empty/", "sub/b.bin"]
    assert archive.read("a.txt") == b"alpha"
    assert archive.read("alias.txt") == b"alpha"
    assert archive.read("sub/b.bin") == (root / "d" / "sub" / "b.bin").read_bytes()
    url, token = await stack.ticket("vf", "download", {"path": "d/pipe"})
    async with stack.http.get(with_token(url, token)) as resp:
        assert resp.status == 400
    # the ticket may also ask for the archive (request-download's "archive")
    url, token = await stack.ticket("vf", "download", {"path": "d", "archive": True})
    async with stack.http.get(with_token(url, token)) as resp:
        assert resp.status == 200
        assert zipfile.ZipFile(io.BytesIO(await resp.read())).testzip() is None


async def test_zip_streams_in_constant_memory(stack: Stack) -> None:
    folder = stack.vfolder_path("vf") / "many"
    folder.mkdir()
    for i in range(6):
        (folder / f"part{i}.bin").write_bytes(os.urandom(5 * MiB))
    url, token = await stack.ticket("vf", "download", {"path": "many", "archive": True})
    tracemalloc.start()
    try:
        received = 0
        with (stack.data_dir.parent / "many.zip").open("wb") as out:
            async with stack.http.get(with_token(url, token)) as resp:
                assert resp.status == 200
                async for chunk in resp.content.iter_chunked(MiB):
                    received += len(chunk)
                    out.write(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received > 30 * MiB
    assert peak < 12 * MiB, f"peak Python allocations {peak / MiB:.1f} MiB while zipping 30 MiB"
    with zipfile.ZipFile(stack.data_dir.parent / "many.zip") as archive:
        assert archive.testzip() is None
        assert archive.read("part3.bin") == (folder / "part3.bin").read_bytes()


async def test_missing_file_and_query_validation(stack: Stack) -> None:
    url, token = await stack.ticket("vf", "download", {"path": "nothing.txt"})
    async with stack.http.get(with_token(url, token)) as resp:
        assert resp.status == 404
        assert problem_type(await resp.json()) == "storage/file-not-found"
    async with stack.http.get(with_token(url, token, colour="red")) as resp:
        assert resp.status == 400
        body = await resp.json()
        assert problem_type(body) == "storage/invalid-api-params"
        assert body["data"] == {"colour": "colour is not allowed key"}
    async with stack.http.get(url) as resp:
        assert resp.status == 400
        assert (await resp.json())["data"] == {"token": "is required"}
    async with stack.http.get(with_token(url, token, dst_dir="../..")) as resp:
        assert resp.status == 400
        assert problem_type(await resp.json()) == "storage/invalid-api-params"
    up_url, up_token = await stack.ticket("vf", "upload", {"path": "u.txt", "size": 3})
    async with stack.http.patch(
        with_token(up_url, up_token, dst_dir="/etc"), data=b"abc", headers=TUS
    ) as resp:
        assert resp.status == 400
    async with stack.http.head(with_token(up_url, up_token, extra="1")) as resp:
        assert resp.status == 400


async def test_bad_tokens(stack: Stack) -> None:
    secret = stack.ctx.token_secret
    vfid = (await stack.call("GET", "/folders/vf"))[1]["id"]
    (stack.vfolder_path("vf") / "f.txt").write_text("data")
    good = issue_download_token(secret, vfid=vfid, relpath="f.txt")
    async with stack.http.get(with_token(stack.storage_url + "/download", good)) as resp:
        assert resp.status == 200, "the control case works"
    expired = issue_download_token(secret, vfid=vfid, relpath="f.txt", now=time.time() - 2 * 86400)
    header, payload, signature = good.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    forged_payload = issue_download_token(secret, vfid=vfid, relpath="../../etc").split(".")[1]
    cases = {
        "expired": expired,
        "tampered signature": f"{header}.{payload}.{flipped}",
        "tampered payload": f"{header}.{forged_payload}.{signature}",
        "other secret": issue_download_token(b"x" * 32, vfid=vfid, relpath="f.txt"),
        "wrong op": issue_upload_token(secret, vfid=vfid, relpath="f.txt", size=1, session="0" * 32),
        "not a jwt": "garbage",
        "bad vfid": issue_download_token(secret, vfid="../x", relpath="f.txt"),
    }
    for why, token in cases.items():
        async with stack.http.get(with_token(stack.storage_url + "/download", token)) as resp:
            body = await resp.json()
            assert resp.status == 400, why
            assert problem_type(body) == "storage/invalid-api-params", why
            assert token not in str(body), "a token never comes back in an error"
    async with stack.http.get(with_token(stack.storage_url + "/download", expired)) as resp:
        assert "expired" in (await resp.json())["data"]["token"]
    async with stack.http.head(with_token(stack.storage_url + "/upload", good)) as resp:
        assert resp.status == 400, "a download token does not open an upload"
