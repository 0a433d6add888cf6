"""The matrix cells that run in child processes: the JavaScript clients
(tests/clients/js/matrix/*.mjs, from js/package-lock.json) and the Python
clients of the second environment (tests/clients/py2/*.py). Each child runs
its cells against junction and reports what it observed; each test here
checks one cell's observation, the same way for every client."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from _client_children import Children
from _client_matrix import (
    CITY_SCHEMA,
    ECHO,
    EMBEDDING_DIMENSIONS,
    INSTRUCTOR_MODES,
    ROW,
    Cell,
    cells,
    weather,
)

CHILD_CELLS = [key for key in cells() if ROW[key[0]].env != "py"]


def check(cell: Cell, seen: dict[str, Any]) -> None:
    """Assert that ``seen`` is what scenario ``cell[1]`` must give."""
    assert "failed" not in seen, seen["failed"]
    row, scenario, _ = cell
    if "stopped" in seen:  # the library's own finish reason for a normal end
        assert seen["stopped"] is True, seen
    if "tokens" in seen:  # the usage the library read
        assert seen["tokens"] > 0, seen
    if scenario in ROW[row].not_offered:
        assert seen == {"offered": False}
    elif scenario == "chat":
        assert seen["text"] == ECHO
    elif scenario == "stream" and "partials" in seen:
        # Partial objects (instructor): each one more complete, the last valid.
        assert seen["partials"], "no partial object arrived"
        jsonschema.validate(seen["object"], CITY_SCHEMA)
    elif scenario == "stream":
        assert "".join(seen["pieces"]) == ECHO
        assert len(seen["pieces"]) > 1, "the answer arrived in one piece"
    elif scenario == "tools":
        assert seen["called"] == ["Paris"]
        assert weather("Paris") in seen["text"]
    elif scenario.startswith("structured"):
        jsonschema.validate(seen["object"], CITY_SCHEMA)
        assert seen.get("validated", True) is True
    elif scenario == "embeddings":
        assert seen["dims"] == [EMBEDDING_DIMENSIONS] * 2
    elif scenario == "unknown model":
        assert seen["typed"] is True, f"{seen['name']} is not the library's typed error"
        assert seen["status"] == 404
    else:
        raise AssertionError(f"no check for {scenario}")


# The first cell may wait for npm ci and the second environment's install.
@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    ("row", "scenario", "model"),
    [
        pytest.param(*key, id="|".join(k for k in key if k), marks=pytest.mark.cell(*key[:2]))
        for key in CHILD_CELLS
    ],
)
async def test_cell(children: Children, row: str, scenario: str, model: str) -> None:
    cell = (row, scenario, model)
    check(cell, await children.observed(cell))


@pytest.mark.timeout(900)
async def test_the_instructor_rows_have_every_mode_instructor_registers(
    children: Children,
) -> None:
    """ "Every mode" is instructor's own list, read from its registry."""
    registered = await children.reported("instructor_client", "instructor|modes|")
    assert {p: sorted(modes) for p, modes in registered.items()} == {
        p: sorted(modes) for p, modes in INSTRUCTOR_MODES.items()
    }
