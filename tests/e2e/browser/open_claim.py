"""A claim waiting for a ruling, made through the running platform's front doors as the
demo story makes its own (``story.hospital.claim_then_approve``): a new buyer computes a
count on the hospital's product, records the evidence statement and files the claim on
chain. Runs as ``python -m tests.e2e.browser.open_claim PRODUCT OUT_DIR`` in the
platform's environment; prints the purchase id."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.console import Console

from kraken_market.platform.report import PlatformInfo, platform_file
from kraken_market.settings import Settings
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.story.context import Story
from kraken_market.trade.results import compute_via_market

STATEMENT = "The counts do not match the ward's published admissions."


def main(product: str, out_dir: Path) -> int:
    settings = Settings()
    platform = PlatformInfo.model_validate_json(platform_file(settings.data_dir).read_text())
    story = Story(settings, platform, out_dir, Console(stderr=True))
    try:
        buyer = story.cast.actor("Clara", category="company", country="DE")
        spec = ComputationSpec(function="count@1", columns=["age"])
        rid = story.request_id()
        compute_via_market(
            buyer.api, buyer.ledger, spec, [product], "research", rid, story.keys_dir
        )
        bought = buyer.ledger.computation(rid)
        assert bought is not None
        digest = buyer.api.claim_evidence(bought.purchase_id, product, STATEMENT)
        buyer.ledger.file_claim(bought.purchase_id, product, bytes.fromhex(digest[2:]))
        story.wait_indexed(lambda: story.admin_api.chain_state(product)["claims"]["open"] > 0)
        return bought.purchase_id
    finally:
        story.close()


if __name__ == "__main__":
    print(json.dumps({"purchase_id": main(sys.argv[1], Path(sys.argv[2]))}))
