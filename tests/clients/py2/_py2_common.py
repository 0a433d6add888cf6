"""What every second-environment script shares (the Python twin of
js/matrix/common.mjs): the spec from $JUNCTION_MATRIX and run_cells, which runs
each cell and prints one JSON object {"row|scenario|model": observation}. The
checks are in tests/clients/test_matrix_children.py.

These scripts run in tests/clients/py2/.venv, not in junction's environment:
they import nothing of junction or of tests/."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

URL = os.environ["JUNCTION_URL"]
SPEC: dict[str, Any] = json.loads(os.environ["JUNCTION_MATRIX"])
KEY = "sk-junction"

Scenario = Callable[[str], Awaitable[dict[str, Any]]]


def weather(city: str) -> str:
    answer: str = SPEC["weather_answer"].format(city=city)
    return answer


async def typed_error(
    call: Callable[[], Awaitable[Any]],
    error: type[BaseException],
    status: Callable[[Any], Any] = lambda exc: getattr(exc, "status_code", None),
) -> Any:
    """The observation for "unknown model": was the library's typed error
    raised, and with which HTTP status?"""
    try:
        await call()
    except Exception as exc:  # what the library raised is the observation
        return {"typed": isinstance(exc, error), "status": status(exc), "name": type(exc).__name__}
    return {"failed": "no error was raised"}


async def _run(rows: dict[str, dict[str, Scenario]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for row, scenario, model in SPEC["cells"]:
        if row not in rows:
            continue
        key = f"{row}|{scenario}|{model}"
        run = rows[row].get(scenario)
        if run is None:
            out[key] = {"failed": f"this script has no {scenario} for {row}"}
            continue
        try:
            out[key] = await run(model)
        except Exception as exc:  # the observation of a failed cell
            out[key] = {"failed": f"{type(exc).__name__}: {exc}"[:600]}
    return out


def run_cells(rows: dict[str, dict[str, Scenario]], also: dict[str, Any] | None = None) -> None:
    """Run the cells of ``rows`` and print what they observed (with ``also``)."""
    found = asyncio.run(_run(rows))
    sys.stdout.write(json.dumps({**found, **(also or {})}) + "\n")
