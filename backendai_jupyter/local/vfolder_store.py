"""The vfolders on disk: their records in ``<data_dir>/vfolders.json``, their folders, names and options.

Each vfolder is ``<data_dir>/vfolders/<id hex>/``. A vfolder belongs to the access key that created it and
only that key sees it. There is one host, ``local:volume1``, and only user-owned folders. As on 23.09,
deleting a vfolder really deletes its files.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final

from .endpoint_state import User
from .problems import Problem

__all__ = [
    "HOST",
    "PERMISSIONS",
    "UPLOAD_DIRNAME",
    "USAGE_MODES",
    "VFOLDERS_DIRNAME",
    "VFolderRecord",
    "VFolderStore",
    "vfolder_dir",
]

#: The one storage host of the local endpoint.
HOST: Final = "local:volume1"
USAGE_MODES: Final = ("general", "model", "data")
PERMISSIONS: Final = ("ro", "rw", "wd")
RECORDS_FILE: Final = "vfolders.json"
#: Folder of ``<data_dir>`` that holds one folder per vfolder, named by its id (hex).
VFOLDERS_DIRNAME: Final = "vfolders"
#: Folder inside a vfolder where the storage proxy keeps unfinished uploads, one temp file per upload.
UPLOAD_DIRNAME: Final = ".upload"


def vfolder_dir(data_dir: Path, vfid: str) -> Path:
    """Where the files of vfolder ``vfid`` live."""
    return data_dir / VFOLDERS_DIRNAME / vfid


@dataclass
class VFolderRecord:
    """What ``vfolders.json`` keeps about one vfolder."""

    id: str  # uuid hex, also the folder name on disk
    name: str
    owner: str  # access key
    user: str  # owner's user uuid
    creator: str  # owner's email
    created_at: str  # str(datetime), as the manager prints it
    host: str = HOST
    usage_mode: str = "general"
    permission: str = "rw"
    cloneable: bool = False
    max_size: int | None = None  # MiB
    status: str = "ready"

    @property
    def quota_scope_id(self) -> str:
        """The user quota scope, as 23.09 names it."""
        return f"user:{self.user}"

    def listing(self) -> dict[str, Any]:
        """The ``GET /folders`` entry."""
        return {
            "name": self.name,
            "id": self.id,
            "quota_scope_id": self.quota_scope_id,
            "host": self.host,
            "status": self.status,
            "usage_mode": self.usage_mode,
            "created_at": self.created_at,
            "is_owner": True,
            "permission": self.permission,
            "user": self.user,
            "group": None,
            "creator": self.creator,
            "user_email": self.creator,
            "group_name": None,
            "ownership_type": "user",
            "type": "user",
            "cloneable": self.cloneable,
            "max_files": 0,
            "max_size": self.max_size,
            "cur_size": 0,  # usage is not tracked; GET /folders/{name} counts it
        }


class VFolderStore:
    """The vfolders of one data dir: the ``endpoint_state.VFolderDirectory`` the manager side mounts from."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._file = data_dir / RECORDS_FILE
        self._records: dict[str, VFolderRecord] = {}
        if self._file.exists():
            known = {f.name for f in fields(VFolderRecord)}
            try:
                for raw in json.loads(self._file.read_text("utf-8")):
                    record = VFolderRecord(**{k: v for k, v in raw.items() if k in known})
                    self._records[record.id] = record
            except (ValueError, TypeError) as exc:
                raise ValueError(
                    f"{self._file} is not a valid vfolder list ({exc}); fix or remove it."
                ) from exc
        (data_dir / VFOLDERS_DIRNAME).mkdir(parents=True, exist_ok=True)

    def save(self) -> None:
        """Write the records atomically."""
        self._data_dir.mkdir(parents=True, exist_ok=True)
        temp = self._file.with_suffix(".json.tmp")
        temp.write_text(json.dumps([asdict(r) for r in self._records.values()], indent=1), "utf-8")
        os.replace(temp, self._file)

    def path(self, record: VFolderRecord) -> Path:
        """The folder of ``record`` on disk."""
        return vfolder_dir(self._data_dir, record.id)

    def owned_by(self, access_key: str) -> list[VFolderRecord]:
        """The vfolders of ``access_key``, oldest first."""
        return [r for r in self._records.values() if r.owner == access_key]

    def get(self, access_key: str, name: str) -> VFolderRecord:
        """The vfolder ``name`` of ``access_key``; 404 ``No such virtual folder.`` otherwise."""
        for record in self._records.values():
            if record.owner == access_key and record.name == name:
                return record
        raise Problem.not_found("No such virtual folder.", msg=f"There is no vfolder named {name!r}.")

    def get_by_id(self, access_key: str, vfid: str) -> VFolderRecord | None:
        """The vfolder of ``access_key`` with id ``vfid`` (hex), if there is one."""
        record = self._records.get(vfid)
        return record if record is not None and record.owner == access_key else None

    def create(
        self,
        access_key: str,
        user: User | None,
        *,
        name: str,
        usage_mode: str,
        permission: str,
        cloneable: bool,
        quota: int | None,
    ) -> VFolderRecord:
        """A new vfolder of ``access_key`` and its empty folder; 400 if the owner has one of that name."""
        if any(r.name == name for r in self.owned_by(access_key)):
            raise Problem(
                400,
                "vfolder-already-exists",
                "The virtual folder already exists with the same name.",
                data=name,
            )
        user_uuid = (user.uuid if user else "") or str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"backendai:{access_key}")
        )
        record = VFolderRecord(
            id=uuid.uuid4().hex,
            name=name,
            owner=access_key,
            user=user_uuid,
            creator=user.email if user else "",
            created_at=str(datetime.now(timezone.utc)),
            usage_mode=usage_mode,
            permission=permission,
            cloneable=cloneable,
            max_size=quota // 2**20 if quota else None,  # bytes -> MiB, as the manager keeps it
        )
        self.path(record).mkdir(parents=True, mode=0o755)
        self._records[record.id] = record
        self.save()
        return record

    def rename(self, record: VFolderRecord, new_name: str) -> None:
        """Give ``record`` a new name; 400 if its owner has a vfolder of that name already."""
        if any(r.name == new_name for r in self.owned_by(record.owner)):
            raise Problem.invalid_params(
                "One of your accessible vfolders already has the name you requested."
            )
        record.name = new_name
        self.save()

    def update_options(
        self, record: VFolderRecord, *, cloneable: bool | None, permission: str | None
    ) -> None:
        """Change the options given (None keeps one)."""
        if cloneable is not None:
            record.cloneable = cloneable
        if permission is not None:
            record.permission = permission
        self.save()

    async def delete(self, record: VFolderRecord) -> None:
        """Forget ``record``, then delete its folder with every file in it."""
        folder = self.path(record)
        self._records.pop(record.id, None)
        self.save()
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)

    # VFolderDirectory

    def path_of(self, access_key: str, name: str) -> Path:
        """The folder of vfolder ``name`` visible to ``access_key``; raises ``Problem`` 404 otherwise."""
        return self.path(self.get(access_key, name))

    def list_for(self, access_key: str) -> list[dict[str, Any]]:
        """The vfolders visible to ``access_key``, as ``GET /folders`` lists them."""
        return [r.listing() for r in self.owned_by(access_key)]
