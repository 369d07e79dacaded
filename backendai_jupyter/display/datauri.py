"""Split ``data:`` URIs (RFC 2397) into a mime type and a payload Jupyter can use."""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from dataclasses import dataclass

__all__ = ["DataURI", "is_data_uri", "parse_data_uri", "to_bare_base64"]

_DATA_URI = re.compile(r"^\s*data:(?P<meta>[^,]*),(?P<data>.*)$", re.DOTALL | re.IGNORECASE)
_BASE64_ALPHABET = re.compile(r"^[A-Za-z0-9+/=_-]*$")


@dataclass(frozen=True)
class DataURI:
    """A parsed data URI: ``data`` is bare base64 when ``is_base64``, otherwise the decoded text."""

    mime: str
    data: str
    is_base64: bool
    params: tuple[tuple[str, str], ...] = ()

    def text(self, *, encoding: str | None = None) -> str:
        """The payload as text (base64 payloads are decoded with the URI's charset, default UTF-8)."""
        if not self.is_base64:
            return self.data
        charset = encoding or dict(self.params).get("charset", "utf-8")
        return base64.b64decode(self.data).decode(charset, errors="replace")

    def base64(self) -> str:
        """The payload as bare base64 (non-base64 payloads are encoded as UTF-8 first)."""
        if self.is_base64:
            return self.data
        return base64.b64encode(self.data.encode("utf-8")).decode("ascii")


def is_data_uri(value: object) -> bool:
    """Whether ``value`` is a string starting with ``data:`` and holding a comma."""
    return isinstance(value, str) and value.lstrip()[:5].lower() == "data:" and "," in value


def parse_data_uri(value: str) -> DataURI:
    """Parse ``data:[<mime>][;param=v]*[;base64],<data>``; raise ValueError when it is not a data URI."""
    match = _DATA_URI.match(value)
    if match is None:
        shown = value[:40] + ("..." if len(value) > 40 else "")
        raise ValueError(f"{shown!r} is not a data URI: expected 'data:<mime>[;base64],<data>'")
    parts = [p.strip() for p in match["meta"].split(";")]
    mime = parts[0].lower() or "text/plain"
    is_b64 = len(parts) > 1 and parts[-1].lower() == "base64"
    params: list[tuple[str, str]] = []
    for part in parts[1 : len(parts) - 1 if is_b64 else len(parts)]:
        key, _, val = part.partition("=")
        params.append((key.strip().lower(), urllib.parse.unquote(val.strip())))
    if not is_b64:
        return DataURI(mime, urllib.parse.unquote(match["data"]), False, tuple(params))
    return DataURI(mime, _clean_base64(match["data"], mime), True, tuple(params))


def to_bare_base64(value: str) -> str:
    """Bare base64 for a binary payload given either as a data URI or already as base64."""
    if is_data_uri(value):
        return parse_data_uri(value).base64()
    return _clean_base64(value, "binary data")


def _clean_base64(data: str, what: str) -> str:
    # data URIs may be percent-encoded or wrapped over lines; Jupyter wants one plain base64 string
    compact = "".join(urllib.parse.unquote(data).split())
    if not _BASE64_ALPHABET.match(compact):
        raise ValueError(f"the base64 payload of {what} holds characters outside the base64 alphabet")
    if "-" in compact or "_" in compact:
        compact = compact.replace("-", "+").replace("_", "/")
    compact = compact.rstrip("=")
    compact += "=" * (-len(compact) % 4)
    try:
        base64.b64decode(compact, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"the base64 payload of {what} is invalid ({exc})") from None
    return compact
