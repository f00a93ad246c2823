"""One MPyC party of the share-file integration test (not a test module itself).

Run as ``python -m tests.smpc.mpc_party -P host:port (x m) -I i --no-log --storage DIR
--manifest NAME --owner DID --product ID --key FILE --column NAME``: the party
verifies the owner's manifest, checks and decrypts its own share file, loads
one column into a secure fixed-point array exactly as an owner-made sharing
(no ``mpc.input``) and opens the column's sum, printing it as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mpyc.runtime import mpc  # type: ignore[import-untyped]  # parses -P/-I, leaves the rest

from kraken_market.smpc.envelope import open_envelope
from kraken_market.smpc.field import P
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.manifest import check_share_file, verify_manifest
from kraken_market.smpc.share_format import parse
from kraken_market.smpc.storage import LocalDirectory


def main() -> None:
    parser = argparse.ArgumentParser()
    for option in ("--storage", "--manifest", "--owner", "--product", "--key", "--column"):
        parser.add_argument(option, required=True)
    args = parser.parse_args(sys.argv[1:])
    storage = LocalDirectory(Path(args.storage))
    manifest = verify_manifest(storage.read(args.manifest).decode(), args.owner, args.product)
    index = mpc.pid
    key = NodeKeyPair(bytes.fromhex(Path(args.key).read_text()))
    data = storage.read(manifest.file_for(index).name)
    check_share_file(manifest, index, data, key.public_key.fingerprint)
    shares = parse(open_envelope(data, key, args.product, index))
    secfxp = mpc.SecFxp(64, 32)
    assert secfxp.field.modulus == P, "MPyC picked another field"
    assert mpc.threshold == shares.header.t
    row = shares.column(args.column).to_ints()
    x = secfxp.array(secfxp.field.array(row), integral=False)

    async def run() -> None:
        await mpc.start()
        total = await mpc.output(x.sum())
        await mpc.shutdown()
        print(json.dumps({"party": index, "sum": float(total)}))

    mpc.run(run())


if __name__ == "__main__":
    main()
