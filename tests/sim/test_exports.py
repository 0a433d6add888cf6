"""The public surface of junction.sim is pinned."""

from __future__ import annotations

import inspect

import junction.sim


def test_exports() -> None:
    assert sorted(junction.sim.__all__) == [
        "FAULT_KINDS",
        "FaultKind",
        "Faults",
        "ModelConfig",
        "ModelSettings",
        "Profile",
        "ProfileError",
        "create_app",
        "load_profile",
        "parse_profile",
        "run",
        "start",
    ]
    assert junction.sim.FAULT_KINDS == (
        "rate_limit",
        "server_error",
        "unavailable",
        "timeout",
        "reset",
        "stream_cut",
        "malformed",
        "bad_request",
        "auth_error",
        "not_found",
    )


def test_entry_point_signatures() -> None:
    assert list(inspect.signature(junction.sim.start).parameters) == ["profile", "host", "port"]
    assert list(inspect.signature(junction.sim.run).parameters) == ["profile", "host", "port"]
    assert inspect.iscoroutinefunction(junction.sim.start)
