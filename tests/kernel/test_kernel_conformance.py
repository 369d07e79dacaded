"""jupyter_kernel_test's suite against the "Backend.AI (remote)" kernel on the local endpoint."""

from __future__ import annotations

from typing import Any

import jupyter_kernel_test
import pytest
from kernel_harness import KERNEL, KERNEL_REST

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

#: remote sessions are slower than a local kernel: jkt binds its 15 s default when execute_helper is defined
CELL_TIMEOUT = 120


class _BackendKernelTests(jupyter_kernel_test.KernelTests):
    __test__ = False  # the shared settings; the subclasses below are the tests
    kernel_name = KERNEL
    language_name = "python"
    file_extension = ".py"

    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('test', file=sys.stderr)"
    code_generate_error = "raise ValueError('boom')"
    code_display_data = [  # noqa: RUF012 (jupyter_kernel_test's API)
        {"code": "from IPython.display import HTML, display; display(HTML('<b>t</b>'))", "mime": "text/html"},
        {
            "code": "from IPython.display import SVG, display; "
            'display(SVG(\'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>\'))',
            "mime": "image/svg+xml",
        },
    ]
    complete_code_samples = ["1", "print('hello, world')", "def f(x):\n  return x*2\n\n\n"]  # noqa: RUF012
    incomplete_code_samples = ["print('''hello", "def f(x):\n  x*2"]  # noqa: RUF012
    invalid_code_samples = ["import = 7q"]  # noqa: RUF012
    completion_samples = [{"text": "zi", "matches": {"zip"}}]  # noqa: RUF012
    # code_execute_result stays empty: query mode turns results into stdout (docs/peers.md §6.4)

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        # create the session up front: completion needs one, and the status line of a starting session
        # must not count as an output of the first test
        cls.kc.execute_interactive("pass", timeout=CELL_TIMEOUT)
        # the session's first completion imports (and, in a new venv, compiles) jedi: longer than the
        # kernel's 5 s completion limit on a cold machine; do it once here, not inside the completion test
        cls.kc.execute_interactive(
            "from IPython.core.completer import provisionalcompleter\n"
            "with provisionalcompleter():\n"
            "    list(get_ipython().Completer.completions('zi', 2))",
            timeout=CELL_TIMEOUT,
        )

    def execute_helper(self, code: str, timeout: float = CELL_TIMEOUT, **kwargs: Any) -> Any:
        return super().execute_helper(code, timeout=timeout, **kwargs)


@pytest.mark.usefixtures("kernel_specs")
class TestKernelConformance(_BackendKernelTests):
    """The suite over the WebSocket execute stream."""

    __test__ = True


@pytest.mark.usefixtures("kernel_specs")
class TestKernelConformanceRest(_BackendKernelTests):
    """The suite over REST polling."""

    __test__ = True

    kernel_name = KERNEL_REST
