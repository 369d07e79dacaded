"""Widget-free helpers of the pickers and magics: session rows with age, image and vfolder choices, tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from dateutil import parser as date_parser

from ..sdk.types import ImageInfo, SessionListItem, VFolderInfo
from ..settings import parse_pairs
from ..wire import ACTIVE_SESSION_STATUSES, GONE_SESSION_STATUSES

__all__ = [
    "RESOURCE_PRESETS",
    "PickerBackend",
    "SessionRow",
    "format_age",
    "format_size",
    "format_table",
    "image_choices",
    "parse_resources",
    "session_rows",
    "vfolder_choices",
]

#: Named resource presets offered by the create form (free-form KEY=VALUE text works too).
RESOURCE_PRESETS: Mapping[str, str] = {
    "small (1 CPU, 1 GiB)": "cpu=1,mem=1g",
    "medium (2 CPU, 4 GiB)": "cpu=2,mem=4g",
    "large (4 CPU, 16 GiB)": "cpu=4,mem=16g",
}


class PickerBackend(Protocol):
    """What the pickers need from Backend.AI; each call may raise an exception whose text is shown."""

    def list_sessions(self) -> list[SessionRow]:
        """Sessions to show (active ones first)."""

    def terminate(self, name: str) -> str:
        """Terminate a session; return a one-line report."""

    def attach(self, name: str) -> str:
        """Use a session for later cells; return a one-line report."""

    def create(self, *, name: str, image: str, resources: Mapping[str, str], mounts: Sequence[str]) -> str:
        """Start a session; return a one-line report."""

    def image_choices(self) -> list[tuple[str, str]]:
        """(label, image reference) pairs."""

    def vfolder_choices(self) -> list[tuple[str, str]]:
        """(label, vfolder name) pairs."""


@dataclass(frozen=True)
class SessionRow:
    """One session as the picker and ``%backend ps`` show it."""

    name: str
    id: str
    status: str
    image: str
    age: str
    status_info: str = ""

    @property
    def active(self) -> bool:
        """Whether the session still holds or waits for resources."""
        return self.status in ACTIVE_SESSION_STATUSES

    @property
    def usable(self) -> bool:
        """Whether cells may run in it (what ``%backend attach`` accepts): active and not going away."""
        return self.active and self.status not in GONE_SESSION_STATUSES

    def cells(self) -> list[str]:
        """The table cells: name, short id, status, image, age."""
        status = f"{self.status} ({self.status_info})" if self.status_info else self.status
        return [self.name, self.id[:8], status, self.image, self.age]


def format_age(created: str | None, *, now: dt.datetime | None = None) -> str:
    """``12s``, ``5m``, ``3h``, ``2d`` since an ISO timestamp (``-`` when unknown or unparsable)."""
    if not created:
        return "-"
    try:
        when = date_parser.isoparse(created) if "T" in created else date_parser.parse(created)
    except (ValueError, OverflowError):
        return "-"
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    current = now if now is not None else dt.datetime.now(dt.timezone.utc)
    seconds = max(0, int((current - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def format_size(size: float | None) -> str:
    """``512 B``, ``1.5 KiB``, ``100.0 MiB``."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover - the loop always returns


def session_rows(items: Iterable[SessionListItem], *, now: dt.datetime | None = None) -> list[SessionRow]:
    """Rows for sessions: active ones first, newest first within each group."""
    rows = [
        SessionRow(
            name=item.name or item.id,
            id=item.id,
            status=item.status,
            image=item.image or "-",
            age=format_age(item.created_at, now=now),
            status_info=(item.status_info or "") if item.status != "RUNNING" else "",
        )
        for item in items
    ]
    created = {item.id: item.created_at or "" for item in items}
    rows.sort(key=lambda r: created.get(r.id, ""), reverse=True)
    rows.sort(key=lambda r: not r.active)
    return rows


def image_choices(images: Iterable[ImageInfo]) -> list[tuple[str, str]]:
    """(label, reference to start) per image, installed ones first, without duplicates."""
    seen: set[str] = set()
    choices: list[tuple[bool, str, str]] = []
    for image in images:
        ref = image.full_name
        if ref in seen:
            continue
        seen.add(ref)
        aliases = [a for a in image.aliases if "*" not in a and a != ref]
        label = ref + (f" (alias: {', '.join(aliases)})" if aliases else "")
        choices.append((not image.installed, label, ref))
    choices.sort(key=lambda c: (c[0], c[1]))
    return [(label, ref) for _, label, ref in choices]


def vfolder_choices(folders: Iterable[VFolderInfo]) -> list[tuple[str, str]]:
    """(label, name) per usable vfolder: ``name (host, rw)``, sorted by name."""
    rows = []
    for folder in folders:
        if folder.status not in (None, "ready"):
            continue
        details = ", ".join(x for x in (folder.host, folder.permission) if x)
        rows.append((f"{folder.name} ({details})" if details else folder.name, folder.name))
    return sorted(rows, key=lambda r: r[1])


def parse_resources(text: str) -> dict[str, str]:
    """``"cpu=2, mem=4g"`` or a preset label -> ``{"cpu": "2", "mem": "4g"}``; ValueError names a bad part."""
    text = RESOURCE_PRESETS.get(text, text)
    return parse_pairs(
        text.replace(";", ","), name="resource", example="cpu=2,mem=4g", allow_json=False, allow_empty=False
    )


def format_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    empty: str = "(none)",
    clip: Callable[[str], str] | None = None,
) -> str:
    """A plain-text table with left-aligned columns; ``empty`` when there are no rows."""
    text_rows = [[str(c) if clip is None else clip(str(c)) for c in row] for row in rows]
    if not text_rows:
        return empty
    widths = [len(h) for h in headers]
    for row in text_rows:
        for i, cell in enumerate(row[: len(widths)]):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out.extend(line(row) for row in text_rows)
    return "\n".join(out)
