"""The dashboard in headless Chromium against the live gateway: sign in, every
page shows what the admin API says, a key is created (its secret shown once)
and revoked, the log is filtered, paged through thousands of rows and opened
on one request; no console errors; labels, alt text, contrast and keyboard use
checked. Each page's screenshot is saved (tests/ui/_ui_browser.py: SHOTS)."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator

import httpx
import pytest

from _ui_browser import Browser, browser_session
from _ui_stack import MASTER, Stack, Traffic


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from browser_session()


@pytest.fixture
def page(browser: Browser, stack: Stack, traffic: Traffic) -> Iterator[Browser]:
    """The signed-in browser; after the test, no console error may be left."""
    if not browser.js(
        "return !!document.getElementById('top') && !document.getElementById('top').hidden"
    ):
        _sign_in(browser, stack.url)
    browser.console_errors()
    yield browser
    assert browser.console_errors() == []


def _sign_in(browser: Browser, url: str) -> None:
    browser.driver.get(f"{url}/ui/")
    key = browser.css("#master-key")
    key.send_keys(MASTER)
    browser.css("#login button[type=submit]").click()
    browser.rendered("overview")


def _hour_end() -> int:
    return math.ceil(time.time() / 3600) * 3600


def _tile(browser: Browser, name: str) -> str:
    return str(browser.css(f'[data-tile="{name}"] .value').text)


def test_sign_in_refuses_a_wrong_key_then_opens_the_overview(
    browser: Browser, stack: Stack, traffic: Traffic
) -> None:
    browser.driver.get(f"{stack.url}/ui/")
    browser.css("#master-key").send_keys("sk-not-the-key")
    browser.css("#login button[type=submit]").click()
    browser.wait(lambda d: browser.css("#login-error").text, "the login error")
    assert "key" in browser.css("#login-error").text.lower()
    assert MASTER not in browser.driver.current_url
    browser.console_errors()  # the refused sign-in's 401 is expected
    browser.css("#master-key").send_keys(MASTER)
    browser.css("#login button[type=submit]").click()
    browser.rendered("overview")
    # The key is nowhere the page can read: not in storage, not in a cookie.
    seen = browser.js(
        "return JSON.stringify([document.cookie, {...sessionStorage}, {...localStorage}])"
    )
    assert MASTER not in seen
    assert "junction_ui" not in seen
    assert browser.console_errors() == []


def test_overview_shows_the_spend_rollup_and_latency(
    page: Browser, stack: Stack, traffic: Traffic
) -> None:
    end = _hour_end()
    for name, seconds, group in (("24h", 86400, "hour"), ("7d", 7 * 86400, "hour")):
        page.open(f"{stack.url}/ui/#/overview?range={name}&by=team", "overview")
        params = {"group_by": group, "by": "team", "start": end - seconds, "end": end}
        with stack.admin() as c:
            spend = c.get("/admin/spend", params=params).json()["data"]
            latency = c.get("/admin/latency", params={"start": end - seconds, "end": end}).json()
        assert _tile(page, "requests") == f"{sum(r['requests'] for r in spend):,}"
        assert _tile(page, "tokens") == f"{sum(r['total_tokens'] for r in spend):,}"
        assert _tile(page, "latency-p50") == f"{latency['latency_ms']['p50']:,.0f} ms"
        charts = page.all("img[data-chart]")
        assert len(charts) == 5
        assert all(page.js("return arguments[0].naturalWidth", img) > 0 for img in charts)
        cells = [c.text for c in page.all("table tbody tr td:first-child")]
        assert traffic.team in cells
        page.shot(f"overview-{name}")
    assert "Last 7 days" in page.css("#range option:checked").text


def test_providers_show_each_endpoint_and_the_open_circuit(page: Browser, stack: Stack) -> None:
    page.open(f"{stack.url}/ui/#/providers", "providers")
    rows = {r.find_element("css selector", "td").text: r for r in page.all("table tbody tr")}
    assert set(rows) == {"cheap", "strong", "broken"}
    assert "open" in rows["broken"].text
    assert "closed" in rows["cheap"].text
    assert "100%" in rows["cheap"].text
    assert "5 recent" in rows["broken"].text  # its failed attempts, linked
    page.shot("providers")


def test_routing_shows_savings_shares_and_the_shadow(
    page: Browser, stack: Stack, traffic: Traffic
) -> None:
    page.open(f"{stack.url}/ui/#/routing", "routing")
    end = _hour_end()
    with stack.admin() as c:
        view = c.get("/admin/routing", params={"start": end - 86400, "end": end}).json()
    auto = page.css('section[data-router="auto"]')
    saved = view["results"]["auto"]["savings"]
    assert f"${saved:,.6g}"[:6] in auto.find_element("css selector", '[data-tile="savings"]').text
    watch = page.css('section[data-router="watch"]')
    assert "shadow" in watch.text
    assert "Agreement" in watch.text
    decisions = page.all("#decisions tbody tr")
    assert len(decisions) == len(view["decisions"]) == 10
    assert not page.all("#no-router")
    page.shot("routing")


def test_requests_filter_by_key_and_status_and_open_one(
    page: Browser, stack: Stack, traffic: Traffic
) -> None:
    page.open(f"{stack.url}/ui/#/requests", "requests")
    page.css("#f-key").send_keys(traffic.key_id)
    page.js("document.getElementById('main').removeAttribute('data-rendered')")
    page.css("#log-filters button[type=submit]").click()
    page.rendered("requests")
    rows = page.all("table tbody tr")
    assert len(rows) == traffic.requests
    assert all("dash-a" in r.text for r in rows)
    failed = stack.settled(key=traffic.key_id, model="broken")
    status = str(failed[0]["status"])
    page.css("#f-status").send_keys(status)
    page.js("document.getElementById('main').removeAttribute('data-rendered')")
    page.css("#log-filters button[type=submit]").click()
    page.rendered("requests")
    rows = page.all("table tbody tr")
    assert len(rows) == traffic.failed
    assert all(status in r.text for r in rows)
    page.shot("requests-filtered")
    link = rows[0].find_element("css selector", "a")
    wanted = link.text
    page.js("document.getElementById('main').removeAttribute('data-rendered')")
    link.click()
    page.rendered("requests-detail")
    fields = page.css("#request-fields").text
    assert wanted in fields
    assert "broken" in fields
    row = next(r for r in failed if r["id"] == wanted)
    attempts = page.all("table tbody tr")
    assert len(attempts) == len(row["attempts"]) >= 1
    assert row["attempts"][0]["endpoint"] in attempts[0].text
    page.shot("request-detail")


def test_requests_page_through_thousands_of_rows(page: Browser, stack: Stack) -> None:
    page.open(f"{stack.url}/ui/#/requests", "requests")
    first = [r.text for r in page.all("table tbody tr")]
    assert len(first) == 50
    page.js("document.getElementById('main').removeAttribute('data-rendered')")
    page.css("#older").click()
    page.rendered("requests")
    second = [r.text for r in page.all("table tbody tr")]
    assert len(second) == 50
    assert not set(first) & set(second)
    assert second[0].split(" UTC")[0] <= first[-1].split(" UTC")[0]  # older, in order
    page.js("document.getElementById('main').removeAttribute('data-rendered')")
    page.css("#newer").click()
    page.rendered("requests")
    assert [r.text for r in page.all("table tbody tr")] == first


def test_keys_create_shows_the_secret_once_then_revoke(page: Browser, stack: Stack) -> None:
    page.open(f"{stack.url}/ui/#/keys", "keys")
    page.css("#k-name").send_keys("made in the browser")
    page.css("#k-rpm").send_keys("7")
    page.css("#k-budget_usd").send_keys("3")
    page.css("#create-key button[type=submit]").click()
    secret = page.css("#new-secret").text
    assert re.fullmatch(r"sk-jx-[\w-]{43}", secret)
    page.shot("keys-secret")
    assert stack.chat(secret, "cheap") == 200  # the secret works
    page.css("#secret-done").click()
    page.wait(lambda d: not page.all("#new-secret"), "the secret is gone")
    assert secret not in page.driver.page_source
    page.open(f"{stack.url}/ui/#/keys?again=1", "keys")
    assert secret not in page.driver.page_source
    row = next(r for r in page.all("table tbody tr") if "made in the browser" in r.text)
    assert "rpm: 1 of 7" in row.text
    assert "budget:" in row.text
    page.shot("keys")
    row.find_element("css selector", "button[data-revoke]").click()
    page.css("button[data-confirm]").click()
    page.wait(
        lambda d: any(
            "made in the browser" in t and "revoked" in t for t in page.texts("table tbody tr")
        ),
        "the key shown revoked",
    )
    with httpx.Client(base_url=stack.url, timeout=30) as c:
        r = c.post(
            "/v1/chat/completions",
            headers={"authorization": f"Bearer {secret}"},
            json={"model": "cheap", "messages": [{"role": "user", "content": "hi"}]},
        )
    assert r.status_code == 401


CONTRAST = """
const lum = (c) => c.slice(0, 3).map((v) => {
  v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
const rgba = (s) => {
  const m = s.match(/[\\d.]+/g).map(Number);
  return m.length === 3 ? [...m, 1] : m;
};
const back = (el) => {
  for (let e = el; e; e = e.parentElement) {
    const c = rgba(getComputedStyle(e).backgroundColor);
    if (c[3] > 0.5) return c;
  }
  return [255, 255, 255, 1];
};
const bad = [];
for (const el of document.querySelectorAll("body *")) {
  if (!el.getClientRects().length) continue;
  if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
  const a = lum(rgba(getComputedStyle(el).color)), b = lum(back(el));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const text = el.textContent.trim().slice(0, 30);
  if (ratio < 4.5) bad.push(`${el.tagName} "${text}" ${ratio.toFixed(2)}`);
}
return bad;
"""
LABELS = """
return [...document.querySelectorAll("input, select, textarea")]
  .filter((el) => !el.labels.length && !el.getAttribute("aria-label"))
  .map((el) => el.id || el.name)
  .concat([...document.images].filter((i) => !i.alt).map((i) => i.src))
  .concat([...document.querySelectorAll("table")].filter((t) => !t.caption).map(() => "table"));
"""


@pytest.mark.parametrize("name", ["overview", "providers", "routing", "requests", "keys"])
def test_pages_have_labels_alt_text_and_contrast(page: Browser, stack: Stack, name: str) -> None:
    page.open(f"{stack.url}/ui/#/{name}?a11y=1", name)
    assert page.js(LABELS) == []
    assert page.js(CONTRAST) == []
    assert page.js("return document.documentElement.lang") == "en"


def test_keyboard_reaches_every_page_and_shows_focus(page: Browser, stack: Stack) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    for target in ("Providers", "Keys"):
        page.open(f"{stack.url}/ui/#/overview", "overview")
        page.driver.refresh()  # focus starts at the top of a fresh page
        page.rendered("overview")

        def tab() -> None:
            ActionChains(page.driver).send_keys(Keys.TAB).perform()

        tab()
        assert page.js("return document.activeElement.id") == "skip"
        for _ in range(12):
            tab()
            if page.js("return document.activeElement.textContent") == target:
                break
        assert page.js("return document.activeElement.textContent") == target
        assert page.js("return getComputedStyle(document.activeElement).outlineStyle") != "none"
        page.js("document.getElementById('main').removeAttribute('data-rendered')")
        ActionChains(page.driver).send_keys(Keys.ENTER).perform()
        page.rendered(target.lower())


def test_routing_says_when_no_router_is_configured(page: Browser, stack: Stack) -> None:
    # Cookies ignore the port: the same master key's session opens this gateway too.
    browser = page
    browser.open(f"{stack.bare_url}/ui/#/routing", "routing")
    assert "No router is configured" in browser.css("#no-router").text
    browser.shot("routing-no-router")
