"""Data keys shared to the nodes: any t + 1 rebuild, t reveal nothing, wrong shares are caught."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from kraken_market.access.datafile import key_commitment, new_data_key
from kraken_market.access.errors import (
    KeyCommitmentMismatch,
    KeyRecoveryFailed,
    KeyShareInvalid,
    KeySharingInvalid,
    ShareMisdirected,
)
from kraken_market.access.keyshares import (
    SEALED_SIZE,
    KeyShare,
    open_released,
    open_share,
    recombine_key,
    seal_for_buyer,
    seal_share,
    split_key,
)
from kraken_market.catalog.ids import new_product_id
from kraken_market.smpc import shamir
from kraken_market.smpc.field import FieldArray, P, add
from kraken_market.smpc.keys import NodeKeyPair

KEY = new_data_key()
COMMITMENT = key_commitment(KEY)
ITEM = new_product_id()


@pytest.mark.parametrize(("t", "m"), [(1, 3), (2, 5), (3, 7)])
def test_any_t_plus_one_shares_rebuild_the_key(t: int, m: int) -> None:
    shares = split_key(KEY, t, m)
    assert [s.index for s in shares] == list(range(m))
    for subset in itertools.combinations(shares, t + 1):
        assert recombine_key(subset, COMMITMENT) == KEY
    assert recombine_key(shares, COMMITMENT) == KEY


def test_edge_keys_round_trip() -> None:
    for key in (b"\x00" * 32, b"\xff" * 32):
        assert recombine_key(split_key(key, 1, 3)[1:], key_commitment(key)) == key


def test_t_shares_are_consistent_with_every_key() -> None:
    """Structure: for the t shares a coalition holds and ANY candidate key, there is a
    degree-t sharing through both, so the coalition cannot tell which key it is."""
    t, m = 2, 5
    shares = split_key(KEY, t, m)
    coalition = shares[:t]
    for candidate in (new_data_key(), b"\x00" * 32, KEY):
        limbs = [int.from_bytes(candidate[8 * j : 8 * j + 8], "big") for j in range(4)]
        points = [(0, FieldArray.from_ints(limbs))] + [(s.index + 1, s.value) for s in coalition]
        forged = shamir.interpolate(points, at=m)  # the (t+1)-th share that completes it
        completed = [*coalition, KeyShare(m - 1, t, m, forged)]
        assert recombine_key(completed, key_commitment(candidate)) == candidate


def test_one_node_sees_a_fresh_uniform_looking_share_each_time() -> None:
    values = {split_key(KEY, 1, 3)[0].value.to_bytes() for _ in range(50)}
    assert len(values) == 50
    limbs = {int.from_bytes(KEY[8 * j : 8 * j + 8], "big") for j in range(4)}
    first = split_key(KEY, 1, 3)[0].value.to_ints()
    assert not limbs & set(first) and max(first) > 2**64  # spread over the 128-bit field


def test_a_bad_share_is_detected_and_outvoted() -> None:
    good = split_key(KEY, 1, 3)
    bad = replace(good[0], value=add(good[0].value, FieldArray.from_ints([1, 0, 0, 0])))
    with pytest.raises(KeyCommitmentMismatch):
        recombine_key([bad, good[1]], COMMITMENT)
    assert recombine_key([bad, good[1], good[2]], COMMITMENT) == KEY
    with pytest.raises(KeyRecoveryFailed) as caught:
        recombine_key(good[:1], COMMITMENT)
    assert caught.value.code == "key_recovery_failed"
    with pytest.raises(KeyCommitmentMismatch):
        recombine_key(good, key_commitment(new_data_key()))


def test_invalid_sharings_are_refused() -> None:
    for t, m in ((0, 3), (2, 3), (1, 2)):
        with pytest.raises(KeySharingInvalid):
            split_key(KEY, t, m)
    with pytest.raises(KeySharingInvalid):
        split_key(KEY[:16], 1, 3)
    raw = split_key(KEY, 1, 3)[0].to_bytes()
    for broken in (
        raw[:-1],
        b"\x02" + raw[1:],
        raw[:1] + b"\x02" + raw[2:],
        raw[:4] + (P).to_bytes(16, "little") + raw[20:],
    ):
        with pytest.raises(KeyShareInvalid):
            KeyShare.from_bytes(broken)
    assert KeyShare.from_bytes(raw).to_bytes() == raw


def test_sealing_binds_node_item_key_id_and_commitment() -> None:
    nodes = [NodeKeyPair.generate() for _ in range(3)]
    shares = split_key(KEY, 1, 3)
    sealed = seal_share(shares[1], nodes[1].public_key, ITEM, "data", COMMITMENT, 0)
    assert len(sealed) == SEALED_SIZE
    assert (
        open_share(sealed, nodes[1], ITEM, "data", 1, COMMITMENT, 0).to_bytes()
        == shares[1].to_bytes()
    )
    wrong = [
        (nodes[0], ITEM, "data", 1, COMMITMENT, 0),
        (nodes[1], new_product_id(), "data", 1, COMMITMENT, 0),
        (nodes[1], ITEM, "epoch-1", 1, COMMITMENT, 0),
        (nodes[1], ITEM, "data", 2, COMMITMENT, 0),
        (nodes[1], ITEM, "data", 1, bytes(32), 0),
        (nodes[1], ITEM, "data", 1, COMMITMENT, 5),
    ]
    for args in wrong:
        with pytest.raises(ShareMisdirected):
            open_share(sealed, *args)
    with pytest.raises(KeyShareInvalid):
        open_share(sealed[:-1], nodes[1], ITEM, "data", 1, COMMITMENT, 0)


def test_a_released_share_opens_only_for_its_buyer() -> None:
    share = split_key(KEY, 1, 3)[2]
    buyer, other = NodeKeyPair.generate(), NodeKeyPair.generate()
    sealed = seal_for_buyer(share, buyer.public_key, ITEM, "data", COMMITMENT)
    assert open_released(sealed, buyer, ITEM, "data", 2, COMMITMENT).index == 2
    with pytest.raises(ShareMisdirected):
        open_released(sealed, other, ITEM, "data", 2, COMMITMENT)
    with pytest.raises(ShareMisdirected):
        open_released(sealed, buyer, ITEM, "data", 1, COMMITMENT)
