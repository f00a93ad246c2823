"""The API's OpenAPI document, as committed in ``web/packages/api/openapi.json``.

The web apps' client (``web/packages/api/src/schema.d.ts``) is generated from that
file with openapi-typescript; ``tests/web/test_api_client.py`` fails when the API
and the committed file (or the file and the generated client) no longer agree.
Regenerate both with ``make web-client``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

SPEC_FILE = Path("web/packages/api/openapi.json")


def openapi_document() -> dict[str, Any]:
    """The spec of an app built on throw-away settings (the spec does not depend on them)."""
    from kraken_market.api.app import create_app
    from kraken_market.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data_dir=Path(tmp), environment="test"))
        return app.openapi()


def render(document: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indents, a final newline (small diffs)."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else SPEC_FILE
    target.write_text(render(openapi_document()), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
