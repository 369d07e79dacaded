"""ipywidgets pickers for sessions, images and vfolders, with a text fallback when widgets cannot show."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .fallback import choices_text, sessions_text, widgets_usable
from .options import PickerBackend, SessionRow

if TYPE_CHECKING:
    from .image_picker import ImagePicker
    from .session_picker import SessionPicker
    from .vfolder_picker import VFolderPicker

__all__ = [
    "ImagePicker",
    "PickerBackend",
    "SessionPicker",
    "SessionRow",
    "VFolderPicker",
    "choices_text",
    "sessions_text",
    "widgets_usable",
]


def __getattr__(name: str) -> Any:
    # the pickers import ipywidgets; load them only when asked, so the text fallback works without it
    if name == "SessionPicker":
        from .session_picker import SessionPicker

        return SessionPicker
    if name == "ImagePicker":
        from .image_picker import ImagePicker

        return ImagePicker
    if name == "VFolderPicker":
        from .vfolder_picker import VFolderPicker

        return VFolderPicker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
