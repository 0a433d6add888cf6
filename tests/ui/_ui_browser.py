"""Headless Chromium for the dashboard tests: Debian's ``chromium`` driven by
Selenium through Debian's ``chromium-driver`` (the same build, so they always
match; .ci/run installs both). Missing, the tests SKIP, and FAIL under CI=true."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _servers import in_ci

CHROMIUM = os.environ.get("JUNCTION_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("JUNCTION_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
SHOTS = Path(
    os.environ.get(
        "JUNCTION_UI_SCREENSHOTS", Path(__file__).resolve().parents[2] / "build/ui-screenshots"
    )
)
"""Where each page's screenshot is saved (the tests' artefacts)."""
WAIT = 30.0


def missing() -> str | None:
    """Why the browser cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(path) is None:
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


def skip_or_fail(reason: str) -> None:
    import pytest

    if in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


class Browser:
    """One Chromium for the session, with the few helpers the tests share."""

    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--window-size=1280,1600",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
        ):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(WAIT)

    def quit(self) -> None:
        self.driver.quit()

    def wait(self, condition: Callable[[Any], Any], what: str) -> Any:
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, WAIT, poll_frequency=0.05).until(condition, what)

    def css(self, selector: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.wait(lambda d: d.find_element(By.CSS_SELECTOR, selector), selector)

    def all(self, selector: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.driver.find_elements(By.CSS_SELECTOR, selector))

    def texts(self, selector: str) -> list[str]:
        """The visible text of each element matching ``selector`` (read in one go,
        so a table redrawn meanwhile cannot leave a stale element)."""
        found = self.js(
            "return [...document.querySelectorAll(arguments[0])].map((e) => e.innerText)",
            selector,
        )
        return [str(t) for t in found]

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def rendered(self, page: str) -> None:
        """Wait until the page ``page`` has drawn, and check it drew no error."""
        self.wait(
            lambda d: (
                d.execute_script("return document.getElementById('main').dataset.rendered") == page
            ),
            f"page {page} rendered",
        )
        error = self.js(
            "const e = document.getElementById('page-error'); return e && e.textContent"
        )
        assert not error, f"{page}: {error}"
        self.wait(
            lambda d: d.execute_script("return [...document.images].every((i) => i.complete)"),
            "images loaded",
        )

    def open(self, url: str, page: str) -> None:
        self.js("document.getElementById('main')?.removeAttribute('data-rendered')")
        self.driver.get(url)
        self.rendered(page)

    def console_errors(self) -> list[str]:
        """Console errors since the last call (Chromium's SEVERE entries)."""
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        height = self.js("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1280, min(max(int(height), 800), 6000))
        self.driver.save_screenshot(str(path))
        return path


def browser_session() -> Iterator[Browser]:
    reason = missing()
    if reason is not None:
        skip_or_fail(reason)
    browser = Browser()
    try:
        yield browser
    finally:
        browser.quit()
