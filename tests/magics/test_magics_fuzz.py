"""Random argument strings thrown at %backend: each ends cleanly or as a short UsageError, nothing else."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError
from magic_shell import Shell

from backendai_jupyter.magics.magic import COMMANDS

pytestmark = pytest.mark.timeout(600)

WORDS = [
    *COMMANDS,
    *[f"vfolder {name}" for name in COMMANDS["vfolder"].subcommands],
    *[
        "-t",
        "-r",
        "-m",
        "-e",
        "-c",
        "-f",
        "-p",
        "--max-wait",
        "--enqueue-only",
        "--all",
        "--dead",
        "--running",
        "--status",
        "--page",
    ],
    *[
        "--page-size",
        "--help",
        "--exec",
        "--env-range",
        "--exec-range",
        "--rm",
        "--dest",
        "--overwrite",
        "--timeout",
        "--forced",
    ],
    *[
        "--pick",
        "--text",
        "--basedir",
        "--max-parallel",
        "X=case:",
        "X=range:1,3",
        "X=linspace:0",
        "Y=steps:1",
        "x=1",
        "=",
        "-1",
        "0",
    ],
    *["1e9", "nan", "..", "../..", "a/../../b", "fuzz-no-such-image", "mg-fuzz-x", "é", "--", "-"],
    "-r cpu=1",
    "-e A=$X",
    "'",
    '"',
    "\\",
    "\x00",
]
#: random words: no '/' so that a random --dest never points outside the test's directory
JUNK = st.text(alphabet=st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.sampled_from(WORDS), JUNK), min_size=0, max_size=7))
def test_random_arguments_give_only_clean_usage_errors(
    shell: Shell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, words: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # downloads with a random --dest land here
    # nothing can answer a prompt in this test: input() and getpass() fail as in a frontend without stdin
    monkeypatch.setattr("builtins.input", _no_input)
    monkeypatch.setattr("getpass.getpass", _no_input)
    # a random "start"/"run" must not start real sessions: the default image does not exist
    shell.magics.image = "fuzz-no-such-image"
    line = " ".join(shlex.quote(w) if w in ("'", '"') or not w.strip() else w for w in words)
    try:
        shell.line(line)
    except UsageError as exc:
        message = str(exc)
        assert message
        assert "\n" not in message.strip(), message
        assert "Traceback" not in message
        assert len(message) < 2000


def _no_input(prompt: str = "") -> str:
    raise EOFError("no stdin in this test")
