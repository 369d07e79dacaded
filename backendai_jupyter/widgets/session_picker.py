"""The session picker: sessions with status and age, refresh, attach, confirmed terminate, a create form."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w
from traitlets import Unicode

from .fallback import sessions_text
from .options import RESOURCE_PRESETS, PickerBackend, SessionRow, format_table, parse_resources

__all__ = ["SessionPicker"]

#: Called with the session name after an attach, terminate or create.
Callback = Callable[[str], None]


class SessionPicker(w.VBox, w.ValueWidget):  # type: ignore[misc]
    """Pick a session; ``.value`` is the selected session's name ("" when none)."""

    value = Unicode("", help="The selected session's name.").tag(sync=True)

    def __init__(self, backend: PickerBackend, **kwargs: Any) -> None:
        self._backend = backend
        self._rows: list[SessionRow] = []
        self._callbacks: dict[str, list[Callback]] = {"attach": [], "terminate": [], "create": []}
        self._pending_terminate = ""

        self._list = w.Select(options=[], rows=8, layout=w.Layout(width="100%"))
        self._refresh_button = w.Button(description="Refresh", icon="refresh")
        self._attach_button = w.Button(description="Attach", icon="link", disabled=True)
        self._terminate_button = w.Button(
            description="Terminate", icon="trash", button_style="danger", disabled=True
        )
        self._confirm_text = w.HTML("")
        self._confirm_yes = w.Button(description="Yes, terminate", button_style="danger")
        self._confirm_no = w.Button(description="Cancel")
        self._confirm = w.HBox([self._confirm_text, self._confirm_yes, self._confirm_no])
        self._confirm.layout.display = "none"

        self._name = w.Text(description="Name", placeholder="generated when empty")
        self._image = w.Dropdown(description="Image", options=[])
        self._resources = w.Combobox(
            description="Resources",
            options=list(RESOURCE_PRESETS),
            placeholder="cpu=1,mem=1g",
            ensure_option=False,
        )
        self._mounts = w.SelectMultiple(description="Mounts", options=[], rows=4)
        self._create_button = w.Button(description="Create", icon="plus", button_style="primary")
        self._form = w.VBox(
            [
                w.HTML("<b>New session</b>"),
                self._name,
                self._image,
                self._resources,
                self._mounts,
                self._create_button,
            ]
        )
        self._status = w.HTML("")
        buttons = w.HBox([self._refresh_button, self._attach_button, self._terminate_button])
        super().__init__(
            children=[
                w.HTML("<b>Backend.AI sessions</b>"),
                self._list,
                buttons,
                self._confirm,
                self._form,
                self._status,
            ],
            **kwargs,
        )
        self._list.observe(self._on_select, names="value")
        self._refresh_button.on_click(self._on_refresh)
        self._attach_button.on_click(self._on_attach)
        self._terminate_button.on_click(self._on_terminate)
        self._confirm_yes.on_click(self._on_confirm)
        self._confirm_no.on_click(self._on_cancel)
        self._create_button.on_click(self._on_create)
        self.refresh()
        self._load_choices()

    # -- public API -------------------------------------------------------------------------------------

    @property
    def rows(self) -> list[SessionRow]:
        """The sessions shown."""
        return list(self._rows)

    @property
    def status(self) -> str:
        """The last message shown under the picker (plain text)."""
        return str(self._status.value).replace("<pre>", "").replace("</pre>", "")

    def on_attach(self, callback: Callback) -> None:
        """Call ``callback(name)`` after a session was attached."""
        self._callbacks["attach"].append(callback)

    def on_terminate(self, callback: Callback) -> None:
        """Call ``callback(name)`` after a session was terminated."""
        self._callbacks["terminate"].append(callback)

    def on_create(self, callback: Callback) -> None:
        """Call ``callback(name)`` after a session was created."""
        self._callbacks["create"].append(callback)

    def refresh(self) -> None:
        """Reload the session list (keeps the selection if that session is still there)."""
        try:
            self._rows = self._backend.list_sessions()
        except Exception as exc:  # shown in the widget: a picker must not raise into the front end
            self._say(f"cannot list sessions: {exc}")
            return
        keep = self.value
        self._list.options = [(self._label(r), r.name) for r in self._rows]
        names = [r.name for r in self._rows]
        self._list.value = keep if keep in names else None
        if keep not in names:
            self.value = ""
        self._update_buttons()

    def select(self, name: str) -> None:
        """Select a session by name (as a click on its row would)."""
        if name not in [r.name for r in self._rows]:
            raise ValueError(
                f"session {name!r} is not in the picker; call refresh() or pick one of {self.names()}"
            )
        self._list.value = name

    def names(self) -> list[str]:
        """Names of the sessions shown."""
        return [r.name for r in self._rows]

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # front ends without a widget manager show text/plain: make that the useful table, not a repr
        bundle = super()._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):
            bundle["text/plain"] = sessions_text(self._rows)
        return bundle

    # -- observers ------------------------------------------------------------------------------------

    @staticmethod
    def _label(row: SessionRow) -> str:
        return format_table(["", "", "", "", ""], [row.cells()], empty="").splitlines()[-1]

    def _on_select(self, change: dict[str, Any]) -> None:
        self.value = change["new"] or ""
        self._hide_confirm()
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = next((r for r in self._rows if r.name == self.value), None)
        self._attach_button.disabled = row is None or not row.usable
        self._terminate_button.disabled = row is None or not row.active

    def _on_refresh(self, _button: Any = None) -> None:
        self.refresh()
        self._say(f"{len(self._rows)} session(s)")

    def _on_attach(self, _button: Any = None) -> None:
        name = self.value
        if not name:
            return
        if self._run(lambda: self._backend.attach(name)):
            self._notify("attach", name)

    def _on_terminate(self, _button: Any = None) -> None:
        if not self.value:
            return
        self._pending_terminate = self.value
        self._confirm_text.value = f"Terminate session <b>{self.value}</b>? Its running code stops."
        self._confirm.layout.display = "flex"

    def _on_confirm(self, _button: Any = None) -> None:
        name, self._pending_terminate = self._pending_terminate, ""
        self._hide_confirm()
        if name and self._run(lambda: self._backend.terminate(name)):
            self.refresh()
            self._notify("terminate", name)

    def _on_cancel(self, _button: Any = None) -> None:
        self._pending_terminate = ""
        self._hide_confirm()
        self._say("nothing was terminated")

    def _on_create(self, _button: Any = None) -> None:
        try:
            resources = parse_resources(self._resources.value or "")
        except ValueError as exc:
            self._say(str(exc))
            return
        image = self._image.value
        if not image:
            self._say("choose an image first")
            return
        name = self._name.value.strip()
        mounts = list(self._mounts.value)
        report: list[str] = []

        def create() -> str:
            message = self._backend.create(name=name, image=image, resources=resources, mounts=mounts)
            report.append(message)
            return message

        if self._run(create):
            self.refresh()
            created = name or _name_in(report[0], self.names())
            if created:
                self._list.value = created
            self._notify("create", created or name)

    # -- helpers --------------------------------------------------------------------------------------

    def _load_choices(self) -> None:
        try:
            images = self._backend.image_choices()
            folders = self._backend.vfolder_choices()
        except Exception as exc:  # shown in the widget
            self._say(f"cannot load images/vfolders: {exc}")
            return
        self._image.options = images
        self._mounts.options = folders

    def _hide_confirm(self) -> None:
        self._confirm.layout.display = "none"

    def _run(self, action: Callable[[], str]) -> bool:
        try:
            message = action()
        except Exception as exc:  # the widget shows the one-line error instead of raising
            self._say(str(exc))
            return False
        self._say(message)
        return True

    def _notify(self, event: str, name: str) -> None:
        for callback in list(self._callbacks[event]):
            try:
                callback(name)
            except Exception as exc:  # a user callback must not break the picker
                self._say(f"{event} callback failed: {exc}")

    def _say(self, text: str) -> None:
        self._status.value = f"<pre>{html.escape(text)}</pre>"


def _name_in(message: str, names: list[str]) -> str:
    """The session name a create report mentions (the form left the name to the server)."""
    return next((n for n in names if n in message), "")
