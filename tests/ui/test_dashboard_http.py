"""The dashboard's own routes over HTTP: the login and its cookie, the admin API
behind the cookie, what another site cannot do, the static files' headers and
the charts."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from _ui_stack import MASTER, Stack, Traffic
from junction.server.dashboard import charts, session

UI = {"x-junction-ui": "1"}


@contextmanager
def _signed_in(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=30) as c:
        r = c.post("/ui/login", json={"key": MASTER}, headers=UI)
        assert r.status_code == 200, r.text
        yield c


def test_login_sets_an_httponly_session_cookie_that_is_not_the_key(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as c:
        r = c.post("/ui/login", json={"key": MASTER}, headers=UI)
        cookie = r.headers["set-cookie"]
        assert re.match(r"junction_ui=v1\.\d+\.[\w-]+; ", cookie)
        for part in ("HttpOnly", "SameSite=Strict", "Path=/ui", "Max-Age=43200"):
            assert part in cookie
        assert MASTER not in cookie
        assert MASTER not in r.text
        assert r.headers["cache-control"] == "no-store"
        assert c.get("/ui/session").json()["authenticated"] is True
        assert c.get("/ui/api/admin/keys").status_code == 200
        # The cookie is scoped to /ui: the API doors never see it.
        assert c.get("/admin/keys").status_code == 401
        out = c.post("/ui/logout", headers=UI)
        assert "Max-Age=0" in out.headers["set-cookie"]
        assert c.get("/ui/session").json()["authenticated"] is False
        assert c.get("/ui/api/admin/keys").status_code == 401


def test_a_wrong_or_client_key_does_not_sign_in(stack: Stack, traffic: Traffic) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as c:
        assert c.post("/ui/login", json={"key": "sk-wrong"}, headers=UI).status_code == 401
        client = c.post("/ui/login", json={"key": traffic.key}, headers=UI)
        assert client.status_code == 403
        assert "set-cookie" not in client.headers
        bad = c.post("/ui/login", json={"secret": MASTER}, headers=UI)
        assert bad.status_code == 400
        assert bad.json()["error"]["param"] == "key"
        assert c.get("/ui/session").json() == {
            "authenticated": False,
            "expires_at": None,
            "master_key": True,
        }


def test_a_forged_or_expired_session_is_refused(stack: Stack) -> None:
    digest = stack.gateway.authenticator.master
    old, _ = session.new_token(digest, now=time.time() - session.LIFETIME - 5)
    fresh, _ = session.new_token(digest)
    forged = fresh[:-4] + ("AAAA" if not fresh.endswith("AAAA") else "BBBB")
    other, _ = session.new_token("another master key's digest")
    for token in (old, forged, other, "v1.9999999999.x", "junk"):
        with httpx.Client(base_url=stack.url, timeout=30, cookies={"junction_ui": token}) as c:
            assert c.get("/ui/api/admin/keys").status_code == 401, token
    with httpx.Client(base_url=stack.url, timeout=30, cookies={"junction_ui": fresh}) as c:
        assert c.get("/ui/api/admin/keys").status_code == 200


def test_another_site_cannot_change_anything(stack: Stack) -> None:
    with _signed_in(stack) as c:
        # A cross-site form can send neither the header nor this Origin.
        r = c.post("/ui/api/admin/keys", json={"name": "csrf"})
        assert r.status_code == 403
        r = c.post(
            "/ui/api/admin/keys",
            json={"name": "csrf"},
            headers={**UI, "origin": "http://evil.example"},
        )
        assert r.status_code == 403
        assert "csrf" not in {k["name"] for k in c.get("/ui/api/admin/keys").json()["data"]}
        assert c.post("/ui/login", json={"key": MASTER}).status_code == 403
        ok = c.post("/ui/api/admin/teams", json={"name": "same site"}, headers=UI)
        assert ok.status_code == 201
        assert ok.headers["cache-control"] == "no-store"
        assert c.get("/ui/api/admin/nothing").status_code == 404
        assert c.get("/ui/api/v1/models").status_code == 404  # only the admin API


def test_static_files_have_types_caching_and_a_strict_policy(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as c:
        page = c.get("/ui/")
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-cache"
        assert "<script>" not in page.text
        assert " style=" not in page.text
        assert c.get("/ui").text == page.text
        assert c.get("/ui/", headers={"if-none-match": page.headers["etag"]}).status_code == 304
        versioned = re.search(r'src="(/ui/static/app\.js\?v=\w+)"', page.text)
        assert versioned is not None
        js = c.get(versioned.group(1))
        assert js.headers["content-type"] == "text/javascript; charset=utf-8"
        assert js.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert c.get("/ui/static/app.js").headers["cache-control"] == "no-cache"
        assert c.get("/ui/static/style.css").headers["content-type"] == "text/css; charset=utf-8"
        assert c.get("/ui/static/favicon.svg").headers["content-type"] == "image/svg+xml"
        for path in ("/ui/static/index.html", "/ui/static/../dashboard/ui.py", "/ui/static/x"):
            assert c.get(path).status_code == 404, path


def test_charts_are_svg_of_the_figures_the_api_gives(stack: Stack, traffic: Traffic) -> None:
    end = int(time.time()) // 3600 * 3600 + 3600
    q = {"group_by": "hour", "by": "team", "start": end - 86400, "end": end, "team": traffic.team}
    with _signed_in(stack) as c:
        spend = c.get("/ui/api/admin/spend", params=q).json()["data"]
        r = c.get("/ui/chart/usage.svg", params={**q, "metric": "requests"})
        assert r.headers["content-type"] == "image/svg+xml"
        assert r.headers["content-security-policy"] == "default-src 'none'"
        svg = ET.fromstring(r.text)
        bars = [e for e in svg.iter("{http://www.w3.org/2000/svg}rect") if "data-value" in e.attrib]
        assert (
            sum(float(b.attrib["data-value"]) for b in bars)
            == sum(row["requests"] for row in spend)
            == traffic.requests
        )
        assert {b.attrib["data-series"] for b in bars} == {traffic.team}
        for name in ("latency", "routing"):
            extra = {"router": "auto"} if name == "routing" else {}
            one = c.get(f"/ui/chart/{name}.svg", params={"start": end - 86400, "end": end, **extra})
            assert one.status_code == 200
            assert ET.fromstring(one.text) is not None
        assert c.get("/ui/chart/usage.svg", params={**q, "metric": "x"}).status_code == 400
        assert c.get("/ui/chart/pie.svg").status_code == 404
    with httpx.Client(base_url=stack.url, timeout=30) as anon:
        assert anon.get("/ui/chart/latency.svg").status_code == 401


def test_chart_labels_are_escaped() -> None:
    evil = '<script>alert(1)</script>" onload="x'
    svg = charts.stacked_bars(evil, ["a", "b"], [(evil, [1.0, 2.0])], "$")
    tree = ET.fromstring(svg)  # well-formed
    assert not [e for e in tree.iter() if e.tag.endswith("script")]
    assert all("onload" not in e.attrib for e in tree.iter())
    assert evil in tree.findtext("{http://www.w3.org/2000/svg}title", "")
    line = charts.lines(evil, ["a"], [(evil, [None])])
    assert not [e for e in ET.fromstring(line).iter() if e.tag.endswith("script")]


@pytest.mark.parametrize(("top", "ticks"), [(0, [0, 1]), (7, [0, 2, 4, 6, 8]), (0.003, None)])
def test_nice_ticks(top: float, ticks: list[float] | None) -> None:
    got = charts.nice_ticks(top)
    assert got[0] == 0
    assert got[-1] >= top
    if ticks is not None:
        assert got == ticks
