"""``%load_ext backendai_jupyter``: register the magics and make them configurable with ``%config``."""

from __future__ import annotations

from typing import Any

from .magic import BackendMagics

__all__ = ["load_ipython_extension", "unload_ipython_extension"]

_ATTR = "_backendai_magics"


def load_ipython_extension(ipython: Any) -> BackendMagics:
    """Register ``%backend``/``%%backend`` in ``ipython`` (again: a fresh instance replaces the old one)."""
    unload_ipython_extension(ipython)
    magics = BackendMagics(shell=ipython, parent=ipython)
    ipython.register_magics(magics)
    # listed in shell.configurables, ``%config BackendMagics.image = ...`` reaches this instance
    ipython.configurables.append(magics)
    setattr(ipython, _ATTR, magics)
    return magics


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics and close their client (sessions are left running)."""
    magics = getattr(ipython, _ATTR, None)
    if magics is None:
        return
    magics.context.close()
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)
    for kind in ("line", "cell"):
        table = ipython.magics_manager.magics[kind]
        if getattr(table.get("backend"), "__self__", None) is magics:
            del table["backend"]
    delattr(ipython, _ATTR)
