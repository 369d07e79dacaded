"""Session subcommands and %%backend cells through IPython's testing shell against the local endpoint."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from magic_shell import Shell

pytestmark = pytest.mark.timeout(120)


def fresh(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def test_help_lists_every_command(shell: Shell) -> None:
    out = shell.line("--help")
    for name in (
        "config",
        "login",
        "ps",
        "start",
        "run",
        "rm",
        "events",
        "attach",
        "vfolder",
        "images",
        "sessions",
    ):
        assert f"  {name}" in out
    assert "%backend run" in shell.line("run --help")
    assert "linspace:" in shell.last.stdout
    assert "--overwrite" in shell.line("vfolder download --help")


def test_unknown_command_and_bad_options_are_short_usage_errors(shell: Shell) -> None:
    with pytest.raises(UsageError, match=r"unknown command 'restat'.*Did you mean 'restart'"):
        shell.line("restat")
    with pytest.raises(UsageError, match=r"unrecognized arguments: --bogus.*--help"):
        shell.line("ps --bogus")
    with pytest.raises(UsageError, match=r"close the quote"):
        shell.line("start -t 'unterminated")
    with pytest.raises(UsageError, match=r"-r 'cpu' is not KEY=VALUE"):
        shell.line("start -r cpu python")
    with pytest.raises(UsageError, match=r"--page-size.*between 1 and 100"):
        shell.line("ps --page-size 500")


def test_ipython_shows_usage_errors_without_a_traceback(shell: Shell) -> None:
    result, cap = shell.run_cell("%backend rm no-such-session-here")
    assert not result.success
    text = cap.stdout + cap.stderr
    assert "no-such-session-here" in text
    assert "does not exist" in text
    assert "Traceback" not in text
    assert "File " not in text


def test_config_shows_sources_and_masks_the_secret(
    shell: Shell, local_endpoint: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKENDAI_JUPYTER_IMAGE", "python:3.11")
    shell.ip.run_line_magic("config", "BackendMagics.concurrency = 6")
    out = shell.line("config")
    secret = local_endpoint.secret_key  # type: ignore[attr-defined]
    assert secret not in out
    assert "***** (set)" in out
    assert "environment (BACKEND_ENDPOINT)" in out
    assert "default" in out
    assert "concurrency" in out
    assert "6" in out
    assert "config (file or %config)" in out
    assert "environment (BACKENDAI_JUPYTER_IMAGE)" in out
    assert shell.magics.concurrency == 6
    with pytest.raises(Exception, match="from 1 to 64"):
        shell.magics.concurrency = 0


def test_start_ps_info_logs_restart_interrupt_rm(shell: Shell) -> None:
    name = fresh("mg-start")
    out = shell.line(f"start -t {name} -r cpu=1 -e GREETING=hi --max-wait 60 python")
    assert f"started session {name}" in out
    assert "RUNNING" in out
    assert shell.magics.context.bound == name
    assert shell.active_sessions()[name] == "RUNNING"
    listing = shell.line("ps")
    assert name in listing
    assert "RUNNING" in listing
    assert "+" in listing
    assert name in shell.line("ps --all")
    assert "status" in shell.line(f"info {name}")
    shell.line(f"logs {name}")
    assert "restarted" in shell.line(f"restart {name}")
    assert "interrupt" in shell.line(f"interrupt {name}")
    cap = shell.cell(name, "import os\nprint(os.environ['GREETING'] + ' there')")
    assert "hi there" in cap.stdout
    assert f"removed session {name}" in shell.line(f"rm {name}")
    assert name not in shell.active_sessions()
    assert shell.magics.context.bound is None
    assert name in shell.line("ps --dead")
    with pytest.raises(UsageError, match="does not exist"):
        shell.line(f"rm {name}-gone")


def test_ps_paging(shell: Shell) -> None:
    names = [fresh("mg-page") for _ in range(3)]
    for name in names:
        shell.line(f"start --enqueue-only -t {name} python")
    out = shell.line("ps --page-size 2")
    assert "page 1 of" in out
    assert "next: %backend ps --page-size 2 --page 2" in out
    second = shell.line("ps --page-size 2 --page 2")
    assert "page 2 of" in second
    shell.line("rm " + " ".join(names))
    assert not set(names) & set(shell.active_sessions())


def test_rm_cancels_a_pending_session_and_reports_unknown_ones(shell: Shell) -> None:
    name = fresh("mg-pend")
    shell.line(f"start --enqueue-only -t {name} python")
    with pytest.raises(UsageError, match=r"'nope-nope' does not exist"):
        shell.line(f"rm {name} nope-nope")
    assert f"removed session {name}" in shell.last.stdout  # type: ignore[union-attr]
    assert name not in shell.active_sessions()


def test_start_with_unknown_image_names_it(shell: Shell) -> None:
    with pytest.raises(UsageError, match=r"image 'no-such-image'.*(not served|No such)"):
        shell.line(f"start -t {fresh('mg-img')} no-such-image")


def test_cell_magic_renders_streams_media_and_remote_errors(shell: Shell) -> None:
    name = fresh("mg-cell")
    cap = shell.cell(f"{name} python", "print('out'); import sys; print('err', file=sys.stderr)")
    assert "starting session" in cap.stdout
    assert "out\n" in cap.stdout
    assert "err" in cap.stderr
    assert shell.magics.context.bound == name
    cap = shell.cell("", "from IPython.display import HTML, display\ndisplay(HTML('<b>bold</b>'))")
    assert any("text/html" in o.data for o in cap.outputs)
    result, cap = shell.run_cell("%%backend\n1/0")
    assert not result.success
    assert type(result.error_in_exec).__name__ == "ZeroDivisionError"
    text = cap.stdout + cap.stderr
    assert "ZeroDivisionError" in text
    assert "backendai_jupyter" not in text
    cap = shell.cell(f"{name} --rm", "print('last')")
    assert "last" in cap.stdout
    assert name not in shell.active_sessions()


def test_cell_magic_input_prompt(shell: Shell, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["Ada"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    cap = shell.cell(f"{fresh('mg-in')} --rm", "name = input('who? ')\nprint('hello', name)")
    assert "hello Ada" in cap.stdout


def test_attach_detach_bind_cells_without_owning(shell: Shell) -> None:
    name = fresh("mg-att")
    shell.client.sessions.create("python", name=name)  # started elsewhere: not ours
    with pytest.raises(UsageError, match="nothing is attached"):
        shell.line("detach")
    with pytest.raises(UsageError, match="no session named"):
        shell.line(f"attach {name}-x")
    out = shell.line(f"attach {name}")
    assert "not owned" in out
    assert shell.magics.context.bound == name
    assert "x=3" in shell.cell("", "x = 3\nprint(f'{x=}')").stdout
    out = shell.line("detach")
    assert f"detached from session {name}; it keeps running" in out
    assert shell.active_sessions()[name] == "RUNNING"
    shell.client.sessions.destroy(name)
    with pytest.raises(UsageError, match=r"TERMINATED|does not exist|no session"):
        shell.line(f"attach {name}")


class FakeKernel:
    """Stands in for the remote kernel's binding (the kernel implements the same three calls)."""

    def __init__(self) -> None:
        self.session: tuple[str, bool] | None = ("jupyter-own", True)
        self.calls: list[tuple[str, ...]] = []

    def current(self) -> tuple[str, bool] | None:
        return self.session

    def attach(self, name: str, session_id: str) -> None:
        self.calls.append(("attach", name))
        self.session = (name, False)

    def detach(self) -> str | None:
        self.calls.append(("detach",))
        name = self.session[0] if self.session else None
        self.session = None
        return name


def test_attach_in_the_remote_kernel_goes_through_the_binding(shell: Shell) -> None:
    from backendai_jupyter.cellrun import bind_kernel, unbind_kernel

    name = fresh("mg-kb")
    shell.client.sessions.create("python", name=name)
    fake = FakeKernel()
    bind_kernel(shell.ip, fake)
    try:
        assert "this kernel's cells" in shell.line(f"attach {name}")
        assert fake.session == (name, False)
        assert "attached" in shell.line("config")
        shell.line("detach")
        assert fake.calls == [("attach", name), ("detach",)]
        assert fake.session is None
        assert shell.active_sessions()[name] == "RUNNING"
    finally:
        unbind_kernel(shell.ip)


def test_events_until_the_session_ends(shell: Shell) -> None:
    name = fresh("mg-ev")
    shell.client.sessions.create("python", name=name)
    # the session is removed from another thread while %backend events watches it
    timer = threading.Timer(1.0, lambda: shell.client.sessions.destroy(name))
    timer.start()
    try:
        out = shell.line(f"events {name} --timeout 30")
    finally:
        timer.join()
    assert "terminat" in out
    with pytest.raises(UsageError, match=f"no session named '{name}'"):
        shell.line(f"events {name}")


def test_events_stop_at_timeout(shell: Shell) -> None:
    name = fresh("mg-evt")
    shell.client.sessions.create("python", name=name)
    out = shell.line(f"events {name} --timeout 0.5")
    assert "stopped watching after 0.5 s" in out
    with pytest.raises(UsageError, match="--timeout"):
        shell.line(f"events {name} --timeout -1")


def test_session_files_upload_ls_download(shell: Shell, tmp_path: Path) -> None:
    name = fresh("mg-files")
    shell.line(f"start -t {name} python")
    src = tmp_path / "hello.txt"
    src.write_text("hello session\n")
    assert "uploaded 1 file(s)" in shell.line(f"upload {name} {src}")
    assert "hello.txt" in shell.line(f"ls {name}")
    dest = tmp_path / "back"
    assert "downloaded 1 file(s)" in shell.line(f"download {name} hello.txt --dest {dest}")
    assert (dest / "hello.txt").read_text() == "hello session\n"
    with pytest.raises(UsageError, match="not a file"):
        shell.line(f"upload {name} {tmp_path / 'missing.txt'}")


def test_images_and_the_text_session_picker(shell: Shell) -> None:
    out = shell.line("images")
    assert "python" in out
    assert "installed" in out
    name = fresh("mg-pick")
    shell.line(f"start -t {name} python")
    text = shell.line("sessions")
    assert "cannot show widgets" in text
    assert name in text
    assert "%backend attach" in text
    assert "%backend rm" in text
    assert "use one with: %backend start IMAGE" in shell.line("images --pick")


def test_login_logout_in_session_mode(
    shell: Shell, local_endpoint: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backendai_jupyter.local.state import load_credentials

    creds = load_credentials(local_endpoint.data_dir)  # type: ignore[attr-defined]
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return creds.password

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    with pytest.raises(UsageError, match="not logged in"):
        shell.line("logout")
    out = shell.line(f"login -u {creds.user.email}")
    assert "logged in as" in out
    assert creds.password not in out
    assert prompts == ["Password: "]
    config = shell.line("config")
    assert "session" in config
    assert creds.password not in config
    assert "RUNNING" in shell.line("ps") or "no active sessions" in shell.last.stdout  # type: ignore[union-attr]
    assert "logged out" in shell.line("logout")

    monkeypatch.setattr("getpass.getpass", lambda prompt="": "wrong-password")
    with pytest.raises(UsageError, match="was refused"):
        shell.line(f"login -u {creds.user.email}")
    monkeypatch.setattr("getpass.getpass", _raise_eof)
    with pytest.raises(UsageError, match="cannot prompt for password"):
        shell.line(f"login -u {creds.user.email}")


def _raise_eof(prompt: str = "") -> str:
    raise EOFError


def test_a_bad_setting_variable_is_a_one_line_error_where_it_is_used(
    shell: Shell, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the same value the kernel reports as ConfigError on every cell (tests/settings)
    monkeypatch.setenv("BACKENDAI_JUPYTER_RESOURCES", "cpu")
    monkeypatch.setenv("BACKENDAI_JUPYTER_WIDGETS", "sometimes")
    before = shell.active_sessions()
    with pytest.raises(
        UsageError, match=r"BACKENDAI_JUPYTER_RESOURCES 'cpu' is not KEY=VALUE.*run the command"
    ):
        shell.line("start python")
    assert shell.active_sessions() == before  # nothing was started with half the settings
    with pytest.raises(UsageError, match="BACKENDAI_JUPYTER_WIDGETS='sometimes' is not one of auto, on, off"):
        shell.line("sessions")
    table = shell.line("config")
    assert "invalid: BACKENDAI_JUPYTER_RESOURCES 'cpu' is not KEY=VALUE" in table
    assert "invalid: BACKENDAI_JUPYTER_WIDGETS='sometimes'" in table
