"""A tiny Backend.AI-like server for SDK tests: real aiohttp on 127.0.0.1:0 with its own HMAC check."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
import ssl
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from dateutil.parser import isoparse
from yarl import URL

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_AUTH_RE = re.compile(r"^BackendAI signMethod=HMAC-(\w+), credential=([^:]+):([0-9a-f]+)$")


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    raw_path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool | None  # None: no Authorization header


def server_signature(request: web.Request, secret_key: str, hash_type: str) -> str:
    """Recompute the signature the way the manager does (docs/protocol.md §2.1), independently of the SDK."""
    date = request.headers["Date"]
    host = request.headers["Host"]
    mime = request.headers.get("Content-Type", "application/octet-stream").split(";")[0].strip().lower()
    text = "\n".join(
        [
            request.method,
            request.raw_path,
            date,
            f"host:{host}",
            f"content-type:{mime}",
            f"x-backendai-version:{request.headers.get('X-BackendAI-Version', '')}",
            hashlib.new(hash_type, b"").hexdigest(),
        ]
    )
    day = isoparse(date).strftime("%Y%m%d")
    k1 = hmac.new(secret_key.encode(), day.encode(), hash_type).digest()
    key = hmac.new(k1, host.encode(), hash_type).digest()
    return hmac.new(key, text.encode(), hash_type).hexdigest()


def problem(status: int, type_: str, title: str, **extra: Any) -> web.Response:
    """A problem+json error reply."""
    body = {"type": f"https://api.backend.ai/probs/{type_}", "title": title, **extra}
    return web.Response(status=status, text=json.dumps(body), content_type="application/problem+json")


@dataclass
class FakeManager:
    """Routes you add, plus ``GET /`` (version probe) and HMAC checking for signed requests."""

    access_key: str = "AKIATESTTESTTESTTEST"
    secret_key: str = "test/secret/KEY/for/tests/only"
    version: str = "v7.20230615"
    manager: str = "23.09.10"
    prefix: str = ""
    seen: list[Seen] = field(default_factory=list)
    probe_status: int = 200
    ssl_context: ssl.SSLContext | None = None
    _runner: web.AppRunner | None = None
    url: URL = field(default_factory=URL)

    def __post_init__(self) -> None:
        self.app = web.Application(middlewares=[self._middleware])
        self.app.router.add_get(self.prefix + "/", self._probe)
        if self.prefix:
            self.app.router.add_get(self.prefix, self._probe)

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Add a route (``path`` without the prefix)."""
        self.app.router.add_route(method, self.prefix + path, handler)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read() if request.can_read_body else b""
        auth = request.headers.get("Authorization")
        ok: bool | None = None
        if auth is not None:
            match = _AUTH_RE.match(auth)
            ok = bool(
                match
                and match.group(2) == self.access_key
                and hmac.compare_digest(
                    match.group(3), server_signature(request, self.secret_key, match.group(1).lower())
                )
            )
        self.seen.append(Seen(request.method, request.raw_path, dict(request.headers), body, ok))
        if ok is False:
            return problem(401, "auth-failed", "Credential/signature mismatch.", msg="Signature mismatch")
        return await handler(request)

    async def _probe(self, request: web.Request) -> web.StreamResponse:
        if self.probe_status != 200:
            return problem(self.probe_status, "internal-server-error", "Something went wrong.")
        return web.json_response({"version": self.version, "manager": self.manager})

    async def start(self) -> URL:
        """Serve on a free loopback port; return the endpoint URL (with the prefix)."""
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ssl_context)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        scheme = "https" if self.ssl_context is not None else "http"
        self.url = URL(f"{scheme}://{host}:{port}{self.prefix}")
        return self.url

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def api_requests(self) -> list[Seen]:
        """Requests other than the version probe."""
        return [s for s in self.seen if s.raw_path.rstrip("/") != self.prefix.rstrip("/")]


class ClosedPort:
    """A loopback port that is bound but not listening: connecting to it is refused at once."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.url = URL(f"http://127.0.0.1:{self.port}")

    def close(self) -> None:
        """Release the port."""
        self._sock.close()


class RecordingSleep:
    """An injected ``sleep`` that records the delays and returns at once (no real waiting)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def make_certificates(directory: Path) -> dict[str, Path]:
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate (needs the openssl CLI)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True, timeout=60)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=test-ca")
    (directory / "server.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    (directory / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name in ("server", "client"):
        openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        openssl(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            f"{name}.pem",
            "-days",
            "1",
            "-extfile",
            f"{name}.ext",
        )
    return {p.stem + p.suffix.replace(".", "_"): p for p in directory.iterdir()}
