"""Turn one stateless ``media`` payload (mime + data) into a Jupyter mime bundle."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from .datauri import is_data_uri, parse_data_uri, to_bare_base64

__all__ = [
    "DRAWING_MIME",
    "GITGRAPH_MIME",
    "gitgraph_bundle",
    "looks_like_html",
    "media_bundle",
    "normalize_mime",
]

DRAWING_MIME = "application/x-sorna-drawing"
GITGRAPH_MIME = "application/vnd.sorna.gitgraph"

# nbformat / the messaging schema only accept plain "type/subtype" keys
_MIME_KEY = re.compile(r"^[\w\-+.]+/[\w\-+.]+$")
_HTML_START = re.compile(
    r"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|[a-zA-Z][\w:-]*[\s/>])", re.DOTALL | re.I
)
_JSON_MIME = re.compile(r"^application/(?:.*\+)?json$")
_TEXT_MIMES = {"text/plain", "text/markdown", "text/latex", "application/javascript", "text/html"}
_PLACEHOLDER = {"text/html": "<HTML>", "application/javascript": "<Javascript>", "application/pdf": "<PDF>"}


def normalize_mime(mime: str) -> str:
    """``mime`` lower-cased, without parameters (``text/html; charset=utf-8`` -> ``text/html``)."""
    return mime.split(";", 1)[0].strip().lower()


def looks_like_html(text: str) -> bool:
    """Whether ``text`` starts like an HTML fragment (a tag, a doctype or a comment)."""
    return bool(_HTML_START.match(text[:2048]))


def media_bundle(mime: str, data: Any) -> dict[str, Any]:
    """The mime bundle for one media item: bare base64 for binary data, text for text, a text/plain always."""
    declared = normalize_mime(mime) if isinstance(mime, str) else ""
    if isinstance(data, str) and is_data_uri(data):
        try:
            uri = parse_data_uri(data)
        except ValueError:
            return {"text/plain": f"<{declared or 'media'}: undecodable data URI>"}
        mime = declared or uri.mime
        if _is_binary(mime):
            return _binary_bundle(mime, uri.base64())
        return _text_bundle(mime, uri.text())
    mime = declared or "text/plain"
    if mime == GITGRAPH_MIME:
        return gitgraph_bundle(data)
    if _JSON_MIME.match(mime):
        return _json_bundle(mime, data)
    if not isinstance(data, str):
        return {"text/plain": json.dumps(data, indent=2, ensure_ascii=False, default=str)}
    if _is_binary(mime):
        try:
            return _binary_bundle(mime, to_bare_base64(data))
        except ValueError:
            return {"text/plain": f"<{mime}: undecodable data>"}
    return _text_bundle(mime, data)


def _is_binary(mime: str) -> bool:
    if mime == "image/svg+xml" or mime in _TEXT_MIMES or mime.startswith("text/") or _JSON_MIME.match(mime):
        return False
    return mime.startswith(("image/", "audio/", "video/", "font/")) or mime in (
        "application/pdf",
        "application/octet-stream",
        "application/zip",
    )


def _binary_bundle(mime: str, b64: str) -> dict[str, Any]:
    if not _MIME_KEY.match(mime):
        return {"text/plain": f"<{mime}: {len(b64) * 3 // 4} bytes>"}
    bundle: dict[str, Any] = {mime: b64}
    kind = mime.split("/", 1)[0]
    if kind in ("audio", "video"):
        # no Jupyter front end renders audio/* or video/* itself; an HTML player does
        bundle["text/html"] = f'<{kind} controls src="data:{mime};base64,{b64}"></{kind}>'
        bundle["text/plain"] = f"<{kind.capitalize()}: {mime}>"
    elif kind == "image":
        bundle["text/plain"] = f"<Figure: {mime}>"
    else:
        bundle["text/plain"] = _PLACEHOLDER.get(mime, f"<{mime}: {len(b64) * 3 // 4} bytes>")
    return bundle


def _text_bundle(mime: str, text: str) -> dict[str, Any]:
    if mime == "text/plain" or not _MIME_KEY.match(mime):
        return {"text/plain": text}
    if mime == "image/svg+xml":
        return {mime: text, "text/plain": "<Figure: image/svg+xml>"}
    if mime in ("text/markdown", "text/latex") or mime not in _PLACEHOLDER:
        return {mime: text, "text/plain": text}
    return {mime: text, "text/plain": _PLACEHOLDER[mime]}


def _json_bundle(mime: str, data: Any) -> dict[str, Any]:
    value = data
    if isinstance(data, str):
        try:
            value = json.loads(data)
        except ValueError:
            return {"text/plain": data}
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if not _MIME_KEY.match(mime) or not isinstance(value, dict | list):
        return {"text/plain": text}
    return {mime: value, "text/plain": text}


def gitgraph_bundle(data: Any) -> dict[str, Any]:
    """A commit list (text and HTML) for ``application/vnd.sorna.gitgraph`` (a JSON array of commits)."""
    commits = data
    if isinstance(data, str):
        try:
            commits = json.loads(data)
        except ValueError:
            return {"text/plain": data}
    if not isinstance(commits, list) or not all(isinstance(c, dict) for c in commits):
        return {"text/plain": json.dumps(commits, ensure_ascii=False, default=str)}
    lines, items = [], []
    for commit in commits:
        oid = str(commit.get("oid", ""))[:7]
        branch = str(commit.get("branch", "") or "")
        message = str(commit.get("message", "") or "").strip().splitlines()
        subject = message[0] if message else ""
        author = str(commit.get("author", "") or "")
        label = f" ({branch})" if branch else ""
        by = f" - {author}" if author else ""
        lines.append(f"* {oid}{label} {subject}{by}")
        items.append(
            f"<li><code>{html.escape(oid)}</code>"
            + (f" <b>{html.escape(branch)}</b>" if branch else "")
            + f" {html.escape(subject)}"
            + (f" <i>{html.escape(author)}</i>" if author else "")
            + "</li>"
        )
    return {
        "text/plain": "\n".join(lines) or "(no commits)",
        "text/html": '<ul class="sorna-gitgraph">' + "".join(items) + "</ul>",
    }
