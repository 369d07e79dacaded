"""The widget-free helpers and the text fallback."""

from __future__ import annotations

import datetime as dt

import pytest

from backendai_jupyter.sdk.types import ImageInfo, SessionListItem, VFolderInfo
from backendai_jupyter.widgets.fallback import sessions_text, widgets_usable
from backendai_jupyter.widgets.options import (
    format_age,
    format_size,
    format_table,
    image_choices,
    parse_resources,
    session_rows,
    vfolder_choices,
)

NOW = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def item(name: str, status: str, created: str) -> SessionListItem:
    return SessionListItem.from_api(
        {"id": f"{name}-0000-id", "name": name, "status": status, "image": "python", "created_at": created}
    )


def test_rows_put_active_first_and_newest_first() -> None:
    rows = session_rows(
        [
            item("old", "RUNNING", "2024-05-01T10:00:00+00:00"),
            item("dead", "TERMINATED", "2024-05-01T11:59:00+00:00"),
            item("new", "PENDING", "2024-05-01T11:59:30+00:00"),
        ],
        now=NOW,
    )
    assert [r.name for r in rows] == ["new", "old", "dead"]
    assert [r.age for r in rows] == ["30s", "2h", "1m"]
    assert rows[2].active is False
    assert rows[0].active


def test_small_formatters() -> None:
    assert format_age(None) == "-"
    assert format_age("garbage") == "-"
    assert format_age("2024-04-29 12:00:00", now=NOW) == "2d"
    assert format_size(512) == "512 B"
    assert format_size(1536) == "1.5 KiB"
    assert format_size(None) == "-"
    assert format_table(["a", "bb"], []) == "(none)"
    assert format_table(["a", "bb"], [["x", "y"]]).splitlines() == ["a  bb", "-  --", "x  y"]
    assert parse_resources("cpu=2, mem=4g") == {"cpu": "2", "mem": "4g"}
    assert parse_resources("small (1 CPU, 1 GiB)") == {"cpu": "1", "mem": "1g"}
    with pytest.raises(ValueError, match="'gpu' is not KEY=VALUE"):
        parse_resources("cpu=1,gpu")


def test_choices() -> None:
    images = [
        ImageInfo.from_api(
            {"name": "python", "tag": "3.11", "registry": "cr", "installed": False, "aliases": ["py"]}
        ),
        ImageInfo.from_api({"name": "python", "tag": "3.12", "registry": "cr", "installed": True}),
        ImageInfo.from_api({"name": "python", "tag": "3.12", "registry": "cr", "installed": True}),
    ]
    assert image_choices(images) == [
        ("cr/python:3.12", "cr/python:3.12"),
        ("cr/python:3.11 (alias: py)", "cr/python:3.11"),
    ]
    folders = [
        VFolderInfo.from_api({"name": "b", "host": "h", "permission": "rw", "status": "ready"}),
        VFolderInfo.from_api({"name": "a", "status": "delete-pending"}),
    ]
    assert vfolder_choices(folders) == [("b (h, rw)", "b")]


def test_text_fallback_and_detection() -> None:
    text = sessions_text(session_rows([item("s1", "RUNNING", "2024-05-01T11:00:00+00:00")], now=NOW))
    assert "s1" in text
    assert "%backend attach s1" in text
    assert "%backend rm s1" in text
    assert "%backend start" in text
    assert "(no sessions)" in sessions_text([])

    class Terminal:
        pass

    class ZMQInteractiveShell:
        kernel = object()

    assert widgets_usable(Terminal()) == (False, "this front end cannot show widgets")
    assert widgets_usable(ZMQInteractiveShell()) == (True, "")
    assert widgets_usable(ZMQInteractiveShell(), "off")[0] is False
    assert widgets_usable(Terminal(), "on") == (True, "")
