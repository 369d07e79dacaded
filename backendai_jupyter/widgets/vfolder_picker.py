"""The vfolder picker: choose vfolders to mount; ``.value`` is the tuple of chosen names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w
from traitlets import Tuple

from .fallback import choices_text
from .options import PickerBackend

__all__ = ["VFolderPicker"]


class VFolderPicker(w.VBox, w.ValueWidget):  # type: ignore[misc]
    """Pick vfolders; ``.value`` is a tuple of vfolder names."""

    value = Tuple(help="The chosen vfolder names.").tag(sync=True)

    def __init__(self, backend: PickerBackend, **kwargs: Any) -> None:
        self._backend = backend
        self._choices: list[tuple[str, str]] = []
        self._callbacks: list[Callable[[tuple[str, ...]], None]] = []
        self._list = w.SelectMultiple(options=[], rows=6, layout=w.Layout(width="100%"))
        self._refresh_button = w.Button(description="Refresh", icon="refresh")
        self._status = w.HTML("")
        super().__init__(
            children=[w.HTML("<b>VFolders</b>"), self._list, self._refresh_button, self._status], **kwargs
        )
        self._list.observe(self._on_select, names="value")
        self._refresh_button.on_click(self._on_refresh)
        self.refresh()

    @property
    def choices(self) -> list[tuple[str, str]]:
        """Every (label, name) pair."""
        return list(self._choices)

    def on_change(self, callback: Callable[[tuple[str, ...]], None]) -> None:
        """Call ``callback(names)`` whenever the choice changes."""
        self._callbacks.append(callback)

    def choose(self, *names: str) -> None:
        """Choose vfolders by name (as clicks would)."""
        known = [n for _, n in self._choices]
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"no vfolder named {unknown[0]!r} here; choose among {known} or refresh()")
        self._list.value = tuple(names)

    def refresh(self) -> None:
        """Reload the vfolders (keeps chosen ones that still exist)."""
        try:
            self._choices = self._backend.vfolder_choices()
        except Exception as exc:  # shown in the widget
            self._status.value = f"cannot list vfolders: {exc}"
            return
        keep = [n for n in self.value if n in [c for _, c in self._choices]]
        self._list.options = self._choices
        self._list.value = tuple(keep)
        self._status.value = f"{len(self._choices)} vfolder(s)"

    def _on_select(self, change: dict[str, Any]) -> None:
        self.value = tuple(change["new"])
        for callback in list(self._callbacks):
            callback(self.value)

    def _on_refresh(self, _button: Any = None) -> None:
        self.refresh()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):
            bundle["text/plain"] = choices_text("vfolders:", self._choices, "%backend start -m VFOLDER IMAGE")
        return bundle
