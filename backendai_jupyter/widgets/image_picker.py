"""The image picker: a filterable list of the images a session can start with; ``.value`` is the reference."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w
from traitlets import Unicode

from .fallback import choices_text
from .options import PickerBackend

__all__ = ["ImagePicker"]


class ImagePicker(w.VBox, w.ValueWidget):  # type: ignore[misc]
    """Pick an image; ``.value`` is its reference (e.g. ``cr.backend.ai/stable/python:3.9``)."""

    value = Unicode("", help="The chosen image reference.").tag(sync=True)

    def __init__(self, backend: PickerBackend, **kwargs: Any) -> None:
        self._backend = backend
        self._choices: list[tuple[str, str]] = []
        self._callbacks: list[Callable[[str], None]] = []
        self._filter = w.Text(description="Filter", placeholder="part of the name")
        self._list = w.Select(options=[], rows=8, layout=w.Layout(width="100%"))
        self._refresh_button = w.Button(description="Refresh", icon="refresh")
        self._status = w.HTML("")
        super().__init__(
            children=[w.HTML("<b>Images</b>"), self._filter, self._list, self._refresh_button, self._status],
            **kwargs,
        )
        self._filter.observe(self._on_filter, names="value")
        self._list.observe(self._on_select, names="value")
        self._refresh_button.on_click(self._on_refresh)
        self.refresh()

    @property
    def choices(self) -> list[tuple[str, str]]:
        """Every (label, reference) pair, unfiltered."""
        return list(self._choices)

    @property
    def shown(self) -> list[str]:
        """References that pass the filter."""
        return [value for _, value in self._list.options]

    def on_change(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(reference)`` whenever the choice changes."""
        self._callbacks.append(callback)

    def refresh(self) -> None:
        """Reload the images."""
        try:
            self._choices = self._backend.image_choices()
        except Exception as exc:  # shown in the widget
            self._status.value = f"cannot list images: {exc}"
            return
        self._status.value = f"{len(self._choices)} image(s)"
        self._apply_filter()

    def _apply_filter(self) -> None:
        needle = self._filter.value.strip().lower()
        shown = [(label, ref) for label, ref in self._choices if needle in label.lower()]
        keep = self.value
        self._list.options = shown
        self._list.value = keep if keep in [r for _, r in shown] else None

    def _on_filter(self, _change: dict[str, Any]) -> None:
        self._apply_filter()

    def _on_select(self, change: dict[str, Any]) -> None:
        if change["new"] is None:
            return
        self.value = change["new"]
        for callback in list(self._callbacks):
            callback(self.value)

    def _on_refresh(self, _button: Any = None) -> None:
        self.refresh()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):
            bundle["text/plain"] = choices_text("images:", self._choices, "%backend start IMAGE")
        return bundle
