"""A JupyterLab server for the e2e tests: private dirs, loopback port 0, a token, stopped by PID."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from endpoint_support import stop_process

__all__ = ["RunningLab", "lab_env", "start_lab"]

#: JupyterLab serves its first request well within this on a loaded 2-core machine.
START_TIMEOUT = 60.0

#: User settings: no calls to the outside world (there is no network), a plain, fully rendered notebook.
_USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # every cell stays in the DOM (no virtual scrolling), so the tests can read all outputs at once
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


@dataclass(frozen=True)
class RunningLab:
    """A started JupyterLab server and how to reach it."""

    proc: subprocess.Popen[bytes]
    url: str
    token: str
    root_dir: Path
    log_path: Path

    def lab_url(self, path: str) -> str:
        """The browser address of ``path`` (relative to the root dir) in a fresh, reset workspace."""
        return f"{self.url}lab/tree/{path}?reset&token={self.token}"

    def api(self, method: str, path: str, *, timeout: float = 10.0) -> Any:
        """Call the server's REST API (``path`` like ``api/kernels``); the JSON answer or None."""
        request = urllib.request.Request(
            self.url + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:  # loopback only
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of the server's log (the token is never printed by the server with these flags)."""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:]).replace(self.token, "<token>")


def lab_env(base_dir: Path, endpoint_env: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: no inherited Backend.AI settings, private Jupyter dirs, the endpoint."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BACKEND_", "SORNA_", "BACKENDAI_JUPYTER_", "JUPYTER", "IPYTHONDIR"))
    }
    dirs = {
        "JUPYTER_CONFIG_DIR": base_dir / "config",
        "JUPYTER_DATA_DIR": base_dir / "data",
        "JUPYTER_RUNTIME_DIR": base_dir / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": base_dir / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": base_dir / "lab-workspaces",
        "IPYTHONDIR": base_dir / "ipython",
        "BACKENDAI_JUPYTER_DATA_DIR": base_dir / "backendai-data",
        "MPLCONFIGDIR": base_dir / "matplotlib",
    }
    for key, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        env[key] = str(path)
    for name, values in _USER_SETTINGS.items():
        target = dirs["JUPYTERLAB_SETTINGS_DIR"] / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values), encoding="utf-8")
    env.update(endpoint_env)
    return env


def start_lab(root_dir: Path, *, env: Mapping[str, str], log_path: Path) -> RunningLab:
    """Start ``jupyter lab`` on 127.0.0.1 port 0 and wait until its API answers."""
    token = secrets.token_hex(24)
    args = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir}",
        "--ServerApp.open_browser=False",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        # the default extension manager asks PyPI in the background; there is no network here
        "--LabApp.extension_manager=readonly",
    ]
    if os.geteuid() == 0:  # CI and these machines run as root; Lab refuses that without the flag
        args.append("--allow-root")
    # the token goes through the environment, not argv, so that `ps` does not show it
    full_env = {**env, "JUPYTER_TOKEN": token}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(args, env=full_env, stdout=log, stderr=subprocess.STDOUT, cwd=root_dir)
    runtime_dir = Path(env["JUPYTER_RUNTIME_DIR"])
    info_file = runtime_dir / f"jpserver-{proc.pid}.json"
    deadline = time.monotonic() + START_TIMEOUT
    lab: RunningLab | None = None
    while time.monotonic() < deadline and proc.poll() is None:
        if lab is None and info_file.exists():
            try:
                info = json.loads(info_file.read_text(encoding="utf-8"))
            except ValueError:  # written while we read it
                info = {}
            if info.get("port"):
                url = f"http://127.0.0.1:{info['port']}{info.get('base_url', '/')}"
                lab = RunningLab(proc=proc, url=url, token=token, root_dir=root_dir, log_path=log_path)
        if lab is not None:
            try:
                lab.api("GET", "api/status", timeout=2)
                return lab
            except (urllib.error.URLError, OSError):
                pass
        time.sleep(0.2)
    code = proc.poll()
    stop_process(proc)
    text = log_path.read_text(encoding="utf-8", errors="replace").replace(token, "<token>")
    why = f"exited with code {code}" if code is not None else f"did not answer within {START_TIMEOUT} s"
    raise RuntimeError(f"JupyterLab {why}; its log:\n{text[-4000:]}")
