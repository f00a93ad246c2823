"""@kraken/core in a real browser: the keystore worker starts and derives under the
API's page policy (CSP with Trusted Types, kraken_market.web.serving), which
`new Worker(url)` only passes through the policy the library makes
(web/packages/core/src/trustedWorker.ts).

The page (web/packages/core/test/browser) is built with Vite and served with the
API's own headers; Debian's Chromium runs it (make test installs it).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kraken_market.web.serving import page_headers

WEB = Path(__file__).resolve().parents[2] / "web"
PAGE = WEB / "packages" / "core" / "test" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _PageHandler(SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        for name, value in page_headers([]).items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    npx = shutil.which("npx")
    if npx is None or not (WEB / "node_modules").is_dir() or not CHROMIUM.exists():
        pytest.fail("needs npx, web/node_modules and /usr/bin/chromium: make test installs them")
    out = tmp_path_factory.mktemp("core-page")
    build = subprocess.run(
        [npx, "vite", "build", str(PAGE), "--outDir", str(out), "--emptyOutDir", "--logLevel=warn"],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_PageHandler, directory=str(out))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_the_keystore_worker_runs_under_the_pages_policy(page_url: str) -> None:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            response = page.goto(page_url)
            assert response is not None
            assert "trusted-types kraken-worker" in response.headers["content-security-policy"]
            text = "pending"
            deadline = time.monotonic() + 30
            # polled from here: the page's policy forbids the eval wait_for_function uses
            while text == "pending" and time.monotonic() < deadline:
                time.sleep(0.1)
                text = page.text_content("#out") or ""
        finally:
            browser.close()
    assert text.startswith("ok did:key:z6Mk"), (text, errors)
    assert errors == []
