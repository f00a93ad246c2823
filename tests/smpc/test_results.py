"""Result files: sealed to the buyer, bound to request and node, committed on chain."""

from __future__ import annotations

import pytest

from kraken_market.smpc import fixedpoint, shamir
from kraken_market.smpc.buyer import combine_results
from kraken_market.smpc.errors import ResultSharesInvalid
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.results import ResultHeader, commitment, open_result, seal_result

REQUEST = "0x" + "c4" * 32
SPEC = ComputationSpec(function="sum@1", columns=["a", "b"])


def header(index: int, *, suppressed: bool = False, spec: ComputationSpec = SPEC) -> ResultHeader:
    return ResultHeader(
        REQUEST,
        index,
        3,
        1,
        spec.model_dump(mode="json", by_alias=True),
        spec.digest().hex(),
        ("a", "b"),
        (("sum", (2,)),),
        suppressed,
        0 if suppressed else 2,
    )


@pytest.fixture
def sealed() -> tuple[NodeKeyPair, list[bytes]]:
    buyer = NodeKeyPair.generate()
    shares = shamir.split(fixedpoint.encode([12.5, -3.0]), 1, 3)
    return buyer, [seal_result(header(i), shares[i], buyer.public_key) for i in range(3)]


def test_any_two_result_files_give_the_result(sealed) -> None:
    buyer, files = sealed
    for nodes in ((0, 1), (1, 2), (0, 1, 2)):
        shares = {i: open_result(files[i], buyer, REQUEST, i) for i in nodes}
        result = combine_results(SPEC, shares, 1)
        assert result.table is not None
        assert result.table.loc["sum"].tolist() == [12.5, -3.0] and result.nodes == nodes


def test_result_files_are_bound_to_buyer_request_and_node(sealed) -> None:
    buyer, files = sealed
    with pytest.raises(ResultSharesInvalid, match="node 0"):
        open_result(files[0], NodeKeyPair.generate(), REQUEST, 0)
    with pytest.raises(ResultSharesInvalid):
        open_result(files[0], buyer, "0x" + "c5" * 32, 0)
    with pytest.raises(ResultSharesInvalid):
        open_result(files[0], buyer, REQUEST, 1)


def test_tampering_changes_the_commitment_and_fails_to_open(sealed) -> None:
    buyer, files = sealed
    tampered = files[1][:-5] + bytes([files[1][-5] ^ 0x40]) + files[1][-4:]
    assert commitment(tampered) != commitment(files[1]) and len(commitment(tampered)) == 32
    with pytest.raises(ResultSharesInvalid, match="does not authenticate"):
        open_result(tampered, buyer, REQUEST, 1)


def test_nodes_must_agree_and_answer_the_paid_computation(sealed) -> None:
    buyer, files = sealed
    shares = {i: open_result(files[i], buyer, REQUEST, i) for i in range(3)}
    with pytest.raises(ResultSharesInvalid, match="another computation"):
        combine_results(ComputationSpec(function="sum@1", columns=["b"]), shares, 1)
    other = seal_result(header(2, suppressed=True), None, buyer.public_key)
    shares[2] = open_result(other, buyer, REQUEST, 2)
    with pytest.raises(ResultSharesInvalid, match="disagree"):
        combine_results(SPEC, shares, 1)


def test_a_suppressed_result_holds_nothing(sealed) -> None:
    buyer, _ = sealed
    files = [seal_result(header(i, suppressed=True), None, buyer.public_key) for i in range(2)]
    result = combine_results(
        SPEC, {i: open_result(f, buyer, REQUEST, i) for i, f in enumerate(files)}, 1
    )
    assert result.suppressed and result.table is None
