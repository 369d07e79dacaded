"""The ``%backend`` / ``%%backend`` IPython magics: the backend.ai CLI inside a notebook."""

from __future__ import annotations

from .binding import KernelBinding, bind_kernel, unbind_kernel
from .extension import load_ipython_extension, unload_ipython_extension
from .magic import BackendMagics

__all__ = [
    "BackendMagics",
    "KernelBinding",
    "bind_kernel",
    "load_ipython_extension",
    "unbind_kernel",
    "unload_ipython_extension",
]
