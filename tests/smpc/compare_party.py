"""One MPyC party of the comparison test (not a test module itself).

Run as ``python -m tests.smpc.compare_party -P host:port (x 3) -I i --no-log``: every
case of ``CASES`` is compared with ``functions/mpc_compare.py`` and with MPyC's own
``np_sgn``; party 0 prints what both opened as JSON.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from mpyc.runtime import mpc  # type: ignore[import-untyped]  # parses -P/-I

from kraken_market.smpc.field import P
from kraken_market.smpc.functions import mpc_compare


def cases() -> list[tuple[str, int, list[int], tuple[int, ...]]]:
    """(type, l, raw integers in [-2^(l-1), 2^(l-1)), shape): the bounds of each l, the
    values around 0 and at the ends, random values, odd sizes and a 2-D shape."""
    rng = np.random.default_rng(7)
    out: list[tuple[str, int, list[int], tuple[int, ...]]] = []
    for bits in (2, 3, 8, 33, 48, 62, 63):
        half = 1 << (bits - 1)
        edges = sorted(v for v in {-half, -half + 1, -1, 0, 1, half - 2, half - 1} if v < half)
        spread = [int(v) for v in rng.integers(-half, half, 37, dtype=np.int64)]
        out.append(("fxp", bits, edges + spread, (len(edges) + 37,)))
    out.append(("fxp", 48, [-5], (1,)))
    out.append(("fxp", 48, [int(v) for v in rng.integers(-(1 << 47), 1 << 47, 1000)], (1000,)))
    out.append(("fxp", 40, [int(v) for v in rng.integers(-(1 << 39), 1 << 39, 10)], (2, 5)))
    out.append(("int", 20, [int(v) for v in rng.integers(-(1 << 19), 1 << 19, 9)], (9,)))
    return out


async def session() -> list[dict[str, Any]]:
    await mpc.start()
    secfxp = mpc.SecFxp(64, 32)
    secint = mpc.SecInt(l=90, p=P)
    secfld = mpc.SecFld(modulus=P, signed=True)
    report = []
    for kind, bits, raw, shape in cases():
        stype = secfxp if kind == "fxp" else secint
        field = stype.field
        values = field.array(np.array([v % P for v in raw], dtype=object).reshape(shape))
        x = mpc.input(
            stype.array(values, integral=True) if kind == "fxp" else stype.array(values), senders=0
        )
        assert mpc_compare.applies(mpc, bits)
        ours = mpc_compare.less_than_zero(mpc, secfld, x, bits)
        theirs = mpc.np_sgn(x, l=bits, LT=True)
        opened = await mpc.output(ours)
        baseline = await mpc.output(theirs)
        report.append(
            {
                "kind": kind,
                "bits": bits,
                "raw": raw,
                "shape": list(np.shape(opened)),
                "ours": np.asarray(opened, dtype=float).reshape(-1).tolist(),
                "mpyc": np.asarray(baseline, dtype=float).reshape(-1).tolist(),
            }
        )
    for bits, values in decompositions():
        y = mpc.input(secint.array(secint.field.array(np.array([v % P for v in values]))), 0)
        digits = await mpc.output(await mpc_compare.low_bits(mpc, secint, y, bits, 90))
        report.append({"kind": "bits", "bits": bits, "raw": values,
                       "digits": np.asarray(digits, dtype=int).tolist()})  # fmt: skip
    await mpc.shutdown()
    return report


def decompositions() -> list[tuple[int, list[int]]]:
    """(bits, integers below 2^90 in absolute value): the low bits of each."""
    rng = np.random.default_rng(8)
    ends = [0, 1, -1, (1 << 90) - 1, -(1 << 90) + 1, (1 << 46) - 1, -(1 << 46), 1 << 63]
    spread = [int(v) * (1 << 40) + int(w) for v, w in rng.integers(-(1 << 49), 1 << 49, (29, 2))]
    return [(bits, ends + spread) for bits in (1, 3, 46, 63)]


def main() -> None:
    report = mpc.run(session())
    if mpc.pid == 0:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
