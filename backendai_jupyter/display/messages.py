"""The iopub message shape the display layer produces: a ``(msg_type, content)`` pair, no ipykernel needed."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["IopubMessage", "display_message", "stream_message"]


class IopubMessage(NamedTuple):
    """One Jupyter iopub message to publish: ``msg_type`` and its ``content``."""

    msg_type: str
    content: dict[str, Any]


def stream_message(name: str, text: str) -> IopubMessage:
    """A ``stream`` message (``name`` is ``stdout`` or ``stderr``)."""
    return IopubMessage("stream", {"name": name, "text": text})


def display_message(
    data: dict[str, Any],
    *,
    metadata: dict[str, Any] | None = None,
    display_id: str | None = None,
    update: bool = False,
) -> IopubMessage:
    """A ``display_data`` (``update_display_data`` with ``update``) message; metadata always present."""
    if update and display_id is None:
        raise ValueError("update_display_data needs a display_id: pass display_id=... with update=True")
    content: dict[str, Any] = {"data": data, "metadata": metadata if metadata is not None else {}}
    if display_id is not None:
        content["transient"] = {"display_id": display_id}
    return IopubMessage("update_display_data" if update else "display_data", content)
