"""ipywidgets in the remote kernel over real ZeroMQ: the test plays the front end's widget manager."""

from __future__ import annotations

import contextlib
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from queue import Empty
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from kernel_harness import Kernel, KernelSetup, run_cell

from backendai_jupyter.sdk import Client, NotFoundError

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def api(kernel_specs: KernelSetup) -> Iterator[Client]:
    """A sync SDK client for making and checking sessions behind the kernel's back."""
    with Client(kernel_specs.endpoint.config()) as client:
        yield client


@pytest.fixture
def make_session(api: Client) -> Iterator[Callable[[], str]]:
    """Create sessions on the endpoint; the ones still there after the test are destroyed."""
    made: list[str] = []

    def make() -> str:
        name = f"wdg-{secrets.token_hex(3)}"
        api.sessions.create("python", name=name)
        made.append(name)
        return name

    yield make
    for name in made:
        with contextlib.suppress(NotFoundError):  # the test terminated it through the picker
            api.sessions.destroy(name)


@dataclass
class Models:
    """Widget models the kernel opened, as the front end's widget manager keeps them."""

    states: dict[str, dict[str, Any]] = field(default_factory=dict)

    def track(self, outputs: list[tuple[str, dict[str, Any]]]) -> None:
        """Apply comm_open and state updates from a list of iopub messages."""
        for msg_type, content in outputs:
            if msg_type == "comm_open" and content["target_name"] == "jupyter.widget":
                self.states[content["comm_id"]] = dict(content["data"]["state"])
            elif msg_type == "comm_msg" and content["data"].get("method") in ("update", "echo_update"):
                self.states.setdefault(content["comm_id"], {}).update(content["data"]["state"])

    def find(self, model: str, **state: Any) -> str:
        """The one model of class ``model`` whose state has the given values."""
        found = [
            comm_id
            for comm_id, s in self.states.items()
            if s.get("_model_name") == model and all(s.get(k) == v for k, v in state.items())
        ]
        assert len(found) == 1, (model, state, found)
        return found[0]


def send(
    kc: BlockingKernelClient, msg_type: str, content: dict[str, Any], metadata: dict[str, Any] | None = None
) -> str:
    """Send a shell message as the front end does; return its id."""
    msg = kc.session.msg(msg_type, content, metadata=metadata)
    kc.shell_channel.send(msg)
    return str(msg["header"]["msg_id"])


def outputs_of(kc: BlockingKernelClient, msg_id: str, *, timeout: float = 60.0) -> list[tuple[str, Any]]:
    """The iopub messages under ``msg_id`` until the kernel is idle again."""
    deadline = time.monotonic() + timeout
    outputs: list[tuple[str, Any]] = []
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=0.1)
        except Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status":
            if msg["content"]["execution_state"] == "idle":
                return outputs
            continue
        outputs.append((msg["msg_type"], msg["content"]))
    raise TimeoutError(f"no idle after {msg_id} in {timeout} s; got {outputs}")


def click(kc: BlockingKernelClient, button: str) -> list[tuple[str, Any]]:
    """A click on a Button view: its custom "click" event (the ipywidgets Button protocol)."""
    data = {"method": "custom", "content": {"event": "click"}}
    return outputs_of(kc, send(kc, "comm_msg", {"comm_id": button, "data": data}))


def update(kc: BlockingKernelClient, model: str, state: dict[str, Any]) -> list[tuple[str, Any]]:
    """A view changed ``state`` (e.g. the user picked a row)."""
    data = {"method": "update", "state": state, "buffer_paths": []}
    return outputs_of(kc, send(kc, "comm_msg", {"comm_id": model, "data": data}))


def ended(api: Client, name: str) -> bool:
    """Whether the session is over (or going)."""
    try:
        return api.sessions.info(name).status in ("TERMINATING", "TERMINATED", "CANCELLED")
    except NotFoundError:
        return True


def labels_with(models: Models, select: str, name: str) -> list[str]:
    """The rows of the session list that show ``name``."""
    return [label for label in models.states[select]["_options_labels"] if name in label]


def test_session_picker_in_the_remote_kernel(
    start_kernel: Callable[..., Kernel], make_session: Callable[[], str], api: Client
) -> None:
    kernel = start_kernel()
    kc = kernel.kc
    before = make_session()
    cell = run_cell(kc, "%backend sessions", timeout=90)  # keeps only messages under this request
    assert cell.status == "ok", cell.outputs
    assert cell.strays == []
    assert "cannot show widgets" not in cell.stdout()
    models = Models()
    models.track(cell.outputs)
    assert len(models.states) > 10  # the picker and its children, each one model opened under the cell
    shown = [d["data"][WIDGET_VIEW] for d in cell.of_type("display_data") if WIDGET_VIEW in d["data"]]
    assert len(shown) == 1, cell.outputs
    picker = models.states[shown[0]["model_id"]]
    assert picker["_model_name"] == "VBoxModel"
    assert picker["value"] == ""
    kinds = [t for t, _ in cell.outputs]
    assert kinds.index("comm_open") < kinds.index("display_data")  # models exist before their view
    listing = models.find("SelectModel", rows=8)
    assert len(labels_with(models, listing, before)) == 1

    # the front end asks which widget comms are open (it does so when it reconnects)
    info_id = kc.comm_info(target_name="jupyter.widget")
    reply = kc.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == info_id
    assert reply["content"]["status"] == "ok"
    open_comms = reply["content"]["comms"]
    assert set(models.states) <= set(open_comms)
    assert {c["target_name"] for c in open_comms.values()} == {"jupyter.widget"}

    # a session made elsewhere shows up on Refresh; the callback runs an SDK call in the kernel
    later = make_session()
    assert labels_with(models, listing, later) == []
    outputs = click(kc, models.find("ButtonModel", description="Refresh"))
    models.track(outputs)
    assert len(labels_with(models, listing, before)) == 1
    assert len(labels_with(models, listing, later)) == 1
    status = picker["children"][-1].removeprefix("IPY_MODEL_")  # the line under the picker
    assert "session(s)" in models.states[status]["value"]

    # pick a row: the picker's value and its buttons follow, as the front end sees them
    row = models.states[listing]["_options_labels"].index(labels_with(models, listing, later)[0])
    models.track(update(kc, listing, {"index": row}))
    assert models.states[shown[0]["model_id"]]["value"] == later
    terminate = models.find("ButtonModel", description="Terminate")
    assert models.states[terminate]["disabled"] is False

    # terminate asks first; "Yes, terminate" ends the session and the list drops it
    models.track(click(kc, terminate))
    confirm = models.find("HTMLModel", value=f"Terminate session <b>{later}</b>? Its running code stops.")
    assert confirm
    models.track(click(kc, models.find("ButtonModel", description="Yes, terminate")))
    assert labels_with(models, listing, later) == []
    assert len(labels_with(models, listing, before)) == 1
    assert f"terminated session {later}" in models.states[status]["value"]
    assert ended(api, later)
    assert api.sessions.info(before).status == "RUNNING"

    # a reloaded page asks for every widget's state on the control comm
    control = uuid.uuid4().hex
    content = {"comm_id": control, "target_name": "jupyter.widget.control", "data": {}}
    opened = send(kc, "comm_open", content, {"version": "1.0.0"})  # the control protocol's version
    assert outputs_of(kc, opened) == []
    asked = send(kc, "comm_msg", {"comm_id": control, "data": {"method": "request_states"}})
    answers = [c for t, c in outputs_of(kc, asked) if t == "comm_msg" and c["comm_id"] == control]
    assert len(answers) == 1
    assert answers[0]["data"]["method"] == "update_states"
    assert set(models.states) <= set(answers[0]["data"]["states"])


SLIDER_CELL = """%%local
import time
import ipywidgets as w
from IPython.display import display
slider = w.IntSlider(value=0, description='pick')
display(slider)
deadline = time.monotonic() + 60
while slider.value == 0 and time.monotonic() < deadline:
    time.sleep(0.02)
print('picked', slider.value)
"""


def test_comm_messages_reach_a_cell_that_waits_for_a_widget(start_kernel: Callable[..., Kernel]) -> None:
    kernel = start_kernel()
    kc = kernel.kc
    sent: list[str] = []

    def move_the_slider(msg_type: str, content: dict[str, Any]) -> None:
        if msg_type == "display_data" and WIDGET_VIEW in content["data"] and not sent:
            model = content["data"][WIDGET_VIEW]["model_id"]
            data = {"method": "update", "state": {"value": 7}, "buffer_paths": []}
            sent.append(send(kc, "comm_msg", {"comm_id": model, "data": data}))

    started = time.monotonic()
    cell = run_cell(kc, SLIDER_CELL, timeout=90, on_output=move_the_slider)
    assert sent
    assert cell.status == "ok", cell.outputs
    assert cell.stdout().strip() == "picked 7"
    assert time.monotonic() - started < 45  # the cell did not sit out its 60 s deadline

    # a failing button callback shows one error under the click; the kernel keeps working
    cell = run_cell(
        kc,
        "%%local\nimport ipywidgets as w\nb = w.Button(description='boom')\nb.on_click(lambda _: 1 / 0)\nb",
    )
    assert cell.status == "ok", cell.outputs
    model = cell.of_type("display_data")[0]["data"][WIDGET_VIEW]["model_id"]
    outputs = click(kc, model)
    errors = [c for t, c in outputs if t == "error"]
    assert [e["ename"] for e in errors] == ["ZeroDivisionError"]
    assert run_cell(kc, "%%local\nprint(b.description)").stdout().strip() == "boom"

    # the image picker too: typing in its filter narrows the list, as the page would show it
    cell = run_cell(kc, "%backend images --pick", timeout=90)
    assert cell.status == "ok", cell.outputs
    models = Models()
    models.track(cell.outputs)
    shown = [d["data"][WIDGET_VIEW] for d in cell.of_type("display_data") if WIDGET_VIEW in d["data"]]
    assert len(shown) == 1, cell.outputs
    listing = models.find("SelectModel", rows=8)
    every = list(models.states[listing]["_options_labels"])
    assert any("python" in label for label in every), every
    models.track(update(kc, models.find("TextModel", description="Filter"), {"value": "no-such-image"}))
    assert models.states[listing]["_options_labels"] == []

    # a message for a comm the kernel does not know (e.g. from before a restart): logged, not shown
    assert outputs_of(kc, send(kc, "comm_msg", {"comm_id": uuid.uuid4().hex, "data": {}})) == []
