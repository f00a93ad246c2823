"""The web apps' API client is generated from the committed OpenAPI spec; both must
follow the API (``make web-client`` regenerates them). API drift broke peers'
dashboards before: this fails first."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kraken_market.web.spec import openapi_document, render

WEB = Path(__file__).resolve().parents[2] / "web"
SPEC = WEB / "packages" / "api" / "openapi.json"
SCHEMA = WEB / "packages" / "api" / "src" / "schema.d.ts"


def test_the_committed_spec_is_the_apis() -> None:
    assert SPEC.read_text(encoding="utf-8") == render(openapi_document()), (
        "the API changed: run `make web-client` and commit web/packages/api"
    )


def test_the_committed_client_is_generated_from_the_committed_spec(tmp_path: Path) -> None:
    generator = WEB / "node_modules" / ".bin" / "openapi-typescript"
    if not generator.exists():
        pytest.fail("web/node_modules is missing: make test installs it (npm ci in web/)")
    out = tmp_path / "schema.d.ts"
    subprocess.run(
        [str(generator), str(SPEC), "-o", str(out)], cwd=WEB, check=True, capture_output=True
    )
    assert out.read_text(encoding="utf-8") == SCHEMA.read_text(encoding="utf-8"), (
        "web/packages/api/src/schema.d.ts is not what openapi-typescript makes of the spec: "
        "run `make web-client`"
    )
