"""Manager status and the announcement banner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._facade import SyncResource, sync_method
from ..types import Announcement

if TYPE_CHECKING:
    from ..client import AsyncClient

__all__ = ["Manager", "SyncManager"]


class Manager:
    """What the manager says about itself."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def status(self) -> Mapping[str, Any]:
        """``GET /manager/status``: e.g. ``{"status": "running", "active_sessions": N}``."""
        resp = await self._client.request("GET", "/manager/status")
        data = resp.json()
        return dict(data) if isinstance(data, Mapping) else {}

    async def announcement(self) -> Announcement:
        """``GET /manager/announcement`` (no credentials needed)."""
        resp = await self._client.request("GET", "/manager/announcement", anonymous=True)
        data = resp.json()
        return Announcement.from_api(data if isinstance(data, Mapping) else {})

    async def versions(self) -> dict[str, str | None]:
        """The negotiated API version and the manager release (``{"version", "manager"}``)."""
        await self._client.negotiate()
        return {"version": self._client.server_version, "manager": self._client.manager_version}


class SyncManager(SyncResource[Manager]):
    """The blocking twin of ``Manager``."""

    status = sync_method(Manager.status)
    announcement = sync_method(Manager.announcement)
    versions = sync_method(Manager.versions)
