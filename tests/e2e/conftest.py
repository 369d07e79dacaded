"""Fixtures of the e2e tests: a JupyterLab server on the local endpoint and Debian's headless Chromium."""

from __future__ import annotations

import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lab_page
import pytest
from endpoint_support import stop_process
from lab_harness import RunningLab, lab_env, start_lab
from lab_page import launch_chromium, screenshot
from playwright.sync_api import BrowserContext, sync_playwright


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # keep each phase's report on the test, so that fixtures can tell a failed test from a passed one
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium; the only reason to skip the e2e tests is its absence (CI installs it)."""
    path = lab_page.CHROMIUM
    if not path.exists():
        pytest.skip(f"{path} is not installed: apt-get install -y chromium chromium-driver")
    return path


@pytest.fixture(scope="module")
def lab(
    chromium: Path, local_endpoint: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningLab]:
    """A JupyterLab server whose kernels talk to the local endpoint; its kernels and itself stopped after."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    root.mkdir()
    server = start_lab(root, env=lab_env(base, local_endpoint.env()), log_path=base / "lab.log")
    try:
        yield server
    finally:
        try:  # a graceful kernel shutdown lets the remote kernel destroy the session it created
            for kernel in server.api("GET", "api/kernels"):
                server.api("DELETE", f"api/kernels/{kernel['id']}", timeout=30)
        except (urllib.error.URLError, OSError):
            pass  # the server is gone already; stop_process below still makes sure of it
        finally:
            stop_process(server.proc)


@pytest.fixture(scope="module")
def browser(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """Headless Chromium with a fresh profile, for one test module."""
    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path_factory.mktemp("chromium-profile"))
        context.set_default_timeout(30_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(autouse=True)
def _screenshot_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a failed e2e test, a screenshot of every open page goes to artifacts/."""
    yield
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed or "browser" not in request.fixturenames:
        return
    context: BrowserContext = request.getfixturevalue("browser")
    for index, page in enumerate(context.pages):
        if page.url != "about:blank":  # the persistent context's first, unused tab
            screenshot(page, f"failed-{request.node.name}-{index}")
