"""The ``language_info`` a kernel reports, by the image its session runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["language_info_for"]

_PYTHON_INFO: Mapping[str, Any] = {
    "name": "python",
    "mimetype": "text/x-python",
    "file_extension": ".py",
    "codemirror_mode": {"name": "ipython", "version": 3},
    "pygments_lexer": "ipython3",
    "nbconvert_exporter": "python",
}
_R_INFO: Mapping[str, Any] = {
    "name": "R",
    "mimetype": "text/x-r-source",
    "file_extension": ".r",
    "pygments_lexer": "r",
}
#: Non-Python runtimes Backend.AI offers (image base name -> language_info); anything else is Python.
_OTHER_LANGUAGES: Mapping[str, Mapping[str, Any]] = {
    "r": _R_INFO,
    "r-base": _R_INFO,
    "julia": {
        "name": "julia",
        "mimetype": "application/julia",
        "file_extension": ".jl",
        "pygments_lexer": "julia",
    },
    "nodejs": {
        "name": "javascript",
        "mimetype": "application/javascript",
        "file_extension": ".js",
        "pygments_lexer": "javascript",
    },
    "lua": {"name": "lua", "mimetype": "text/x-lua", "file_extension": ".lua", "pygments_lexer": "lua"},
    "php": {"name": "php", "mimetype": "text/x-php", "file_extension": ".php", "pygments_lexer": "php"},
}


def language_info_for(image: str) -> dict[str, Any]:
    """``language_info`` for an image reference such as ``cr.backend.ai/stable/python:3.9-ubuntu20.04``."""
    base = image.rsplit("/", 1)[-1].split(":", 1)[0].lower()
    info = _OTHER_LANGUAGES.get(base, _PYTHON_INFO)
    return {key: dict(value) if isinstance(value, Mapping) else value for key, value in info.items()}
