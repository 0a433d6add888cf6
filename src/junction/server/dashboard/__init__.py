"""The dashboard: a web UI at ``/ui`` (docs/dashboard.md) and the admin
endpoints it reads beside the admin API (api.py, docs/admin.md).

``add_routes(add)`` is the one registration the app makes.
"""

from __future__ import annotations

from typing import Any, Protocol

from junction.server.dashboard import api
from junction.server.dashboard.static import Assets
from junction.server.dashboard.ui import Dashboard


class AddRoute(Protocol):
    def __call__(
        self, method: str, paths: tuple[str, ...], handler: Any, *, public: bool = ...
    ) -> None: ...


def add_routes(add: AddRoute) -> None:
    """The dashboard endpoints under ``/admin`` (the master key, as a bearer
    token) and the UI under ``/ui`` (its own session cookie)."""
    for method, path, handler in api.ROUTES:
        add(method, (path,), handler)
    ui = Dashboard(Assets.load())
    add("GET", ("/ui", "/ui/"), ui.page, public=True)
    add("GET", ("/ui/static/{name}",), ui.file, public=True)
    add("GET", ("/ui/session",), ui.whoami, public=True)
    add("POST", ("/ui/login",), ui.login, public=True)
    add("POST", ("/ui/logout",), ui.logout, public=True)
    add("GET", ("/ui/chart/{name}.svg",), ui.chart, public=True)
    for method in ("GET", "POST", "PATCH", "DELETE"):
        add(method, ("/ui/api/{path}",), ui.proxy, public=True)


__all__ = ["add_routes"]
