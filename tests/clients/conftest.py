"""The client matrix's session: one junction (with the simulator) for every
cell, the child processes that run the JavaScript and second-environment
clients (started once, together), and the recording of every cell's outcome
for docs/clients.md."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from _client_children import Children
from _client_gateway import Gateway
from _client_matrix import KNOWN, ROW, Cell, record


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cell(row, scenario): a cell of the client matrix")
    config.addinivalue_line("markers", "client_doc: the docs/clients.md check (runs last)")


def cell_key(item: pytest.Item) -> Cell | None:
    mark = item.get_closest_marker("cell")
    if mark is None:
        return None
    callspec = getattr(item, "callspec", None)
    backend = callspec.params.get("model", "") if callspec is not None else ""
    return (mark.args[0], mark.args[1], backend)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        key = cell_key(item)
        if key is not None and key in KNOWN:
            item.add_marker(pytest.mark.xfail(strict=True, reason=KNOWN[key]))
    last = [item for item in items if item.get_closest_marker("client_doc")]
    items[:] = [item for item in items if item not in last] + last


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    key = cell_key(item)
    if key is not None:
        record(key, report)
    return report


@pytest.fixture(scope="session")
def junction() -> Iterator[str]:
    """junction's base URL: examples/sim.yaml, the simulator in-process."""
    gateway = Gateway()
    gateway.start()
    try:
        yield gateway.url
    finally:
        gateway.stop()


@pytest.fixture(scope="session")
async def children(junction: str) -> AsyncIterator[Children]:
    kids = Children(junction)
    try:
        yield kids
    finally:
        for task in kids.tasks.values():
            task.cancel()


@pytest.fixture(scope="session", autouse=True)
async def _start_children(request: pytest.FixtureRequest, children: Children) -> None:
    """Start the child processes with the session, so they run while the
    in-process cells do (when this session runs any of their cells)."""
    keys = [cell_key(item) for item in request.session.items]
    if any(key is not None and ROW[key[0]].env != "py" for key in keys):
        children.start()
