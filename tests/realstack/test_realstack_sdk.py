"""The SDK against both backends: auth, versions, sessions, code, events, vfolders, transfers."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from realstack_support import (
    PURGE_ON_DELETE,
    RUN_CODE,
    SESSION_FILES,
    SESSION_RESOURCES,
    Backend,
    CuttingProxy,
    same_content,
    unique,
    write_random,
)
from yarl import URL

from backendai_jupyter.sdk.client import AsyncClient
from backendai_jupyter.sdk.errors import (
    AuthenticationError,
    InvalidAuthParamsError,
    NotFoundError,
    ServerError,
)
from backendai_jupyter.sdk.resources.vfolders import VFolders
from backendai_jupyter.sdk.types import ExecutionResult, SessionEvent, TransferProgress

# the marks come with the backend params (conftest.py): realstack -> realstack, local -> integration

MIB = 1024 * 1024
#: Prints, then stays quiet past the 2 s REST flush window, so the run needs at least one ``continue``.
SLOW_PRINT = "import time\nprint('before', flush=True)\ntime.sleep(2.5)\nprint('after')\nmarker = 42\n"


def stdout_of(results: list[ExecutionResult]) -> str:
    """All stdout text of a run, in order."""
    return "".join(item.data for r in results for item in r.console if item.kind == "stdout")


async def run_code(client: AsyncClient, session: str, code: str) -> list[ExecutionResult]:
    """Every step of a query-mode REST run (query, then continue until it ends)."""
    return [result async for result in client.sessions.run(session, code)]


async def test_version_negotiation(client: AsyncClient, stack: Backend) -> None:
    assert await client.negotiate() == stack.api_version
    assert client.server_version == stack.api_version
    assert (client.manager_version or "").startswith(stack.manager_prefix)


async def test_wrong_secret_is_an_authentication_error(stack: Backend) -> None:
    async with AsyncClient(stack.config(secret_key="not-the-secret-key")) as c:
        with pytest.raises(AuthenticationError) as info:
            await c.vfolders.list()
    assert info.value.status == 401
    assert "not-the-secret-key" not in str(info.value)


async def test_skewed_clock_is_an_invalid_auth_params_error(stack: Backend) -> None:
    # the client's clock hook, not a global monkeypatch: only this client's Date header is 20 min off
    def skewed() -> datetime:
        return datetime.now(timezone.utc) - timedelta(minutes=20)

    async with AsyncClient(stack.config(), now=skewed) as c:
        with pytest.raises(InvalidAuthParamsError) as info:
            await c.vfolders.list()
    assert info.value.status == 400


async def test_session_lifecycle_and_events(client: AsyncClient, stack: Backend) -> None:
    name = unique("rs-sess")
    new_name = unique("rs-renamed")
    seen: list[SessionEvent] = []
    # all of this keypair's sessions: a name filter would lose the session once it is renamed
    async with client.events.session(session_name="*") as stream:

        async def collect() -> None:
            async for event in stream:
                if event.session_name not in (name, new_name):
                    continue
                seen.append(event)
                if event.name == "session_terminated":
                    return

        collector = asyncio.create_task(collect())
        try:
            created = await client.sessions.create(
                stack.image, name=name, resources=SESSION_RESOURCES, max_wait=90
            )
            assert created.created is True
            assert created.name == name
            assert created.status == "RUNNING"

            again = await client.sessions.create(stack.image, name=name, resources=SESSION_RESOURCES)
            assert again.created is False
            assert again.id == created.id

            info = await client.sessions.info(created.id)
            assert info.status == "RUNNING"
            assert info.image is not None
            assert info.image == stack.canonical_image

            if stack.runs_code:
                steps = await run_code(client, created.id, SLOW_PRINT)
                assert steps[0].status == "continued"
                assert steps[-1].status == "finished"
                assert {r.status for r in steps[1:-1]} <= {"continued"}
                assert steps[0].run_id
                assert {r.run_id for r in steps} == {steps[0].run_id}
                assert stdout_of(steps) == "before\nafter\n"
            else:
                # the dummy agent answers execute with not-implemented: the SDK must raise at once, not hang
                with pytest.raises(ServerError) as refused:
                    await client.sessions.execute(created.id, mode="query", code="print(1)")
                assert refused.value.status == 500

            page = await client.sessions.list(status="RUNNING", limit=100)
            assert created.id in {item.id for item in page.items}
            everything = [item async for item in client.sessions.iter_all(status="RUNNING", page_size=1)]
            assert created.id in {item.id for item in everything}

            await client.sessions.rename(created.id, new_name)
            assert (await client.sessions.info(new_name)).status == "RUNNING"
            if stack.runs_code:
                assert stdout_of(await run_code(client, new_name, "print(marker)")) == "42\n"

            await client.sessions.restart(created.id)
            if stack.runs_code:
                # restart resets the state
                assert stdout_of(await run_code(client, new_name, "print('marker' in dir())")) == "False\n"
            stats = await client.sessions.destroy(created.id)
            assert isinstance(stats, dict)
            await asyncio.wait_for(collector, 60)
        finally:
            collector.cancel()
    names = [e.name for e in seen]
    assert "session_started" in names
    assert names[-1] == "session_terminated"
    assert all(e.session_id in (None, created.id) for e in seen)
    with pytest.raises(NotFoundError):
        await client.sessions.info(new_name)


async def test_vfolder_cycle_50_mib_is_byte_identical(
    client: AsyncClient, stack: Backend, tmp_path: Path
) -> None:
    name = unique("rs-vf")
    info = await client.vfolders.create(name, host=stack.vfolder_host)
    assert info.name == name
    try:
        source = tmp_path / "random.bin"
        write_random(source, 50 * MIB)
        progress: list[TransferProgress] = []
        assert await client.vfolders.upload(name, [source], dst_dir="sub", progress=progress.append) == [
            "sub/random.bin"
        ]
        assert progress[-1].done == progress[-1].total == 50 * MIB
        listing = await client.vfolders.ls(name, "sub")
        assert [(f.name, f.size) for f in listing] == [("random.bin", 50 * MIB)]
        assert name in {v.name for v in await client.vfolders.list()}
        (local,) = await client.vfolders.download(name, ["sub/random.bin"], dest=tmp_path / "back")
        assert same_content(source, local)
        assert not list((tmp_path / "back").glob(".*.part"))
    finally:
        await client.vfolders.delete(name)


async def _storage_origin(client: AsyncClient, name: str, path: str) -> str:
    """Where the manager sends transfers of this vfolder (the storage proxy's client API)."""
    resp = await client.request("POST", f"/folders/{name}/request-download", json={"path": path})
    return str(URL(resp.json()["url"]).origin())


async def test_upload_resumes_after_a_forced_disconnect(
    client: AsyncClient, stack: Backend, tmp_path: Path, cutting_proxy: list[CuttingProxy]
) -> None:
    name = unique("rs-up")
    await client.vfolders.create(name, host=stack.vfolder_host)
    try:
        probe = tmp_path / "probe.txt"
        probe.write_text("x")
        await client.vfolders.upload(name, [probe])
        origin = URL(await _storage_origin(client, name, "probe.txt"))
        size = 20 * MIB
        cut = 6 * MIB
        proxy = CuttingProxy(origin.host or "127.0.0.1", origin.port or 80, cut_after=cut, direction="up")
        cutting_proxy.append(proxy)
        proxy_url = await proxy.start()
        source = tmp_path / "big.bin"
        write_random(source, size)
        async with AsyncClient(stack.config(storage_proxy_address_map={str(origin): proxy_url})) as c:
            progress: list[TransferProgress] = []
            await VFolders(c).upload(name, [source], progress=progress.append, chunk_size=8 * MIB)
        assert proxy.cuts == 1
        # resumed from the offset the proxy reported (HEAD), not from zero: the bytes sent are about one
        # file's worth, where a restart would have sent the cut part again on top
        assert size <= proxy.up_bytes < size + cut // 2
        dones = [p.done for p in progress]
        drop = next(i for i in range(1, len(dones)) if dones[i] < dones[i - 1])
        assert 0 < dones[drop] <= cut
        (back,) = await client.vfolders.download(name, ["big.bin"], dest=tmp_path / "back")
        assert same_content(source, back)
    finally:
        await client.vfolders.delete(name)


async def test_ranged_download_resumes_after_a_forced_disconnect(
    client: AsyncClient, stack: Backend, tmp_path: Path, cutting_proxy: list[CuttingProxy]
) -> None:
    name = unique("rs-down")
    await client.vfolders.create(name, host=stack.vfolder_host)
    try:
        size = 12 * MIB
        cut = 5 * MIB
        source = tmp_path / "big.bin"
        write_random(source, size)
        await client.vfolders.upload(name, [source])
        origin = URL(await _storage_origin(client, name, "big.bin"))
        proxy = CuttingProxy(origin.host or "127.0.0.1", origin.port or 80, cut_after=cut, direction="down")
        cutting_proxy.append(proxy)
        proxy_url = await proxy.start()
        async with AsyncClient(stack.config(storage_proxy_address_map={str(origin): proxy_url})) as c:
            (back,) = await VFolders(c).download(name, ["big.bin"], dest=tmp_path / "back")
        assert proxy.cuts == 1
        assert proxy.connections >= 2
        assert b"range: bytes=" in proxy.request_heads[1].lower()
        assert proxy.down_bytes < size + cut // 2
        assert same_content(source, back)
        assert not list((tmp_path / "back").glob(".*.part"))
    finally:
        await client.vfolders.delete(name)


async def test_session_mode_login_then_vfolder_listing(stack: Backend) -> None:
    config = stack.config(endpoint=stack.webserver, endpoint_type="session", access_key="", secret_key="")
    async with AsyncClient(config) as c:
        data = await c.auth.login(stack.email, stack.password)
        assert data.get("access_key") == stack.access_key
        folders = await c.vfolders.list()
        assert isinstance(folders, tuple)
        assert (await c.vfolders.hosts()).default == stack.vfolder_host
        await c.auth.logout()
        with pytest.raises(AuthenticationError):
            await c.vfolders.list()


@pytest.mark.needs(SESSION_FILES)
async def test_session_files_upload_list_download(
    client: AsyncClient, stack: Backend, tmp_path: Path
) -> None:
    source = tmp_path / "notes.txt"
    source.write_text("hello session\n")
    created = await client.sessions.create(
        stack.image, name=unique("rs-files"), resources=SESSION_RESOURCES, max_wait=90
    )
    try:
        await client.sessions.upload(created.id, [source], basedir=tmp_path)
        listing = await client.sessions.list_files(created.id, ".")
        assert ("notes.txt", 14) in {(f.filename, f.size) for f in listing}
        (back,) = await client.sessions.download(created.id, ["notes.txt"], dest=tmp_path / "back")
        assert back.read_text() == "hello session\n"
        assert await client.sessions.download_single(created.id, "notes.txt") == b"hello session\n"
    finally:
        await client.sessions.destroy(created.id)


@pytest.mark.needs(RUN_CODE)
async def test_code_reads_and_writes_a_mounted_vfolder(
    client: AsyncClient, stack: Backend, tmp_path: Path
) -> None:
    name = unique("rs-mount")
    await client.vfolders.create(name, host=stack.vfolder_host)
    try:
        source = tmp_path / "in.txt"
        source.write_text("from the laptop\n")
        await client.vfolders.upload(name, [source])
        created = await client.sessions.create(
            stack.image, name=unique("rs-mount"), resources=SESSION_RESOURCES, mounts=[name], max_wait=90
        )
        try:
            code = (
                f"print(open('{name}/in.txt').read(), end='')\n"
                f"written = open('{name}/out.txt', 'w').write('from the session\\n')\n"
            )
            steps = await run_code(client, created.id, code)
            assert steps[-1].status == "finished"
            assert stdout_of(steps) == "from the laptop\n"
        finally:
            await client.sessions.destroy(created.id)
        (out,) = await client.vfolders.download(name, ["out.txt"], dest=tmp_path / "back")
        assert out.read_text() == "from the session\n"
    finally:
        await client.vfolders.delete(name)


@pytest.mark.needs(PURGE_ON_DELETE)
async def test_deleted_vfolder_name_is_free_again(client: AsyncClient, stack: Backend) -> None:
    name = unique("rs-reuse")
    first = await client.vfolders.create(name, host=stack.vfolder_host)
    await client.vfolders.delete(name)
    assert name not in {v.name for v in await client.vfolders.list()}
    second = await client.vfolders.create(name, host=stack.vfolder_host)
    try:
        assert second.name == name
        assert second.id != first.id
    finally:
        await client.vfolders.delete(name)
