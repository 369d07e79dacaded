"""The image picker: a filterable list of the images a session can start with; ``.value`` is the reference."""

from __future__ import annotations

from typing import Any

import ipywidgets as w
from traitlets import Unicode

from .choice_picker import ChoicePicker
from .options import PickerBackend

__all__ = ["ImagePicker"]


class ImagePicker(ChoicePicker):
    """Pick an image; ``.value`` is its reference (e.g. ``cr.backend.ai/stable/python:3.9``)."""

    value = Unicode("", help="The chosen image reference.").tag(sync=True)
    noun = "image"
    command = "%backend start IMAGE"

    def __init__(self, backend: PickerBackend, **kwargs: Any) -> None:
        self._filter = w.Text(description="Filter", placeholder="part of the name")
        super().__init__(
            backend,
            title="Images",
            selector=w.Select(options=[], rows=8, layout=w.Layout(width="100%")),
            above=[self._filter],
            **kwargs,
        )
        self._filter.observe(self._on_filter, names="value")

    @property
    def shown(self) -> list[str]:
        """References that pass the filter."""
        return [value for _, value in self._list.options]

    def _load(self) -> list[tuple[str, str]]:
        return self._backend.image_choices()

    def _show(self) -> None:
        needle = self._filter.value.strip().lower()
        shown = [(label, ref) for label, ref in self._choices if needle in label.lower()]
        keep = self.value
        self._list.options = shown
        self._list.value = keep if keep in [r for _, r in shown] else None

    def _on_filter(self, _change: dict[str, Any]) -> None:
        self._show()
