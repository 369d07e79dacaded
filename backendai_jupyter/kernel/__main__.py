"""``python -m backendai_jupyter.kernel``: start the "Backend.AI (remote)" kernel (what kernel.json runs)."""

from __future__ import annotations

from ipykernel.kernelapp import IPKernelApp

from .kernel import BackendKernel

if __name__ == "__main__":
    IPKernelApp.launch_instance(kernel_class=BackendKernel)
