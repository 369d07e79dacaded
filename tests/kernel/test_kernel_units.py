"""Kernel pieces without a server: kernelspecs, the CLI's install/list/uninstall, cell splitting, settings."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from backendai_jupyter import cli
from backendai_jupyter.kernel import kernelspec
from backendai_jupyter.kernel.config import BackendKernelConfig
from backendai_jupyter.kernel.language import language_info_for
from backendai_jupyter.kernel.localshell import Segment, split_cell
from backendai_jupyter.kernel.session import session_name_for
from backendai_jupyter.wire import SESSION_NAME_PATTERN


@pytest.fixture
def jupyter_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private prefix whose kernels folder Jupyter searches first; user dirs point into tmp too."""
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share" / "jupyter"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "userdata"))
    return tmp_path


def read_spec(prefix: Path, name: str) -> dict[str, object]:
    return json.loads((prefix / "share" / "jupyter" / "kernels" / name / "kernel.json").read_text())


def test_install_writes_the_spec_with_traits_and_logos(jupyter_dirs: Path) -> None:
    dest, removed = kernelspec.install(
        "bai-gpu",
        prefix=str(jupyter_dirs),
        image="python:3.11",
        resources={"cpu": "2", "cuda.shares": "0.5"},
        mounts=["data"],
        environ={"A": "b=c"},
    )
    assert removed == []
    spec = read_spec(jupyter_dirs, "bai-gpu")
    assert spec["display_name"] == "Backend.AI (remote) bai-gpu"
    assert spec["language"] == "python"
    assert spec["interrupt_mode"] == "message"
    argv = spec["argv"]
    assert isinstance(argv, list)
    assert argv[1:5] == ["-m", "backendai_jupyter.kernel", "-f", "{connection_file}"]
    assert argv[5:] == [
        "--BackendKernel.image=python:3.11",
        "--BackendKernel.resources=cpu=2",
        "--BackendKernel.resources=cuda.shares=0.5",
        "--BackendKernel.mounts=data",
        "--BackendKernel.environ=A=b=c",
    ]
    assert sorted(p.name for p in dest.glob("*.png")) == ["logo-32x32.png", "logo-64x64.png"]


def test_reinstall_replaces_and_removes_stale_and_duplicate_specs(jupyter_dirs: Path) -> None:
    kernels = jupyter_dirs / "share" / "jupyter" / "kernels"
    kernelspec.install("one", prefix=str(jupyter_dirs), display_name="BAI unit test")
    # a spec of ours whose Python is gone (a deleted virtualenv) and another one with the same display name
    stale = kernelspec.kernel_json("old", executable=str(jupyter_dirs / "gone" / "python"))
    (kernels / "stale").mkdir()
    (kernels / "stale" / "kernel.json").write_text(json.dumps(stale))
    dup = kernelspec.kernel_json("BAI unit test")
    (kernels / "dup").mkdir()
    (kernels / "dup" / "kernel.json").write_text(json.dumps(dup))
    # someone else's spec is never touched
    (kernels / "other").mkdir()
    (kernels / "other" / "kernel.json").write_text(
        json.dumps({"argv": ["x"], "display_name": "BAI unit test"})
    )
    _, removed = kernelspec.install("one", prefix=str(jupyter_dirs), display_name="BAI unit test")
    assert sorted(p.name for p in removed) == ["dup", "stale"]
    assert sorted(p.name for p in kernels.iterdir()) == ["one", "other"]
    names = [s.name for s in kernelspec.list_specs() if s.path.parent == kernels]
    assert names == ["one"]


def test_cli_install_list_uninstall(jupyter_dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = cli.main(
        ["install", "--prefix", str(jupyter_dirs), "--name", "bai-cli", "-r", "cpu=1,mem=2g", "-e", "K=V"]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "installed kernelspec 'bai-cli'" in out
    argv = read_spec(jupyter_dirs, "bai-cli")["argv"]
    assert isinstance(argv, list)
    assert "--BackendKernel.resources=mem=2g" in argv
    assert "--BackendKernel.environ=K=V" in argv
    assert cli.main(["list"]) == 0
    assert "bai-cli" in capsys.readouterr().out
    assert cli.main(["uninstall", "--name", "bai-cli"]) == 0
    assert not (jupyter_dirs / "share" / "jupyter" / "kernels" / "bai-cli").exists()


def test_cli_user_mistakes_are_one_line_errors(
    jupyter_dirs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["install", "--prefix", str(jupyter_dirs), "-r", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "'cpu' is not KEY=VALUE" in err
    assert "Traceback" not in err
    assert cli.main(["uninstall", "--name", "no-such-kernel"]) == 1
    err = capsys.readouterr().err
    assert "no Backend.AI kernelspec named 'no-such-kernel'" in err
    assert cli.main(["run", str(jupyter_dirs / "missing.ipynb")]) == 2
    assert "not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["install", "--user", "--sys-prefix"])


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("print(1)", [Segment("print(1)", False)]),
        ("%%backend ls\n", [Segment("%%backend ls\n", True)]),
        ("%%local\nx = 1\n", [Segment("x = 1\n", True)]),
        (
            "%backend upload a.csv\nimport pandas\n%backend ls",
            [
                Segment("%backend upload a.csv\n", True),
                Segment("import pandas\n", False),
                Segment("%backend ls", True),
            ],
        ),
        ("x = '%backend'\n", [Segment("x = '%backend'\n", False)]),
        ("  %backend ls\n", [Segment("  %backend ls\n", False)]),
    ],
)
def test_split_cell(code: str, expected: list[Segment]) -> None:
    assert split_cell(code) == expected


def test_session_names_are_stable_and_valid() -> None:
    import re

    path = "/run/user/1/jupyter/kernel-3f2b1c9a-7d3e-4e55-9a1b-0c2d4e6f8a9b.json"
    name = session_name_for(path)
    assert name == "jupyter-3f2b1c9a-7d3e-4e55-9a1b-0c2d4e6f8a9b"
    assert session_name_for(path) == name
    assert re.match(SESSION_NAME_PATTERN, name)
    odd = session_name_for("/tmp/weird name!!" + "x" * 80 + ".json")
    assert re.match(SESSION_NAME_PATTERN, odd)
    assert re.match(SESSION_NAME_PATTERN, session_name_for(None))


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKENDAI_JUPYTER_IMAGE", "python:3.11")
    monkeypatch.setenv("BACKENDAI_JUPYTER_RESOURCES", "cpu=2, mem=4g")
    monkeypatch.setenv("BACKENDAI_JUPYTER_MOUNTS", "data, models")
    monkeypatch.setenv("BACKENDAI_JUPYTER_ENVIRON", '{"A": 1}')
    monkeypatch.setenv("BACKENDAI_JUPYTER_TRANSPORT", "REST")
    conf = BackendKernelConfig()
    assert conf.image == "python:3.11"
    assert conf.resources == {"cpu": "2", "mem": "4g"}
    assert conf.mounts == ["data", "models"]
    assert conf.environ == {"A": "1"}
    assert conf.transport == "rest"
    monkeypatch.setenv("BACKENDAI_JUPYTER_TRANSPORT", "pigeon")
    with pytest.raises(ValueError, match="TRANSPORT='pigeon'"):
        _ = BackendKernelConfig().transport


def test_language_info_follows_the_image() -> None:
    assert language_info_for("cr.backend.ai/stable/python:3.9-ubuntu20.04")["name"] == "python"
    assert language_info_for("python")["file_extension"] == ".py"
    assert language_info_for("cr.backend.ai/stable/r-base:4.0")["name"] == "R"
    assert language_info_for("julia:1.6")["name"] == "julia"


def test_config_command_masks_the_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "s3cr3t" + "x" * 34
    monkeypatch.setenv("BACKEND_ENDPOINT", "http://127.0.0.1:1")
    monkeypatch.setenv("BACKEND_ACCESS_KEY", "AKIAUNITTEST0000")
    monkeypatch.setenv("BACKEND_SECRET_KEY", secret)
    assert cli.main(["config"]) == 0
    out = capsys.readouterr().out
    assert "AKIAUNITTEST0000" in out
    assert secret not in out
    assert "http://127.0.0.1:1" in out
    assert os.environ["BACKEND_SECRET_KEY"] == secret
