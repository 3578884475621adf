"""The curl walk-through (docs/walkthrough.md) stays runnable as a script (`make walkthrough` runs
it against a live server, see tests/walkthrough.py): every curl call documents the status it
answers, the address is `$BASE`, and no placeholder is left for a reader to fill in."""

from __future__ import annotations

import re

from tests.walkthrough import WALKTHROUGH, documented_calls, logical_lines, walkthrough_blocks

BLOCKS = walkthrough_blocks(WALKTHROUGH.read_text())


def test_every_call_of_the_walk_through_documents_its_status():
    calls = documented_calls(BLOCKS)  # raises naming a call without its `# → status`
    assert len(calls) >= 90
    assert {status for status, _ in calls} <= {200, 201, 400, 403, 409}
    assert all("$BASE" in line for _, line in calls), [
        line for _, line in calls if "$BASE" not in line
    ]


def test_the_walk_through_leaves_nothing_to_fill_in():
    text = "\n".join(BLOCKS)
    assert not re.search(r"<[a-z][\w ]*>", text), re.findall(r"<[a-z][\w ]*>", text)
    assert "localhost:5000/" not in text.replace("BASE=${BASE:-http://localhost:5000}", "")


def test_commands_spanning_lines_are_read_as_one():
    block = """X=$(curl -s -X POST $BASE/a -d '{"a":
       "b # not a comment"}')   # → 201
curl -s $BASE/b \\
  -H 'A: b'   # → 200
"""
    assert documented_calls([block]) == [
        (201, """X=$(curl -s -X POST $BASE/a -d '{"a": "b # not a comment"}') # → 201"""),
        (200, "curl -s $BASE/b -H 'A: b' # → 200"),
    ]
    assert len(logical_lines(block)) == 2


def test_the_section_is_found_as_a_file_or_as_a_readme_section():
    block = "curl -s $BASE/a   # → 200\n"
    fence = "```bash\n" + block + "```\n"
    assert walkthrough_blocks("# curl walk-through\n\nIntro.\n\n" + fence) == [block]
    readme = "# MIPOS\n\n## curl walk-through\n\n" + fence + "\n## Next\n\n```bash\nls\n```\n"
    assert walkthrough_blocks(readme) == [block]
