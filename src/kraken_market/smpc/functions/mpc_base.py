"""The MPC side of every function: data as secure arrays, filters, cohort, export.

Imported only inside an MPyC party process (the runtime is passed in, never
imported here). Protocols: Shamir sharing (1979) with multiplication and
resharing as in Gennaro, Rabin, Rabin (GRR98), probabilistic truncation for
fixed point (Catrina and Saxena 2010) and PRSS for shared randomness, all
MPyC's; secure comparison of a masked value by a boolean circuit on replicated
bits for three nodes (``mpc_compare``, ours), else by bit decomposition (MPyC
``np_sgn``, after Nishide-Ohta / Toft). Security: semi-honest parties,
honest majority (t < m/2).

Two views of the same shares are used:

- ``SecFxp(64, 32)`` arrays, for comparisons and fixed-point arithmetic;
  0/1 masks are *integral*, so a mask times a value is exact (MPyC divides
  the product by 2**32 in the field, which is exact for multiples of 2**32);
- ``SecFld(P)`` arrays over the same field, for exact dot products: the
  result is the field element sum(x * y) at scale 2**64, nothing truncated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kraken_market.smpc.columns import ShareColumn
from kraken_market.smpc.field import FieldArray, P
from kraken_market.smpc.functions import mpc_compare
from kraken_market.smpc.functions.plan import Both, Compare, Indicator, Plan, Resolved

Sec = Any  # an MPyC secure array (MPyC has no type hints)


@dataclass(frozen=True)
class ShareTable:
    """This node's shares of one product: columns x rows field elements."""

    columns: tuple[ShareColumn, ...]
    elements: FieldArray

    def column(self, name: str) -> FieldArray:
        position = [c.name for c in self.columns].index(name)
        return self.elements[position]


def as_objects(array: FieldArray) -> np.ndarray[Any, Any]:
    """Python ints (numpy object array), what MPyC's field arrays hold."""
    result: np.ndarray[Any, Any] = array.lo.astype(object) | (array.hi.astype(object) << 64)
    return result


class Context:
    """One computation's runtime, types and (lazily loaded) columns of all products."""

    def __init__(self, mpc: Any, plan: Plan, tables: list[ShareTable]) -> None:
        self.mpc, self.plan, self.tables = mpc, plan, tables
        self.secfxp = mpc.SecFxp(64, 32)
        self.secfld = mpc.SecFld(modulus=P, signed=True)  # signed: it shares secfxp's field
        if self.secfxp.field.modulus != P or self.secfld.field is not self.secfxp.field:
            raise RuntimeError("MPyC picked another field than the share format's")
        self.field = self.secfxp.field
        self.rows = plan.rows
        self.comparisons = 0
        self._cache: dict[tuple[str, bool], Sec] = {}

    def load(self, name: str, *, integral: bool = False) -> Sec:
        """A share column of the union of products as a secure fixed-point array
        (owner-made sharings loaded as they are, no ``mpc.input``)."""
        key = (name, integral)
        if key not in self._cache:
            parts = [as_objects(table.column(name)) for table in self.tables]
            values = np.concatenate(parts) if len(parts) > 1 else parts[0]
            self._cache[key] = self.secfxp.array(self.field.array(values), integral=integral)
        return self._cache[key]

    def matrix(self, names: list[str]) -> Sec:
        """Several columns as one (columns, rows) secure fixed-point array."""
        rows = [np.concatenate([as_objects(t.column(n)) for t in self.tables]) for n in names]
        return self.secfxp.array(self.field.array(np.stack(rows)), integral=False)

    # -- local arithmetic on this node's shares (no Python ints per row) --------------

    def raw(self, name: str) -> FieldArray:
        """This node's shares of a column over all products (numpy limbs)."""
        parts = [table.column(name) for table in self.tables]
        return parts[0] if len(parts) == 1 else FieldArray.concatenate(parts)

    def shared(self, values: list[int]) -> Sec:
        """Local degree-t share values (e.g. sums of shares) as a fixed-point array."""
        return self.secfxp.array(self.field.array(np.array(values, dtype=object)))

    def reshared(self, values: list[int]) -> Sec:
        """Local degree-2t share values (local products) reshared to degree t, GRR98
        (MPyC's ``_reshare``, the step its own multiplication uses), as exact values."""
        local = self.secfld.array(self.field.array(np.array(values, dtype=object)))
        return self.mpc._reshare(local)

    # -- exact views -----------------------------------------------------------------

    async def exact(self, x: Sec) -> Sec:
        """The same shares as a ``SecFld(P)`` array (no scaling, no truncation)."""
        return self.secfld.array(await self.mpc.gather(x))

    async def fixed(self, x: Sec, *, integral: bool = False) -> Sec:
        """``SecFld`` shares back as a fixed-point array."""
        return self.secfxp.array(await self.mpc.gather(x), integral=integral)

    # -- comparisons ------------------------------------------------------------------

    def less_than_zero(self, x: Sec, bits: int) -> Sec:
        """1 where x < 0 (integral), for |x| < 2**(bits - 33): on replicated bits for
        three nodes (``mpc_compare``), else MPyC ``np_sgn`` with l = bits."""
        self.comparisons += x.size
        if mpc_compare.applies(self.mpc, bits):
            return mpc_compare.less_than_zero(self.mpc, self.secfld, x, bits)
        return self.mpc.np_sgn(x, l=min(bits, 96), LT=True)

    def is_zero(self, x: Sec, bits: int) -> Sec:
        self.comparisons += x.size
        return self.mpc.np_sgn(x, l=min(bits, 96), EQ=True)

    # -- masks and weights --------------------------------------------------------------

    def mask(self, tree: Resolved | None) -> Sec | None:
        """The filter as a 0/1 integral array over all rows (None: every row matches)."""
        if tree is None:
            return None
        if isinstance(tree, Indicator):
            total = self.load(tree.shares[0], integral=True)
            for name in tree.shares[1:]:
                total = total + self.load(name, integral=True)
            return total
        if isinstance(tree, Compare):
            return self._compare(tree)
        masks: list[Sec] = [self.mask(child) for child in tree.children]
        result = masks[0]
        for other in masks[1:]:
            result = result * other if isinstance(tree, Both) else result + other - result * other
        return result

    def _compare(self, leaf: Compare) -> Sec:
        x = self.load(leaf.column.share)
        c, op = leaf.value, leaf.op
        if op in ("==", "!="):
            bit = self.is_zero(x - c, leaf.bits)
            bit = bit if op == "==" else 1 - bit
        elif op in ("<", ">="):
            bit = self.less_than_zero(x - c, leaf.bits)
            bit = bit if op == "<" else 1 - bit
        else:
            bit = self.less_than_zero(c - x, leaf.bits)
            bit = bit if op == ">" else 1 - bit
        if leaf.column.present is not None:
            bit = bit * self.load(leaf.column.present, integral=True)
        return bit

    def weights(self, mask: Sec | None, joint: bool) -> list[Sec | None]:
        """Per selected column: the rows it counts (mask and presence), or None for all rows.
        ``joint``: one weight for all columns, rows where every column is present."""
        presences = [c.present for c in self.plan.columns]
        if joint:
            weight = mask
            for name in dict.fromkeys(p for p in presences if p is not None):
                present = self.load(name, integral=True)
                weight = present if weight is None else weight * present
            return [weight] * max(1, len(presences))
        return [
            mask
            if p is None
            else self.load(p, integral=True)
            if mask is None
            else mask * self.load(p, integral=True)
            for p in presences
        ]

    async def cohort_ok(self, weights: list[Sec | None]) -> bool:
        """Whether every column counts at least ``min_cohort`` rows. Only this one bit is
        opened: the counts are compared with the minimum inside the MPC."""
        minimum = self.plan.spec.min_cohort
        secret = [w.sum() for w in {id(w): w for w in weights if w is not None}.values()]
        if self.rows < minimum:
            return False
        if not secret:
            return True  # every count is the public row count
        counts = self.mpc.np_fromlist(secret)
        short = self.less_than_zero(counts - (minimum - 0.5), _bits_for_count(self.rows))
        return bool(await self.mpc.output(self.mpc.np_prod(1 - short)))

    # -- result shares ------------------------------------------------------------------

    async def export(self, outputs: list[Sec]) -> FieldArray:
        """This node's shares of the outputs, re-randomised: every node inputs a fresh
        sharing of zero and all are added, so the buyer's recombined polynomial is a
        fresh random one (not derived from the owners' polynomials)."""
        mpc = self.mpc
        flat = [np.asarray((await mpc.gather(o)).value, dtype=object).reshape(-1) for o in outputs]
        values = np.concatenate(flat) if flat else np.zeros(0, dtype=object)
        result = self.secfld.array(self.field.array(values))
        zeros = mpc.input(self.secfld.array(self.field.array(np.zeros(values.size, dtype=object))))
        for zero in zeros:
            result = result + zero
        shares = (await mpc.gather(result)).value
        return FieldArray.from_ints([int(v) for v in np.asarray(shares).reshape(-1)])


def _bits_for_count(rows: int) -> int:
    return (max(rows, 1) * 2).bit_length() + 32 + 2
