"""docs/clients.md is the client matrix of this run: every cell's outcome and
every library's version. Runs after every other test (conftest.py moves it
last); with ``JUNCTION_CLIENT_MATRIX_WRITE=1`` (``scripts/client-matrix``) it
rewrites the file instead of comparing."""

from __future__ import annotations

import os

import pytest

from _client_matrix import DOC, RESULTS, ROWS, cells, render, stale_cells, version
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
    assert DOC.read_text() == text, "docs/clients.md is stale: run scripts/client-matrix"
