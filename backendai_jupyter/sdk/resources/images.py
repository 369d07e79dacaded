"""Container images known to the manager (GraphQL ``images``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._facade import SyncResource, sync_method
from ..errors import BackendClientError
from ..types import ImageInfo
from ._util import gql

if TYPE_CHECKING:
    from ..client import AsyncClient

__all__ = ["Images", "SyncImages"]

#: Fields that both 23.09 and 24.03 managers know; ``architecture`` needs v6.20220315.
_FIELDS = "name tag registry digest installed aliases labels{key value}"


class Images:
    """Images the current user may start sessions with."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def list(self, *, installed_only: bool = False) -> tuple[ImageInfo, ...]:
        """All images (or only those installed on some agent)."""
        await self._client.negotiate()
        fields = _FIELDS
        if self._client.api_version_tuple >= (6, "20220315"):
            fields += " architecture"
        data = await gql(self._client, f"{{images{{{fields}}}}}")
        rows = data.get("images") if isinstance(data, Mapping) else None
        if not isinstance(rows, list):
            raise BackendClientError(f"the image listing reply has no images: {data!r}")
        images = tuple(ImageInfo.from_api(r) for r in rows if isinstance(r, Mapping))
        return tuple(i for i in images if i.installed) if installed_only else images


class SyncImages(SyncResource[Images]):
    """The blocking twin of ``Images``."""

    list = sync_method(Images.list)
