"""Secure ``x < 0`` and bit decomposition on replicated bits
(``functions/mpc_compare.py``) on 3 real MPC processes: bit lengths from 2 to 63 at
their bounds and around zero, random values, odd sizes and shapes, fixed-point and
integer arrays, against the plain answer and MPyC's ``np_sgn`` on the same shares;
the low bits of values up to 2^90 in absolute value, negative ones included. And, in
one process, what the results cannot show: the AND gates' masks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from kraken_market.smpc.functions.mpc_compare import MAX_BITS, Replicated, applies, decomposes
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
    assert decomposes(runtime(), 1, 90) and decomposes(runtime(), 46, 90)
    assert decomposes(runtime(), 63, 63) and not decomposes(runtime(), 64, 90)
    assert not decomposes(runtime(), 47, 46)  # more bits than the values have
    assert not decomposes(runtime(), 46, 94)  # the mask would not fit the field
    assert not decomposes(runtime(parties=5, threshold=2), 46, 90)


class Node:
    """What ``Replicated`` reads of one node's MPyC runtime: its index, its PRSS keys
    (one per pair of nodes, as MPyC deals them) and the common counter."""

    def __init__(self, pid: int, keys: dict[tuple[int, int], bytes]) -> None:
        self.pid = pid
        self._prss_keys = {pair: key for pair, key in keys.items() if pid in pair}
        self.counter = 0

    def _prss_uci(self) -> bytes:
        self.counter += 1
        return self.counter.to_bytes(8, "little", signed=True)


def views(keys: dict[tuple[int, int], bytes], count: int = 40) -> list[Replicated]:
    return [Replicated(Node(pid, keys), count) for pid in range(3)]


def test_the_and_gates_masks_cancel_out_and_hide_each_message() -> None:
    """The three nodes' zero-sharing parts XOR to zero, none is zero, each draw is
    fresh, and the part node j sends to node j - 1 changes with the one key node j - 1
    lacks (the pair's key that leaves node j - 1 out): without it, a message would
    show node j - 1 the cross terms it must not see."""
    keys = {pair: bytes([17 * (i + 1)]) * 16 for i, pair in enumerate([(0, 1), (0, 2), (1, 2)])}
    nodes = views(keys)
    first = [node.zero_sharing((5, 6)) for node in nodes]
    second = [node.zero_sharing((5, 6)) for node in nodes]
    for parts in (first, second):
        assert not np.any(parts[0] ^ parts[1] ^ parts[2])
        assert all(np.any(part) for part in parts)
    assert all(np.any(a ^ b) for a, b in zip(first, second, strict=True))
    for sender in range(3):
        receiver = (sender - 1) % 3
        low, high = sorted({0, 1, 2} - {receiver})
        pair = (low, high)  # the key the receiver lacks
        changed = {**keys, pair: b"\x99" * 16}
        again = views(changed)[sender].zero_sharing((5, 6))
        assert np.any(again ^ first[sender]), (sender, pair)


def test_both_holders_of_a_component_draw_the_same_values() -> None:
    keys = {pair: bytes([pair[0] * 3 + pair[1] + 1]) * 16 for pair in [(0, 1), (0, 2), (1, 2)]}
    nodes = views(keys)
    drawn = [node.integers(47) for node in nodes]
    big = [node.big_integers(100) for node in nodes]
    for component in range(3):
        holders = [pid for pid in range(3) if pid != component]
        a, b = (drawn[pid][component] for pid in holders)
        assert np.array_equal(a, b) and int(a.max()) < 1 << 47
        assert component not in drawn[component]  # a node never holds its own component
        x, y = (big[pid][component] for pid in holders)
        assert list(x) == list(y) and max(x) < 1 << 100 and max(x) >= 1 << 90
    assert not np.array_equal(nodes[1].integers(47)[0], drawn[1][0])  # fresh each draw
    values = drawn[1][0]
    planes = nodes[1].planes(values, 47)
    bits = np.unpackbits(planes, axis=1, count=values.size, bitorder="little")
    rebuilt = sum(bits[i].astype(np.uint64) << np.uint64(i) for i in range(47))
    assert np.array_equal(rebuilt, values)


def test_five_nodes_keep_mpycs_comparisons_and_get_the_same_answers() -> None:
    """With five nodes (threshold 2) the replicated bits do not apply: min, max, the
    median and a numeric filter run on MPyC's ``np_sgn`` and its bit decomposition."""
    rng = np.random.default_rng(11)
    data = pd.DataFrame({"x": rng.integers(0, 1000, 21) / 10})
    columns = [{"name": "x", "type": "numeric", "min": 0, "max": 100}]
    specs: list[dict[str, Any]] = [{"function": f, "columns": ["x"], "min_cohort": 1}
             for f in ("min@1", "max@1", "median@1")]  # fmt: skip
    specs.append({"function": "count@1", "columns": ["x"], "min_cohort": 1,
                  "filter": {"column": "x", "op": ">", "value": 50}})  # fmt: skip
    lowest, highest, median, count = run(data, columns, specs, nodes=5)
    close(lowest, data.x.min(), 2**-30)
    close(highest, data.x.max(), 2**-30)
    close(median, data.x.median(), 1e-6)
    close(count, (data.x > 50).sum(), 0)
