"""The kernel's local shell (``%%local``, ``%backend``) over real ZeroMQ: output parents, stdin, interrupt."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from kernel_harness import InterruptOnce, Kernel, run_cell

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

LOCAL_OUTPUT = """%%local
import sys
from IPython.display import HTML, display
print('printed here')
print('warned here', file=sys.stderr)
display(HTML('<b>shown here</b>'))
40 + 2
"""


def test_local_output_arrives_under_its_cell(start_kernel: Callable[..., Kernel]) -> None:
    kernel = start_kernel()
    cell = run_cell(kernel.kc, LOCAL_OUTPUT)  # keeps only messages whose parent is this request
    assert cell.status == "ok", cell
    assert cell.strays == []
    assert "printed here" in cell.stdout()
    stderr = [c["text"] for t, c in cell.outputs if t == "stream" and c["name"] == "stderr"]
    assert "warned here" in "".join(stderr)
    shown = cell.of_type("display_data")
    assert [d["data"].get("text/html") for d in shown][:1] == ["<b>shown here</b>"], cell.outputs
    assert shown[-1]["data"]["text/plain"] == "42"  # the last value, without an "Out[n]:" of its own
    # print before display: the order the code made them in
    kinds = [t for t, _ in cell.outputs]
    assert kinds.index("stream") < kinds.index("display_data")

    config = run_cell(kernel.kc, "%backend config")
    assert config.status == "ok", config
    assert config.strays == []
    assert "BackendMagics settings" in config.stdout()


def test_errors_of_local_code_are_one_error_message(start_kernel: Callable[..., Kernel]) -> None:
    kernel = start_kernel()
    cell = run_cell(kernel.kc, "%backend no-such-command")
    assert cell.status == "error"
    assert cell.reply["ename"] == "UsageError"
    errors = cell.of_type("error")
    assert len(errors) == 1
    assert errors[0]["traceback"] == [f"UsageError: {errors[0]['evalue']}"]
    assert not any(t == "stream" and "UsageError" in c["text"] for t, c in cell.outputs)

    cell = run_cell(kernel.kc, "%%local\n1 / 0")
    assert cell.status == "error"
    assert cell.reply["ename"] == "ZeroDivisionError"
    assert len(cell.of_type("error")) == 1
    assert not any("backendai_jupyter" in line for line in cell.reply["traceback"])


def test_input_and_getpass_in_local_code(start_kernel: Callable[..., Kernel]) -> None:
    kernel = start_kernel()
    code = (
        "%%local\nimport getpass\nname = input('name: ')\nsecret = getpass.getpass('secret: ')\n"
        "print('got', name, len(secret))"
    )
    cell = run_cell(kernel.kc, code, answer=lambda prompt, password: "hunter2" if password else "Ada")
    assert cell.status == "ok", cell
    assert [(r["prompt"], r["password"]) for r in cell.input_requests] == [
        ("name: ", False),
        ("secret: ", True),
    ]
    assert "got Ada 7" in cell.stdout()
    assert "hunter2" not in repr(cell.outputs)

    cell = run_cell(kernel.kc, "%%local\ninput('value? ')")  # this request allows no stdin
    assert cell.status == "error"
    assert cell.reply["ename"] == "StdinNotImplementedError"


def test_interrupt_ends_a_local_loop_and_keeps_the_kernel(start_kernel: Callable[..., Kernel]) -> None:
    kernel = start_kernel()
    assert run_cell(kernel.kc, "%%local\nkept = 123").status == "ok"
    interrupt_once = InterruptOnce(kernel, "looping")
    started = time.monotonic()
    code = "%%local\nimport time\nprint('looping', flush=True)\nwhile True:\n    time.sleep(0.05)"
    cell = run_cell(kernel.kc, code, on_output=interrupt_once)
    assert interrupt_once.fired.is_set()
    assert time.monotonic() - started < 30
    assert cell.status == "error"
    assert cell.reply["ename"] == "KeyboardInterrupt"
    assert len(cell.of_type("error")) == 1
    assert kernel.km.is_alive()
    after = run_cell(kernel.kc, "%%local\nprint(kept + 1)")
    assert after.status == "ok", after
    assert after.stdout().strip() == "124"


def test_interrupt_while_local_code_waits_for_input(start_kernel: Callable[..., Kernel]) -> None:
    kernel = start_kernel()

    def interrupt_instead(prompt: str, password: bool) -> str:
        kernel.km.interrupt_kernel()  # the front end never answers; the user interrupts instead
        time.sleep(1.0)
        return "too late"

    cell = run_cell(kernel.kc, "%%local\nvalue = input('value: ')", answer=interrupt_instead)
    assert cell.status == "error"
    assert cell.reply["ename"] == "KeyboardInterrupt"
    after = run_cell(kernel.kc, "%%local\nprint('value' in dir())")
    assert after.stdout().strip() == "False"
