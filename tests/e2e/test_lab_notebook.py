"""JupyterLab end to end: a notebook on the "Backend.AI (remote)" kernel, run from the Lab UI in Chromium.

The tests of this module share one Lab server, one browser and one run of each notebook, and run in file
order: the picker notebook lists the session the remote notebook started, and the last test shuts it down.
"""

from __future__ import annotations

import base64
import re
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import nbformat
import pytest
from lab_harness import RunningLab
from lab_page import CellView, open_notebook, run_all_cells, screenshot
from playwright.sync_api import BrowserContext, Page, expect

from backendai_jupyter.sdk import Client

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

REMOTE_KERNEL = "Backend.AI (remote)"
IPYKERNEL = "Python 3 (ipykernel)"

HELLO = "Hello from Backend.AI in JupyterLab"
SVG_COLOUR = "#14408c"
REMOTE_CELLS = [
    f"print({HELLO!r})",
    "import matplotlib.pyplot as plt\n"
    "plt.plot([0, 1, 2, 3], [0, 1, 4, 9], label='squares')\n"
    "plt.legend()\n"
    "plt.show()",
    "from IPython.display import SVG, display\n"
    'display(SVG(\'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60">\'\n'
    f'            \'<rect x="5" y="5" width="110" height="50" fill="{SVG_COLOUR}"/></svg>\'))',
    "import pandas as pd\n"
    "pd.DataFrame({'city': ['Seoul', 'Busan', 'Daegu'], 'population_m': [9.4, 3.3, 2.4]})",
    "from backendai_jupyter.drawing import Canvas\n"
    "canvas = Canvas(160, 160)\n"
    "turtle = canvas.create_turtle()\n"
    "for _ in range(4):\n"
    "    turtle.forward(60)\n"
    "    turtle.right(90)\n"
    "canvas.update()",
    "%backend sessions",
    # last: Lab stops a "Run All" at the first failing cell
    "1 / 0",
]
PRINT, PLOT, SVG, TABLE, DRAWING, SESSIONS, ERROR = range(len(REMOTE_CELLS))

PICKER_CELLS = ["%load_ext backendai_jupyter.magics", "%backend sessions"]

STDOUT = "application/vnd.jupyter.stdout"
STDERR = "application/vnd.jupyter.stderr"
#: What a traceback through our own package would show: its file paths.
OWN_CODE = re.compile(r"backendai_jupyter[/\\]\w+")


@dataclass
class NotebookRun:
    """A notebook run to the end in the browser: its page, its code cells, and the page's script errors."""

    page: Page
    cells: list[CellView]
    page_errors: list[str] = field(default_factory=list)


def write_notebook(lab: RunningLab, name: str, cells: list[str], *, kernel: str, display_name: str) -> str:
    """Write a notebook of code ``cells`` for kernelspec ``kernel`` into the Lab root; its path there."""
    new_cell = nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook(cells=[new_cell(source) for source in cells])  # type: ignore[no-untyped-call]
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": display_name, "language": "python"}
    nbformat.write(nb, lab.root_dir / name)  # type: ignore[no-untyped-call]
    return name


def run_in_lab(
    browser: BrowserContext, lab: RunningLab, path: str, *, kernel: str, cells: int, shot: str
) -> NotebookRun:
    """Open ``path`` in a new tab, run all its cells from the Run menu and screenshot the result."""
    page = browser.new_page()
    run = NotebookRun(page=page, cells=[])
    page.on("pageerror", lambda exc: run.page_errors.append(str(exc)))
    try:
        open_notebook(page, lab, path, kernel=kernel)
        run_all_cells(page, code_cells=cells)
    except Exception as exc:
        where = screenshot(page, f"failed-{shot}")
        raise AssertionError(
            f"running {path} in Lab failed: {exc}\nscreenshot: {where}\nLab log:\n{lab.log_tail()}"
        ) from exc
    screenshot(page, shot)
    run.cells = CellView.all(page)
    return run


@pytest.fixture(scope="module")
def remote(browser: BrowserContext, lab: RunningLab) -> NotebookRun:
    """The remote-kernel notebook, run once for the module."""
    path = write_notebook(lab, "remote.ipynb", REMOTE_CELLS, kernel="backendai", display_name=REMOTE_KERNEL)
    return run_in_lab(
        browser, lab, path, kernel=REMOTE_KERNEL, cells=len(REMOTE_CELLS), shot="lab-remote-kernel"
    )


@pytest.fixture(scope="module")
def session_name(remote: NotebookRun) -> str:
    """The name of the session the remote kernel started, from the status line of its first cell."""
    text = remote.cells[PRINT].text()
    match = re.search(r"Backend\.AI session '([^']+)' \(\w+\): RUNNING", text)
    assert match, f"no RUNNING session status line in the first cell's output: {text!r}"
    return match.group(1)


@pytest.fixture(scope="module")
def endpoint_client(local_endpoint: Any) -> Iterator[Client]:
    """An SDK client of the local endpoint, to check from the server's side what the kernel did."""
    client = Client(local_endpoint.config())
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def picker(browser: BrowserContext, lab: RunningLab, session_name: str) -> NotebookRun:
    """A notebook on a plain ipykernel that shows the session picker (after the remote session exists)."""
    path = write_notebook(lab, "picker.ipynb", PICKER_CELLS, kernel="python3", display_name=IPYKERNEL)
    return run_in_lab(
        browser, lab, path, kernel=IPYKERNEL, cells=len(PICKER_CELLS), shot="lab-session-picker"
    )


def session_status(client: Client, name: str) -> str:
    """The session's status as the endpoint lists it ("GONE" when it is not listed)."""
    return {s.name: s.status for s in client.sessions.iter_all()}.get(name, "GONE")


def svg_documents(cell: CellView) -> list[str]:
    """The SVG documents of the cell's rendered ``image/svg+xml`` outputs (Lab shows SVG as an ``<img>``)."""
    prefix = "data:image/svg+xml,"
    sources = cell.image_sources("image/svg+xml")
    assert all(s.startswith(prefix) for s in sources), sources
    return [urllib.parse.unquote(s[len(prefix) :]) for s in sources]


def test_print_output_and_the_session_status_line(remote: NotebookRun, session_name: str) -> None:
    stdout = remote.cells[PRINT].outputs(STDOUT).all_inner_texts()
    assert [text.strip() for text in stdout] == [HELLO]
    assert session_name in remote.cells[PRINT].text()


def test_the_matplotlib_plot_is_a_png_image(remote: NotebookRun) -> None:
    prefix = "data:image/png;base64,"
    sources = remote.cells[PLOT].image_sources("image/png")
    assert len(sources) == 1, remote.cells[PLOT].text()
    assert sources[0].startswith(prefix)
    assert base64.b64decode(sources[0][len(prefix) :])[:8] == b"\x89PNG\r\n\x1a\n"


def test_svg_renders_as_an_svg_image(remote: NotebookRun) -> None:
    documents = svg_documents(remote.cells[SVG])
    assert len(documents) == 1, remote.cells[SVG].text()
    assert documents[0].lstrip().startswith("<svg")
    assert f'fill="{SVG_COLOUR}"' in documents[0]


def test_the_turtle_drawing_renders_as_an_svg_image(remote: NotebookRun) -> None:
    documents = svg_documents(remote.cells[DRAWING])
    assert len(documents) == 1, remote.cells[DRAWING].text()
    assert "<svg" in documents[0]
    assert documents[0].count("<line") == 4, documents[0]  # the square's four sides


def test_the_dataframe_is_an_html_table(remote: NotebookRun) -> None:
    table = remote.cells[TABLE].outputs("text/html").locator("table")
    assert table.count() == 1, remote.cells[TABLE].text()
    assert table.locator("thead th").all_inner_texts() == ["", "city", "population_m"]
    assert table.locator("tbody td").all_inner_texts() == ["Seoul", "9.4", "Busan", "3.3", "Daegu", "2.4"]


def test_the_error_output_names_the_exception(remote: NotebookRun) -> None:
    errors = remote.cells[ERROR].outputs(STDERR)
    assert errors.count() == 1, remote.cells[ERROR].text()
    text = errors.inner_text()
    assert "ZeroDivisionError" in text
    assert "division by zero" in text
    # the error is the cell's outcome: Lab did not show a result or a second error
    assert remote.cells[ERROR].outputs().count() == 1


def test_no_output_shows_a_traceback_of_our_own_code(remote: NotebookRun) -> None:
    for index, cell in enumerate(remote.cells):
        text = cell.text()
        assert not OWN_CODE.search(text), f"cell {index} shows our own code: {text!r}"
        assert "Error displaying widget" not in text, f"cell {index}: {text!r}"
        if index != ERROR:
            assert cell.outputs(STDERR).count() == 0, f"cell {index} wrote to stderr: {text!r}"
            assert "Traceback" not in text, f"cell {index}: {text!r}"
    assert remote.page_errors == []


def check_session_picker(run: NotebookRun, cell: CellView, session_name: str) -> None:
    """The picker widget shows the session, and a click on it goes to the kernel and back over the comm."""
    assert cell.locator.get_by_text("Backend.AI sessions").count() == 1, cell.text()
    # the session list; the form's Mounts is a select too (.widget-select-multiple)
    select = cell.locator.locator(".widget-select:not(.widget-select-multiple) select")
    assert select.count() == 1, cell.text()
    labels = select.locator("option").all_inner_texts()
    ours = [label for label in labels if session_name in label and "RUNNING" in label]
    assert len(ours) == 1, labels
    attach = cell.locator.get_by_role("button", name="Attach")
    assert attach.is_disabled()
    # the selection reaches the kernel's widget, whose observer enables the buttons in the page
    select.select_option(label=ours[0])
    expect(attach).to_be_enabled(timeout=15_000)
    assert cell.locator.get_by_role("button", name="Terminate").is_enabled()
    assert run.page_errors == []


def test_the_sessions_magic_shows_the_picker_in_the_remote_kernel(
    remote: NotebookRun, session_name: str, endpoint_client: Client
) -> None:
    check_session_picker(remote, remote.cells[SESSIONS], session_name)
    # the kernel talked to the endpoint Lab was given, not to any other
    assert session_status(endpoint_client, session_name) == "RUNNING"


def test_the_session_picker_renders_and_answers_in_ipykernel(picker: NotebookRun, session_name: str) -> None:
    check_session_picker(picker, picker.cells[1], session_name)


def test_shutting_the_kernel_down_from_lab_ends_its_session(
    remote: NotebookRun, session_name: str, endpoint_client: Client
) -> None:
    assert session_status(endpoint_client, session_name) == "RUNNING"
    page = remote.page
    page.bring_to_front()
    page.get_by_role("menuitem", name="Kernel", exact=True).click()
    page.get_by_role("menuitem", name="Shut Down Kernel", exact=True).click()
    deadline = time.monotonic() + 30
    status = "RUNNING"
    while time.monotonic() < deadline:
        status = session_status(endpoint_client, session_name)
        if status in {"TERMINATED", "GONE"}:
            break
        page.wait_for_timeout(250)  # polls the endpoint: nothing tells the test when the remote side is done
    assert status in {"TERMINATED", "GONE"}, f"session {session_name} is {status} 30 s after the shutdown"
