"""The seam through which ``%backend attach``/``detach`` rebind the "Backend.AI (remote)" kernel's session.

The kernel registers a :class:`KernelBinding` for the local shell it runs ``%backend`` lines in; the magics
look it up for their shell. Neither imports the other: both import this module. Outside that kernel
nothing is registered, and attach/detach bind ``%%backend`` cells only.
"""

from __future__ import annotations

import weakref
from typing import Any, Protocol

__all__ = ["KernelBinding", "bind_kernel", "kernel_binding", "unbind_kernel"]


class KernelBinding(Protocol):
    """What the remote kernel offers the magics (all calls are synchronous and quick: no network)."""

    def current(self) -> tuple[str, bool] | None:
        """The kernel's session as (name, owned), or None before it has one."""

    def attach(self, name: str, session_id: str) -> None:
        """Use this existing session for the next cells, recorded as not owned."""

    def detach(self) -> str | None:
        """Stop using the current session without destroying it; return its name (None if there was none)."""


_bindings: weakref.WeakKeyDictionary[Any, KernelBinding] = weakref.WeakKeyDictionary()


def bind_kernel(shell: Any, binding: KernelBinding) -> None:
    """Register the kernel's binding for ``shell`` (the kernel's local IPython shell)."""
    _bindings[shell] = binding


def unbind_kernel(shell: Any) -> None:
    """Forget the binding of ``shell``."""
    _bindings.pop(shell, None)


def kernel_binding(shell: Any) -> KernelBinding | None:
    """The binding registered for ``shell``, if any."""
    return _bindings.get(shell)
