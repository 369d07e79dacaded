"""Backend.AI's simplified drawing API (Canvas, Turtle, Color) emitting ``application/x-sorna-drawing``.

This module runs inside user sessions, so it imports only the standard library and msgpack. It reproduces the
command stream of Backend.AI's ``ai.backend.kernel.python.drawing`` (docs/runner.md §2.2): every command is
``[canvas_id, op, ...]``, a batch is ``base64(msgpack(commands, use_bin_type=True))``, and ``Canvas.update()``
sends the commands recorded since the previous update.

Emission: inside IPython (a local Backend.AI session is an ipykernel) ``update()`` publishes a display with
``{"application/x-sorna-drawing": <base64>, "text/plain": "<Canvas N>"}`` and returns ``None``; the session
runtime turns that display into the console item ``["media", ["application/x-sorna-drawing", <base64>]]``.
Outside IPython nothing is written and ``update()`` returns the base64 payload, so plain scripts and tests can
pass it on themselves.

Example::

    from backendai_jupyter.drawing import Canvas, Colors
    c = Canvas(100, 80)
    c.circle(50, 40, 20, fill=Colors.Red)
    t = c.create_turtle()
    t.forward(30)
    c.update()
"""

from __future__ import annotations

import base64
import enum
import itertools
import math
import struct
import sys
from collections.abc import Sequence
from typing import Any, SupportsIndex

import msgpack

__all__ = [
    "MIME_TYPE",
    "Canvas",
    "Color",
    "Colors",
    "DrawingObject",
    "Turtle",
    "Vec2D",
    "decode_commands",
    "encode_commands",
]

MIME_TYPE = "application/x-sorna-drawing"

Number = int | float
Command = tuple[Any, ...]

_RGBA = struct.Struct("BBBB")
# one counter per process, as in Backend.AI: canvas ids are what the renderer keys its state on
_canvas_ids = itertools.count()


class Color:
    """An RGBA colour with 8-bit channels, written on the wire as ``#rrggbbaa``."""

    def __init__(self, red: int, green: int, blue: int, alpha: int = 255) -> None:
        for name, value in (("red", red), ("green", green), ("blue", blue), ("alpha", alpha)):
            if not isinstance(value, int) or not 0 <= value <= 255:
                raise ValueError(f"Color {name}={value!r} is invalid: use an integer from 0 to 255")
        self.red = red
        self.green = green
        self.blue = blue
        self.alpha = alpha

    @staticmethod
    def from_hex(value: str) -> Color:
        """Parse ``#rrggbbaa`` (or ``#rrggbb``, alpha 255)."""
        digits = value.removeprefix("#")
        if len(digits) not in (6, 8):
            raise ValueError(f"colour {value!r} is invalid: use '#rrggbb' or '#rrggbbaa' hex digits")
        try:
            channels = [int(digits[i : i + 2], 16) for i in range(0, len(digits), 2)]
        except ValueError:
            raise ValueError(
                f"colour {value!r} is invalid: use '#rrggbb' or '#rrggbbaa' hex digits"
            ) from None
        return Color(*channels)

    @staticmethod
    def from_rgba(value: Sequence[int]) -> Color:
        """Build a colour from ``[r, g, b]`` or ``[r, g, b, a]``."""
        if len(value) not in (3, 4):
            raise ValueError(f"colour {value!r} is invalid: give 3 or 4 channel values (r, g, b[, a])")
        return Color(*value)

    @staticmethod
    def from_bytes(value: bytes) -> Color:
        """Build a colour from 4 bytes ``r g b a``."""
        if len(value) != _RGBA.size:
            raise ValueError(f"colour bytes {value!r} are invalid: give exactly 4 bytes (r, g, b, a)")
        return Color(*_RGBA.unpack(value))

    def to_hex(self, include_alpha: bool = True) -> str:
        """``#rrggbbaa`` (or ``#rrggbb`` without alpha)."""
        rgb = f"#{self.red:02x}{self.green:02x}{self.blue:02x}"
        return rgb + f"{self.alpha:02x}" if include_alpha else rgb

    def to_bytes(self) -> bytes:
        """The 4 bytes ``r g b a``."""
        return _RGBA.pack(self.red, self.green, self.blue, self.alpha)

    def to_rgba(self) -> str:
        """CSS-like ``rgba(r,g,b,a)`` with the 8-bit alpha."""
        return f"rgba({self.red},{self.green},{self.blue},{self.alpha})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Color):
            return NotImplemented
        return self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.to_bytes())

    def __repr__(self) -> str:
        return f"Color({self.red}, {self.green}, {self.blue}, {self.alpha})"


class Colors(Color, enum.Enum):
    """The named colours of Backend.AI's drawing module."""

    Transparent = (255, 255, 255, 0)
    Black = (0, 0, 0, 255)
    Gray = (128, 128, 128, 255)
    White = (255, 255, 255, 255)
    Red = (255, 0, 0, 255)
    Green = (0, 255, 0, 255)
    Blue = (0, 0, 255, 255)
    Yellow = (255, 255, 0, 255)
    Magenta = (255, 0, 255, 255)
    Cyan = (0, 255, 255, 255)

    def __repr__(self) -> str:
        return f"Colors.{self.name}"


def encode_commands(commands: Sequence[Command]) -> str:
    """``base64(msgpack(commands))``, the ``application/x-sorna-drawing`` payload."""
    packed: bytes = msgpack.packb(list(commands), use_bin_type=True)
    return base64.b64encode(packed).decode("ascii")


def decode_commands(data: str | bytes) -> list[list[Any]]:
    """Inverse of :func:`encode_commands`."""
    commands: list[list[Any]] = msgpack.unpackb(base64.b64decode(data), raw=False)
    return commands


class DrawingObject:
    """A shape on a canvas; its setters record ``update`` commands."""

    def __init__(self, canvas: Canvas, id_: int, args: Sequence[Any]) -> None:
        self._canvas = canvas
        self._id = id_
        self._type: str = args[0]

    @property
    def id(self) -> int:
        """The object id within its canvas."""
        return self._id

    @property
    def kind(self) -> str:
        """``line``, ``circle``, ``rect`` or ``triangle``."""
        return self._type

    def _update(self, prop: str, value: Any, *, kinds: Sequence[str] | None = None) -> None:
        # like Backend.AI, a setter that does not apply to this shape records nothing
        if kinds is None or self._type in kinds:
            self._canvas._record("update", self._id, prop, value)

    def set_x(self, x: Number) -> None:
        """Move the centre horizontally (rect, circle, triangle)."""
        self._update("x", x, kinds=("rect", "circle", "triangle"))

    def set_y(self, y: Number) -> None:
        """Move the centre vertically (rect, circle, triangle)."""
        self._update("y", y, kinds=("rect", "circle", "triangle"))

    def set_x1(self, x: Number) -> None:
        """Move a line's start point horizontally."""
        self._update("x1", x, kinds=("line",))

    def set_y1(self, y: Number) -> None:
        """Move a line's start point vertically."""
        self._update("y1", y, kinds=("line",))

    def set_x2(self, x: Number) -> None:
        """Move a line's end point horizontally."""
        self._update("x2", x, kinds=("line",))

    def set_y2(self, y: Number) -> None:
        """Move a line's end point vertically."""
        self._update("y2", y, kinds=("line",))

    def set_radius(self, r: Number) -> None:
        """Change a circle's radius."""
        self._update("radius", r, kinds=("circle",))

    def rotate(self, a: Number) -> None:
        """Rotate by ``a`` degrees (clockwise), relative to the current angle."""
        self._update("rotate", a)

    def set_angle(self, a: Number) -> None:
        """Set the absolute rotation in degrees."""
        self._update("angle", a)

    def stroke(self, color: Color) -> None:
        """Set the line colour (lines) or the border colour (other shapes)."""
        prop = "color" if self._type == "line" else "border"
        self._update(prop, color.to_hex(), kinds=("line", "circle", "rect", "triangle"))

    def fill(self, color: Color) -> None:
        """Set the fill colour (circle, rect, triangle)."""
        self._update("fill", color.to_hex(), kinds=("circle", "rect", "triangle"))

    def __repr__(self) -> str:
        return f"<DrawingObject {self._type} {self._id} on Canvas {self._canvas.id}>"


class Canvas:
    """A drawing surface; commands are recorded until :meth:`update` sends them."""

    def __init__(
        self, width: Number, height: Number, bgcolor: Color = Colors.White, fgcolor: Color = Colors.Black
    ) -> None:
        self._id = next(_canvas_ids)
        self._cmd_history: list[Command] = []
        self._next_objid = 0
        self.width = width
        self.height = height
        self.bgcolor = bgcolor
        self.fgcolor = fgcolor
        self._record("canvas", width, height, bgcolor.to_hex(), fgcolor.to_hex())

    @property
    def id(self) -> int:
        """The canvas id (a per-process counter starting at 0)."""
        return self._id

    @property
    def pending_commands(self) -> list[Command]:
        """The commands recorded since the last :meth:`update` (a copy)."""
        return list(self._cmd_history)

    def _record(self, op: str, *args: Any) -> None:
        self._cmd_history.append((self._id, op, *args))

    def update(self) -> str | None:
        """Send the pending commands and clear them; returns the payload when not running under IPython."""
        payload = encode_commands(self._cmd_history)
        self._cmd_history = []
        if _publish(payload, text=f"<Canvas {self._id}>"):
            return None
        return payload

    def show(self) -> str | None:
        """Alias of :meth:`update`."""
        return self.update()

    def create_turtle(self) -> Turtle:
        """A turtle starting at the canvas centre, heading east."""
        return Turtle(self)

    def stop_animation(self) -> None:
        """Ask the renderer to stop animating later commands."""
        self._record("stop-anim")

    def resume_animation(self) -> None:
        """Ask the renderer to animate later commands again."""
        self._record("resume-anim")

    def begin_group(self) -> None:
        """Start a group whose animations play together."""
        self._record("begin-group")

    def end_group(self) -> None:
        """End a group started by :meth:`begin_group`."""
        self._record("end-group")

    def begin_fill(self, c: Color) -> None:
        """Record ``begin-fill`` (renderers ignore it, as Backend.AI's did)."""
        self._record("begin-fill", c.to_hex())

    def end_fill(self) -> None:
        """Record ``end-fill``."""
        self._record("end-fill")

    def background_color(self, c: Color) -> None:
        """Change the background colour."""
        self.bgcolor = c
        self._record("bgcolor", c.to_hex())

    def stroke_color(self, c: Color) -> None:
        """Change the default colour of later lines and borders."""
        self.fgcolor = c
        self._record("fgcolor", c.to_hex())

    def _add(self, args: tuple[Any, ...]) -> DrawingObject:
        oid = self._next_objid
        self._next_objid += 1
        self._record("obj", oid, args)
        return DrawingObject(self, oid, args)

    def line(
        self, x0: Number, y0: Number, x1: Number, y1: Number, color: Color | None = None
    ) -> DrawingObject:
        """A line from ``(x0, y0)`` to ``(x1, y1)``; colour defaults to the canvas foreground."""
        return self._add(("line", x0, y0, x1, y1, (self.fgcolor if color is None else color).to_hex()))

    def circle(
        self,
        x: Number,
        y: Number,
        radius: Number,
        border: Color | None = None,
        fill: Color | None = None,
        angle: Number = 0,
    ) -> DrawingObject:
        """A circle centred at ``(x, y)``; border defaults to the foreground, fill to transparent."""
        return self._add(("circle", x, y, radius, *self._paint(border, fill), angle))

    def rectangle(
        self,
        left: Number,
        top: Number,
        width: Number,
        height: Number,
        border: Color | None = None,
        fill: Color | None = None,
        angle: Number = 0,
    ) -> DrawingObject:
        """A rectangle; renderers centre it at ``(left, top)`` as Backend.AI's did."""
        return self._add(("rect", left, top, width, height, *self._paint(border, fill), angle))

    def triangle(
        self,
        left: Number,
        top: Number,
        width: Number,
        height: Number,
        border: Color | None = None,
        fill: Color | None = None,
        angle: Number = 0,
    ) -> DrawingObject:
        """An isosceles, apex-up triangle centred at ``(left, top)``."""
        return self._add(("triangle", left, top, width, height, *self._paint(border, fill), angle))

    def _paint(self, border: Color | None, fill: Color | None) -> tuple[str, str]:
        border = self.fgcolor if border is None else border
        fill = Colors.Transparent if fill is None else fill
        return border.to_hex(), fill.to_hex()

    def __repr__(self) -> str:
        return f"<Canvas {self._id} {self.width}x{self.height}>"


class Vec2D(tuple[float, float]):
    """A 2-D vector (as in the standard library's turtle module)."""

    def __new__(cls, x: float, y: float) -> Vec2D:
        return tuple.__new__(cls, (x, y))

    def __add__(self, other: tuple[Any, ...]) -> Vec2D:
        return Vec2D(self[0] + other[0], self[1] + other[1])

    def __mul__(self, other: Any) -> Any:
        if isinstance(other, Vec2D):
            return self[0] * other[0] + self[1] * other[1]
        return Vec2D(self[0] * other, self[1] * other)

    def __rmul__(self, other: SupportsIndex | float) -> Vec2D:
        if isinstance(other, int | float):
            return Vec2D(self[0] * other, self[1] * other)
        return NotImplemented

    def __sub__(self, other: tuple[float, float]) -> Vec2D:
        return Vec2D(self[0] - other[0], self[1] - other[1])

    def __neg__(self) -> Vec2D:
        return Vec2D(-self[0], -self[1])

    def __abs__(self) -> float:
        return float((self[0] ** 2 + self[1] ** 2) ** 0.5)

    def rotate(self, angle: float) -> Vec2D:
        """This vector rotated counter-clockwise by ``angle`` degrees."""
        rad = math.radians(angle)
        c, s = math.cos(rad), math.sin(rad)
        return Vec2D(self[0] * c - self[1] * s, self[1] * c + self[0] * s)

    def __getnewargs__(self) -> tuple[float, float]:
        return (self[0], self[1])

    def __repr__(self) -> str:
        return f"({self[0]:.2f},{self[1]:.2f})"


_TURTLE_LINE = Color(255, 0, 0, 128)
_TURTLE_FILL = Color(255, 200, 200, 255)


class Turtle:
    """A turtle on a canvas: starts at the centre heading east (``angle=90``); y grows downward."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.pen = True
        w, h = canvas.width, canvas.height
        self.cursor = canvas.triangle(w / 2, h / 2, 12, 18, border=Colors.Red, fill=_TURTLE_FILL, angle=90)
        self.angle: Number = 90
        self.points: list[tuple[float, float]] = [(w / 2, h / 2)]

    def forward(self, amt: Number) -> None:
        """Move ``amt`` along the heading, drawing a line if the pen is down."""
        x, y = self.points[-1]
        # heading 0 points up (north), 90 east: y grows downward on the canvas
        dx = math.sin(math.radians(self.angle)) * amt
        dy = -1 * math.cos(math.radians(self.angle)) * amt
        self._move_to(x + dx, y + dy)

    def left(self, deg: Number) -> None:
        """Turn counter-clockwise by ``deg`` degrees."""
        self.cursor.rotate(-deg)
        self.angle -= deg

    def right(self, deg: Number) -> None:
        """Turn clockwise by ``deg`` degrees."""
        self.cursor.rotate(deg)
        self.angle += deg

    def pos(self) -> Vec2D:
        """The position relative to the start point."""
        (bx, by), (x, y) = self.points[0], self.points[-1]
        return Vec2D(x - bx, y - by)

    def penup(self) -> None:
        """Move without drawing from now on."""
        self.pen = False

    def pendown(self) -> None:
        """Draw when moving from now on."""
        self.pen = True

    def setpos(self, x: Number | Sequence[Number], y: Number | None = None) -> None:
        """Move to ``(x, y)`` (or ``x`` as a pair) relative to the start point."""
        if y is None:
            if isinstance(x, int | float):
                raise ValueError(f"setpos({x!r}) is missing y: give setpos(x, y) or setpos((x, y))")
            px, py = x[0], x[1]
        elif isinstance(x, int | float):
            px, py = x, y
        else:
            raise ValueError(f"setpos x={x!r} is invalid with y given: give two numbers")
        bx, by = self.points[0]
        self._move_to(px + bx, py + by)

    def _move_to(self, x: float, y: float) -> None:
        x0, y0 = self.points[-1]
        self.canvas.begin_group()
        if self.pen:
            self.canvas.line(x0, y0, x, y, color=_TURTLE_LINE)
        self.cursor.set_x(x)
        self.cursor.set_y(y)
        self.canvas.end_group()
        self.points.append((x, y))

    def __repr__(self) -> str:
        return f"<Turtle at {self.pos()!r} heading {self.angle} on Canvas {self.canvas.id}>"


def _publish(payload: str, *, text: str) -> bool:
    """Publish a display when an IPython shell is running; True when published."""
    # never import IPython here: it is only used when the user's process already runs it
    ipython = sys.modules.get("IPython")
    if ipython is None or ipython.get_ipython() is None:
        return False
    from IPython.display import publish_display_data

    publish_display_data({MIME_TYPE: payload, "text/plain": text})  # type: ignore[no-untyped-call]
    return True
