"""The wallet app's browser tests, on the browser tests' one platform
(tests/e2e/browser/conftest.py: ``kraken-market up`` serving the built apps, Debian's
Chromium through Playwright, axe-core): profiles built up step by step, pages on a
phone or a desktop, and a QR code shown to Chromium's fake camera."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import segno
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, ViewportSize

from kraken_market.platform.report import PlatformInfo
from tests.e2e.browser.conftest import REPORT_REJECTIONS, check_accessibility, launch
from tests.e2e.browser.seed import Seeded
from tests.e2e.test_platform import PASSPHRASE

__all__ = ["PASSPHRASE", "check_accessibility", "launch"]

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@dataclass
class Platform:
    info: PlatformInfo
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.info.api.url

    @property
    def depute(self) -> str:
        return self.info.depute.url


@pytest.fixture(scope="package")
def platform(seeded: Seeded) -> Platform:
    """The browser tests' platform, as the wallet's tests see it."""
    assert seeded.info is not None
    return Platform(seeded.info, seeded.env)


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
