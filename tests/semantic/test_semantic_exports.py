"""The semantic package's public surface, pinned (as tests/test_exports.py pins the others)."""

from __future__ import annotations

import junction.semantic
import junction.semantic.routers

EXPORTS = {
    junction.semantic: [
        "CachedEncoder", "Dataset", "DatasetError", "Encoder", "Features", "IntentRoute",
        "IntentRouter", "Router", "RoutingRow",
        "TrainedRouter", "e5", "lexical", "load", "load_dataset", "make_encoder", "make_router",
        "register_encoder", "register_router", "save", "train",
    ],
    junction.semantic.routers: [
        "Router", "RouterError", "knn", "length", "linear", "logistic", "make_router", "mf",
        "random", "register_router", "router_names",
    ],
}  # fmt: skip


def test_exported_members() -> None:
    for module, names in EXPORTS.items():
        assert sorted(module.__all__) == sorted(names)
        for name in names:
            assert hasattr(module, name), name
