"""A product's provenance and lineage, from chain data alone."""

from __future__ import annotations

from kraken_market.ledger.provenance import history
from tests.ledger.conftest import DATA, Market


def test_history_tells_a_products_whole_life_in_order(market: Market) -> None:
    parent = market.publish()
    product = market.publish(parents=(parent,))
    child = market.publish(parents=(product,))
    other = market.funded(market.other)
    partner = market.publish(other)
    union, _ = market.seller.propose_union({product: 1, partner: 3})
    other.consent_union(union)
    buyer = market.funded(market.buyer)
    market.grant(buyer, product)
    market.grant(buyer, union)
    direct, _ = buyer.buy_access(product, 0)
    buyer.buy_access(union, 0)
    buyer.approve_product(direct, product)

    provenance = history(market.admin, product)
    names = [entry.event.name for entry in provenance.entries]
    assert names[:2] == ["ProductPublished", "StakeLocked"]
    assert names.index("UnionCreated") < names.index("AccessPurchased") < names.index("Approved")
    assert names[-1] == "StakeReleaseScheduled"  # one claim window after the approval
    assert names.count("AccessPurchased") == 2  # directly and through the union
    via_union = [e for e in provenance.entries if e.via and e.via.startswith("union")]
    assert {e.event.name for e in via_union} >= {"UnionProposed", "UnionCreated", "Revenue"}
    positions = [(e.event.block_number, e.event.log_index) for e in provenance.entries]
    assert positions == sorted(positions)
    times = [entry.block_time for entry in provenance.entries]
    assert times == sorted(times)

    raw = {bytes.fromhex(x[2:]) for x in (parent, product, child)}
    lineage = provenance.lineage
    assert set(lineage.depth) == raw
    assert lineage.depth[bytes.fromhex(parent[2:])] == -1
    assert lineage.depth[bytes.fromhex(child[2:])] == 1
    assert len(lineage.edges) == 2
    assert provenance.as_dict()["history"][0]["args"]["stake"] == str(20 * DATA)


def test_history_of_an_unknown_product_is_empty(market: Market) -> None:
    provenance = history(market.admin, "0x" + "cd" * 32)
    assert provenance.entries == ()
    assert provenance.lineage.edges == ()
