"""Routers, one module each; importing this package registers the built-ins."""

from junction.semantic.routers import knn, length, linear, logistic, mf, random
from junction.semantic.routers.base import (
    Router,
    RouterError,
    make_router,
    register_router,
    router_names,
)

__all__ = [
    "Router",
    "RouterError",
    "knn",
    "length",
    "linear",
    "logistic",
    "make_router",
    "mf",
    "random",
    "register_router",
    "router_names",
]
