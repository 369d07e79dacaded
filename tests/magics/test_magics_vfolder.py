"""vfolder subcommands: management, the -f guards, upload/download round trips and the overwrite guard."""

from __future__ import annotations

import filecmp
import os
import secrets
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from magic_shell import Shell

pytestmark = pytest.mark.timeout(240)


def make_tree(root: Path) -> None:
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n")
    (root / "sub" / "b.bin").write_bytes(os.urandom(70_000))
    (root / "sub" / "deeper" / "c.txt").write_text("gamma\n" * 1000)
    (root / "empty.txt").write_bytes(b"")


def same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(same_tree(a / d, b / d) for d in cmp.common_dirs)


def test_vfolder_management_and_guards(shell: Shell) -> None:
    name = f"mgvf-{secrets.token_hex(3)}"
    hosts = shell.line("vfolder list-hosts")
    assert "local:volume1" in hosts
    assert f"created vfolder {name}" in shell.line(f"vfolder create {name} local:volume1")
    with pytest.raises(UsageError, match="already"):
        shell.line(f"vfolder create {name}")
    assert name in shell.line("vfolder list")
    assert "host" in shell.line(f"vfolder info {name}")
    assert "created directory d1/d2" in shell.line(f"vfolder mkdir {name} d1/d2 -p")
    assert "d1/" in shell.line(f"vfolder ls {name}")
    assert "d2/" in shell.line(f"vfolder ls {name} d1")
    shell.line(f"vfolder mv {name} d1/d2 d3")
    assert "d3/" in shell.line(f"vfolder ls {name}")
    with pytest.raises(
        UsageError, match=rf"this would delete 'd3' from vfolder '{name}'.*nothing was changed.*-f"
    ):
        shell.line(f"vfolder rm -r {name} d3")
    assert "d3/" in shell.line(f"vfolder ls {name}")
    shell.line(f"vfolder rm -r {name} d3 -f")
    assert "d3/" not in shell.line(f"vfolder ls {name}")
    with pytest.raises(UsageError, match=rf"this would delete vfolder '{name}'.*vfolder delete {name} -f"):
        shell.line(f"vfolder delete {name}")
    assert name in shell.line("vfolder list")
    assert f"deleted vfolder {name}" in shell.line(f"vfolder delete {name} -f")
    with pytest.raises(UsageError, match=rf"no vfolder named '{name}'"):
        shell.line(f"vfolder ls {name}")
    with pytest.raises(UsageError, match="unknown command 'nope'"):
        shell.line("vfolder nope")


def test_directory_tree_round_trip_and_overwrite_guard(shell: Shell, tmp_path: Path) -> None:
    name = f"mgtree-{secrets.token_hex(3)}"
    shell.line(f"vfolder create {name}")
    try:
        src = tmp_path / "data"
        make_tree(src)
        out = shell.line(f"vfolder upload {name} {src} --dest inbox")
        assert "uploaded to vfolder" in out
        assert "4 files" in out
        assert "/s)" in out
        assert "data/" in shell.line(f"vfolder ls {name} inbox")
        dest = tmp_path / "back"
        out = shell.line(f"vfolder download {name} inbox/data --dest {dest}")
        assert "4 files" in out
        assert same_tree(src, dest / "data")
        # the guard: nothing is written when a local file exists, until --overwrite
        (dest / "data" / "a.txt").write_text("local edit\n")
        with pytest.raises(UsageError, match=r"already exist.*--overwrite"):
            shell.line(f"vfolder download {name} inbox/data --dest {dest}")
        assert (dest / "data" / "a.txt").read_text() == "local edit\n"
        shell.line(f"vfolder download {name} inbox/data --dest {dest} --overwrite")
        assert same_tree(src, dest / "data")
        with pytest.raises(UsageError, match=r"has no 'inbox/missing'"):
            shell.line(f"vfolder download {name} inbox/missing --dest {dest}")
        with pytest.raises(UsageError, match=r"no such file or directory here"):
            shell.line(f"vfolder upload {name} {tmp_path / 'nothing-here'}")
    finally:
        shell.client.vfolders.delete(name)


def test_large_file_round_trip(shell: Shell, tmp_path: Path) -> None:
    name = f"mgbig-{secrets.token_hex(3)}"
    shell.line(f"vfolder create {name}")
    try:
        big = tmp_path / "big.bin"
        with open(big, "wb") as out:
            for _ in range(100):
                out.write(os.urandom(1024 * 1024))
        out_text = shell.line(f"vfolder upload {name} {big}")
        assert "100.0 MiB" in out_text
        assert "100 MiB" in shell.last.stderr or "100M" in shell.last.stderr  # type: ignore[union-attr]
        dest = tmp_path / "dl"
        assert "100.0 MiB" in shell.line(f"vfolder download {name} big.bin --dest {dest}")
        assert filecmp.cmp(big, dest / "big.bin", shallow=False)
        assert not list(dest.glob(".*.part"))
    finally:
        shell.client.vfolders.delete(name)
