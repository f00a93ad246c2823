"""An owner's share files loaded into a real 3-party MPyC computation (3 processes)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kraken_market.catalog.schemas import DataSchema
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.owner import share_file
from kraken_market.smpc.storage import LocalDirectory

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = "0x" + "5e" * 32


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def test_three_mpyc_parties_sum_a_shared_column(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = pd.DataFrame(
        {
            "income": rng.normal(2500, 900, 5000).round(2),
            "region": rng.choice(["north", "south"], 5000),
        }
    )
    data.loc[::7, "income"] = np.nan
    data.to_parquet(tmp_path / "data.parquet")
    schema = DataSchema.model_validate(
        {
            "columns": [
                {"name": "income", "type": "numeric", "nullable": True},
                {"name": "region", "type": "categorical", "categories": ["north", "south"]},
            ]
        }
    )
    keys = [NodeKeyPair.generate() for _ in range(3)]
    owner = Ed25519PrivateKey.generate()
    storage = LocalDirectory(tmp_path / "store")
    signed = share_file(
        tmp_path / "data.parquet", PRODUCT, schema, [k.public_key for k in keys], storage, owner
    )
    manifest_name = f"{PRODUCT}/{signed.manifest.share_set}/manifest.jws"
    parties = [arg for port in free_ports(3) for arg in ("-P", f"127.0.0.1:{port}")]
    processes = []
    for i, key in enumerate(keys):
        key_file = tmp_path / f"node-{i}.key"
        key_file.write_text(key.private_bytes.hex())
        command = [sys.executable, "-m", "tests.smpc.mpc_party", *parties, "-I", str(i)]
        command += ["--no-log", "--storage", str(tmp_path / "store"), "--manifest", manifest_name]
        command += ["--owner", signed.manifest.owner, "--product", PRODUCT]
        command += ["--key", str(key_file), "--column", "income"]
        processes.append(
            subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        )
    outputs = []
    try:
        for process in processes:
            stdout, stderr = process.communicate(timeout=60)
            assert process.returncode == 0, stderr.decode()[-2000:]
            outputs.append(json.loads(stdout.decode().strip().splitlines()[-1]))
    finally:
        for process in processes:
            process.kill()
    expected = float(data.income.sum())  # NaN (missing) is shared as 0
    assert [o["party"] for o in outputs] == [0, 1, 2]
    for output in outputs:
        assert abs(output["sum"] - expected) < 1e-6
