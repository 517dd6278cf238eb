"""Front matter nested absurdly deep (a release file from an upload or a careless
edit): one line saying what is wrong, never a RecursionError's traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from newsletter.content.frontmatter import MAX_DEPTH, load_front_matter
from newsletter.errors import ReleaseError

HEAD = "title: Tief\ndate: 2026-01-01\nkind: news\n"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_deep_nesting_is_refused_with_its_line(depth):
    with pytest.raises(ReleaseError, match="nested more than") as err:
        load_front_matter(HEAD + "summary: " + "[" * depth + "]" * depth, Path("x.md"))
    assert err.value.line == 5  # the file's line: "---" is line 1


def test_nesting_a_release_may_need_is_read():
    meta, _ = load_front_matter(HEAD + "contacts:\n  - name: A\n    email: a@example.org\n"
                                "x: " + "[" * (MAX_DEPTH - 2) + "1" + "]" * (MAX_DEPTH - 2),
                                Path("x.md"))
    assert meta["contacts"][0]["name"] == "A"


def test_the_cli_says_one_line(ws_root):
    release = ws_root / "releases" / "tief.md"
    release.write_text("---\n" + HEAD + "summary: " + "[" * 100_000 + "]" * 100_000
                       + "\n---\n\nText.\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "newsletter", "--workspace", str(ws_root),
                           "extract", str(release)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert "nested more than" in done.stderr
