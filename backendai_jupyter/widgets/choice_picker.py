"""The common part of the image and vfolder pickers: (label, value) choices from the backend, with refresh."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as w

from .fallback import choices_text
from .options import PickerBackend

__all__ = ["ChoicePicker"]


class ChoicePicker(w.VBox, w.ValueWidget):  # type: ignore[misc]
    """A titled list of choices, a Refresh button and a status line; subclasses load and show the choices.

    ``.value`` follows the list widget; subclasses declare the ``value`` trait that fits it.
    """

    #: What one choice is called in messages ("image" -> "3 image(s)", "cannot list images: ...").
    noun = "choice"
    #: The ``%backend`` command that uses a choice, named by the text fallback.
    command = "%backend"

    def __init__(
        self,
        backend: PickerBackend,
        *,
        title: str,
        selector: w.Widget,
        above: Sequence[w.Widget] = (),
        **kwargs: Any,
    ) -> None:
        self._backend = backend
        self._choices: list[tuple[str, str]] = []
        self._callbacks: list[Callable[[Any], None]] = []
        self._list = selector
        self._refresh_button = w.Button(description="Refresh", icon="refresh")
        self._status = w.HTML("")
        super().__init__(
            children=[w.HTML(f"<b>{title}</b>"), *above, self._list, self._refresh_button, self._status],
            **kwargs,
        )
        self._list.observe(self._on_select, names="value")
        self._refresh_button.on_click(self._on_refresh)
        self.refresh()

    @property
    def choices(self) -> list[tuple[str, str]]:
        """Every (label, value) pair, unfiltered."""
        return list(self._choices)

    def on_change(self, callback: Callable[[Any], None]) -> None:
        """Call ``callback(value)`` whenever the choice changes."""
        self._callbacks.append(callback)

    def refresh(self) -> None:
        """Reload the choices (keeps the chosen ones that are still there)."""
        try:
            self._choices = self._load()
        except Exception as exc:  # shown in the widget: a picker must not raise into the front end
            self._status.value = f"cannot list {self.noun}s: {exc}"
            return
        self._status.value = f"{len(self._choices)} {self.noun}(s)"
        self._show()

    def _load(self) -> list[tuple[str, str]]:
        """The (label, value) choices from the backend."""
        raise NotImplementedError

    def _show(self) -> None:
        """Put the choices into the list widget, keeping the current choice where it still exists."""
        raise NotImplementedError

    def _on_select(self, change: dict[str, Any]) -> None:
        if change["new"] is None:  # the choice was filtered out of sight: keep it
            return
        self.value = change["new"]
        for callback in list(self._callbacks):
            callback(self.value)

    def _on_refresh(self, _button: Any = None) -> None:
        self.refresh()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # front ends without a widget manager show text/plain: make that the useful list, not a repr
        bundle = super()._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):
            bundle["text/plain"] = choices_text(f"{self.noun}s:", self._choices, self.command)
        return bundle
