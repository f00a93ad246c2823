"""The wallet app's browser tests: one real platform for them all (``kraken-market
up`` on free ports, serving the built ``web/dist``), Debian's Chromium through
Playwright, pages that fail the test on any console or page error, and axe-core.

Kept apart from the marketplace's browser harness (tests/e2e/browser) so that the two
can grow without stepping on each other; tests/conftest.py runs this folder as its
own xdist group ("wallet")."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import segno
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)

from kraken_market.platform.report import PlatformInfo
from tests.e2e.test_platform import free_ports
from tests.e2e.test_up import start

REPOSITORY = Path(__file__).resolve().parents[3]
WEB = REPOSITORY / "web"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
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
PASSPHRASE = "correct horse battery staple"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
REPORT_REJECTIONS = """addEventListener("unhandledrejection", (event) =>
  console.error("unhandled rejection: " + String(event.reason)));"""


@dataclass
class Platform:
    info: PlatformInfo
    env: dict[str, str]
    home: Path

    @property
    def url(self) -> str:
        return self.info.api.url

    @property
    def depute(self) -> str:
        return self.info.depute.url


def build_web() -> None:
    """The apps as the API serves them (``npm run build``, a few seconds), unless the
    build is newer than every source: other platform tests may be serving web/dist
    meanwhile, and a rebuild empties it first."""
    built = [WEB / "dist" / app / "index.html" for app in ("marketplace", "wallet")]
    sources = [f for d in (WEB / "apps", WEB / "packages") for f in d.rglob("*") if f.is_file()]
    sources = [f for f in sources if "test" not in f.parts and "node_modules" not in f.parts]
    newest = max(f.stat().st_mtime for f in [*sources, WEB / "package-lock.json"])
    if all(b.is_file() and b.stat().st_mtime > newest for b in built):
        return
    if not (WEB / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True, timeout=300)
    subprocess.run(["npm", "run", "build"], cwd=WEB, check=True, timeout=300, capture_output=True)


def platform_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
    base = free_ports(6)  # API, chain, Depute tool, 3 nodes
    env.update(
        KRAKEN_DATA_DIR=str(home / "data"),
        KRAKEN_API_PORT=str(base),
        KRAKEN_CHAIN_PORT=str(base + 1),
        KRAKEN_DEPUTE_PORT=str(base + 2),
        KRAKEN_NODE_BASE_PORT=str(base + 3),
        KRAKEN_NODE_MPC_BASE_PORT=str(random.randrange(10_000, 26_000, 1000)),
        KRAKEN_WALLET_PASSPHRASE=PASSPHRASE,
        KRAKEN_WEB_DIR=str(WEB / "dist"),
    )
    return env


@pytest.fixture(scope="package")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    if not CHROMIUM.is_file():
        pytest.skip(f"the wallet's browser tests need Debian's Chromium at {CHROMIUM}")
    build_web()
    home = tmp_path_factory.mktemp("wallet-platform")
    env = platform_env(home)
    up, info = start(env, timeout=180)
    try:
        yield Platform(info, env, home)
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
            up.communicate()


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


def launch(playwright: Playwright, *extra: str) -> Browser:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra])


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = launch(playwright)
    yield browser
    browser.close()


def qr_video(text: str, path: Path, width: int = 640, height: int = 480) -> Path:
    """A still video of ``text``'s QR code (YUV4MPEG2, 4:2:0) for Chromium's fake camera
    (``--use-file-for-fake-video-capture``): the wallet's scanner reads it like a phone's
    camera pointed at a screen."""
    code = segno.make(text, error="m")
    rows = list(code.matrix_iter(scale=1, border=4))
    scale = min(width, height) * 9 // 10 // len(rows)
    left, top = (width - len(rows) * scale) // 2, (height - len(rows) * scale) // 2
    luma = bytearray([235]) * (width * height)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (top + y * scale + dy) * width + left + x * scale
                    luma[start : start + scale] = bytes([16]) * scale
    chroma = bytes([128]) * (width // 2 * height // 2 * 2)
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + (b"FRAME\n" + bytes(luma) + chroma) * 3)
    return path


class Watched:
    """A page whose console errors and page errors are collected; `check()` fails on any."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        self.allowed: list[re.Pattern[str]] = []
        page.set_default_timeout(20_000)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "assert"):
            where = message.location.get("url", "")
            self.problems.append(f"console {message.type}: {message.text} ({where})")

    def check(self) -> None:
        unexpected = [p for p in self.problems if not any(a.search(p) for a in self.allowed)]
        assert not unexpected, "the page reported errors:\n" + "\n".join(unexpected)


def open_context(browser: Browser, platform: Platform, phone: bool = False) -> BrowserContext:
    viewport = PHONE if phone else DESKTOP
    context = browser.new_context(
        base_url=platform.url,
        viewport=viewport,
        is_mobile=phone,
        has_touch=phone,
        accept_downloads=True,
    )
    context.add_init_script(REPORT_REJECTIONS)
    return context


@pytest.fixture(scope="module")
def wallet_context(browser: Browser, platform: Platform) -> Iterator[BrowserContext]:
    """One browser profile whose wallet the module's tests build up step by step."""
    context = open_context(browser, platform)
    yield context
    context.close()


@pytest.fixture
def watched(wallet_context: BrowserContext) -> Iterator[Watched]:
    page = Watched(wallet_context.new_page())
    yield page
    page.page.close()
    page.check()


def check_accessibility(page: Page) -> None:
    """axe-core in the page (evaluated: a script tag would be refused by the CSP); fails
    on serious or critical violations of WCAG 2.1 A/AA and best practices."""
    if page.evaluate("typeof window.axe") == "undefined":
        page.evaluate(AXE.read_text())
    results: dict[str, Any] = page.evaluate(
        """() => axe.run(document, {runOnly: {type: "tag", values: [
            "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})"""
    )
    serious = [
        {"rule": v["id"], "help": v["help"], "where": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, json.dumps(serious, indent=2)


def cli(platform: Platform, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "kraken_market", *args],
        env=platform.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
