"""The pickers' state and callbacks, driven like clicks (no browser), against the local endpoint."""

from __future__ import annotations

import secrets

import pytest
from IPython.core.error import UsageError

from backendai_jupyter.magics.cmd_images import MagicsPickerBackend
from backendai_jupyter.magics.context import Context
from backendai_jupyter.sdk import Client
from backendai_jupyter.widgets import ImagePicker, SessionPicker, VFolderPicker
from backendai_jupyter.widgets.options import SessionRow

pytestmark = pytest.mark.timeout(120)
Backend = tuple[MagicsPickerBackend, Context, Client]


def test_session_picker_create_attach_and_confirmed_terminate(picker_backend: Backend) -> None:
    backend, ctx, client = picker_backend
    folder = f"wpk-{secrets.token_hex(3)}"
    client.vfolders.create(folder)
    try:
        picker = SessionPicker(backend)
        assert picker.value == ""
        assert any("python" in ref for _, ref in picker._image.options)
        assert folder in [name for _, name in picker._mounts.options]
        events: list[tuple[str, str]] = []
        picker.on_create(lambda n: events.append(("create", n)))
        picker.on_attach(lambda n: events.append(("attach", n)))
        picker.on_terminate(lambda n: events.append(("terminate", n)))

        name = f"wpick-{secrets.token_hex(3)}"
        picker._name.value = name
        picker._image.value = picker._image.options[0][1]
        picker._resources.value = "small (1 CPU, 1 GiB)"
        picker._mounts.value = (folder,)
        picker._create_button.click()
        assert events == [("create", name)], picker.status
        assert picker.value == name
        assert name in picker.names()
        row = next(r for r in picker.rows if r.name == name)
        assert row.status == "RUNNING"
        assert row.age.endswith("s")
        assert not picker._attach_button.disabled

        picker._attach_button.click()
        assert ctx.bound == name
        assert events[-1] == ("attach", name)

        # terminate asks first; Cancel leaves the session alone
        picker._terminate_button.click()
        assert picker._confirm.layout.display == "flex"
        assert name in picker._confirm_text.value
        picker._confirm_no.click()
        assert picker._confirm.layout.display == "none"
        assert client.sessions.info(name).status == "RUNNING"
        picker._terminate_button.click()
        picker._confirm_yes.click()
        assert events[-1] == ("terminate", name)
        assert name not in picker.names()
        assert picker.value == ""
        assert ctx.bound is None

        picker._resources.value = "cpu"
        picker._create_button.click()
        assert "not KEY=VALUE" in picker.status
        text = picker._repr_mimebundle_()["text/plain"]
        assert "%backend attach" in text
    finally:
        client.vfolders.delete(folder)


def test_refresh_keeps_the_selection(picker_backend: Backend) -> None:
    backend, _ctx, client = picker_backend
    name = f"wref-{secrets.token_hex(3)}"
    client.sessions.create("python", name=name)
    picker = SessionPicker(backend)
    picker.select(name)
    assert picker.value == name
    picker._refresh_button.click()
    assert picker.value == name
    assert "session(s)" in picker.status
    with pytest.raises(ValueError, match="not in the picker"):
        picker.select("no-such-one")
    client.sessions.destroy(name)
    picker.refresh()
    assert picker.value == ""
    assert name not in picker.names()


def test_image_and_vfolder_pickers(picker_backend: Backend) -> None:
    backend, _ctx, client = picker_backend
    images = ImagePicker(backend)
    seen: list[str] = []
    images.on_change(seen.append)
    assert images.choices
    images._filter.value = "3.11"
    assert images.shown
    assert all("3.11" in ref for ref in images.shown)
    images._list.value = images.shown[0]
    assert images.value == images.shown[0]
    assert seen == [images.value]
    images._filter.value = "no-such-image-anywhere"
    assert images.shown == []
    assert "%backend start IMAGE" in images._repr_mimebundle_()["text/plain"]

    names = [f"wvf-{secrets.token_hex(3)}" for _ in range(2)]
    for n in names:
        client.vfolders.create(n)
    try:
        folders = VFolderPicker(backend)
        picked: list[tuple[str, ...]] = []
        folders.on_change(picked.append)
        folders.choose(*names)
        assert folders.value == tuple(names)
        assert picked[-1] == tuple(names)
        with pytest.raises(ValueError, match="no vfolder named"):
            folders.choose("nope-nope")
        client.vfolders.delete(names[0])
        folders._refresh_button.click()
        assert folders.value == (names[1],)
    finally:
        client.vfolders.delete(names[1])


class BrokenBackend:
    """A backend whose server is down: the pickers must show the error, not raise it."""

    def list_sessions(self) -> list[object]:
        raise RuntimeError("endpoint unreachable")

    image_choices = vfolder_choices = list_sessions


def test_pickers_show_errors_instead_of_raising() -> None:
    picker = SessionPicker(BrokenBackend())  # type: ignore[arg-type]
    assert "endpoint unreachable" in picker.status
    images = ImagePicker(BrokenBackend())  # type: ignore[arg-type]
    assert "endpoint unreachable" in images._status.value


class TerminatingBackend(BrokenBackend):
    """A PickerBackend whose one session is TERMINATING: a state the local endpoint passes through too fast
    to click on, so it is scripted here."""

    def list_sessions(self) -> list[SessionRow]:
        return [SessionRow(name="going", id="0" * 32, status="TERMINATING", image="python", age="1m")]


def test_picker_does_not_offer_to_attach_to_a_session_that_is_going_away() -> None:
    picker = SessionPicker(TerminatingBackend())  # type: ignore[arg-type]
    picker._list.value = "going"
    assert picker.value == "going"
    assert picker._attach_button.disabled  # %backend attach refuses it too (Context.attach)
    assert not picker._terminate_button.disabled  # ending it for good is still allowed


def test_picker_and_magic_refuse_an_ended_session_alike(picker_backend: Backend) -> None:
    backend, ctx, client = picker_backend
    name = f"wgone-{secrets.token_hex(3)}"
    client.sessions.create("python", name=name)
    client.sessions.destroy(name)
    messages = []
    for attach in (backend.attach, lambda n: ctx.magics.backend(f"attach {n}")):
        with pytest.raises(UsageError) as info:
            attach(name)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert name in messages[0]
    assert ctx.bound != name
