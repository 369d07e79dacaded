"""The SDK against the real Backend.AI 24.03 stack: auth, versions, sessions, events, vfolders, transfers."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from realstack_support import SESSION_RESOURCES, CuttingProxy, RealStack, same_content, unique, write_random
from yarl import URL

from backendai_jupyter.sdk.client import AsyncClient
from backendai_jupyter.sdk.errors import AuthenticationError, InvalidAuthParamsError, NotFoundError
from backendai_jupyter.sdk.resources.vfolders import VFolders
from backendai_jupyter.sdk.types import SessionEvent, TransferProgress

pytestmark = pytest.mark.realstack

MIB = 1024 * 1024


async def test_version_negotiation(client: AsyncClient) -> None:
    assert await client.negotiate() == "v8.20240315"
    assert client.server_version == "v8.20240315"
    assert (client.manager_version or "").startswith("24.03")


async def test_wrong_secret_is_an_authentication_error(realstack: RealStack) -> None:
    async with AsyncClient(realstack.config(secret_key="not-the-secret-key")) as c:
        with pytest.raises(AuthenticationError) as info:
            await c.vfolders.list()
    assert info.value.status == 401
    assert "not-the-secret-key" not in str(info.value)


async def test_skewed_clock_is_an_invalid_auth_params_error(realstack: RealStack) -> None:
    # the client's clock hook, not a global monkeypatch: only this client's Date header is 20 min off
    def skewed() -> datetime:
        return datetime.now(timezone.utc) - timedelta(minutes=20)

    async with AsyncClient(realstack.config(), now=skewed) as c:
        with pytest.raises(InvalidAuthParamsError) as info:
            await c.vfolders.list()
    assert info.value.status == 400


async def test_session_lifecycle_and_events(client: AsyncClient, realstack: RealStack) -> None:
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
                realstack.image, name=name, resources=SESSION_RESOURCES, max_wait=90
            )
            assert created.created is True
            assert created.name == name
            assert created.status == "RUNNING"

            again = await client.sessions.create(realstack.image, name=name, resources=SESSION_RESOURCES)
            assert again.created is False
            assert again.id == created.id

            info = await client.sessions.info(created.id)
            assert info.status == "RUNNING"
            assert info.image is not None
            assert info.image.endswith("python:3.9-ubuntu20.04")

            page = await client.sessions.list(status="RUNNING", limit=100)
            assert created.id in {item.id for item in page.items}
            everything = [item async for item in client.sessions.iter_all(status="RUNNING", page_size=1)]
            assert created.id in {item.id for item in everything}

            await client.sessions.rename(created.id, new_name)
            assert (await client.sessions.info(new_name)).status == "RUNNING"

            await client.sessions.restart(created.id)
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
    client: AsyncClient, realstack: RealStack, tmp_path: Path
) -> None:
    name = unique("rs-vf")
    info = await client.vfolders.create(name, host=realstack.vfolder_host)
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
    client: AsyncClient, realstack: RealStack, tmp_path: Path, cutting_proxy: list[CuttingProxy]
) -> None:
    name = unique("rs-up")
    await client.vfolders.create(name, host=realstack.vfolder_host)
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
        async with AsyncClient(realstack.config(storage_proxy_address_map={str(origin): proxy_url})) as c:
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
    client: AsyncClient, realstack: RealStack, tmp_path: Path, cutting_proxy: list[CuttingProxy]
) -> None:
    name = unique("rs-down")
    await client.vfolders.create(name, host=realstack.vfolder_host)
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
        async with AsyncClient(realstack.config(storage_proxy_address_map={str(origin): proxy_url})) as c:
            (back,) = await VFolders(c).download(name, ["big.bin"], dest=tmp_path / "back")
        assert proxy.cuts == 1
        assert proxy.connections >= 2
        assert b"range: bytes=" in proxy.request_heads[1].lower()
        assert proxy.down_bytes < size + cut // 2
        assert same_content(source, back)
        assert not list((tmp_path / "back").glob(".*.part"))
    finally:
        await client.vfolders.delete(name)


async def test_session_mode_login_then_vfolder_listing(realstack: RealStack) -> None:
    config = realstack.config(
        endpoint=realstack.webserver, endpoint_type="session", access_key="", secret_key=""
    )
    async with AsyncClient(config) as c:
        data = await c.auth.login(realstack.email, realstack.password)
        assert data.get("access_key") == realstack.access_key
        folders = await c.vfolders.list()
        assert isinstance(folders, tuple)
        assert (await c.vfolders.hosts()).default == realstack.vfolder_host
        await c.auth.logout()
        with pytest.raises(AuthenticationError):
            await c.vfolders.list()
