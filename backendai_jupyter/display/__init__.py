"""Pure display layer: console items -> Jupyter messages; tracebacks -> errors; data URIs; drawings -> SVG."""

from .console import ConsoleRenderer, ExecutionRenderer
from .datauri import DataURI, is_data_uri, parse_data_uri, to_bare_base64
from .drawing_svg import DrawingBoard, decode_drawing
from .media import DRAWING_MIME, GITGRAPH_MIME, gitgraph_bundle, looks_like_html, media_bundle
from .messages import IopubMessage, display_message, stream_message
from .status import StatusLine, format_elapsed, status_text
from .traceback import (
    RemoteError,
    TracebackMatch,
    find_traceback,
    is_traceback,
    make_error,
    parse_traceback,
    strip_ansi,
)

__all__ = [
    "DRAWING_MIME",
    "GITGRAPH_MIME",
    "ConsoleRenderer",
    "DataURI",
    "DrawingBoard",
    "ExecutionRenderer",
    "IopubMessage",
    "RemoteError",
    "StatusLine",
    "TracebackMatch",
    "decode_drawing",
    "display_message",
    "find_traceback",
    "format_elapsed",
    "gitgraph_bundle",
    "is_data_uri",
    "is_traceback",
    "looks_like_html",
    "make_error",
    "media_bundle",
    "parse_data_uri",
    "parse_traceback",
    "status_text",
    "stream_message",
    "strip_ansi",
    "to_bare_base64",
]
