"""Every document the code and the tests cite is in docs/, with the section cited; none lives elsewhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
#: Where code and tests live: what they cite must resolve inside the repository.
SOURCES = ("backendai_jupyter", "tests", "bench", ".ci")

#: ``docs/protocol.md §2.1``, ``docs/runner.md §1.4-§1.5``, ``docs/protocol.md §7.1-7.2``
_CITATION = re.compile(r"docs/([\w-]+\.md)((?:\s*§\s*[0-9][0-9.]*(?:\s*-\s*§?[0-9][0-9.]*)?)?)")
_SECTION = re.compile(r"[0-9][0-9.]*")
#: A document name without its folder: ``protocol.md §3`` is ambiguous to a reader of the code.
_BARE = re.compile(r"(?<![\w/.\"'-])([\w-]+\.md)\b")
#: Paths that point outside the repository at the source material the docs were written from.
_OUTSIDE = re.compile(r"shared/(?:docs|samples)\b|\.\./shared/[\w-]+\.md")


def _source_files() -> Iterator[Path]:
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*")):
            readable = path.suffix in (".py", ".md", ".sh", "") and "__pycache__" not in path.parts
            if path.is_file() and readable and path != Path(__file__).resolve():  # its examples are wrong
                yield path


def _sections(doc: Path) -> set[str]:
    """The section numbers of a document's headings: ``## 2. Authentication`` -> ``2``, ``### 2.1 ...``."""
    found = set()
    for line in doc.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#{1,6}\s+([0-9][0-9.]*)", line)
        if match:
            found.add(match.group(1).rstrip("."))
    return found


def citation_problems(path: Path, text: str) -> list[str]:
    """What is wrong with the document references in one file's text."""
    where = path.relative_to(ROOT)
    problems = []
    for match in _OUTSIDE.finditer(text):
        problems.append(f"{where}: {match.group(0)!r} points outside the repository; use docs/")
    for match in _CITATION.finditer(text):
        doc = DOCS / match.group(1)
        if not doc.is_file():
            problems.append(f"{where}: docs/{match.group(1)} does not exist")
            continue
        sections = _sections(doc)
        for number in _SECTION.findall(match.group(2)):
            if number.rstrip(".") not in sections:
                problems.append(f"{where}: docs/{match.group(1)} has no section {number}")
    for match in _BARE.finditer(text):
        name = match.group(1)
        if (DOCS / name).is_file() and name != "README.md":
            problems.append(f"{where}: cite {name} as docs/{name}")
    return problems


def test_every_cited_document_and_section_is_in_docs() -> None:
    problems = [p for path in _source_files() for p in citation_problems(path, path.read_text("utf-8"))]
    assert problems == []


def test_the_check_catches_missing_sections_bare_names_and_outside_paths() -> None:
    fake = ROOT / "tests" / "example.py"
    text = (
        "# see docs/protocol.md §2.1 and docs/protocol.md §99.9\n"
        "# as runner.md says; docs/nowhere.md\n"
        'SAMPLES = ROOT.parent / "shared/samples"\n'
    )
    problems = citation_problems(fake, text)
    assert problems == [
        "tests/example.py: 'shared/samples' points outside the repository; use docs/",
        "tests/example.py: docs/protocol.md has no section 99.9",
        "tests/example.py: docs/nowhere.md does not exist",
        "tests/example.py: cite runner.md as docs/runner.md",
    ]


def test_the_docs_index_lists_every_document() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    missing = [doc.name for doc in DOCS.glob("*.md") if doc.name != "README.md" and doc.name not in index]
    assert missing == []
