"""SMPC compute benchmarks (3 local MPC processes on this machine), used by bench/smpc.py.

(3) End to end: mean and standard deviation of ``rows`` x ``columns`` values,
from shares already in storage to the buyer's DataFrame: 3 worker processes
start, verify the manifest, fetch and decrypt their share files, compute with
MPyC, seal their result shares to the buyer; the buyer decrypts, recombines and
divides. Baseline: numpy ``mean`` and ``std`` (ddof=1) of the same float64
array in memory (and, for reference, pandas reading the Parquet file first).

(4) Secure comparisons per second inside our min, max and median (range-aware
bit lengths from the schema's declared bounds) against MPyC doing the same with
its own secure-array comparison (``np_amin``, ``np_amax``, ``np_sort``) on the
same loaded shares, in the same session, one right after the other.

(5) Linear regression (both catalogue functions) over 100,000 rows x 10 features, end
to end, side by side with statsmodels' OLS on the same array: time and differences.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kraken_market.catalog.schemas import DataSchema
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.local import free_ports, run_local
from kraken_market.smpc.node import runner
from kraken_market.smpc.node.identity import write_private
from kraken_market.smpc.node.worker import ProductInput, WorkerJob
from kraken_market.smpc.owner import share_file

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = "0x" + "bf" * 32


def _shared(tmp: Path, frame: pd.DataFrame, bounds: tuple[float, float]) -> tuple[Any, ...]:
    schema = DataSchema.model_validate(
        {
            "columns": [
                {"name": c, "type": "numeric", "min": bounds[0], "max": bounds[1]}
                for c in frame.columns
            ]
        }
    )
    frame.to_parquet(tmp / "data.parquet")
    keys = [NodeKeyPair.generate() for _ in range(3)]
    owner = Ed25519PrivateKey.generate()
    started = time.perf_counter()
    signed = share_file(
        tmp / "data.parquet", PRODUCT, schema, [k.public_key for k in keys], _storage(tmp), owner
    )
    sharing = time.perf_counter() - started
    name = f"{PRODUCT}/{signed.manifest.share_set}/manifest.jws"
    product = ProductInput(product_id=PRODUCT, manifest=name, owner=signed.manifest.owner)
    return keys, product, sharing


def _storage(tmp: Path) -> Any:
    from kraken_market.smpc.storage import LocalDirectory

    return LocalDirectory(tmp / "store")


def end_to_end(rows: int, columns: int, rounds: int = 1) -> dict[str, Any]:
    rng = np.random.default_rng(4)
    values = rng.normal(100, 30, (rows, columns)).round(4).clip(-1000, 1000)
    frame = pd.DataFrame(values, columns=[f"c{j}" for j in range(columns)])
    names = list(frame.columns)
    specs = [
        ComputationSpec(function="mean@1", columns=names, min_cohort=10),
        ComputationSpec(function="std@1", columns=names, min_cohort=10),
    ]
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        keys, product, sharing = _shared(tmp, frame, (-1000.0, 1000.0))
        ours, timings = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            results, outcomes = run_local(
                tmp / "work", tmp / "store", keys, [product], specs, NodeKeyPair.generate()
            )
            ours.append(time.perf_counter() - started)
            timings.append(
                outcomes[0]["timings"]
                | {"compute": sum(r["seconds"] for r in outcomes[0]["results"])}
            )
        numpy_runs, pandas_runs = [], []
        for _ in range(max(3, rounds)):
            started = time.perf_counter()
            mean, std = values.mean(axis=0), values.std(axis=0, ddof=1)
            numpy_runs.append(time.perf_counter() - started)
            started = time.perf_counter()
            read = pd.read_parquet(tmp / "data.parquet")
            read.mean(), read.std()
            pandas_runs.append(time.perf_counter() - started)
    assert results[0].table is not None
    assert results[1].table is not None
    error = max(
        np.abs(results[0].table.to_numpy()[0] - mean).max(),
        np.abs(results[1].table.to_numpy()[0] - std).max(),
    )
    best, base = min(ours), min(numpy_runs)
    return {
        "rows": rows,
        "columns": columns,
        "owner_sharing_s": sharing,
        "seconds": best,
        "worker": timings[ours.index(best)],
        "numpy_s": base,
        "pandas_parquet_s": min(pandas_runs),
        "ratio": best / base,
        "ratio_vs_pandas_parquet": best / min(pandas_runs),
        "max_abs_error": float(error),
    }


def comparisons(rows: int, median_rows: int, rounds: int = 3) -> dict[str, Any]:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"x": rng.normal(5000, 1500, rows).round(2).clip(0, 10000)})
    specs = [ComputationSpec(function=f, columns=["x"]) for f in ("min@1", "max@1", "median@1")]
    sizes = {"min": rows, "max": rows, "median": median_rows, "rounds": rounds}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        keys, product, _ = _shared(tmp, frame, (0.0, 10000.0))
        parties = [f"127.0.0.1:{p}" for p in free_ports(3)]
        running = []
        for i, key in enumerate(keys):
            write_private(tmp / f"key-{i}", key.private_bytes.hex())
            job = WorkerJob(
                request_id=PRODUCT,
                node_index=i,
                m=3,
                t=1,
                storage=str(tmp / "store"),
                key_file=str(tmp / f"key-{i}"),
                products=[product],
                computations=specs,
                result_key=keys[0].public_key.raw.hex(),
                out_dir=str(tmp / f"party-{i}"),
            )
            Path(job.out_dir).mkdir()
            (Path(job.out_dir) / "sizes.json").write_text(json.dumps(sizes))
            running.append(
                runner.launch(
                    job,
                    parties,
                    cwd=ROOT,
                    ssl=False,
                    timeout=3600,
                    module="bench.smpc_compare_party",
                )
            )
        reports = [runner.wait(r) for r in running]
    report = reports[0]
    assert "error" not in report, reports
    less = report["mpyc_np_less"]
    result: dict[str, Any] = {
        "rows": rows,
        "median_rows": median_rows,
        "mpyc_np_less_per_s": less["comparisons"] / less["seconds"],
        "our_less_per_s": report["our_less"]["comparisons"] / report["our_less"]["seconds"],
        "our_less_bits": report["our_less"]["bits"],
    }
    for name in ("min", "max", "median"):
        r = report[name]
        ours, theirs = r["comparisons"] / r["seconds"], r["mpyc_comparisons"] / r["mpyc_seconds"]
        result[name] = {**r, "per_s": ours, "mpyc_per_s": theirs, "ratio": ours / theirs}
    return result


def regression(rows: int, features: int) -> dict[str, Any]:
    """(5) OLS over ``rows`` x ``features`` (declared +-1000, intercept), end to end on 3
    MPC processes, each function in its own session, side by side with statsmodels on
    the same float64 array in memory: time, and the largest differences."""
    import statsmodels.api as sm  # type: ignore[import-untyped]

    rng = np.random.default_rng(6)
    x = rng.normal(0, 100, (rows, features)).clip(-1000, 1000).round(4)
    y = (x @ rng.normal(0, 1, features) / features + 7 + rng.normal(0, 50, rows)).round(4)
    names = [f"x{j}" for j in range(features)]
    frame = pd.DataFrame(x, columns=names).assign(y=y.clip(-1000, 1000))
    specs = {
        f: ComputationSpec(function=f, columns=names, params={"target": "y"})
        for f in ("linear_regression@1", "linear_regression_summary@1")
    }
    started = time.perf_counter()
    fit = sm.OLS(frame["y"], sm.add_constant(frame[names])).fit()
    reference = time.perf_counter() - started
    result: dict[str, Any] = {"rows": rows, "features": features, "statsmodels_s": reference}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        keys, product, _ = _shared(tmp, frame, (-1000.0, 1000.0))
        for name, spec in specs.items():
            started = time.perf_counter()
            results, outcomes = run_local(
                tmp / "work", tmp / "store", keys, [product], [spec], NodeKeyPair.generate()
            )
            seconds = time.perf_counter() - started
            table = results[0].table
            assert table is not None
            coef = table["coefficient" if name.startswith("linear_regression@") else "coef"]
            entry = {
                "seconds": seconds,
                "compute_s": outcomes[0]["results"][0]["seconds"],
                "max_abs_coef_error": float(np.abs(coef.to_numpy() - fit.params.to_numpy()).max()),
                "max_rel_coef_error": float(
                    (np.abs(coef.to_numpy() - fit.params.to_numpy()) / np.abs(fit.params)).max()
                ),
            }
            if "std err" in table:
                entry |= {
                    "max_rel_std_err_error": float(
                        np.abs(table["std err"].to_numpy() / fit.bse.to_numpy() - 1).max()
                    ),
                    "r_squared_error": abs(table.attrs["r_squared"] - fit.rsquared),
                    "residual_std_error_rel_error": abs(
                        table.attrs["residual_std_error"] / np.sqrt(fit.scale) - 1
                    ),
                }
            result[name] = entry
    return result
