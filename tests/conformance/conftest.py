"""Run the official ``backend.ai`` CLI 23.9.10 from its own venv against the local endpoint, isolated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest


class Endpoint(Protocol):
    """The part of tests/conftest.py's ``RunningEndpoint`` used here (conftests cannot be imported)."""

    def env(self) -> dict[str, str]:
        """``BACKEND_*`` variables for a client."""
        ...


ROOT = Path(__file__).resolve().parents[2]
VENV_ENV = "BACKENDAI_OFFICIAL_CLI_VENV"
DEFAULT_VENV = ROOT / ".venv-official-cli"
CONSTRAINTS = Path(__file__).resolve().parent / "official-cli-constraints.txt"
CLI_TIMEOUT = 90.0
INSTALL_HINT = (
    f"python -m venv {DEFAULT_VENV} && {DEFAULT_VENV}/bin/pip install -c {CONSTRAINTS} "
    "backend.ai-client==23.9.10"
    f" (or run .ci/setup; or point {VENV_ENV} at such a venv)"
)
# what the CLI's print_fail / print_error put in front of a failure
FAILURE_MARKS = ("\u2718", "\u2717", "*** Traceback ***")
# The CLI's own environment: nothing of the user's Backend.AI settings may leak in.
PASSTHROUGH_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT", "TMPDIR")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of this folder ``conformance`` (run them alone with ``-m conformance``)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in item.path.resolve().parents:
            item.add_marker(pytest.mark.conformance)


def find_cli_venv() -> Path | None:
    """The CLI venv: ``$BACKENDAI_OFFICIAL_CLI_VENV``, else ``.venv-official-cli`` at the repo root."""
    configured = os.environ.get(VENV_ENV)
    venv = Path(configured) if configured else DEFAULT_VENV
    return venv if (venv / "bin" / "backend.ai").is_file() else None


@dataclass
class CLIResult:
    """What one CLI run returned; ``check()`` raises with both streams when it failed."""

    args: Sequence[str]
    returncode: int
    stdout: str
    stderr: str

    def check(self) -> CLIResult:
        """Fail the test with the CLI's output unless it exited 0 without printing a failure mark."""
        # many CLI commands print an error and still exit 0, so their failure marks count too
        failed = any(mark in self.stdout + self.stderr for mark in FAILURE_MARKS)
        if self.returncode != 0 or failed:
            pytest.fail(
                f"backend.ai {' '.join(self.args)} failed (exit {self.returncode}):\n{self.describe()}"
            )
        return self

    def json(self) -> Any:
        """The JSON document on stdout (text before its first ``{`` or ``[``, e.g. a warning, is skipped)."""
        start = min((i for i in (self.stdout.find("{"), self.stdout.find("[")) if i >= 0), default=-1)
        if start < 0:
            pytest.fail(f"no JSON in the output of backend.ai {' '.join(self.args)}:\n{self.describe()}")
        return json.loads(self.stdout[start:])

    def describe(self) -> str:
        """Both streams, for failure messages."""
        return f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"


@dataclass
class OfficialCLI:
    """The official CLI and SDK from the pinned venv, pointed at one endpoint, with a private HOME."""

    venv: Path
    endpoint: Endpoint
    home: Path
    workdir: Path
    started: list[StreamingCLI] = field(default_factory=list)

    @property
    def python(self) -> Path:
        """The CLI venv's interpreter (it has ``ai.backend.client``)."""
        return self.venv / "bin" / "python"

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """``BACKEND_*`` for the endpoint plus a throwaway HOME and XDG dirs; nothing else of ours."""
        env = {k: v for k, v in os.environ.items() if k in PASSTHROUGH_ENV}
        env.update(self.endpoint.env())
        env.update(
            {
                "HOME": str(self.home),
                "XDG_CONFIG_HOME": str(self.home / ".config"),
                "XDG_CACHE_HOME": str(self.home / ".cache"),
                "XDG_DATA_HOME": str(self.home / ".local" / "share"),
                "PYTHONWARNINGS": "ignore",
                "PYTHONUNBUFFERED": "1",
                "NO_COLOR": "1",
                "COLUMNS": "200",
            }
        )
        env.update(extra or {})
        return env

    def run(
        self,
        *args: str,
        stdin: str = "",
        cwd: Path | None = None,
        timeout: float = CLI_TIMEOUT,
    ) -> CLIResult:
        """Run ``backend.ai ARGS`` to completion (stdin fed, no controlling tty so getpass reads stdin)."""
        return self._run(
            [str(self.venv / "bin" / "backend.ai"), *args], args, stdin=stdin, cwd=cwd, timeout=timeout
        )

    def run_python(self, script: str, *, stdin: str = "", timeout: float = CLI_TIMEOUT) -> CLIResult:
        """Run a script with the CLI venv's python (the official SDK), configured by the same environment."""
        return self._run(
            [str(self.python), "-c", script], ["<python>"], stdin=stdin, cwd=None, timeout=timeout
        )

    def _run(
        self, argv: list[str], shown: Sequence[str], *, stdin: str, cwd: Path | None, timeout: float
    ) -> CLIResult:
        # a new session detaches the child from our terminal: getpass() then falls back to reading stdin
        proc = subprocess.Popen(
            argv,
            cwd=cwd or self.workdir,
            env=self.env(),
            text=True,
            start_new_session=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            pytest.fail(
                f"backend.ai {' '.join(shown)} did not finish in {timeout} s:\n--- stdout ---\n{out}\n"
                f"--- stderr ---\n{err}"
            )
        return CLIResult(list(shown), proc.returncode, out, err)

    def start(self, *args: str) -> StreamingCLI:
        """Start a long-running ``backend.ai ARGS`` (e.g. ``events``); stopped by ``stop`` or at teardown."""
        proc = subprocess.Popen(
            [str(self.venv / "bin" / "backend.ai"), *args],
            cwd=self.workdir,
            env=self.env(),
            text=True,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        running = StreamingCLI(proc)
        self.started.append(running)
        return running


class StreamingCLI:
    """A CLI process whose stdout lines a thread collects, so that tests can wait for a line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._stderr = ""
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None  # set by Popen(stdout=PIPE)
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[str], bool], timeout: float) -> str | None:
        """The first stdout line matching ``predicate`` within ``timeout`` seconds, else None."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if predicate(line):
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (not self._reader.is_alive() and self.proc.poll() is not None):
                    return None
                self._changed.wait(remaining)

    def stop(self, timeout: float = 10.0) -> str:
        """Stop the process (by its own process group, which only it is in) and return its stderr."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout)
        self._reader.join(timeout)
        assert self.proc.stderr is not None  # set by Popen(stderr=PIPE)
        if not self.proc.stderr.closed:
            self._stderr = self.proc.stderr.read()
            self.proc.stderr.close()
        return self._stderr


@pytest.fixture(scope="session")
def cli_venv() -> Path:
    """The pinned venv with the official CLI, or skip the conformance tests saying how to install it."""
    venv = find_cli_venv()
    if venv is None:
        pytest.skip(f"the official backend.ai CLI 23.9.10 is not installed; install it with: {INSTALL_HINT}")
    return venv


@pytest.fixture(scope="session")
def official_cli(
    cli_venv: Path, local_endpoint: Endpoint, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OfficialCLI]:
    """The official CLI pointed at the local endpoint; every process it started is stopped at the end."""
    home = tmp_path_factory.mktemp("official-cli-home")
    workdir = tmp_path_factory.mktemp("official-cli-cwd")
    cli = OfficialCLI(venv=cli_venv, endpoint=local_endpoint, home=home, workdir=workdir)
    try:
        yield cli
    finally:
        for running in cli.started:
            running.stop()
