"""The one place that maps a user- or server-given relative path into a folder; also checks vfolder names.

Every storage handler goes through :func:`resolve_in`: it refuses NUL bytes, backslashes, absolute paths and
``..`` components outright, then resolves every symbolic link and refuses a result outside the allowed roots.
The path it returns is the *unresolved* one (``root / relpath``), so that deleting or renaming a symlink acts
on the link itself, while reading through it is known to stay inside.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Final

from .problems import Problem

__all__ = [
    "RESERVED_VFOLDER_NAMES",
    "VFOLDER_NAME_MAX",
    "check_relpath",
    "check_vfolder_name",
    "is_within",
    "resolve_in",
    "unquote_filename",
]

#: Longest vfolder name a 23.09 manager accepts (``API_VFOLDER_LENGTH_LIMIT``).
VFOLDER_NAME_MAX: Final = 64

#: Names the manager refuses because sessions use them in the home folder (``RESERVED_VFOLDERS``).
RESERVED_VFOLDER_NAMES: Final = frozenset(
    {
        ".terminfo", ".jupyter", ".tmux.conf", ".ssh", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64",
        "/media", "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var",
        "/home",
    }
)  # fmt: skip
# shell rc files and profiles (``.bashrc``, ``.bash_profile``) must not be shadowed by a mount either
_RESERVED_PATTERNS: Final = (re.compile(r"\.[a-z0-9]+rc"), re.compile(r"\.[a-z0-9]+_profile"))
# tx.Slug: ASCII letters and digits at both ends, dots, dashes and underscores inside
_SLUG: Final = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9._-]*[a-zA-Z0-9])?")
# "C:/x" is absolute on Windows; refuse it so that no client can mean a drive
_DRIVE: Final = re.compile(r"[A-Za-z]:/")


def _bad_path(what: str, relpath: str, why: str) -> Problem:
    return Problem.invalid_params(f"Invalid {what} {relpath!r}: {why}")


def check_relpath(relpath: object, *, what: str = "path") -> PurePosixPath:
    """Normalise a relative path (``""`` and ``"."`` mean the folder itself); 400 for every escape form."""
    if not isinstance(relpath, str):
        raise Problem.invalid_params(f"Invalid {what}: expected a string, got {type(relpath).__name__}.")
    if "\x00" in relpath:
        raise _bad_path(what, relpath, "it contains a NUL byte.")
    if "\\" in relpath:
        raise _bad_path(what, relpath, "backslashes are not allowed; separate folders with '/'.")
    if relpath.startswith("/") or _DRIVE.match(relpath):
        raise _bad_path(what, relpath, "absolute paths are not allowed; give a path relative to the folder.")
    parts = [part for part in relpath.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise _bad_path(what, relpath, "'..' is not allowed; give a path inside the folder.")
    return PurePosixPath(*parts)


def unquote_filename(filename: str) -> str:
    """A multipart part's filename as the client meant it.

    aiohttp clients (the official SDK among them) percent-encode the filename (``sub%2Fa.txt``) and aiohttp's
    server side hands it over as sent; decoding restores the relative path. Check the result afterwards.
    """
    return urllib.parse.unquote(filename, errors="strict")


def is_within(path: Path, root: Path) -> bool:
    """Whether ``path`` is ``root`` or below it (both already resolved)."""
    return path == root or root in path.parents


def resolve_in(root: Path, relpath: object, *, extra_roots: Sequence[Path] = (), what: str = "path") -> Path:
    """``root / relpath``, once known to stay in ``root`` or ``extra_roots`` with every symlink resolved."""
    rel = check_relpath(relpath, what=what)
    candidate = root / rel
    try:
        resolved = candidate.resolve()
        roots = [root.resolve(), *(extra.resolve() for extra in extra_roots)]
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise _bad_path(what, str(relpath), f"it cannot be resolved ({exc.__class__.__name__}).") from exc
    if not any(is_within(resolved, allowed) for allowed in roots):
        raise _bad_path(what, str(relpath), "it leads through a symbolic link to outside the folder.")
    return candidate


def check_vfolder_name(name: object, *, key: str = "name") -> str:
    """A vfolder name by the manager's rules: a slug of up to 64 chars (leading dot allowed), not reserved."""
    if not isinstance(name, str):
        raise Problem.invalid_params("Input validation error", {key: "value must be a string"})
    if len(name) > VFOLDER_NAME_MAX:
        raise Problem.invalid_params(
            "Input validation error", {key: f"value is too long (max length {VFOLDER_NAME_MAX})"}
        )
    body = name[1:] if name.startswith(".") else name
    if not _SLUG.fullmatch(body):
        raise Problem.invalid_params(
            "Input validation error",
            {
                key: f"{name!r} is not a valid slug: use ASCII letters, digits, '.', '_' and '-', "
                "starting and ending with a letter or digit (one leading dot is allowed)."
            },
        )
    if name in RESERVED_VFOLDER_NAMES or any(pattern.fullmatch(name) for pattern in _RESERVED_PATTERNS):
        raise Problem.invalid_params(f"{name} is reserved for internal operations.")
    return name
