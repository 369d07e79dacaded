"""Regenerate tracebacks.json: real ipykernel error output and plain CPython tracebacks (run by hand)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import start_new_kernel

HERE = Path(__file__).resolve().parent

IPYTHON_CASES: dict[str, str] = {
    "zero-division": "a = 123\nprint('what happens now?')\na = a / 0",
    "name-error": "undefined_name + 1",
    "syntax-error": "def f(:\n    pass",
    "incomplete-input": "print('hello'",
    "indentation-error": "if True:\nprint(1)",
    "chained-during-handling": "try:\n    {}['x']\nexcept KeyError:\n    raise ValueError('bad value')",
    "chained-from": "raise RuntimeError('outer') from KeyError('inner')",
    "module-exception": "import json\njson.loads('{')",
    "custom-class": "class MyError(Exception):\n    pass\nraise MyError('custom: with colon')",
    "no-message": "raise ValueError",
    "multiline-message": "raise ValueError('line one\\nline two')",
    "keyboard-interrupt-raised": "raise KeyboardInterrupt",
    "sys-exit": "import sys; sys.exit(3)",
    "assertion": "assert 1 == 2, 'nope'",
    "deep-stack": "def f():\n    return 1 / 0\ndef g():\n    return f()\ng()",
    "note": "e = ValueError('v')\ne.add_note('a note')\nraise e",
    "exception-group": "raise ExceptionGroup('eg', [ValueError('a'), TypeError('b')])",
    "stderr-before-error": (
        "import sys\nprint('careful', file=sys.stderr)\nsys.stderr.flush()\nraise TypeError('wrong type')"
    ),
}

PLAIN_CASES: dict[str, str] = {
    "plain-zero-division": "a = 123\na = a / 0",
    "plain-keyboard-interrupt": "raise KeyboardInterrupt",
    "plain-chained": "try:\n    {}['x']\nexcept KeyError:\n    raise ValueError('bad value')",
    "plain-module-exception": "import json\njson.loads('{')",
    "plain-multiline-message": "raise ValueError('line one\\nline two')",
    "plain-no-message": "raise ValueError",
}

# a plain traceback as the legacy 1.x in-process runner printed it (docs/runner.md §1.5; the official docs)
PLAIN_SCRIPT = """
import sys, traceback
code = sys.argv[1]
try:
    exec(compile(code, "<input>", "exec"), {})
except BaseException as exc:
    sys.stdout.write(type(exc).__name__ + "\\0" + str(exc) + "\\0")
    sys.stdout.write("".join(traceback.format_exception(exc)))
"""


def merged_console(records: list[tuple[str, str]]) -> list[list[str]]:
    """Concatenate neighbouring records of one type, as the agent's aggregate_console does."""
    console: list[list[str]] = []
    for kind, text in records:
        if console and console[-1][0] == kind:
            console[-1][1] += text
        else:
            console.append([kind, text])
    return console


def run_ipython_cases() -> list[dict[str, Any]]:
    km, kc = start_new_kernel(kernel_name="python3")
    out: list[dict[str, Any]] = []
    try:
        for case, code in IPYTHON_CASES.items():
            out.append(run_one(kc, case, code))
        out.append(run_interrupt(km, kc))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return out


def collect(kc: Any, msg_id: str) -> tuple[list[tuple[str, str]], dict[str, Any] | None]:
    records: list[tuple[str, str]] = []
    error: dict[str, Any] | None = None
    while True:
        msg = kc.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            records.append((content["name"], content["text"]))
        elif kind == "error":
            # the runner's mapping (docs/runner.md §1.4): error -> stderr "\n".join(traceback)
            records.append(("stderr", "\n".join(content["traceback"])))
            error = {k: content[k] for k in ("ename", "evalue", "traceback")}
        elif kind == "status" and content["execution_state"] == "idle":
            return records, error


def run_one(kc: Any, case: str, code: str) -> dict[str, Any]:
    msg_id = kc.execute(code)
    records, error = collect(kc, msg_id)
    kc.get_shell_msg(timeout=30)
    return {"case": case, "form": "ipython", "code": code, "console": merged_console(records), "error": error}


def run_interrupt(km: Any, kc: Any) -> dict[str, Any]:
    code = "import time\nprint('start')\ntime.sleep(20)"
    msg_id = kc.execute(code)
    time.sleep(1.5)
    km.interrupt_kernel()
    records, error = collect(kc, msg_id)
    kc.get_shell_msg(timeout=30)
    return {
        "case": "keyboard-interrupt",
        "form": "ipython",
        "code": code,
        "console": merged_console(records),
        "error": error,
    }


def run_plain_cases() -> list[dict[str, Any]]:
    out = []
    for case, code in PLAIN_CASES.items():
        proc = subprocess.run(
            [sys.executable, "-c", PLAIN_SCRIPT, code], capture_output=True, text=True, check=True, timeout=60
        )
        ename, evalue, text = proc.stdout.split("\0", 2)
        out.append(
            {
                "case": case,
                "form": "plain",
                "code": code,
                "console": [["stderr", text]],
                "error": {"ename": ename, "evalue": evalue, "traceback": None},
            }
        )
    return out


def main() -> None:
    cases = run_ipython_cases() + run_plain_cases()
    (HERE / "tracebacks.json").write_text(json.dumps(cases, indent=1, ensure_ascii=True) + "\n")
    print(f"wrote {len(cases)} cases")


if __name__ == "__main__":
    main()
