"""``images`` (what can be started) and ``sessions`` (the session picker, or its text fallback)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..widgets.fallback import choices_text, sessions_text, widgets_usable
from ..widgets.options import (
    SessionRow,
    format_table,
    image_choices,
    session_rows,
    vfolder_choices,
)
from ..wire import ACTIVE_SESSION_STATUSES
from .errors import translate
from .registry import Command

if TYPE_CHECKING:
    from .context import Context

__all__ = ["COMMANDS", "MagicsPickerBackend"]


class MagicsPickerBackend:
    """The pickers' view of Backend.AI, through the magics' client and state (attach binds like the magic)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def list_sessions(self) -> list[SessionRow]:
        """Active sessions, newest first."""
        with translate("listing sessions"):
            items = list(self._ctx.client().sessions.iter_all(status=ACTIVE_SESSION_STATUSES))
        return session_rows(items)

    def terminate(self, name: str) -> str:
        """Terminate one session."""
        with translate(f"terminating {name!r}"):
            self._ctx.client().sessions.destroy(name)
        self._ctx.removed(name)
        return f"terminated session {name}"

    def attach(self, name: str) -> str:
        """Bind %%backend cells (and the remote kernel, inside it) to the session."""
        info, _ = self._ctx.attach(name)
        return f"attached to session {info.name or name}"

    def create(self, *, name: str, image: str, resources: Mapping[str, str], mounts: Sequence[str]) -> str:
        """Start a session."""
        with translate(f"starting a session with image {image!r}"):
            created = self._ctx.client().sessions.create(
                image, name=name or None, resources=dict(resources) or None, mounts=list(mounts) or None
            )
        self._ctx.started(created)
        return f"started session {created.name} ({created.status})"

    def image_choices(self) -> list[tuple[str, str]]:
        """Images to start."""
        with translate("listing images"):
            return image_choices(self._ctx.client().images.list())

    def vfolder_choices(self) -> list[tuple[str, str]]:
        """Vfolders to mount."""
        with translate("listing vfolders"):
            return vfolder_choices(self._ctx.client().vfolders.list())


def _images_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--installed", action="store_true", help="only images installed on some agent")
    p.add_argument("--pick", action="store_true", help="show the image picker widget")


def _images(ctx: Context, ns: argparse.Namespace) -> Any:
    backend = MagicsPickerBackend(ctx)
    if ns.pick:
        usable, why = widgets_usable(ctx.shell, ctx.magics.widgets)
        if usable:
            from ..widgets.image_picker import ImagePicker

            return ImagePicker(backend)
        ctx.print(f"({why}; here is the list instead)")
        ctx.print(choices_text("images:", backend.image_choices(), "%backend start IMAGE"))
        return None
    with translate("listing images"):
        images = ctx.client().images.list(installed_only=ns.installed)
    rows = []
    seen = set()
    for image in sorted(images, key=lambda i: i.full_name):
        if image.full_name in seen:
            continue
        seen.add(image.full_name)
        aliases = ", ".join(a for a in image.aliases if "*" not in a) or "-"
        rows.append([image.full_name, aliases, image.architecture or "-", "yes" if image.installed else "no"])
    ctx.print(format_table(["image", "aliases", "arch", "installed"], rows, empty="(no images)"))
    return None


def _sessions_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--text", action="store_true", help="print the text table even where widgets work")


def _sessions(ctx: Context, ns: argparse.Namespace) -> Any:
    backend = MagicsPickerBackend(ctx)
    usable, why = widgets_usable(ctx.shell, "off" if ns.text else ctx.magics.widgets)
    if usable:
        from ..widgets.session_picker import SessionPicker

        return SessionPicker(backend)
    if not ns.text:
        ctx.print(f"({why}; here is the text version)")
    ctx.print(sessions_text(backend.list_sessions()))
    return None


COMMANDS = {
    "images": Command(
        "images", "list the images sessions can start with (--pick: a picker)", _images_args, _images
    ),
    "sessions": Command(
        "sessions", "the session picker (a text table where widgets cannot show)", _sessions_args, _sessions
    ),
}
