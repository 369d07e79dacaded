"""backendai-jupyter: run notebooks on Backend.AI compute sessions."""

from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["__version__", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext backendai_jupyter``: register the ``%backend`` magics."""
    # imported here so that importing the SDK never loads IPython
    from .magics.extension import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext backendai_jupyter``: remove the ``%backend`` magics."""
    from .magics.extension import unload_ipython_extension as unload

    unload(ipython)
