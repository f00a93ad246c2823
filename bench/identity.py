"""Identity benchmark: login verifications per second against raw Ed25519 verifications.

A login verification is what ``POST /api/v1/auth/login`` does before it writes
the session: the holder's presentation signature (vp+jwt) and the
PersonCredential's signature (vc+jwt), audience, lifetime, JSON Schema of the
credential, trusted issuer, holder = subject, and the credential's status bit
read from the platform's own registry in a SQLite database (the list version
is queried on every check, as in the API). The nonce is consumed in memory
here (the API does it with one UPDATE). In the same run, raw Ed25519
verifications (``cryptography``) of a 64-byte message give the ceiling: a
login needs two signature checks, so at most half the raw rate. Rounds
alternate so machine noise hits both. Target: logins >= 40% of that ceiling.

    .venv/bin/python -m bench.identity [--logins 2000] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console
from rich.table import Table

from kraken_market.db.engine import make_engine, make_session_factory
from kraken_market.db.migrate import upgrade
from kraken_market.identity import presentations
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.keys import DidKey
from kraken_market.identity.platform import IdentityPlatform
from kraken_market.settings import Settings


def raw_rate(n: int) -> float:
    key = Ed25519PrivateKey.generate()
    public, message = key.public_key(), b"m" * 64
    signature = key.sign(message)
    started = time.perf_counter()
    for _ in range(n):
        public.verify(signature, message)
    return n / (time.perf_counter() - started)


def login_rate(platform: IdentityPlatform, n: int) -> float:
    issuer = platform.demo_issuer
    assert issuer is not None
    holders = [DidKey.generate() for _ in range(50)]
    credentials = [
        issuer.issue(
            CredentialType.PERSON, {"id": h.did, "name": "Bench"}, registry_url=platform.base_url
        )
        for h in holders
    ]
    tokens = [
        presentations.present(
            holders[i % 50],
            [credentials[i % 50]],
            audience=platform.base_url,
            nonce=f"n{i}-{time.time_ns()}",
        )
        for i in range(n)
    ]
    used: set[str] = set()

    def consume(nonce: str) -> None:
        if nonce in used:
            raise RuntimeError("replayed")
        used.add(nonce)

    now = datetime.now(UTC)
    started = time.perf_counter()
    for token in tokens:
        platform.verifier.verify(token, now=now, consume_nonce=consume)
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    console = Console(stderr=args.json)
    with tempfile.TemporaryDirectory(prefix="kraken-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp), environment="development")
        engine = make_engine(settings.resolved_database_url)
        upgrade(engine)
        platform = IdentityPlatform(settings, make_session_factory(engine))
        platform.publish_demo_list()
        raw, logins = [], []
        for _ in range(args.rounds):
            raw.append(raw_rate(args.logins * 2))
            logins.append(login_rate(platform, args.logins))
        engine.dispose()
    raw_s, login_s = statistics.median(raw), statistics.median(logins)
    ceiling = raw_s / 2
    result = {
        "raw_ed25519_verify_per_s": round(raw_s),
        "ceiling_logins_per_s": round(ceiling),
        "login_verifications_per_s": round(login_s),
        "ratio_to_ceiling": round(login_s / ceiling, 3),
        "target": 0.4,
    }
    if args.json:
        print(json.dumps(result))
        return
    table = Table(title="Login verification (median of rounds)")
    for column in ("measure", "per second", "ratio"):
        table.add_column(column)
    table.add_row("raw Ed25519 verify", f"{raw_s:,.0f}", "")
    table.add_row("ceiling (raw / 2)", f"{ceiling:,.0f}", "1.00")
    table.add_row(
        "full login verification", f"{login_s:,.0f}", f"{login_s / ceiling:.2f} (target >= 0.40)"
    )
    console.print(table)


if __name__ == "__main__":
    main()
