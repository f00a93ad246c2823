"""Secure ``x < 0`` and bit decomposition on replicated bits
(``functions/mpc_compare.py``) on 3 real MPC processes: every bit length it serves at
its bounds and around zero, random values, odd sizes and shapes, fixed-point and
integer arrays, against the plain answer and MPyC's ``np_sgn`` on the same shares;
the low bits of values up to 2^90 in absolute value, negative ones included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from kraken_market.smpc.functions.mpc_compare import MAX_BITS, applies
from tests.smpc.test_mpc_select import close, run
from tests.smpc.test_mpyc_nodes import ROOT, free_ports


def test_less_than_zero_matches_the_plain_answer_and_mpyc(tmp_path: Path) -> None:
    parties = [arg for port in free_ports(3) for arg in ("-P", f"127.0.0.1:{port}")]
    command = [sys.executable, "-m", "tests.smpc.compare_party", *parties, "--no-log", "-I"]
    processes = [
        subprocess.Popen(
            [*command, str(i)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for i in range(3)
    ]
    try:
        outputs = [p.communicate(timeout=240) for p in processes]
    finally:
        for p in processes:
            p.kill()
    for p, (_, stderr) in zip(processes, outputs, strict=True):
        assert p.returncode == 0, stderr.decode()[-3000:]
    report = json.loads(outputs[0][0].decode().strip().splitlines()[-1])
    assert len(report) == 15
    for case in report:
        if case["kind"] == "bits":  # low bits of y, least significant first
            expected_bits = [[(v % (1 << case["bits"])) >> i & 1 for v in case["raw"]]
                             for i in range(case["bits"])]  # fmt: skip
            assert case["digits"] == expected_bits, case["bits"]
            continue
        expected = [1.0 if v < 0 else 0.0 for v in case["raw"]]
        assert case["ours"] == expected, (case["kind"], case["bits"])
        assert case["mpyc"] == expected
    assert [c["shape"] for c in report if c["bits"] == 40] == [[2, 5]]


def test_it_serves_three_nodes_with_threshold_one_and_prss_only() -> None:
    def runtime(parties: int = 3, threshold: int = 1, no_prss: bool = False) -> SimpleNamespace:
        options = SimpleNamespace(no_prss=no_prss, sec_param=30)
        return SimpleNamespace(parties=[0] * parties, threshold=threshold, options=options)

    assert applies(runtime(), 48)
    assert applies(runtime(), MAX_BITS) and not applies(runtime(), MAX_BITS + 1)
    assert not applies(runtime(), 1)
    assert not applies(runtime(parties=5, threshold=2), 48)
    assert not applies(runtime(no_prss=True), 48)


def test_five_nodes_keep_mpycs_comparisons_and_get_the_same_answers() -> None:
    """With five nodes (threshold 2) the replicated bits do not apply: min, max, the
    median and a numeric filter run on MPyC's ``np_sgn`` and its bit decomposition."""
    rng = np.random.default_rng(11)
    data = pd.DataFrame({"x": rng.integers(0, 1000, 21) / 10})
    columns = [{"name": "x", "type": "numeric", "min": 0, "max": 100}]
    specs = [{"function": f, "columns": ["x"], "min_cohort": 1}
             for f in ("min@1", "max@1", "median@1")]  # fmt: skip
    specs.append({"function": "count@1", "columns": ["x"], "min_cohort": 1,
                  "filter": {"column": "x", "op": ">", "value": 50}})  # fmt: skip
    lowest, highest, median, count = run(data, columns, specs, nodes=5)
    close(lowest, data.x.min(), 2**-30)
    close(highest, data.x.max(), 2**-30)
    close(median, data.x.median(), 1e-6)
    close(count, (data.x > 50).sum(), 0)
