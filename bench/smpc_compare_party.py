"""One MPC party of the comparison benchmark (run by bench/smpc_compute.py, 3 processes).

In one MPyC session, on the same loaded share column (``SecFxp(64, 32)``
arrays), each function of ours right after MPyC's own way of doing it with its
secure-array comparison at the default bit length: ``np_amin``, ``np_amax``
(tournaments of ``a < b``) and ``np_sort`` (Batcher's odd-even merge network)
for the median; plus one plain ``a < b`` over half the rows for reference, MPyC's
at its default bit length and ours at the declared range's.

Comparisons are counted as MPyC makes them for the task, on both sides: n - 1
for min and max, the comparators of ``np_sort``'s network for the median (our
median selects instead of sorting and makes far fewer, smaller comparisons, so
"per second" there means the same task's MPyC comparisons; the ratio is MPyC's
time over ours). Our own count of secure comparisons is reported beside it.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from kraken_market.smpc.functions.evaluate import evaluate
from kraken_market.smpc.functions.mpc_base import Context
from kraken_market.smpc.functions.plan import bits_for, plan
from kraken_market.smpc.node.worker import WorkerJob, load_tables


async def _mpyc(mpc: Any, name: str, x: Any) -> int:
    """MPyC's own operation for ``name`` on the same array; the comparisons it makes."""
    n = int(x.shape[0])
    if name == "min":
        await mpc.output(mpc.np_amin(x))
        return n - 1
    if name == "max":
        await mpc.output(mpc.np_amax(x))
        return n - 1
    if name == "median":
        await mpc.output(mpc.np_sort(x)[n // 2])
        return network_comparisons(n)
    half = n // 2
    await mpc.output((x[:half] < x[half : 2 * half]).sum())
    return half


def network_comparisons(n: int) -> int:
    """Comparators of Batcher's odd-even merge network on n items, as ``np_sort`` runs it."""
    count, t = 0, (n - 1).bit_length()
    p = 1 << (t - 1) if n > 1 else 0
    while p:
        d, q, r = p, 1 << (t - 1), 0
        while d:
            count += sum(1 for i in range(n - d) if i & p == r)
            d, q, r = q - p, q >> 1, p
        p >>= 1
    return count


async def session(mpc: Any, job: WorkerJob, sizes: dict[str, int]) -> dict[str, Any]:
    tables, shapes = load_tables(job)
    await mpc.start()
    report: dict[str, Any] = {}
    for spec in job.computations:
        name = spec.function.split("@")[0]
        rows = sizes[name]
        cut = [type(tables[0])(tables[0].columns, tables[0].elements[:, :rows])]
        planned = plan(spec, [(shapes[0][0], shapes[0][1], rows)])
        x = Context(mpc, planned, cut).load(planned.columns[0].share)
        ours, theirs = [], []
        for _ in range(sizes["rounds"]):  # alternating, so machine noise hits both alike
            started = time.perf_counter()
            baseline = await _mpyc(mpc, name, x)
            theirs.append(time.perf_counter() - started)
            started = time.perf_counter()
            evaluation = await evaluate(mpc, planned, cut)
            ours.append(time.perf_counter() - started)
        report[name] = {
            "rows": rows,
            "comparisons": baseline,
            "secure_comparisons": evaluation.comparisons,
            "seconds": statistics.median(ours),
            "mpyc_comparisons": baseline,
            "mpyc_seconds": statistics.median(theirs),
        }
    ctx = Context(mpc, planned, cut)
    x = ctx.load(planned.columns[0].share)
    started = time.perf_counter()
    report["mpyc_np_less"] = {
        "comparisons": await _mpyc(mpc, "less", x),
        "seconds": time.perf_counter() - started,
    }
    half = int(x.shape[0]) // 2
    low, high = planned.columns[0].span()
    bits = bits_for(high - low)
    started = time.perf_counter()
    await mpc.output(ctx.less_than_zero(x[:half] - x[half : 2 * half], bits).sum())
    report["our_less"] = {"comparisons": half, "bits": bits,
                          "seconds": time.perf_counter() - started}  # fmt: skip
    await mpc.shutdown()
    return report


def main() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from mpyc.runtime import mpc  # type: ignore[import-untyped]

    job = WorkerJob.model_validate_json(Path(sys.argv[1]).read_text())
    sizes = json.loads((Path(job.out_dir) / "sizes.json").read_text())
    report = mpc.run(session(mpc, job, sizes))
    (Path(job.out_dir) / "outcome.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main()
