"""Secure ``x < 0`` for three nodes: one masked opening, then a boolean circuit on
replicated bit shares, vectorised 8 comparisons to a byte.

Why not MPyC's ``np_sgn`` (which this replaces where it applies): for an l-bit
comparison it makes l + 1 secret random bits, each from an opened square and a
modular square root, then l products of 128-bit field elements (Toft's
``prod``), all as numpy arrays of Python ints. That is about 670 comparisons a
second at l = 48 on the nodes' 2 cores (bench/smpc.py), 3 times what is needed
for a minimum over a few thousand rows in seconds. MPyC offers no boolean
sharing, so the circuit below is written here, on MPyC's own transport and
PRSS keys.

Method (m = l - 1, A = x + 2^m in [0, 2^l), so x < 0 exactly when A < 2^m):

1. Randomness without communication (pseudorandom secret sharing, Cramer,
   Damgaard and Ishai, TCC 2005): the three nodes hold MPyC's PRSS keys, one per
   pair, and the key of the pair that leaves out node e makes component e:
   L_e, an m-bit integer, and H_e, below 2^k (k = ``HIDING_BITS``, 61).
   Node i knows the two components e != i. Their sum R = sum(L_e + 2^m H_e) is
   Shamir-shared at once (node i's share: sum over e != i of
   (L_e + 2^m H_e) (1 - x_i / x_e), a degree-1 polynomial that is 1 at 0 and 0
   at node e's point); and the bits of the L_e are a 2-out-of-3 replicated XOR
   sharing of S = L_0 xor L_1 xor L_2, as Araki, Furukawa, Lindell, Nof and
   Ohara use ("High-throughput semi-honest secure three-party computation with
   an honest majority", CCS 2016).
2. One opening: c = A + R (MPyC's ``output``). R hides A statistically to within
   2^(1 - k), like MPyC's own masks (which stop at 2^-30), since the component a
   node lacks alone is uniform below 2^(m + k).
3. With c = c_m + 2^m C (c_m its low m bits) and H = sum H_e:
   floor(A / 2^m) = C - H - W, where W = floor((L_0 + L_1 + L_2 + Q) / 2^m) for
   the public Q = 2^m - 1 - c_m; so [x < 0] = 1 - C + H + W (Catrina and de
   Hoogh's masked truncation, "Improved primitives for secure multiparty
   integer computation", SCN 2010, with the carry computed in binary).
4. W (0 to 3) by a boolean circuit on the replicated bits: two carry-save
   additions (the three L_e, then Q) and the carry out of m bits by a tree of
   Brent and Kung's (generate, propagate) operator: 3 + ceil(log2 m) rounds of
   AND gates. An AND gate costs each node one message of one bit per
   comparison to one other node (Araki et al., section 2), masked by a
   zero-sharing from the same PRSS keys.
5. W's three bits back to Shamir shares over the share field: bit
   b = g xor b_0 with g = b_1 xor b_2 known to node 0 alone and b_0 to nodes 1
   and 2 alone; node 0 shares g (``input``) and b = g + b_0 - 2 g b_0 takes one
   secure product (the daBit idea of Rotaru and Wood, INDOCRYPT 2019).

What is opened: c (statistically hiding A, as in MPyC) and nothing else; every
AND message is masked by a fresh zero-sharing (each PRSS stream is drawn once, by
the two nodes holding its key, under its own domain label: MPyC's PRSS hashes the
same keys with SHAKE-128 and no label). :func:`low_bits` decomposes values into bits
the same way. Security: semi-honest nodes, at
most one of three corrupted, as for the rest of the package. Where it does not
apply (not 3 nodes, threshold not 1, PRSS off, l - 1 > 62) ``applies`` says so
and the caller keeps MPyC's ``np_sgn``.

Runs on each compute node, inside its MPyC party process.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import numpy as np

from kraken_market.smpc.field import P

Sec = Any  # an MPyC secure array (MPyC has no type hints)

MAX_BITS = 63
"""l at most: L_e, H_e and c's low bits are handled as 64-bit integers."""

_DOMAIN = b"kraken-market less-than-zero v1"
_RING = {0: [2], 1: [0], 2: [1]}
"""Who sends to whom in an AND gate: node j sends its part to node j - 1."""


HIDING_BITS = 61
"""H_e of a comparison lies below 2^61, so the mask hides x to within 2^-60 (MPyC's own
comparisons: 2^-sec_param, 2^-30): a batch of a million comparisons stays far from a
noticeable bias; c still fits the field (below 2^(l + 63) for l <= 63)."""


def _three_nodes(mpc: Any) -> bool:
    return len(mpc.parties) == 3 and mpc.threshold == 1 and not mpc.options.no_prss


def applies(mpc: Any, bits: int) -> bool:
    """Whether this protocol can serve an l = ``bits`` comparison in ``mpc``'s setting."""
    return _three_nodes(mpc) and 2 <= bits <= MAX_BITS and mpc.options.sec_param < HIDING_BITS


class Replicated:
    """One comparison batch's view of the replicated shares: this node holds
    components ``a`` = pid + 1 and ``b`` = pid + 2 (mod 3) of every shared bit
    vector, as packed bytes of shape (planes, bytes)."""

    def __init__(self, mpc: Any, count: int) -> None:
        self.mpc, self.pid, self.count = mpc, mpc.pid, count
        self.width = (count + 7) // 8
        self.a, self.b = (self.pid + 1) % 3, (self.pid + 2) % 3
        self.keys: dict[int, bytes] = {}
        for subset, key in mpc._prss_keys.items():  # pairs, each leaving one node out
            (left_out,) = {0, 1, 2} - set(subset)
            self.keys[left_out] = key
        self.uci = mpc._prss_uci()  # the same on every node: one per batch
        self.draws = 0

    def stream(self, component: int, size: int) -> bytes:
        """Pseudorandom bytes of ``component`` (known to both nodes but that one),
        fresh for each draw of this batch."""
        seed = _DOMAIN + self.keys[component] + self.uci + self.draws.to_bytes(4, "little")
        return hashlib.shake_256(seed).digest(size)

    def integers(self, bits: int) -> dict[int, np.ndarray[Any, Any]]:
        """A fresh component below 2^``bits`` per element, for both components held."""
        out = {}
        for component in (self.a, self.b):
            raw = np.frombuffer(self.stream(component, 8 * self.count), dtype=np.uint64)
            out[component] = raw & np.uint64((1 << bits) - 1)
        self.draws += 1
        return out

    def big_integers(self, bits: int) -> dict[int, np.ndarray[Any, Any]]:
        """As :meth:`integers`, for any ``bits``: Python ints (object arrays)."""
        size = (bits + 7) // 8
        out = {}
        for component in (self.a, self.b):
            raw = np.frombuffer(self.stream(component, size * self.count), dtype=np.uint8)
            columns = raw.reshape(self.count, size).astype(object)
            value = np.zeros(self.count, dtype=object)
            for j in range(size):
                value = value + (columns[:, j] << (8 * j))
            out[component] = value & ((1 << bits) - 1)
        self.draws += 1
        return out

    def planes(self, values: np.ndarray[Any, Any], bits: int) -> np.ndarray[Any, Any]:
        """Bits 0..``bits``-1 of 64-bit ``values`` as packed planes (bits, width), by
        way of their bytes (one byte a bit in between, not eight)."""
        octets = np.ascontiguousarray(values, dtype="<u8").view(np.uint8).reshape(-1, 8)
        ones = np.unpackbits(octets, axis=1, bitorder="little")[:, :bits]
        return np.packbits(ones.T, axis=1, bitorder="little")

    def zero_sharing(self, shape: tuple[int, ...]) -> np.ndarray[Any, Any]:
        """This node's part of a fresh XOR sharing of zero (each component's stream
        is used by the two nodes that hold it, so every stream cancels out)."""
        size = int(np.prod(shape))
        a = np.frombuffer(self.stream(self.a, size), dtype=np.uint8)
        b = np.frombuffer(self.stream(self.b, size), dtype=np.uint8)
        self.draws += 1
        return (a ^ b).reshape(shape)

    async def and_(
        self, x: tuple[np.ndarray[Any, Any], ...], y: tuple[np.ndarray[Any, Any], ...]
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """x AND y, each given as this node's (component a, component b): one round.

        This node's part z' = x_a y_a ^ x_a y_b ^ x_b y_a ^ zero covers three of the
        nine cross terms; the three nodes together cover all nine. It becomes
        component a of z; component b is the part of node pid + 1, received."""
        (xa, xb), (ya, yb) = x, y
        mine = (xa & ya) ^ (xa & yb) ^ (xb & ya) ^ self.zero_sharing(xa.shape)
        [theirs] = await self.mpc.transfer(mine, sender_receivers=_RING)
        return mine, theirs

    def public(self, q: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], ...]:
        """A public bit vector as a sharing: component 0 holds it."""
        zero = np.zeros_like(q)
        return (q if self.a == 0 else zero, q if self.b == 0 else zero)


def _xor(*shared: tuple[np.ndarray[Any, Any], ...]) -> tuple[np.ndarray[Any, Any], ...]:
    a, b = shared[0]
    for xa, xb in shared[1:]:
        a, b = a ^ xa, b ^ xb
    return a, b


async def _carry_out(
    rss: Replicated,
    u: tuple[np.ndarray[Any, Any], ...],
    v: tuple[np.ndarray[Any, Any], ...],
) -> tuple[np.ndarray[Any, Any], ...]:
    """The carry out of u + v (shared planes, least significant first): generate and
    propagate per bit, then Brent and Kung's operator on pairs of adjacent spans, a
    tree to the top (2 ANDs a pair, one round a level)."""
    g = await rss.and_(u, v)
    p = _xor(u, v)
    while g[0].shape[0] > 1:
        pairs = g[0].shape[0] // 2
        lo, hi = slice(0, 2 * pairs, 2), slice(1, 2 * pairs, 2)
        left = tuple(np.concatenate([s[hi], s[hi]]) for s in p)
        right = tuple(np.concatenate([gs[lo], ps[lo]]) for gs, ps in zip(g, p, strict=True))
        both = await rss.and_(left, right)
        new_g = tuple(gs[hi] ^ bs[:pairs] for gs, bs in zip(g, both, strict=True))
        new_p = tuple(bs[pairs:] for bs in both)
        if g[0].shape[0] % 2:  # the top span has no partner this round: it waits
            new_g = tuple(np.concatenate([n, s[-1:]]) for n, s in zip(new_g, g, strict=True))
            new_p = tuple(np.concatenate([n, s[-1:]]) for n, s in zip(new_p, p, strict=True))
        g, p = new_g, new_p
    return g


def _shares_of(rss: Replicated, parts: dict[int, np.ndarray[Any, Any]]) -> np.ndarray[Any, Any]:
    """This node's Shamir share of the sum of the components (node e's component
    weighted by the degree-1 polynomial that is 1 at 0 and 0 at node e's point)."""
    x = rss.pid + 1
    total = np.zeros(rss.count, dtype=object)
    for component, values in parts.items():
        weight = (1 - x * pow(component + 1, -1, P)) % P
        total = total + values.astype(object) * weight
    return total % P


def less_than_zero(mpc: Any, secfld: Any, x: Sec, bits: int) -> Sec:
    """[x < 0] for each element of the secure array ``x``, whose field elements read
    as integers in [-2^(l-1), 2^(l-1)), l = ``bits``: a secure array of x's type
    (integral 0/1, at x's scale), as MPyC's ``np_sgn(x, l, LT=True)`` returns it.
    ``applies`` must hold. Returns at once; the shares follow (an MPyC coroutine)."""
    return _coroutine()(mpc, secfld, x, bits)


@functools.cache
def _coroutine() -> Any:
    from mpyc.asyncoro import mpc_coro  # type: ignore[import-untyped]

    return mpc_coro(_less_than_zero)


async def _less_than_zero(mpc: Any, secfld: Any, x: Sec, bits: int):  # type: ignore[no-untyped-def]  # noqa: ANN202
    # No return annotation: MPyC would take it for the result's type.
    stype = type(x)
    await mpc.returnType((stype, True, x.shape))
    shares = await _shares_less_than_zero(mpc, secfld, x, bits)
    field = stype.sectype.field
    return field.array((shares << stype.frac_length).reshape(x.shape) % P)


async def _shares_less_than_zero(mpc: Any, secfld: Any, x: Sec, bits: int) -> np.ndarray[Any, Any]:
    """This node's Shamir shares (field ints, degree 1) of [x < 0], flattened."""
    field = type(x).sectype.field
    _same_field(field, secfld)
    m = bits - 1
    k = HIDING_BITS
    shares = (await mpc.gather(x)).value.reshape(-1)
    n = shares.size
    rss = Replicated(mpc, n)
    low = rss.integers(m)  # L_e
    high = rss.integers(k)  # H_e
    mask = _shares_of(
        rss, {e: (low[e].astype(object) + (high[e].astype(object) << m)) for e in low}
    )
    opened = await mpc.output(field.array((shares + (1 << m) + mask) % P))
    c = np.asarray(opened.value, dtype=object)
    c_low = (c & ((1 << m) - 1)).astype(np.uint64)
    c_high = c >> m
    q = rss.planes(np.uint64((1 << m) - 1) - c_low, m)
    # First carry-save addition: L_0 + L_1 + L_2 = s + 2 t, t = majority, one AND:
    # maj(l0, l1, l2) = ((l0 ^ l1) & (l0 ^ l2)) ^ l0.
    planes = {e: rss.planes(low[e], m) for e in low}
    zero = np.zeros_like(q)
    own = {
        e: (
            planes.get(e, zero) if e == rss.a else zero,
            planes.get(e, zero) if e == rss.b else zero,
        )
        for e in range(3)
    }
    s = _xor(own[0], own[1], own[2])
    t = _xor(await rss.and_(_xor(own[0], own[1]), _xor(own[0], own[2])), own[0])
    # Second, with Q: s + 2 t + Q = u + 2 v + 2^m (t_(m-1) + v_(m-1)), bits below m
    # in u and 2 v; maj with a public bit q: (s & t') ^ (q & (s ^ t')).
    shifted = tuple(np.concatenate([zero[:1], part[:-1]]) for part in t)  # t' = 2 t, low m bits
    st = await rss.and_(s, shifted)
    u = _xor(s, shifted, rss.public(q))
    v = _xor(st, tuple(q & part for part in _xor(s, shifted)))
    carries = tuple(np.concatenate([zero[:1], part[:-1]]) for part in v)  # 2 v, low m bits
    kappa = await _carry_out(rss, u, carries)
    top = tuple(
        np.concatenate([kb, tb[-1:], vb[-1:]]) for kb, tb, vb in zip(kappa, t, v, strict=True)
    )
    w = await _to_field(mpc, secfld, rss, top)  # (3, n): kappa, t_(m-1), v_(m-1)
    h = _shares_of(rss, {e: high[e] for e in high})
    one_minus_c = (1 - c_high) % P
    w_sum = (w[0] + w[1] + w[2]) % P
    result: np.ndarray[Any, Any] = (one_minus_c + h + w_sum) % P
    return result


async def _to_field(
    mpc: Any, secfld: Any, rss: Replicated, bits: tuple[np.ndarray[Any, Any], ...]
) -> np.ndarray[Any, Any]:
    """Shared bits (planes, width) as this node's Shamir shares (planes, count):
    b = g + b_0 - 2 g b_0, g = b_1 ^ b_2 known to node 0, b_0 to nodes 1 and 2."""
    planes = bits[0].shape[0]

    def unpack(packed: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        return np.unpackbits(packed, axis=1, count=rss.count, bitorder="little")

    if rss.pid == 0:  # holds components 1 and 2
        g = unpack(bits[0] ^ bits[1]).astype(object)
        b0 = np.zeros((planes, rss.count), dtype=object)
    else:
        held = bits[0] if rss.a == 0 else bits[1]
        g = np.zeros((planes, rss.count), dtype=object)
        b0 = unpack(held).astype(object) * ((1 - (rss.pid + 1)) % P) % P
    gs = mpc.input(secfld.array(secfld.field.array(g)), senders=0)
    b0s = secfld.array(secfld.field.array(b0))
    b = gs + b0s - 2 * (gs * b0s)
    return np.asarray((await mpc.gather(b)).value, dtype=object)


def decomposes(mpc: Any, bits: int, magnitude: int) -> bool:
    """Whether :func:`low_bits` serves ``bits`` low bits of values below
    2^``magnitude`` in absolute value here (the mask must fit the field)."""
    return (
        _three_nodes(mpc)
        and 1 <= bits <= min(magnitude, MAX_BITS)
        and magnitude + mpc.options.sec_param + 4 < P.bit_length()
    )


def _same_field(field: Any, kind: Any) -> None:
    """The shares' field must be the share format's, and the one ``kind`` computes in:
    the arithmetic here reduces modulo P."""
    if field.modulus != P or kind.field is not field:
        raise RuntimeError("the comparison's secure types are not over the share field")


async def low_bits(mpc: Any, kind: Any, y: Sec, bits: int, magnitude: int) -> Sec:
    """The ``bits`` least significant bits of each secure integer in ``y`` (|y| below
    2^``magnitude``): a (bits, *y.shape) 0/1 array of secure integers ``kind``, least
    significant first; :func:`decomposes` must hold. Await it directly (it is no
    MPyC coroutine: its draws and messages take the caller's program counter).

    As for a comparison: one opening c = y + 2^magnitude + R, then
    y mod 2^bits = (c - L_0 - L_1 - L_2) mod 2^bits on the replicated bits (two
    carry-save additions of the complements and the public c + 3, then every carry by
    Sklansky's parallel prefix, ceil(log2 bits) rounds), and each bit back to Shamir
    shares (one input and one product a bit, against MPyC's bits: a random bit from a
    square root and three products a bit in ``mpc_select``'s borrow chain)."""
    field = type(y).sectype.field
    _same_field(field, kind)
    k = mpc.options.sec_param + 1
    shape = y.shape
    shares = (await mpc.gather(y)).value.reshape(-1)
    n = shares.size
    rss = Replicated(mpc, n)
    low = rss.integers(bits)  # L_e
    high = rss.big_integers(magnitude + 1 + k - bits)  # H_e
    mask = _shares_of(rss, {e: low[e].astype(object) + (high[e] << bits) for e in low})
    opened = await mpc.output(field.array((shares + (1 << magnitude) + mask) % P))
    c = np.asarray(opened.value, dtype=object)
    ones = np.uint64((1 << bits) - 1)
    public = rss.planes(((c + 3) & ((1 << bits) - 1)).astype(np.uint64), bits)
    planes = {e: rss.planes(low[e], bits) for e in low}
    zero = np.zeros_like(public)
    own = {e: _component(rss, e, planes.get(e, zero), zero) for e in range(3)}
    all_ones = rss.public(rss.planes(np.full(n, ones, dtype=np.uint64), bits))
    # c - L_0 - L_1 - L_2 = c + 3 + not L_0 + not L_1 + not L_2 (mod 2^bits); the
    # majority of the three complements is the complement of their majority.
    s = _xor(own[0], own[1], own[2], all_ones)
    t = _xor(await rss.and_(_xor(own[0], own[1]), _xor(own[0], own[2])), own[0], all_ones)
    shifted = _shift(t, zero)
    st = await rss.and_(s, shifted)
    u = _xor(s, shifted, rss.public(public))
    v = _shift(_xor(st, tuple(public & part for part in _xor(s, shifted))), zero)
    carries = _shift(await _prefix_generate(rss, u, v), zero)
    result = _xor(u, v, carries)
    digits = await _to_field(mpc, kind, rss, result)  # (bits, n)
    return kind.array(field.array(digits.reshape((bits, *shape))))


def _component(
    rss: Replicated, e: int, value: np.ndarray[Any, Any], zero: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], ...]:
    """The sharing whose component ``e`` is ``value`` (known here unless e is us)."""
    return (value if e == rss.a else zero, value if e == rss.b else zero)


def _shift(
    shared: tuple[np.ndarray[Any, Any], ...], zero: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], ...]:
    """Twice the value, keeping as many bits (planes move up one; the top one drops)."""
    return tuple(np.concatenate([zero[:1], part[:-1]]) for part in shared)


async def _prefix_generate(
    rss: Replicated,
    u: tuple[np.ndarray[Any, Any], ...],
    v: tuple[np.ndarray[Any, Any], ...],
) -> tuple[np.ndarray[Any, Any], ...]:
    """G_i: whether u + v makes a carry out of bit i (bits 0..i), for every i:
    Sklansky's prefix, each round combining every position of an odd block with the
    top of the block below it (2 ANDs a position, one round)."""
    g: tuple[np.ndarray[Any, Any], ...] = await rss.and_(u, v)
    p = _xor(u, v)
    size, span = g[0].shape[0], 1
    while span < size:
        idx = [i for i in range(size) if (i // span) % 2 == 1]
        src = [(i // span) * span - 1 for i in idx]
        left = tuple(np.concatenate([part[idx], part[idx]]) for part in p)
        right = tuple(np.concatenate([gp[src], pp[src]]) for gp, pp in zip(g, p, strict=True))
        both = await rss.and_(left, right)
        half = len(idx)
        g = tuple(_with(gp, idx, gp[idx] ^ bp[:half]) for gp, bp in zip(g, both, strict=True))
        p = tuple(_with(pp, idx, bp[half:]) for pp, bp in zip(p, both, strict=True))
        span *= 2
    return g


def _with(
    planes: np.ndarray[Any, Any], idx: list[int], values: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    out = planes.copy()
    out[idx] = values
    return out
