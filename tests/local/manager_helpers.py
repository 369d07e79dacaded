"""Helpers for the manager-side tests: a tiny test-only signer and signed calls to a real local endpoint.

The signer follows docs/protocol.md §2.1 independently of the SDK's, so the server is checked against it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from backendai_jupyter.local.config import LocalConfig
from backendai_jupyter.local.server import LocalEndpointThread

VERSION = "v7.20230615"


def pid_alive(pid: int) -> bool:
    """Whether a process with this PID exists (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def sign(
    secret_key: str, *, method: str, raw_path: str, date: str, host: str, content_type: str, version: str
) -> str:
    """The hex signature of a request, per docs/protocol.md §2.1 (sha256)."""
    parsed = datetime.fromisoformat(date)
    k1 = hmac.new(secret_key.encode(), parsed.strftime("%Y%m%d").encode(), "sha256").digest()
    key = hmac.new(k1, host.encode(), "sha256").digest()
    body_hash = hashlib.sha256(b"").hexdigest()
    to_sign = "\n".join(
        [
            method.upper(),
            raw_path,
            date,
            f"host:{host}",
            f"content-type:{content_type}",
            f"x-backendai-version:{version}",
            body_hash,
        ]
    )
    return hmac.new(key, to_sign.encode(), "sha256").hexdigest()


@dataclass
class Api:
    """Signed HTTP calls to one endpoint with one keypair."""

    base: str
    access_key: str
    secret_key: str
    http: aiohttp.ClientSession
    version: str = VERSION

    def url(self, path: str, params: dict[str, str] | None = None) -> URL:
        url = URL(self.base.rstrip("/") + path)
        return url.with_query(params) if params else url

    def headers(
        self, method: str, url: URL, *, content_type: str | None = None, date: str | None = None
    ) -> dict[str, str]:
        date = date or datetime.now(timezone.utc).isoformat()
        host = url.raw_authority
        signature = sign(
            self.secret_key,
            method=method,
            raw_path=url.raw_path_qs,
            date=date,
            host=host,
            content_type=content_type or "application/octet-stream",
            version=self.version,
        )
        headers = {
            "Date": date,
            "X-BackendAI-Version": self.version,
            "Authorization": f"BackendAI signMethod=HMAC-SHA256, credential={self.access_key}:{signature}",
        }
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, str] | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, aiohttp.ClientResponse]:
        """One signed request; returns (status, parsed body or text or None, response)."""
        url = self.url(path, params)
        data = None if json_body is None else json.dumps(json_body).encode()
        headers = self.headers(method, url, content_type="application/json" if data is not None else None)
        headers.update(extra_headers or {})
        async with self.http.request(method, url, data=data, headers=headers) as resp:
            raw = await resp.read()
            body: Any = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode(errors="replace")
            return resp.status, body, resp

    async def ws(self, path: str) -> aiohttp.ClientWebSocketResponse:
        """A signed WebSocket connection."""
        url = self.url(path)
        return await self.http.ws_connect(url, headers=self.headers("GET", url))

    async def create(
        self, name: str, *, image: str = "python:3.11-ubuntu22.04", **fields: Any
    ) -> dict[str, Any]:
        """Create (or reuse) a session and wait until it runs."""
        status, body, _ = await self.call(
            "POST", "/session", json_body={"image": image, "name": name, **fields}
        )
        assert status == 201, body
        return dict(body)

    async def execute(
        self, session: str, code: str, *, mode: str = "query", run_id: str | None = None, options: Any = None
    ) -> dict[str, Any]:
        """One REST execute call; returns the ``result`` object."""
        status, body, _ = await self.call(
            "POST",
            f"/session/{session}",
            json_body={"mode": mode, "code": code, "runId": run_id, "options": options},
        )
        assert status == 200, body
        return dict(body["result"])

    async def run_to_end(
        self, session: str, code: str, inputs: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """The REST loop: query, then continue/input until finished; returns every result."""
        pending = list(inputs or [])
        results = [await self.execute(session, code)]
        while results[-1]["status"] not in ("finished", "exec-timeout"):
            run_id = results[-1]["runId"]
            if results[-1]["status"] == "waiting-input":
                results.append(await self.execute(session, pending.pop(0), mode="input", run_id=run_id))
            else:
                results.append(await self.execute(session, "", mode="continue", run_id=run_id))
        return results


def make_endpoint(data_dir: Path, **settings: Any) -> LocalEndpointThread:
    """A started endpoint with custom settings (the caller stops it)."""
    endpoint = LocalEndpointThread(LocalConfig(data_dir=data_dir, **settings))
    endpoint.start()
    return endpoint
