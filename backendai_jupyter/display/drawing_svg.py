"""Decode ``application/x-sorna-drawing`` batches, keep each canvas's state and render it to SVG.

The format and the replay rules are those of Backend.AI's JavaScript player (docs/runner.md §2.2): a batch is
``base64(msgpack([[canvas_id, op, ...], ...]))`` (very old runners sent JSON, with or without the canvas id);
``canvas`` resets a canvas, ``obj`` adds a shape once per object id, ``update`` changes one property.
Shapes are centred on their ``x, y``; ``angle`` rotates clockwise about the centre; colours are ``#rrggbbaa``.
The final z-order is creation order, except that a shape touched by an animated update moves to the top (the
player brought every animated object to the front when its animation ended). Unlike the original player,
``bgcolor`` and a line's ``color`` update are applied, as docs/runner.md §2.3 suggests. The SVG shows the end
state, not the animation.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import msgpack

__all__ = ["DrawingBoard", "decode_drawing"]

_STROKE_WIDTH = 2  # the JS player drew every outline 2 px wide
_SHAPE_ARITY = {"line": 5, "circle": 6, "rect": 7, "triangle": 7}
_COLOR_SLOTS = {"line": {4}, "circle": {3, 4}, "rect": {4, 5}, "triangle": {4, 5}}
_KNOWN_PROPS = {"x", "y", "x1", "y1", "x2", "y2", "radius", "rotate", "angle", "color", "border", "fill"}
_COLOR_PROPS = {"color", "border", "fill"}

RGBA = tuple[int, int, int, int]


def decode_drawing(data: str | bytes | list[Any]) -> list[list[Any]]:
    """Decode one batch to its command list; raise ValueError when the payload is malformed."""
    commands = data if isinstance(data, list) else _decode_payload(data)
    if not isinstance(commands, list):
        raise ValueError(
            f"malformed sorna-drawing payload: expected a list of commands, got {type(commands).__name__}"
        )
    result: list[list[Any]] = []
    for index, cmd in enumerate(commands):
        if not isinstance(cmd, list | tuple) or not cmd:
            raise ValueError(f"malformed sorna-drawing command #{index}: {cmd!r} is not a non-empty list")
        if isinstance(cmd[0], str):
            cmd = [0, *cmd]  # the JSON format before 2016-07 had no canvas id: there was only one canvas
        if (
            not isinstance(cmd[0], int)
            or isinstance(cmd[0], bool)
            or len(cmd) < 2
            or not isinstance(cmd[1], str)
        ):
            raise ValueError(
                f"malformed sorna-drawing command #{index}: {cmd!r} should start with [canvas_id, op]"
            )
        result.append(list(cmd))
    return result


def _decode_payload(data: str | bytes) -> Any:
    raw = data.strip().encode("utf-8") if isinstance(data, str) else data.strip()
    if raw.startswith(b"["):
        return _json(raw, "raw JSON")
    try:
        decoded = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            "malformed sorna-drawing payload: it is neither base64 nor JSON"
            " (expected base64(msgpack(commands)))"
        ) from None
    if decoded.lstrip().startswith(b"["):
        return _json(decoded, "base64 JSON")
    try:
        return msgpack.unpackb(decoded, raw=False)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise ValueError(f"malformed sorna-drawing payload: invalid msgpack ({exc})") from None


def _json(raw: str | bytes, what: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"malformed sorna-drawing payload: invalid {what} ({exc})") from None


@dataclass
class _Shape:
    kind: str
    props: dict[str, Any]
    z: int


@dataclass
class _Canvas:
    width: float | None = None
    height: float | None = None
    bg: RGBA = (255, 255, 255, 255)
    fg: RGBA = (0, 0, 0, 255)
    shapes: dict[int, _Shape] = field(default_factory=dict)
    animate: bool = True
    next_z: int = 0
    generation: int = 0


class DrawingBoard:
    """The drawing state of one remote session: canvases by id, updated batch by batch."""

    def __init__(self) -> None:
        self._canvases: dict[int, _Canvas] = {}

    def reset(self) -> None:
        """Forget every canvas (e.g. after the remote session restarted and its ids start again at 0)."""
        self._canvases.clear()

    @property
    def canvas_ids(self) -> list[int]:
        """Ids of the canvases seen so far."""
        return list(self._canvases)

    def generation(self, cid: int) -> int:
        """How many times canvas ``cid`` was (re)created by a ``canvas`` command (0 if never)."""
        canvas = self._canvases.get(cid)
        return canvas.generation if canvas else 0

    def apply(self, data: str | bytes | list[Any]) -> list[int]:
        """Apply one batch; return the ids of the canvases it touched, in order of first mention."""
        commands = decode_drawing(data)
        checked = [self._check(index, cmd) for index, cmd in enumerate(commands)]
        touched: list[int] = []
        for cmd in checked:
            if cmd is None:
                continue
            cid = cmd[0]
            if cid not in touched:
                touched.append(cid)
            self._apply_one(self._canvases.setdefault(cid, _Canvas()), cmd)
        return touched

    def render_svg(self, cid: int) -> str:
        """The current state of canvas ``cid`` as a standalone SVG document."""
        canvas = self._canvases.get(cid)
        if canvas is None:
            known = ", ".join(map(str, self._canvases)) or "none"
            raise KeyError(f"canvas {cid} has not been drawn in this session (known canvases: {known})")
        width, height = _size(canvas)
        w, h = _num(width), _num(height)
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}">',
            f"<title>{escape(f'Canvas {cid}')}</title>",
            f'<rect x="0" y="0" width="{w}" height="{h}"{_paint("fill", canvas.bg)}/>',
        ]
        for shape in sorted(canvas.shapes.values(), key=lambda s: s.z):
            parts.append(_render_shape(shape))
        parts.append("</svg>")
        return "\n".join(parts)

    # -- applying commands -------------------------------------------------------------------------------

    def _check(self, index: int, cmd: list[Any]) -> list[Any] | None:
        """Validate a known command (raise ValueError); None for unknown ones, which are ignored."""
        op = cmd[1]
        try:
            if op == "canvas":
                _expect(cmd, 6)
                if _number(cmd[2]) <= 0 or _number(cmd[3]) <= 0:
                    raise ValueError("the canvas size must be positive")
                _color(cmd[4])
                _color(cmd[5])
            elif op == "obj":
                _expect(cmd, 4)
                if not isinstance(cmd[2], int) or not isinstance(cmd[3], list | tuple) or not cmd[3]:
                    raise ValueError("expected [cid, 'obj', oid, [kind, ...]]")
                kind, *args = cmd[3]
                if kind not in _SHAPE_ARITY:
                    return None  # an unknown shape: the JS player ignored it too
                if len(args) != _SHAPE_ARITY[kind]:
                    raise ValueError(f"a {kind} takes {_SHAPE_ARITY[kind]} values, got {len(args)}")
                color_slots = _COLOR_SLOTS[kind]
                for slot, value in enumerate(args):
                    _color(value) if slot in color_slots else _number(value)
            elif op == "update":
                _expect(cmd, 5)
                if cmd[3] not in _KNOWN_PROPS:
                    return None
                _color(cmd[4]) if cmd[3] in _COLOR_PROPS else _number(cmd[4])
            elif op in ("bgcolor", "fgcolor", "begin-fill"):
                _expect(cmd, 3)
                _color(cmd[2])
            elif op not in ("stop-anim", "resume-anim", "begin-group", "end-group", "end-fill"):
                return None
        except ValueError as exc:
            raise ValueError(f"malformed sorna-drawing command #{index} {cmd!r}: {exc}") from None
        return cmd

    def _apply_one(self, canvas: _Canvas, cmd: list[Any]) -> None:
        op = cmd[1]
        if op == "canvas":
            canvas.width, canvas.height = float(cmd[2]), float(cmd[3])
            canvas.bg, canvas.fg = _color(cmd[4]), _color(cmd[5])
            canvas.shapes.clear()
            canvas.next_z = 0
            canvas.generation += 1
        elif op == "bgcolor":
            canvas.bg = _color(cmd[2])
        elif op == "fgcolor":
            canvas.fg = _color(cmd[2])
        elif op == "stop-anim":
            canvas.animate = False
        elif op == "resume-anim":
            canvas.animate = True
        elif op == "obj" and cmd[2] not in canvas.shapes:  # an already-known object id is ignored
            canvas.shapes[cmd[2]] = _Shape(cmd[3][0], _shape_props(cmd[3]), canvas.next_z)
            canvas.next_z += 1
        elif op == "update" and cmd[2] in canvas.shapes:  # an unknown object id is ignored
            shape = canvas.shapes[cmd[2]]
            _update(shape, cmd[3], cmd[4])
            if canvas.animate:
                shape.z = canvas.next_z
                canvas.next_z += 1


def _expect(cmd: list[Any], length: int) -> None:
    if len(cmd) != length:
        raise ValueError(f"expected {length} elements, got {len(cmd)}")


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    return float(value)


def _color(value: Any) -> RGBA:
    if not isinstance(value, str):
        raise ValueError(f"colour {value!r} is not a '#rrggbbaa' string")
    digits = value.removeprefix("#")
    if len(digits) == 6:
        digits += "ff"
    try:
        if len(digits) != 8:
            raise ValueError
        r, g, b, a = (int(digits[i : i + 2], 16) for i in range(0, 8, 2))
    except ValueError:
        raise ValueError(f"colour {value!r} is not a '#rrggbbaa' string") from None
    return r, g, b, a


def _shape_props(args: list[Any]) -> dict[str, Any]:
    kind = args[0]
    if kind == "line":
        _, x1, y1, x2, y2, color = args
        return {"x1": x1, "y1": y1, "x2": x2, "y2": y2, "stroke": _color(color)}
    if kind == "circle":
        _, x, y, radius, border, fill, angle = args
        return {
            "x": x,
            "y": y,
            "radius": radius,
            "stroke": _color(border),
            "fill": _color(fill),
            "angle": angle,
        }
    _, x, y, width, height, border, fill, angle = args
    return {
        "x": x, "y": y, "width": width, "height": height,
        "stroke": _color(border), "fill": _color(fill), "angle": angle,
    }  # fmt: skip


def _update(shape: _Shape, prop: str, value: Any) -> None:
    props = shape.props
    if prop in ("x", "y"):
        if shape.kind == "line":
            # fabric moves a line by its centre: shift both end points
            a, b = f"{prop}1", f"{prop}2"
            delta = value - (props[a] + props[b]) / 2
            props[a] += delta
            props[b] += delta
        else:
            props[prop] = value
    elif prop in ("x1", "y1", "x2", "y2"):
        if shape.kind == "line":
            props[prop] = value
    elif prop == "radius":
        if shape.kind == "circle":
            props["radius"] = value
    elif prop == "rotate":
        props["angle"] = props.get("angle", 0) + value
    elif prop == "angle":
        props["angle"] = value
    elif prop == "border" or (prop == "color" and shape.kind == "line"):
        # the JS player set fabric's no-op 'color' on lines; drawing it is what users meant
        props["stroke"] = _color(value)
    elif prop == "fill" and shape.kind != "line":
        props["fill"] = _color(value)


def _size(canvas: _Canvas) -> tuple[float, float]:
    if canvas.width is not None and canvas.height is not None:
        return canvas.width, canvas.height
    # objects arrived without their 'canvas' command (an earlier batch was missed): fit them
    right, bottom = 1.0, 1.0
    for shape in canvas.shapes.values():
        p = shape.props
        if shape.kind == "line":
            right, bottom = max(right, p["x1"], p["x2"]), max(bottom, p["y1"], p["y2"])
        else:
            reach = p["radius"] if shape.kind == "circle" else math.hypot(p["width"], p["height"]) / 2
            right, bottom = max(right, p["x"] + reach), max(bottom, p["y"] + reach)
    return math.ceil(right + _STROKE_WIDTH), math.ceil(bottom + _STROKE_WIDTH)


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _paint(attr: str, rgba: RGBA) -> str:
    r, g, b, a = rgba
    if a == 0:
        return f' {attr}="none"'
    text = f' {attr}="#{r:02x}{g:02x}{b:02x}"'
    return text if a == 255 else text + f' {attr}-opacity="{_num(a / 255)}"'


def _render_shape(shape: _Shape) -> str:
    p = shape.props
    stroke = _paint("stroke", p["stroke"]) + f' stroke-width="{_STROKE_WIDTH}"'
    if shape.kind == "line":
        coords = " ".join(f'{k}="{_num(p[k])}"' for k in ("x1", "y1", "x2", "y2"))
        return f"<line {coords}{stroke}/>"
    x, y, angle = p["x"], p["y"], p["angle"]
    fill = _paint("fill", p["fill"])
    rotate = f" transform={quoteattr(f'rotate({_num(angle)} {_num(x)} {_num(y)})')}" if angle % 360 else ""
    if shape.kind == "circle":
        return f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(abs(p["radius"]))}"{fill}{stroke}{rotate}/>'
    w, h = p["width"], p["height"]
    if shape.kind == "rect":
        box = f'x="{_num(x - w / 2)}" y="{_num(y - h / 2)}" width="{_num(abs(w))}" height="{_num(abs(h))}"'
        return f"<rect {box}{fill}{stroke}{rotate}/>"
    # fabric's Triangle: isosceles, apex up, centred on (x, y)
    points = [(x - w / 2, y + h / 2), (x, y - h / 2), (x + w / 2, y + h / 2)]
    text = " ".join(f"{_num(px)},{_num(py)}" for px, py in points)
    return f'<polygon points="{text}"{fill}{stroke}{rotate}/>'
