"""k-means seeded from the data (``kmeans@2``), inside the MPC.

``kmeans@1`` starts from centroids spread over the *declared* ranges: public,
but with the loose ranges real schemas declare (an age column declared 0..120
for adults of 40..70) most seeds fall where there is no data and their
clusters stay empty. ``kmeans@2`` seeds from the data itself without revealing
it: centroid i starts at each column's quantile (i + 0.5) / k of the rows that
count (the secure quantiles of ``quantiles@1``: Batcher's sorting network,
then a public or secret rank), so the seeds lie inside the data's mass, in the
order of its spread (a deterministic cousin of quantile initialisation; k-means++
(Arthur and Vassilvitskii 2007) would need secret weighted sampling, a
comparison per row and candidate).

Then the same Lloyd rounds as ``kmeans@1`` (``mpc_linalg.lloyd_round``): squared distances up
to ||x||², a secure argmin per row, centroids from exact sums and a secure
reciprocal of the count; an empty cluster keeps its centroid and shows as size
0. The number of rounds stays the one asked for: stopping when nothing moves
would tell every node when that happened. Instead, after each round a secret
bit says whether any row changed cluster (the sum of the squared differences
of the one-hot assignments, compared with 0); they stay secret and leave only
as two outputs for the buyer: ``iterations``, the rounds after which no row
moved any more (Lloyd's assignment, once repeated, never changes again), and
``converged``, 1 if the last round moved no row.
"""

from __future__ import annotations

import numpy as np

from kraken_market.smpc.functions.catalogue import KMeans
from kraken_market.smpc.functions.mpc_base import Context, Sec
from kraken_market.smpc.functions.mpc_linalg import lloyd_precision, lloyd_round
from kraken_market.smpc.functions.mpc_quantiles import quantiles_of
from kraken_market.smpc.functions.plan import bits_for


async def seeds(ctx: Context, weights: list[Sec | None], k: int) -> Sec:
    """(k, d) initial centroids: each column's quantiles (i + 0.5) / k, i < k."""
    rows = await quantiles_of(ctx, weights, [(i + 0.5) / k for i in range(k)])
    return ctx.mpc.np_stack(rows)


async def kmeans(ctx: Context, weights: list[Sec | None]) -> list[Sec]:
    params = ctx.plan.params
    assert isinstance(params, KMeans)
    mpc, weight, k = ctx.mpc, weights[0], params.k
    columns = ctx.plan.columns
    x = ctx.matrix([c.share for c in columns])  # (d, n)
    if params.init is not None:
        centroids = ctx.secfxp.array(np.array(params.init, dtype=float))
    else:
        centroids = await seeds(ctx, weights, k)
    bits, shift = lloyd_precision(ctx)
    sizes, previous, moved = None, None, None
    iterations: Sec = ctx.secfxp.array(np.ones(1), integral=True)  # the first round
    for _ in range(params.iterations):
        lloyd = lloyd_round(ctx, x, centroids, weight, bits, shift)
        if previous is not None:
            change = lloyd.assign - previous
            # rows that moved, each counted twice (exact: integral 0/1 products)
            changed = mpc.np_fromlist([(change * change).sum()])
            moved = ctx.less_than_zero(0.5 - changed, bits_for(4 * k * ctx.rows))
            iterations = iterations + moved
        previous, sizes, centroids = lloyd.assign, lloyd.sizes, lloyd.centroids
    assert sizes is not None
    # one round: nothing to compare with, so not known to have converged
    converged = ctx.secfxp.array(np.zeros(1), integral=True) if moved is None else 1 - moved
    return [centroids, sizes, iterations, converged]
