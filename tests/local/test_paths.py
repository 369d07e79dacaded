"""Properties of the path and vfolder-name checks: nothing a client writes can leave its folder."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backendai_jupyter.local.paths import (
    RESERVED_VFOLDER_NAMES,
    check_relpath,
    check_vfolder_name,
    is_within,
    resolve_in,
)
from backendai_jupyter.local.problems import Problem

T = TypeVar("T")
SLUG = re.compile(r"\.?[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?")
# path-ish text: separators, dots, backslashes and NUL are over-represented on purpose
path_text = st.text(alphabet=st.sampled_from(list("ab./\\\x00:~ C")) | st.characters(), max_size=40)
segment = st.text(
    alphabet=st.characters(blacklist_characters="/\\\x00", blacklist_categories=("Cs",)), min_size=1
)
safe_segment = segment.filter(lambda s: s not in (".", ".."))


def outcome(check: Callable[[], T]) -> T | Problem:
    """The checked value, or the Problem raised (property tests accept both, then look at which)."""
    try:
        return check()
    except Problem as problem:
        return problem


def assert_rejected(relpath: str, fragment: str = "") -> Problem:
    with pytest.raises(Problem) as info:
        check_relpath(relpath)
    problem = info.value
    assert (problem.status, problem.kind) == (400, "invalid-api-params")
    assert repr(relpath) in (problem.msg or ""), "the message names the path"
    assert fragment in (problem.msg or "")
    return problem


@given(path_text)
def test_accepted_paths_never_climb_out(relpath: str) -> None:
    rel = outcome(lambda: check_relpath(relpath))
    if isinstance(rel, Problem):
        assert rel.status == 400
        return
    assert "\x00" not in relpath
    assert "\\" not in relpath
    assert not relpath.startswith("/")
    assert ".." not in rel.parts
    assert not rel.is_absolute()
    root = "/srv/folder"
    assert os.path.normpath(os.path.join(root, rel)).startswith(root)


@given(st.lists(safe_segment, max_size=6))
def test_plain_segments_round_trip(parts: list[str]) -> None:
    assert check_relpath("/".join(parts)).parts == tuple(parts)


@given(st.lists(safe_segment, max_size=4), st.lists(safe_segment, max_size=4))
def test_any_dotdot_is_refused(before: list[str], after: list[str]) -> None:
    assert_rejected("/".join([*before, "..", *after]), "'..'")


@given(path_text)
def test_nul_and_backslash_and_absolute_are_refused(text: str) -> None:
    assert_rejected(text + "\x00", "NUL")
    assert_rejected("a\\" + text.replace("\x00", ""), "backslash")
    assert_rejected("/" + text.replace("\x00", "").replace("\\", ""), "absolute")


@pytest.mark.parametrize(
    ("relpath", "fragment"),
    [
        ("..", "'..'"),
        ("../etc/passwd", "'..'"),
        ("a/../../b", "'..'"),
        ("a/./../..", "'..'"),
        ("/etc/passwd", "absolute"),
        ("//server/share", "absolute"),
        ("C:/Windows", "absolute"),
        ("..\\..\\etc", "backslash"),
        ("a\\b", "backslash"),
        ("a\x00b", "NUL"),
    ],
)
def test_escape_forms(relpath: str, fragment: str) -> None:
    assert_rejected(relpath, fragment)


def test_folder_itself_and_dots_normalise() -> None:
    assert str(check_relpath("")) == "."
    assert str(check_relpath("./a//b/./")) == "a/b"
    with pytest.raises(Problem):
        check_relpath(5)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """root/ with a link inside, a link outside, a dangling link outside, a link loop, and an outside dir."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret").write_text("no")
    (root / "inside").symlink_to(root / "sub")
    (root / "out").symlink_to(outside)
    (root / "sub" / "up").symlink_to("../../outside/secret")
    (root / "dangling").symlink_to(tmp_path / "nowhere")
    (root / "loop").symlink_to(root / "loop")
    return root


def test_symlinks_inside_are_followed_but_outside_refused(tree: Path) -> None:
    assert resolve_in(tree, "inside/new.txt") == tree / "inside" / "new.txt"
    assert resolve_in(tree, "sub") == tree / "sub"
    for bad in ("out", "out/secret", "sub/up", "dangling", "dangling/x"):
        with pytest.raises(Problem) as info:
            resolve_in(tree, bad)
        assert "symbolic link" in (info.value.msg or ""), bad
    with pytest.raises(Problem):
        resolve_in(tree, "loop/x")


def test_extra_roots_allow_mount_links(tree: Path) -> None:
    outside = tree.parent / "outside"
    assert resolve_in(tree, "out/secret", extra_roots=[outside]) == tree / "out" / "secret"
    with pytest.raises(Problem):
        resolve_in(tree, "out/../../x", extra_roots=[outside])


@pytest.fixture(scope="module")
def shared_tree() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        base = Path(name)
        root = base / "root"
        (root / "a" / "b").mkdir(parents=True)
        (base / "outside").mkdir()
        (root / "a" / "esc").symlink_to(base / "outside")
        (root / "a" / "ok").symlink_to(root / "a" / "b")
        yield root


@settings(max_examples=300)
@given(st.lists(st.sampled_from(["a", "b", "esc", "ok", ".", "..", "", "x", "\\", "/"]), max_size=6))
def test_resolved_result_always_inside(shared_tree: Path, parts: list[str]) -> None:
    relpath = "/".join(parts)
    path = outcome(lambda: resolve_in(shared_tree, relpath))
    if isinstance(path, Problem):
        assert path.status == 400
        return
    assert is_within(path.resolve(), shared_tree.resolve())


@given(st.from_regex(SLUG, fullmatch=True).filter(lambda s: len(s) <= 64))
def test_slugs_are_valid_names_unless_reserved(name: str) -> None:
    reserved = name in RESERVED_VFOLDER_NAMES or re.fullmatch(r"\.[a-z0-9]+(rc|_profile)", name)
    if reserved:
        with pytest.raises(Problem, match="reserved"):
            check_vfolder_name(name)
    else:
        assert check_vfolder_name(name) == name


@given(st.text(max_size=70))
def test_accepted_names_are_safe_folder_names(name: str) -> None:
    checked = outcome(lambda: check_vfolder_name(name))
    if isinstance(checked, Problem):
        assert (checked.status, checked.kind) == (400, "invalid-api-params")
        return
    assert checked == name
    assert SLUG.fullmatch(name)
    assert len(name) <= 64
    assert "/" not in name
    assert "\x00" not in name
    assert name not in (".", "..")


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "a/b", "-a", "a-", "a b", "ä", "x" * 65, "..a", ".ssh", ".jupyter", ".bashrc",
     ".zsh_profile", "a\nb", "a\x00"],
)  # fmt: skip
def test_bad_names(name: str) -> None:
    with pytest.raises(Problem) as info:
        check_vfolder_name(name)
    assert info.value.status == 400


@pytest.mark.parametrize("name", ["a", "data", ".local", ".hidden-data", "My_Folder.v2", "x" * 64])
def test_good_names(name: str) -> None:
    assert check_vfolder_name(name) == name
