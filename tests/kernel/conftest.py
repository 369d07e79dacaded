"""Fixtures for the kernel tests: test kernelspecs pointing at the local endpoint, and started kernels."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel
from kernel_harness import KERNEL, KERNEL_REST, Kernel, KernelSetup

from backendai_jupyter.kernel.kernelspec import kernel_json


@pytest.fixture(scope="session")
def kernel_specs(local_endpoint: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KernelSetup]:
    """Kernelspecs for the kernel on the local endpoint, found through a private JUPYTER_PATH."""
    root = tmp_path_factory.mktemp("jupyter-path")
    runtime = tmp_path_factory.mktemp("jupyter-runtime")
    for name, extra in ((KERNEL, {}), (KERNEL_REST, {"BACKENDAI_JUPYTER_TRANSPORT": "rest"})):
        spec = kernel_json(f"Backend.AI ({name})")
        spec["env"] = {**local_endpoint.env(), **extra}
        (root / "kernels" / name).mkdir(parents=True)
        (root / "kernels" / name / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    saved = {key: os.environ.get(key) for key in ("JUPYTER_PATH", "JUPYTER_RUNTIME_DIR")}
    os.environ["JUPYTER_PATH"] = str(root)
    os.environ["JUPYTER_RUNTIME_DIR"] = str(runtime)
    try:
        yield KernelSetup(jupyter_path=root, runtime_dir=runtime, endpoint=local_endpoint)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def start_kernel(kernel_specs: KernelSetup) -> Iterator[Callable[..., Kernel]]:
    """Start kernels by name (default: the WebSocket one); every one is shut down after the test."""
    started: list[Kernel] = []

    def start(name: str = KERNEL, **kwargs: Any) -> Kernel:
        km, kc = start_new_kernel(kernel_name=name, startup_timeout=60, **kwargs)
        kernel = Kernel(km, kc)
        started.append(kernel)
        return kernel

    yield start
    for kernel in reversed(started):
        if kernel.km.has_kernel:
            kernel.stop()
