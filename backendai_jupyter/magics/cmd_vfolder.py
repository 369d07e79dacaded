"""``vfolder`` subcommands: manage virtual folders and move files between this machine and them."""

from __future__ import annotations

import argparse
import os
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ..sdk.errors import BackendError, NotFoundError
from ..sdk.types import TransferProgress, VFolderFile, VFolderInfo
from ..widgets.options import format_size, format_table
from .bridge import Emit, Interrupted, run_bridged
from .errors import from_sdk, needs_force, translate, usage_error
from .progress import TransferBar, summary
from .registry import Command

if TYPE_CHECKING:
    from .context import Context

__all__ = ["COMMANDS", "VFOLDER"]


def _require(ctx: Context, name: str) -> VFolderInfo:
    try:
        return ctx.client().vfolders.info(name)
    except NotFoundError:
        raise usage_error(
            f"no vfolder named {name!r}; list them with %backend vfolder list or create it with "
            f"%backend vfolder create {name}"
        ) from None
    except BackendError as exc:
        raise from_sdk(exc, action=f"looking up vfolder {name!r}") from None


def _name(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="vfolder name")


# -- management ---------------------------------------------------------------------------------------


def _list(ctx: Context, ns: argparse.Namespace) -> None:
    with translate("listing vfolders"):
        folders = ctx.client().vfolders.list()
    rows = [
        [
            f.name,
            f.host or "-",
            f.status or "-",
            f.permission or "-",
            "yes" if f.is_owner else "no",
            f.usage_mode or "-",
        ]
        for f in sorted(folders, key=lambda f: f.name)
    ]
    ctx.print(
        format_table(["name", "host", "status", "permission", "owner", "usage"], rows, empty="(no vfolders)")
    )


def _list_hosts(ctx: Context, ns: argparse.Namespace) -> None:
    with translate("listing storage hosts"):
        hosts = ctx.client().vfolders.hosts()
    rows = [[h, "yes" if h == hosts.default else ""] for h in hosts.allowed]
    ctx.print(format_table(["host", "default"], rows, empty="(no storage hosts allowed)"))


def _create_args(p: argparse.ArgumentParser) -> None:
    _name(p)
    p.add_argument("host", nargs="?", help="storage host (default: the server's default; see list-hosts)")
    p.add_argument("--usage-mode", choices=["general", "model", "data"], help="usage mode (default: general)")
    p.add_argument("--permission", choices=["ro", "rw", "wd"], help="permission (default: rw)")


def _create(ctx: Context, ns: argparse.Namespace) -> None:
    with translate(f"creating vfolder {ns.name!r}"):
        info = ctx.client().vfolders.create(
            ns.name, host=ns.host, usage_mode=ns.usage_mode, permission=ns.permission
        )
    ctx.print(f"created vfolder {info.name} on {info.host or 'the default host'}")


def _force(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-f", "--force", action="store_true", help="really do it (without -f: say what would happen)"
    )


def _delete_args(p: argparse.ArgumentParser) -> None:
    _name(p)
    _force(p)


def _delete(ctx: Context, ns: argparse.Namespace) -> None:
    _require(ctx, ns.name)
    if not ns.force:
        raise needs_force(
            f"delete vfolder {ns.name!r} with every file in it", f"%backend vfolder delete {ns.name}"
        )
    with translate(f"deleting vfolder {ns.name!r}"):
        ctx.client().vfolders.delete(ns.name)
    ctx.print(f"deleted vfolder {ns.name}")


def _info(ctx: Context, ns: argparse.Namespace) -> None:
    info = _require(ctx, ns.name)
    rows = [
        ["name", info.name],
        ["id", info.id or "-"],
        ["host", info.host or "-"],
        ["status", info.status or "-"],
    ]
    rows += [["permission", info.permission or "-"], ["usage mode", info.usage_mode or "-"]]
    for key in ("numFiles", "num_files", "used_bytes", "created_at", "max_size", "cur_size"):
        if key in info.raw and info.raw[key] is not None:
            value = info.raw[key]
            rows.append([key, format_size(value) if key == "used_bytes" else str(value)])
    ctx.print(format_table(["field", "value"], rows))


# -- files inside a vfolder ---------------------------------------------------------------------------


def _ls_args(p: argparse.ArgumentParser) -> None:
    _name(p)
    p.add_argument("path", nargs="?", default="", help="directory inside the vfolder (default: its root)")


def _ls(ctx: Context, ns: argparse.Namespace) -> None:
    _require(ctx, ns.name)
    with translate(f"listing {ns.path or '/'!r} in vfolder {ns.name!r}"):
        entries = ctx.client().vfolders.ls(ns.name, ns.path)
    rows = [
        [
            e.name + ("/" if e.is_dir else ""),
            "-" if e.is_dir else format_size(e.size),
            (e.modified or "-")[:19],
        ]
        for e in sorted(entries, key=lambda e: (not e.is_dir, e.name))
    ]
    ctx.print(format_table(["name", "size", "modified"], rows, empty=f"(no files in {ns.path or '/'})"))


def _mkdir_args(p: argparse.ArgumentParser) -> None:
    _name(p)
    p.add_argument("path", help="directory to create")
    p.add_argument(
        "-p", "--parents", action="store_true", help="create missing parents; no error if it exists"
    )


def _mkdir(ctx: Context, ns: argparse.Namespace) -> None:
    _require(ctx, ns.name)
    with translate(f"creating {ns.path!r} in vfolder {ns.name!r}"):
        ctx.client().vfolders.mkdir(ns.name, ns.path, parents=ns.parents, exist_ok=ns.parents)
    ctx.print(f"created directory {ns.path} in vfolder {ns.name}")


def _mv_args(p: argparse.ArgumentParser) -> None:
    _name(p)
    p.add_argument("src", help="file or directory to move")
    p.add_argument("dst", help="new path")


def _mv(ctx: Context, ns: argparse.Namespace) -> None:
    _require(ctx, ns.name)
    with translate(f"moving {ns.src!r} in vfolder {ns.name!r}"):
        ctx.client().vfolders.move_file(ns.name, ns.src, ns.dst)
    ctx.print(f"moved {ns.src} to {ns.dst} in vfolder {ns.name}")


def _rm_args(p: argparse.ArgumentParser) -> None:
    _name(p)
    p.add_argument("paths", nargs="+", metavar="PATH", help="files (or directories with -r) to delete")
    p.add_argument(
        "-r", "--recursive", action="store_true", help="also delete directories with their contents"
    )
    _force(p)


def _rm(ctx: Context, ns: argparse.Namespace) -> None:
    _require(ctx, ns.name)
    if not ns.force:
        what = ", ".join(repr(p) for p in ns.paths[:5]) + (" ..." if len(ns.paths) > 5 else "")
        flags = " -r" if ns.recursive else ""
        raise needs_force(
            f"delete {what} from vfolder {ns.name!r}" + (" with everything inside" if ns.recursive else ""),
            f"%backend vfolder rm{flags} {ns.name} " + " ".join(ns.paths),
        )
    with translate(f"deleting files in vfolder {ns.name!r}"):
        ctx.client().vfolders.delete_files(ns.name, ns.paths, recursive=ns.recursive)
    ctx.print(f"deleted {len(ns.paths)} path(s) from vfolder {ns.name}")


# -- transfers ------------------------------------------------------------------------------------------


def _local_files(paths: list[str]) -> tuple[int, int]:
    """(file count, bytes) of local paths, directories recursively; a missing path is a UsageError."""
    count = size = 0
    for item in paths:
        path = Path(item)
        if path.is_file():
            count, size = count + 1, size + path.stat().st_size
        elif path.is_dir():
            for root, _dirs, files in os.walk(path):
                for file in files:
                    full = Path(root) / file
                    if full.is_file():
                        count, size = count + 1, size + full.stat().st_size
        else:
            raise usage_error(f"cannot upload {item!r}: no such file or directory here; check the path")
    return count, size


def _transfer_args(p: argparse.ArgumentParser, *, upload: bool) -> None:
    _name(p)
    if upload:
        p.add_argument("paths", nargs="+", metavar="PATH", help="local files or directories (recursive)")
        p.add_argument(
            "--dest", default="", metavar="DIR", help="directory inside the vfolder (default: root)"
        )
    else:
        p.add_argument(
            "paths", nargs="+", metavar="PATH", help="files or directories in the vfolder (recursive)"
        )
        p.add_argument(
            "--dest", default=".", metavar="DIR", help="local directory to write into (default: .)"
        )
        p.add_argument("--overwrite", action="store_true", help="replace local files that already exist")


def _bridge_transfer(ctx: Context, work: Any, bar: TransferBar, action: str) -> Any:
    def handle(item: Any) -> None:
        if isinstance(item, TransferProgress):
            bar.update(item)

    try:
        with translate(action):
            return run_bridged(work, handle)
    except Interrupted:
        bar.close()
        raise usage_error(
            f"{action} was interrupted; run it again to finish (finished files are kept)"
        ) from None


def _upload(ctx: Context, ns: argparse.Namespace) -> None:
    _require(ctx, ns.name)
    _count, size = _local_files(ns.paths)
    bar = TransferBar(total=size, description=f"upload to {ns.name}", mode=ctx.magics.progress)
    vfolders = ctx.client().async_client.vfolders

    async def work(emit: Emit) -> list[str]:
        return await vfolders.upload(ns.name, ns.paths, dst_dir=ns.dest or None, progress=emit)

    try:
        written = _bridge_transfer(ctx, work, bar, f"upload to vfolder {ns.name!r}")
    finally:
        seconds = bar.close()
    ctx.print(summary(f"uploaded to vfolder {ns.name}:", len(written), size, seconds))


def _remote_entry(ctx: Context, name: str, path: str) -> VFolderFile | None:
    """The listing entry of ``path`` (None for the root), or a UsageError if it does not exist."""
    clean = PurePosixPath(path.strip("/"))
    if str(clean) in ("", "."):
        return None
    parent = "" if str(clean.parent) == "." else str(clean.parent)
    with translate(f"looking up {path!r} in vfolder {name!r}"):
        entries = ctx.client().vfolders.ls(name, parent)
    for entry in entries:
        if entry.name == clean.name:
            return entry
    raise usage_error(f"vfolder {name!r} has no {path!r}; see %backend vfolder ls {name} {parent}".rstrip())


def _walk(ctx: Context, name: str, directory: str) -> list[tuple[str, int]]:
    """Every file under a vfolder directory as (path, size)."""
    found: list[tuple[str, int]] = []
    pending = [directory]
    while pending:
        current = pending.pop()
        with translate(f"listing {current or '/'!r} in vfolder {name!r}"):
            entries = ctx.client().vfolders.ls(name, current)
        for entry in entries:
            child = f"{current}/{entry.name}" if current else entry.name
            if entry.is_dir:
                pending.append(child)
            elif entry.type == "FILE":
                found.append((child, entry.size or 0))
    return sorted(found)


def _download_plan(ctx: Context, ns: argparse.Namespace) -> list[tuple[str, Path, int]]:
    """(remote file, local directory, size) for every file the paths name, directories expanded."""
    dest = Path(ns.dest)
    plan: list[tuple[str, Path, int]] = []
    for path in ns.paths:
        entry = _remote_entry(ctx, ns.name, path)
        clean = path.strip("/")
        if entry is not None and not entry.is_dir:
            plan.append((clean, dest, entry.size or 0))
            continue
        root = PurePosixPath(clean)
        base = root.parent if entry is not None else PurePosixPath("")
        for remote, size in _walk(ctx, ns.name, "" if entry is None else clean):
            rel = (
                PurePosixPath(remote).relative_to(base)
                if str(base) not in ("", ".")
                else PurePosixPath(remote)
            )
            plan.append((remote, dest.joinpath(*rel.parent.parts), size))
    return plan


def _download(ctx: Context, ns: argparse.Namespace) -> None:
    _require(ctx, ns.name)
    plan = _download_plan(ctx, ns)
    if not plan:
        ctx.print("nothing to download (the paths hold no files)")
        return
    if not ns.overwrite:
        existing = [d / PurePosixPath(r).name for r, d, _ in plan if (d / PurePosixPath(r).name).exists()]
        if existing:
            more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
            raise usage_error(
                f"{str(existing[0])!r}{more} already exist(s); nothing was downloaded. "
                "Add --overwrite to replace "
                "them, or choose another --dest"
            )
    size = sum(s for _, _, s in plan)
    bar = TransferBar(total=size, description=f"download from {ns.name}", mode=ctx.magics.progress)
    vfolders = ctx.client().async_client.vfolders

    async def work(emit: Emit) -> list[Path]:
        written: list[Path] = []
        for remote, directory, _ in plan:
            written += await vfolders.download(
                ns.name, [remote], dest=directory, progress=emit, overwrite=ns.overwrite
            )
        return written

    try:
        written = _bridge_transfer(ctx, work, bar, f"download from vfolder {ns.name!r}")
    finally:
        seconds = bar.close()
    ctx.print(summary(f"downloaded from vfolder {ns.name} into {ns.dest}:", len(written), size, seconds))


VFOLDER = {
    "list": Command("list", "list the vfolders you can use", run=_list),
    "list-hosts": Command("list-hosts", "list the storage hosts you may create vfolders on", run=_list_hosts),
    "create": Command("create", "create a vfolder: create NAME [HOST]", _create_args, _create),
    "delete": Command("delete", "delete a vfolder (needs -f)", _delete_args, _delete),
    "info": Command("info", "show a vfolder's details", _name, _info),
    "ls": Command("ls", "list files in a vfolder: ls NAME [PATH]", _ls_args, _ls),
    "mkdir": Command("mkdir", "create a directory in a vfolder", _mkdir_args, _mkdir),
    "mv": Command("mv", "move or rename a file in a vfolder", _mv_args, _mv),
    "rm": Command("rm", "delete files in a vfolder (needs -f)", _rm_args, _rm),
    "upload": Command(
        "upload",
        "upload files/directories: upload NAME PATHS... [--dest DIR]",
        lambda p: _transfer_args(p, upload=True),
        _upload,
    ),
    "download": Command(
        "download",
        "download files/directories: download NAME PATHS... [--dest DIR] [--overwrite]",
        lambda p: _transfer_args(p, upload=False),
        _download,
    ),
}

COMMANDS = {
    "vfolder": Command("vfolder", "virtual folders: list, create, upload, download, ...", subcommands=VFOLDER)
}
