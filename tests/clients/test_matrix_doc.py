"""docs/clients.md is the client matrix of this run: every cell's outcome and
every library's version. Runs after every other test (conftest.py moves it
last); with ``JUNCTION_CLIENT_MATRIX_WRITE=1`` (``scripts/client-matrix``) it
rewrites the file instead of comparing."""

from __future__ import annotations

import difflib
import os

import pytest

from _client_matrix import DOC, RESULTS, ROWS, Outcome, cells, render, stale_cells, version
from _servers import in_ci

WRITE = "JUNCTION_CLIENT_MATRIX_WRITE"


@pytest.mark.client_doc
def test_docs_clients_md_is_the_matrix_of_this_run() -> None:
    assert list(stale_cells(RESULTS)) == [], "tests marked with cells that ROWS does not have"
    missing = [key for key in cells() if key not in RESULTS]
    if missing:
        reason = f"{len(missing)} matrix cells did not run in this session (first: {missing[0]})"
        if in_ci() or os.environ.get(WRITE):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason + "; run tests/clients whole to check docs/clients.md")
    broken = {key: o for key, o in RESULTS.items() if o.status in ("failed", "skipped")}
    assert not broken, f"cells that did not pass or fail as expected: {broken}"
    text = render(RESULTS, {row.id: version(row) for row in ROWS})
    if os.environ.get(WRITE):
        DOC.write_text(text)
        return
    found = DOC.read_text()
    if found != text:
        diff = difflib.unified_diff(
            found.splitlines(), text.splitlines(), "docs/clients.md", "this run", lineterm="", n=0
        )
        lines = "\n".join(list(diff)[:40])
        pytest.fail(f"docs/clients.md is stale: run scripts/client-matrix\n{lines}", pytrace=False)


def test_every_cell_that_is_not_a_pass_gets_a_note() -> None:
    """The rendering alone, on made-up outcomes: a known failure on one
    backend, a cell not offered, the rest passing."""
    results = {key: Outcome("pass") for key in cells()}
    results[("openai-py", "tools", "sim/gemini")] = Outcome("fails", "the tool result is lost")
    results[("anthropic-py", "embeddings", "")] = Outcome("not offered", "no embeddings API")
    text = render(results, {row.id: "1.0" for row in ROWS})
    assert (
        "| | | | tools | pass on sim/openai; pass on sim/anthropic; fails on sim/gemini [1] |"
    ) in text
    assert "| | | | embeddings | not offered [2] |" in text
    assert "1. fails: the tool result is lost\n2. no embeddings API\n" in text
    total = len(cells())
    assert f"**{total} cells:** 1 fails, 1 not offered, {total - 2} pass." in text
