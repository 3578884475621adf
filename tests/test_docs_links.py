"""The README stays a front door and the documentation has no dangling references: every relative
markdown link in README.md and docs/**/*.md names a file that exists (and, with `#anchor`, a
heading of that file), every repository path they cite in backticks (`apps/core/db.py`) exists,
and the README is at most 200 lines."""

from __future__ import annotations

import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DOCS = [BASE_DIR / "README.md", *sorted((BASE_DIR / "docs").rglob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
CITED_PATH = re.compile(r"`((?:apps|bench|deploy|docs|mipos|static|templates|tests|\.ci)/[^`\s]*)`")


def prose(text: str) -> str:
    """The text outside fenced code blocks (a bash comment there is no heading, no link)."""
    return FENCE.sub("", text)


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of a file's headings: lower case, punctuation dropped, spaces to '-'."""
    return {
        re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        for heading in HEADING.findall(prose(path.read_text()))
    }


def links(path: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(prose(path.read_text()))
        if not re.match(r"[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto:
    ]


def test_the_documentation_is_found():
    names = {path.relative_to(BASE_DIR).as_posix() for path in DOCS}
    assert {"README.md", "docs/walkthrough.md", "docs/design/README.md"} <= names
    assert sum(len(links(path)) for path in DOCS) >= 40


def test_every_relative_link_resolves():
    dangling = []
    for path in DOCS:
        for target in links(path):
            file_part, _, anchor = target.partition("#")
            resolved = (path.parent / file_part).resolve() if file_part else path
            if not resolved.exists():
                dangling.append(f"{path.relative_to(BASE_DIR)}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                dangling.append(f"{path.relative_to(BASE_DIR)}: {target} (no such heading)")
    assert dangling == []


def test_every_cited_path_exists():
    missing = [
        f"{path.relative_to(BASE_DIR)}: {cited}"
        for path in DOCS
        for cited in CITED_PATH.findall(path.read_text())
        if not (BASE_DIR / cited).exists()
    ]
    assert missing == []


def test_every_design_note_is_in_the_index():
    index = BASE_DIR / "docs" / "design" / "README.md"
    listed = {target.partition("#")[0] for target in links(index)}
    notes = {path.name for path in index.parent.glob("*.md")} - {"README.md"}
    assert notes <= listed, sorted(notes - listed)


def test_the_readme_is_a_front_door():
    lines = (BASE_DIR / "README.md").read_text().splitlines()
    assert len(lines) <= 200
    assert lines[0] == "# MIPOS"
    first_screen = "\n".join(lines[:20])
    assert "make run" in first_screen and "make test" in first_screen


def test_anchors_follow_github():
    path = BASE_DIR / "README.md"
    assert "quickstart-two-commands-only-python-311-needed" in anchors(path)
    assert "how-the-code-is-laid-out" in anchors(path)
