"""sorna-drawing batches -> cumulative canvas state -> SVG (checked by parsing it)."""

from __future__ import annotations

import base64
import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import msgpack
import pytest
from wire_samples import RUNNER_DRAWING_BATCHES

from backendai_jupyter.display.drawing_svg import DrawingBoard, decode_drawing

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
SVG = "{http://www.w3.org/2000/svg}"

BATCH1, BATCH2 = RUNNER_DRAWING_BATCHES  # docs/runner.md §2.2, the real example batches


def encode(commands: list[Any]) -> str:
    return base64.b64encode(msgpack.packb(commands, use_bin_type=True)).decode("ascii")


def shapes(svg: str) -> tuple[ET.Element, list[ET.Element]]:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    children = [child for child in root if child.tag != f"{SVG}title"]
    return children[0], children[1:]  # background rect, then the shapes in z-order


def floats(element: ET.Element, *names: str) -> list[float]:
    return [float(element.attrib[name]) for name in names]


def polygon_points(element: ET.Element) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (p.split(",") for p in element.attrib["points"].split())]


def test_runner_example_batches() -> None:
    board = DrawingBoard()
    assert board.apply(encode(BATCH1)) == [0]
    background, items = shapes(board.render_svg(0))
    root = ET.fromstring(board.render_svg(0))
    assert (root.attrib["width"], root.attrib["height"], root.attrib["viewBox"]) == (
        "100",
        "80",
        "0 0 100 80",
    )
    assert background.attrib["fill"] == "#ffffff"
    (circle,) = items
    assert circle.tag == f"{SVG}circle"
    assert floats(circle, "cx", "cy", "r") == [50, 40, 20]
    assert (circle.attrib["fill"], circle.attrib["stroke"], circle.attrib["stroke-width"]) == (
        "#ff0000",
        "#000000",
        "2",
    )

    assert board.apply(encode(BATCH2)) == [0]
    _, items = shapes(board.render_svg(0))
    # cumulative: the circle from batch 1 is still there; the cursor moved last, so it is on top
    assert [item.tag for item in items] == [f"{SVG}circle", f"{SVG}line", f"{SVG}polygon"]
    circle, line, cursor = items
    assert floats(line, "x1", "y1", "x2", "y2") == [50, 40, 80, 40]
    assert line.attrib["stroke"] == "#ff0000"
    assert math.isclose(float(line.attrib["stroke-opacity"]), 128 / 255, abs_tol=1e-3)
    # the turtle cursor: apex-up triangle 12x18 centred on (80, 40), turned 90 degrees about its centre
    assert polygon_points(cursor) == [(74, 49), (80, 31), (86, 49)]
    assert cursor.attrib["transform"] == "rotate(90 80 40)"
    assert (cursor.attrib["fill"], cursor.attrib["stroke"]) == ("#ffc8c8", "#ff0000")


def test_legacy_runner_sample() -> None:
    path = SAMPLES / "drawing-legacy-runner.json"
    if not path.exists():
        pytest.skip(f"{path} is missing (the shared samples live next to the checkout)")
    board = DrawingBoard()
    for item in json.loads(path.read_text()):
        assert item["type"] == "application/x-sorna-drawing"
        board.apply(item["data"])
    root = ET.fromstring(board.render_svg(0))
    assert (root.attrib["width"], root.attrib["height"]) == ("240", "160")
    _, items = shapes(board.render_svg(0))
    tags = [item.tag.removeprefix(SVG) for item in items]
    # line, circle, rect, triangle, then the 4 sides of the turtle square; the cursor (rotated last) on top
    assert tags == ["line", "circle", "rect", "polygon", "line", "line", "line", "line", "polygon"]
    line, circle, rect, triangle = items[:4]
    assert floats(line, "x1", "y1", "x2", "y2") == [10, 10, 230, 150]
    assert line.attrib["stroke"] == "#0000ff"
    assert floats(circle, "cx", "cy", "r") == [60, 80, 25]
    assert circle.attrib["fill"] == "#ff0000"
    # the rectangle is centred on (150, 40), half-transparent blue, rotated 15 degrees clockwise
    assert floats(rect, "x", "y", "width", "height") == [120, 25, 60, 30]
    assert rect.attrib["transform"] == "rotate(15 150 40)"
    assert (rect.attrib["fill"], rect.attrib["stroke"]) == ("#0000ff", "#00ff00")
    assert math.isclose(float(rect.attrib["fill-opacity"]), 128 / 255, abs_tol=1e-3)
    assert polygon_points(triangle) == [(185, 140), (200, 100), (215, 140)]
    assert triangle.attrib["fill"] == "#ffff00"
    assert "transform" not in triangle.attrib
    square = [tuple(round(v) for v in floats(side, "x1", "y1", "x2", "y2")) for side in items[4:8]]
    assert square == [(120, 80, 160, 80), (160, 80, 160, 120), (160, 120, 120, 120), (120, 120, 120, 80)]
    cursor = items[8]
    assert polygon_points(cursor) == [(114, 89), (120, 71), (126, 89)]  # back at (120, 80)
    assert cursor.attrib["transform"] == "rotate(450 120 80)"  # 90 + 4 right turns of 90


def test_z_order_follows_animated_updates_only() -> None:
    board = DrawingBoard()
    board.apply(
        [
            [0, "canvas", 50, 50, "#ffffffff", "#000000ff"],
            [0, "obj", 0, ["circle", 10, 10, 5, "#000000ff", "#ff0000ff", 0]],
            [0, "obj", 1, ["circle", 20, 20, 5, "#000000ff", "#00ff00ff", 0]],
            [0, "update", 0, "radius", 6],  # animated: circle 0 comes to the top
        ]
    )
    _, items = shapes(board.render_svg(0))
    assert [item.attrib["fill"] for item in items] == ["#00ff00", "#ff0000"]
    board.apply(
        [
            [0, "stop-anim"],
            [0, "update", 1, "x", 30],
            [0, "obj", 0, ["circle", 0, 0, 1, "#000000ff", "#0000ffff", 0]],
        ]
    )
    _, items = shapes(board.render_svg(0))
    # without animation the update does not raise circle 1; a known object id is not re-created
    assert [item.attrib["fill"] for item in items] == ["#00ff00", "#ff0000"]
    assert items[0].attrib["cx"] == "30"
    assert items[1].attrib["r"] == "6"


def test_updates_colors_and_background() -> None:
    board = DrawingBoard()
    board.apply(
        [
            [3, "canvas", 40, 30, "#000000ff", "#ffffffff"],
            [3, "obj", 0, ["line", 0, 0, 10, 10, "#ffffffff"]],
            [3, "obj", 1, ["rect", 20, 15, 10, 6, "#ffffffff", "#ffffff00", 0]],
            [3, "update", 0, "color", "#00ff00ff"],  # the JS player ignored this; we draw it
            [3, "update", 0, "x2", 20],
            [3, "update", 1, "fill", "#ff000080"],
            [3, "update", 1, "border", "#0000ffff"],
            [3, "update", 1, "rotate", 30],
            [3, "update", 1, "rotate", 15],
            [3, "update", 9, "x", 1],  # unknown object: ignored
            [3, "bgcolor", "#336699ff"],
            [3, "fgcolor", "#123456ff"],
            [3, "begin-fill", "#ffffffff"],
            [3, "end-fill"],
            [3, "sparkle", 1, 2],  # unknown command: ignored
        ]
    )
    background, (line, rect) = shapes(board.render_svg(3))
    assert background.attrib["fill"] == "#336699"
    assert line.attrib["stroke"] == "#00ff00"
    assert line.attrib["x2"] == "20"
    assert rect.attrib["fill"] == "#ff0000"
    assert rect.attrib["stroke"] == "#0000ff"
    assert rect.attrib["transform"] == "rotate(45 20 15)"


def test_canvas_command_resets_the_canvas() -> None:
    board = DrawingBoard()
    board.apply(BATCH1)
    board.apply(BATCH2)
    assert board.generation(0) == 1
    board.apply([[0, "canvas", 10, 10, "#ffffff00", "#000000ff"]])
    background, items = shapes(board.render_svg(0))
    assert items == []
    assert background.attrib["fill"] == "none"
    assert board.generation(0) == 2
    board.reset()
    assert board.canvas_ids == []


def test_batch_without_canvas_header_is_fitted() -> None:
    board = DrawingBoard()
    board.apply(BATCH2)
    root = ET.fromstring(board.render_svg(0))
    assert float(root.attrib["width"]) >= 86
    assert float(root.attrib["height"]) >= 49


def test_legacy_json_forms() -> None:
    with_ids = json.dumps(BATCH1)
    without_ids = json.dumps([cmd[1:] for cmd in BATCH1])
    for payload in (with_ids, base64.b64encode(with_ids.encode()).decode(), without_ids, with_ids.encode()):
        assert decode_drawing(payload) == BATCH1
    board = DrawingBoard()
    assert board.apply(without_ids) == [0]
    _, (circle,) = shapes(board.render_svg(0))
    assert circle.attrib["cx"] == "50"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("not base64 !!", "neither base64 nor JSON"),
        (base64.b64encode(b"\xc1").decode(), "invalid msgpack"),
        ("[1, 2", "invalid raw JSON"),
        (encode({"a": 1}), "expected a list of commands, got dict"),
        (encode([5]), "is not a non-empty list"),
        (encode([[0.5, "canvas"]]), "should start with \\[canvas_id, op\\]"),
        (encode([[0, "canvas", 10]]), "expected 6 elements"),
        (encode([[0, "canvas", -1, 10, "#ffffffff", "#000000ff"]]), "size must be positive"),
        (encode([[0, "obj", 0, ["circle", 1, 2, 3, "#000000ff", "red", 0]]]), "'red' is not a '#rrggbbaa'"),
        (encode([[0, "obj", 0, ["line", 1, 2, 3]]]), "a line takes 5 values"),
        (encode([[0, "update", 0, "x", "left"]]), "'left' is not a finite number"),
    ],
)
def test_malformed_payloads_raise_clear_errors(payload: str, message: str) -> None:
    board = DrawingBoard()
    board.apply(BATCH1)
    before = board.render_svg(0)
    with pytest.raises(ValueError, match=message):
        board.apply(payload)
    assert board.render_svg(0) == before  # a bad batch changes nothing


def test_unknown_canvas() -> None:
    with pytest.raises(KeyError, match="canvas 7 has not been drawn"):
        DrawingBoard().render_svg(7)
