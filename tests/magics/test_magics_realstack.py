"""The vfolder subcommands against the real Backend.AI stack (fresh names: 24.03 trashes deleted folders)."""

from __future__ import annotations

import filecmp
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from magic_shell import Shell, backend_shell

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "realstack"))
from realstack_support import Backend, realstack_or_skip

pytestmark = [pytest.mark.realstack, pytest.mark.timeout(300)]


@pytest.fixture
def realstack() -> Backend:
    """The realstack settings (as tests/realstack reads them); skips when the stack is not running."""
    return realstack_or_skip()


@pytest.fixture
def stack_shell(realstack: Backend, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shell]:
    """%backend pointed at the realstack's superadmin keypair."""
    with backend_shell(monkeypatch, realstack.env(), realstack.config()) as sh:
        yield sh


def test_vfolder_commands_on_the_realstack(stack_shell: Shell, realstack: Backend, tmp_path: Path) -> None:
    shell = stack_shell
    name = f"mgrs-{secrets.token_hex(4)}"
    assert realstack.vfolder_host in shell.line("vfolder list-hosts")
    shell.line(f"vfolder create {name} {realstack.vfolder_host}")
    try:
        assert name in shell.line("vfolder list")
        assert realstack.vfolder_host in shell.line(f"vfolder info {name}")
        src = tmp_path / "tree"
        (src / "sub").mkdir(parents=True)
        (src / "a.txt").write_text("alpha\n")
        (src / "sub" / "b.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
        assert "2 files" in shell.line(f"vfolder upload {name} {src}")
        shell.line(f"vfolder mkdir {name} made -p")
        shell.line(f"vfolder mv {name} tree/a.txt made/a.txt")
        listing = shell.line(f"vfolder ls {name} made")
        assert "a.txt" in listing
        dest = tmp_path / "back"
        shell.line(f"vfolder download {name} tree made/a.txt --dest {dest}")
        assert filecmp.cmp(src / "sub" / "b.bin", dest / "tree" / "sub" / "b.bin", shallow=False)
        assert (dest / "a.txt").read_text() == "alpha\n"
        with pytest.raises(UsageError, match="--overwrite"):
            shell.line(f"vfolder download {name} made/a.txt --dest {dest}")
        with pytest.raises(UsageError, match="nothing was changed"):
            shell.line(f"vfolder rm {name} made/a.txt")
        shell.line(f"vfolder rm {name} made/a.txt -f")
        assert "a.txt" not in shell.line(f"vfolder ls {name} made")
    finally:
        with pytest.raises(UsageError, match="nothing was changed"):
            shell.line(f"vfolder delete {name}")
        assert f"deleted vfolder {name}" in shell.line(f"vfolder delete {name} -f")
