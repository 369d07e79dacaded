"""The ``%backend`` / ``%%backend`` IPython magics: the backend.ai CLI inside a notebook."""

from __future__ import annotations

from .extension import load_ipython_extension, unload_ipython_extension
from .magic import BackendMagics

__all__ = ["BackendMagics", "load_ipython_extension", "unload_ipython_extension"]
