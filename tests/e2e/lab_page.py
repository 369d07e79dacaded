"""Driving JupyterLab in Debian's headless Chromium through Playwright: open, run all, read the outputs."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from lab_harness import RunningLab
from playwright.sync_api import BrowserContext, Locator, Page, Playwright

__all__ = [
    "ARTIFACTS",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "CellView",
    "launch_chromium",
    "open_notebook",
    "run_all_cells",
    "screenshot",
]

#: Debian's Chromium (apt-get install chromium chromium-driver); never Playwright's own browser downloads
CHROMIUM = Path("/usr/bin/chromium")
#: No network, no GPU, nothing in the background: the browser only talks to the Lab server on 127.0.0.1
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Screenshots for a person to look at (git-ignored): one per notebook at the end, one per failure.
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
#: Tall enough that a whole test notebook shows in one screenshot.
VIEWPORT = {"width": 1280, "height": 2400}

#: A cell is done when its prompt shows its execution count.
_ALL_CELLS_DONE = """(count) => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')];
  return prompts.length === count && prompts.every(p => /^\\[\\d+\\]:$/.test(p.textContent.trim()));
}"""


def launch_chromium(playwright: Playwright, user_data_dir: Path) -> BrowserContext:
    """Start headless Chromium with a fresh profile (Playwright takes the profile dir as its own argument)."""
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport=VIEWPORT,  # type: ignore[arg-type]
    )


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot of ``page`` as artifacts/NAME.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def open_notebook(page: Page, lab: RunningLab, path: str, *, kernel: str, timeout: float = 60.0) -> None:
    """Open ``path`` in Lab and wait until its kernel (display name ``kernel``) is connected and idle."""
    page.goto(lab.lab_url(urllib.parse.quote(path)), timeout=timeout * 1000)
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=timeout * 1000)
    # running cells before the kernel is connected makes Lab ask for a kernel instead
    page.get_by_text(f"{kernel} | Idle", exact=True).wait_for(timeout=timeout * 1000)


def run_all_cells(page: Page, *, code_cells: int, timeout: float = 90.0) -> None:
    """Run > Run All Cells from the menu bar; wait until every code cell has run and the kernel is idle."""
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    page.wait_for_function(_ALL_CELLS_DONE, arg=code_cells, timeout=timeout * 1000)
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(timeout=timeout * 1000)


@dataclass(frozen=True)
class CellView:
    """The rendered outputs of one code cell."""

    locator: Locator

    @classmethod
    def all(cls, page: Page) -> list[CellView]:
        """Every code cell of the open notebook, in order."""
        return [cls(c) for c in page.locator(".jp-Notebook .jp-CodeCell").all()]

    def outputs(self, mime: str | None = None) -> Locator:
        """The cell's rendered outputs, optionally only those of one MIME type."""
        selector = ".jp-OutputArea-output"
        if mime is not None:
            selector += f'[data-mime-type="{mime}"]'
        return self.locator.locator(selector)

    def text(self) -> str:
        """All output text of the cell, as the browser shows it."""
        return "\n".join(self.outputs().all_inner_texts())

    def image_sources(self, mime: str) -> list[str]:
        """The ``src`` of every decoded (loaded, non-empty) ``<img>`` among the cell's ``mime`` outputs."""
        images = self.outputs(mime).locator("img")
        sources: list[str] = []
        for image in images.all():
            loaded = image.evaluate("img => img.complete && img.naturalWidth > 0 && img.naturalHeight > 0")
            if loaded:
                sources.append(str(image.get_attribute("src")))
        return sources
