"""backendai_jupyter.drawing emits exactly the command batches of Backend.AI's drawing module."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from wire_samples import RUNNER_DRAWING_BATCHES

from backendai_jupyter import drawing
from backendai_jupyter.drawing import Canvas, Color, Colors, Turtle, Vec2D, decode_commands, encode_commands

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"

RUNNER_BATCH1, RUNNER_BATCH2 = RUNNER_DRAWING_BATCHES  # docs/runner.md §2.2


def without_cid(commands: list[list[Any]], cid: int) -> list[list[Any]]:
    """The commands with their canvas id checked and dropped (ids depend on how many canvases came before)."""
    assert all(cmd[0] == cid for cmd in commands)
    return [cmd[1:] for cmd in commands]


@pytest.fixture
def canvas() -> Canvas:
    return Canvas(100, 80)


def test_runner_example_batches_exactly(canvas: Canvas) -> None:
    canvas.circle(50, 40, 20, fill=Colors.Red)
    batch1 = canvas.update()
    turtle = canvas.create_turtle()
    turtle.forward(30)
    batch2 = canvas.update()
    assert batch1 is not None
    assert batch2 is not None
    assert without_cid(decode_commands(batch1), canvas.id) == without_cid(RUNNER_BATCH1, 0)
    assert without_cid(decode_commands(batch2), canvas.id) == without_cid(RUNNER_BATCH2, 0)
    # the update cleared the pending list
    assert canvas.pending_commands == []


def test_runner_example_in_a_fresh_process_has_canvas_id_zero() -> None:
    code = (
        "from backendai_jupyter.drawing import Canvas, Colors, decode_commands\n"
        "import json\n"
        "c = Canvas(100, 80); c.circle(50, 40, 20, fill=Colors.Red); b1 = c.update()\n"
        "t = c.create_turtle(); t.forward(30); b2 = c.update()\n"
        "print(json.dumps([decode_commands(b1), decode_commands(b2)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == [RUNNER_BATCH1, RUNNER_BATCH2]


def test_legacy_runner_payloads_byte_for_byte() -> None:
    path = SAMPLES / "drawing-legacy-runner.json"
    if not path.exists():
        pytest.skip(f"{path} is missing (the shared samples live next to the checkout)")
    expected = [item["data"] for item in json.loads(path.read_text())]
    code = (
        "from backendai_jupyter.drawing import Canvas, Color, Colors\n"
        "c = Canvas(240, 160)\n"
        "c.line(10, 10, 230, 150, color=Colors.Blue)\n"
        "c.circle(60, 80, 25, fill=Colors.Red)\n"
        "c.rectangle(150, 40, 60, 30, border=Colors.Green, fill=Color(0, 0, 255, 128), angle=15)\n"
        "c.triangle(200, 120, 30, 40, fill=Colors.Yellow)\n"
        "print(c.update())\n"
        "t = c.create_turtle()\n"
        "for _ in range(4):\n"
        "    t.forward(40); t.right(90)\n"
        "print(c.update())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == expected


def test_canvas_ids_count_up_per_process() -> None:
    first, second = Canvas(10, 10), Canvas(10, 10)
    assert second.id == first.id + 1
    assert second.pending_commands == [(second.id, "canvas", 10, 10, "#ffffffff", "#000000ff")]


def test_every_canvas_command(canvas: Canvas) -> None:
    cid = canvas.id
    canvas.update()
    canvas.background_color(Colors.Gray)
    canvas.stroke_color(Color(1, 2, 3, 4))
    canvas.begin_fill(Colors.Cyan)
    canvas.end_fill()
    canvas.begin_group()
    canvas.end_group()
    canvas.stop_animation()
    canvas.resume_animation()
    line = canvas.line(1, 2, 3, 4)
    circle = canvas.circle(5, 6, 7, border=Colors.Magenta)
    rect = canvas.rectangle(1, 2, 3, 4, fill=Colors.Yellow, angle=45)
    tri = canvas.triangle(1, 2, 3, 4)
    assert [line.id, circle.id, rect.id, tri.id] == [0, 1, 2, 3]
    assert canvas.pending_commands == [
        (cid, "bgcolor", "#808080ff"),
        (cid, "fgcolor", "#01020304"),
        (cid, "begin-fill", "#00ffffff"),
        (cid, "end-fill"),
        (cid, "begin-group"),
        (cid, "end-group"),
        (cid, "stop-anim"),
        (cid, "resume-anim"),
        # the new foreground colour is the default for later shapes, fill defaults to transparent
        (cid, "obj", 0, ("line", 1, 2, 3, 4, "#01020304")),
        (cid, "obj", 1, ("circle", 5, 6, 7, "#ff00ffff", "#ffffff00", 0)),
        (cid, "obj", 2, ("rect", 1, 2, 3, 4, "#01020304", "#ffff00ff", 45)),
        (cid, "obj", 3, ("triangle", 1, 2, 3, 4, "#01020304", "#ffffff00", 0)),
    ]
    assert canvas.bgcolor == Colors.Gray
    assert canvas.fgcolor == Color(1, 2, 3, 4)


def test_object_setters_apply_only_to_their_shapes(canvas: Canvas) -> None:
    cid = canvas.id
    line, circle = canvas.line(0, 0, 1, 1), canvas.circle(0, 0, 1)
    canvas.update()
    for obj in (line, circle):
        obj.set_x(1)
        obj.set_y(2)
        obj.set_x1(3)
        obj.set_y1(4)
        obj.set_x2(5)
        obj.set_y2(6)
        obj.set_radius(7)
        obj.rotate(8)
        obj.set_angle(9)
        obj.stroke(Colors.Red)
        obj.fill(Colors.Blue)
    assert canvas.pending_commands == [
        (cid, "update", 0, "x1", 3),
        (cid, "update", 0, "y1", 4),
        (cid, "update", 0, "x2", 5),
        (cid, "update", 0, "y2", 6),
        (cid, "update", 0, "rotate", 8),
        (cid, "update", 0, "angle", 9),
        (cid, "update", 0, "color", "#ff0000ff"),
        (cid, "update", 1, "x", 1),
        (cid, "update", 1, "y", 2),
        (cid, "update", 1, "radius", 7),
        (cid, "update", 1, "rotate", 8),
        (cid, "update", 1, "angle", 9),
        (cid, "update", 1, "border", "#ff0000ff"),
        (cid, "update", 1, "fill", "#0000ffff"),
    ]


def test_turtle_geometry_and_cursor(canvas: Canvas) -> None:
    canvas.update()
    turtle = Turtle(canvas)
    assert turtle.pos() == (0, 0)
    turtle.forward(10)  # heading east
    turtle.left(90)  # now north: y decreases
    turtle.forward(20)
    turtle.penup()
    turtle.right(180)
    turtle.forward(5)  # south, no line
    turtle.pendown()
    turtle.setpos((3, 4))
    turtle.setpos(0, 0)
    x, y = turtle.pos()
    assert math.isclose(x, 0)
    assert math.isclose(y, 0)
    commands = decode_commands(canvas.update() or "")
    lines = [cmd[3][1:5] for cmd in commands if cmd[1] == "obj" and cmd[3][0] == "line"]
    assert len(lines) == 4  # forward, forward, setpos, setpos (the pen-up move drew nothing)
    (ax1, ay1, ax2, ay2), (_bx1, _by1, bx2, by2) = lines[0], lines[1]
    assert (ax1, ay1) == (50.0, 40.0)
    assert math.isclose(ax2, 60)
    assert math.isclose(ay2, 40)
    assert math.isclose(bx2, 60, abs_tol=1e-9)
    assert math.isclose(by2, 20)
    assert math.isclose(lines[2][2], 53)
    assert math.isclose(lines[2][3], 44)
    rotations = [cmd[4] for cmd in commands if cmd[1] == "update" and cmd[3] == "rotate"]
    assert rotations == [-90, 180]
    assert commands.count([canvas.id, "begin-group"]) == 5 == commands.count([canvas.id, "end-group"])


def test_setpos_rejects_a_lone_number(canvas: Canvas) -> None:
    with pytest.raises(ValueError, match="missing y"):
        canvas.create_turtle().setpos(3)


def test_colors() -> None:
    assert Color.from_hex("#ff8000") == Color(255, 128, 0, 255)
    assert Color.from_hex("#ff800080").to_hex() == "#ff800080"
    assert Color.from_rgba([1, 2, 3]).to_hex(include_alpha=False) == "#010203"
    assert Color.from_bytes(bytes([1, 2, 3, 4])).to_bytes() == bytes([1, 2, 3, 4])
    assert Colors.Red.to_rgba() == "rgba(255,0,0,255)"
    assert Colors.Transparent.alpha == 0
    assert {Colors.Red, Color(255, 0, 0)} == {Colors.Red}
    with pytest.raises(ValueError, match="0 to 255"):
        Color(256, 0, 0)
    with pytest.raises(ValueError, match="rrggbb"):
        Color.from_hex("#12345")


def test_vec2d() -> None:
    v = Vec2D(3, 4)
    assert abs(v) == 5
    assert v + Vec2D(1, 1) == (4, 5)
    assert v - (1, 1) == (2, 3)
    assert -v == (-3, -4)
    assert v * 2 == (6, 8)
    assert 2 * v == (6, 8)
    assert v * Vec2D(1, 1) == 7
    r = Vec2D(1, 0).rotate(90)
    assert math.isclose(r[0], 0, abs_tol=1e-12)
    assert math.isclose(r[1], 1)
    assert repr(v) == "(3.00,4.00)"


def test_encode_roundtrip() -> None:
    commands = [(0, "obj", 0, ("line", 1, 2.5, 3, 4, "#000000ff"))]
    assert decode_commands(encode_commands(commands)) == [[0, "obj", 0, ["line", 1, 2.5, 3, 4, "#000000ff"]]]


def test_update_publishes_a_display_under_ipython(canvas: Canvas) -> None:
    from IPython.core.displaypub import CapturingDisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.testing import globalipapp

    # the one testing shell of this process (other test modules use it too: a second kind would clash)
    globalipapp.start_ipython()
    shell = InteractiveShell.instance()
    previous = shell.display_pub
    shell.display_pub = CapturingDisplayPublisher()
    try:
        assert canvas.update() is None
        (output,) = shell.display_pub.outputs
    finally:
        shell.display_pub = previous
    data = output["data"]
    assert data["text/plain"] == f"<Canvas {canvas.id}>"
    assert decode_commands(data[drawing.MIME_TYPE])[0][:2] == [canvas.id, "canvas"]


def test_import_needs_only_stdlib_and_msgpack() -> None:
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import backendai_jupyter.drawing\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(n for n in new if n not in sys.stdlib_module_names and not n.startswith('_')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    # cython_runtime is the bookkeeping module of msgpack's compiled extension
    assert out.stdout.strip() in (
        "['backendai_jupyter', 'msgpack']",
        "['backendai_jupyter', 'cython_runtime', 'msgpack']",
    )
