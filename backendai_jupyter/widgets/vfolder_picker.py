"""The vfolder picker: choose vfolders to mount; ``.value`` is the tuple of chosen names."""

from __future__ import annotations

from typing import Any

import ipywidgets as w
from traitlets import Tuple

from .choice_picker import ChoicePicker
from .options import PickerBackend

__all__ = ["VFolderPicker"]


class VFolderPicker(ChoicePicker):
    """Pick vfolders; ``.value`` is a tuple of vfolder names."""

    value = Tuple(help="The chosen vfolder names.").tag(sync=True)
    noun = "vfolder"
    command = "%backend start -m VFOLDER IMAGE"

    def __init__(self, backend: PickerBackend, **kwargs: Any) -> None:
        super().__init__(
            backend,
            title="VFolders",
            selector=w.SelectMultiple(options=[], rows=6, layout=w.Layout(width="100%")),
            **kwargs,
        )

    def choose(self, *names: str) -> None:
        """Choose vfolders by name (as clicks would)."""
        known = [n for _, n in self._choices]
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"no vfolder named {unknown[0]!r} here; choose among {known} or refresh()")
        self._list.value = tuple(names)

    def _load(self) -> list[tuple[str, str]]:
        return self._backend.vfolder_choices()

    def _show(self) -> None:
        keep = [n for n in self.value if n in [c for _, c in self._choices]]
        self._list.options = self._choices
        self._list.value = tuple(keep)
