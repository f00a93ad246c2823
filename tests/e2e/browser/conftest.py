"""The browser tests' harness: ONE real platform for all of them, the wallet app's in
wallet/ included (``kraken-market up`` on free ports in a temporary data directory,
serving the built web apps, seeded with real data through the CLI and the API),
Debian's Chromium driven by Playwright, a page per test that fails the test on any
console error, page error or unhandled promise rejection, and an axe-core check.

Chromium is ``/usr/bin/chromium`` (a tool's own browser download does not work here);
the flags keep it from reaching for the network on its own (see FINDINGS.md)."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from tests.conftest import IN_CI
from tests.e2e.browser.seed import Seeded, seed
from tests.e2e.test_platform import platform_environment
from tests.e2e.test_up import start

REPOSITORY = Path(__file__).resolve().parents[3]
WEB = REPOSITORY / "web"
SCREENSHOTS = REPOSITORY / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
# Assertions wait as long as actions (Playwright's expect waits 5 s by default): the
# suite shares two cores with every other worker, and a page that shows the right
# thing after 6 s is right. A wrong page still fails, 10 s later.
expect.set_options(timeout=10_000)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERIOUS = ("serious", "critical")

# Unhandled rejections are reported as console errors too, whatever the browser's
# own reporting does (the init script runs before the page's, outside its CSP).
REPORT_REJECTIONS = """
window.addEventListener("unhandledrejection", (event) => {
  console.error("unhandled rejection: " + String(event.reason));
});
"""


def built_sources_time() -> float:
    """When the oldest built app was written (0 if one is missing)."""
    pages = [WEB / "dist" / app / "index.html" for app in ("marketplace", "wallet")]
    return min((p.stat().st_mtime if p.is_file() else 0.0) for p in pages)


def sources_time() -> float:
    """When the apps' sources last changed."""
    roots = [WEB / "apps", WEB / "packages"]
    files = [f for r in roots for f in r.rglob("*") if f.is_file() and "test" not in f.parts]
    return max(f.stat().st_mtime for f in [*files, WEB / "package-lock.json"])


def build_web() -> Path:
    """``npm run build`` of the apps (``npm ci`` first on a fresh checkout), unless the
    build is newer than every source: 'make test' builds before the tests, and other
    platform tests serve the same web/dist meanwhile."""
    dist = WEB / "dist"
    if built_sources_time() > sources_time():
        return dist
    if shutil.which("npm") is None:
        pytest.fail("npm is needed to build the web apps") if IN_CI else pytest.skip("no npm")
    if not (WEB / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True, timeout=300)
    subprocess.run(["npm", "run", "build"], cwd=WEB, check=True, timeout=300, capture_output=True)
    return dist


@pytest.fixture(scope="package")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """The platform all browser tests share, with its data (started once, ~45 s)."""
    dist = build_web()
    home = tmp_path_factory.mktemp("browser-platform")
    env = platform_environment(home)
    env["KRAKEN_WEB_DIR"] = str(dist)
    up, info = start(env, timeout=120)
    try:
        yield replace(seed(env, info.api.url, home / "demo"), env=env, info=info)
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
            up.communicate()


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.is_file():
        message = f"the browser tests need Debian's Chromium at {CHROMIUM}"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = launch(playwright)
    yield browser
    browser.close()


def launch(playwright: Playwright, *extra: str) -> Browser:
    """Debian's Chromium with the harness's flags and ``extra`` ones (a fake camera)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra])


@pytest.fixture
def allowed_errors() -> list[re.Pattern[str]]:
    """Console errors a test expects (e.g. the browser reporting a 404 it asked for):
    append a pattern; anything else fails the test."""
    return []


@pytest.fixture
def page_problems() -> list[str]:
    """What the page reported so far (console errors, page errors, rejections)."""
    return []


@pytest.fixture
def page(
    browser: Browser,
    seeded: Seeded,
    allowed_errors: list[re.Pattern[str]],
    page_problems: list[str],
) -> Iterator[Page]:
    """A fresh page on the platform; the test fails on any console error, page error or
    unhandled rejection the page had, even if its assertions passed."""
    context = browser.new_context(base_url=seeded.url, viewport={"width": 1280, "height": 900})
    context.add_init_script(REPORT_REJECTIONS)
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems = page_problems

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "assert"):
            where = message.location.get("url", "")
            problems.append(f"console {message.type}: {message.text} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    yield page
    context.close()
    unexpected = [p for p in problems if not any(a.search(p) for a in allowed_errors)]
    assert not unexpected, "the page reported errors:\n" + "\n".join(unexpected)


AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"


def check_accessibility(page: Page) -> None:
    """axe-core on the page as it is: fails on any serious or critical violation (WCAG
    2.1 A/AA and best practices). axe is evaluated in the page (a script tag would be
    refused by the CSP, which stays on)."""
    if page.evaluate("typeof window.axe") == "undefined":
        page.evaluate(AXE.read_text())
    results: dict[str, Any] = page.evaluate(
        """() => axe.run(document, {runOnly: {type: "tag", values: [
            "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"
        ]}})"""
    )
    serious = [v for v in results["violations"] if v["impact"] in SERIOUS]
    described = [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "where": [n["target"] for n in v["nodes"]][:5],
        }
        for v in serious
    ]
    assert not serious, json.dumps(described, indent=2)


def screenshot(shown: Page | Locator, name: str) -> None:
    """Saves the page, or one part of it, for the README (docs/screenshots/NAME.png)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = str(SCREENSHOTS / f"{name}.png")
    if isinstance(shown, Locator):
        shown.screenshot(path=path)
    else:
        shown.screenshot(path=path, full_page=True)
