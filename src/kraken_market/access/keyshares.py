"""Data keys Shamir-shared to the compute nodes, each share sealed to one node (HPKE).

**Splitting.** A 32-byte data key does not fit one element of the SMPC field
GF(2**128 - 173) (``smpc.field``), so it is cut into four 64-bit limbs
(big-endian, ``key[8j:8j+8]``), each below the modulus, and each limb is
Shamir-shared (Shamir 1979) with ``smpc.shamir.split``: threshold t, m nodes,
node i holds ``f_j(i + 1)`` for every limb j. Any t shares are uniformly
distributed whatever the key; any t + 1 rebuild it by Lagrange interpolation.
As for analytics, 1 <= t and 2t < m (an honest majority of nodes).

**Share plaintext** (68 bytes): version (1), t, m, node index (one byte
each), then the four field elements, 16 bytes little-endian each.

**Sealing** (RFC 9180 HPKE, base mode, the share files' suite
DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-128-GCM, single shot):
``enc (32) || ciphertext (68 + 16)``. To node i at deposit, ``info`` is
``"kraken-keyshare-v1" || item (32) || len(key id) (1) || key id || i (2, BE)``
and the associated data ``key commitment (32) || not_before (8, BE)``. The
node re-seals to the buyer's X25519 key at release with ``info``
``"kraken-keyshare-release-v1" || item || len(key id) || key id || i || buyer key``
and the commitment as associated data, so a released share cannot be taken
for another product, key, node position or buyer.

**Checking.** ``key_commitment`` (``datafile``) is published with every
deposit and written in the data file: the buyer accepts a recombined key only
if its commitment matches, and tries other (t + 1)-subsets when a node sent a
bad share.
"""

from __future__ import annotations

import hmac
import itertools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from kraken_market.access.datafile import KEY_SIZE, key_commitment
from kraken_market.access.errors import (
    KeyCommitmentMismatch,
    KeyRecoveryFailed,
    KeyShareInvalid,
    KeySharingInvalid,
    ShareMisdirected,
)
from kraken_market.smpc import shamir
from kraken_market.smpc.envelope import SUITE
from kraken_market.smpc.field import ELEMENT_BYTES, FieldArray, RandomBytes
from kraken_market.smpc.ids import product_bytes
from kraken_market.smpc.keys import NodeKeyPair, NodePublicKey

SHARE_VERSION: Final = 1
LIMBS: Final = 4
SHARE_SIZE: Final = 4 + LIMBS * ELEMENT_BYTES
SEALED_SIZE: Final = 32 + SHARE_SIZE + 16
DEPOSIT_LABEL: Final = b"kraken-keyshare-v1"
RELEASE_LABEL: Final = b"kraken-keyshare-release-v1"
KEY_ID_PATTERN: Final = r"^[a-z0-9][a-z0-9._-]{0,63}$"
EPOCH_KEY_ID: Final = re.compile(r"^epoch-(0|[1-9][0-9]{0,18})$")
MAX_SUBSETS: Final = 2048


def check_key_id(key_id: str) -> str:
    """``key_id`` if well formed: ``data`` for a batch file, ``epoch-<n>`` for a stream epoch."""
    if not re.fullmatch(KEY_ID_PATTERN, key_id):
        raise KeySharingInvalid(f"a key id is 1-64 of a-z, 0-9, '.', '_', '-': {key_id[:80]!r}")
    return key_id


@dataclass(frozen=True)
class KeyShare:
    """Node ``index``'s share of a data key (evaluation point ``index + 1``)."""

    index: int
    t: int
    m: int
    value: FieldArray

    def to_bytes(self) -> bytes:
        return bytes([SHARE_VERSION, self.t, self.m, self.index]) + self.value.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> KeyShare:
        if len(data) != SHARE_SIZE or data[0] != SHARE_VERSION:
            raise KeyShareInvalid(f"a key share is {SHARE_SIZE} bytes of version {SHARE_VERSION}")
        t, m, index = data[1], data[2], data[3]
        if t < 1 or 2 * t >= m or index >= m:
            raise KeyShareInvalid(f"share {index} claims t={t} of m={m}: not a valid sharing")
        try:
            value = FieldArray.from_bytes(data[4:], (LIMBS,))
        except ValueError as exc:
            raise KeyShareInvalid("a key share element is not in the field") from exc
        return cls(index, t, m, value)


def split_key(key: bytes, t: int, m: int, *, randbytes: RandomBytes = os.urandom) -> list[KeyShare]:
    """The m shares of ``key`` (threshold t: any t + 1 rebuild it); item i is node i's."""
    if len(key) != KEY_SIZE:
        raise KeySharingInvalid(f"a data key is {KEY_SIZE} bytes, got {len(key)}")
    if m > 255:
        raise KeySharingInvalid("at most 255 nodes hold shares of one key")
    try:
        shamir.check_threshold(m, t)
    except ValueError as exc:
        raise KeySharingInvalid(str(exc)) from exc
    limbs = [int.from_bytes(key[8 * j : 8 * j + 8], "big") for j in range(LIMBS)]
    values = shamir.split(FieldArray.from_ints(limbs), t, m, randbytes=randbytes)
    return [KeyShare(i, t, m, value) for i, value in enumerate(values)]


def _interpolate(shares: Sequence[KeyShare]) -> bytes | None:
    limbs = shamir.interpolate([(s.index + 1, s.value) for s in shares]).to_ints()
    if any(limb >> 64 for limb in limbs):
        return None  # not a sharing of any key
    return b"".join(limb.to_bytes(8, "big") for limb in limbs)


def recombine_key(shares: Sequence[KeyShare], commitment: bytes) -> bytes:
    """The key whose ``key_commitment`` is ``commitment``, from any t + 1 good shares.

    With more shares than t + 1, subsets are tried until one matches, so a node
    that sent a wrong share is outvoted. Shares of one node count once.
    """
    distinct = list({s.index: s for s in reversed(shares)}.values())
    groups: dict[tuple[int, int], list[KeyShare]] = {}
    for share in distinct:
        groups.setdefault((share.t, share.m), []).append(share)
    tried = 0
    for (t, _m), group in sorted(groups.items(), key=lambda g: -len(g[1])):
        for subset in itertools.combinations(sorted(group, key=lambda s: s.index), t + 1):
            key = _interpolate(subset)
            if key is not None and hmac.compare_digest(key_commitment(key), commitment):
                return key
            tried += 1
            if tried >= MAX_SUBSETS:  # 2048 subsets: far more than any real node set needs
                break
    have = sorted(s.index for s in distinct)
    if tried == 0:
        need = min(t + 1 for t, _ in groups) if groups else 2
        raise KeyRecoveryFailed(
            f"{len(distinct)} key shares (nodes {have}), at least {need} needed",
            details={"nodes": have},
        )
    raise KeyCommitmentMismatch(
        f"no {tried} combination(s) of the shares from nodes {have} rebuild the committed key: "
        "a node sent a wrong share; ask the other nodes",
        details={"nodes": have},
    )


def _context(label: bytes, item: str, key_id: str, index: int) -> bytes:
    key_bytes = check_key_id(key_id).encode()
    return (
        label + product_bytes(item) + bytes([len(key_bytes)]) + key_bytes + index.to_bytes(2, "big")
    )


def _seal(recipient: bytes, info: bytes, aad: bytes, plaintext: bytes) -> bytes:
    enc, context = SUITE.create_sender_context(
        SUITE.kem.deserialize_public_key(recipient), info=info
    )
    return enc + context.seal(plaintext, aad=aad)


def _open(private: bytes, info: bytes, aad: bytes, sealed: bytes) -> bytes:
    if len(sealed) != SEALED_SIZE:
        raise KeyShareInvalid(f"a sealed key share is {SEALED_SIZE} bytes, got {len(sealed)}")
    try:
        context = SUITE.create_recipient_context(
            sealed[:32], SUITE.kem.deserialize_private_key(private), info=info
        )
        return context.open(sealed[32:], aad=aad)
    except Exception as exc:  # pyhpke raises its own error types for every failure
        raise ShareMisdirected(
            "the key share does not open: it is sealed for another node, product, key id, "
            "commitment or buyer key, or it was modified"
        ) from exc


def _deposit_aad(commitment: bytes, not_before: int) -> bytes:
    return commitment + not_before.to_bytes(8, "big")


def seal_share(
    share: KeyShare, node: NodePublicKey, item: str, key_id: str, commitment: bytes, not_before: int
) -> bytes:
    """``share`` sealed to the node that will hold it (deposit)."""
    info = _context(DEPOSIT_LABEL, item, key_id, share.index)
    return _seal(node.raw, info, _deposit_aad(commitment, not_before), share.to_bytes())


def open_share(
    sealed: bytes,
    key: NodeKeyPair,
    item: str,
    key_id: str,
    index: int,
    commitment: bytes,
    not_before: int,
) -> KeyShare:
    """The node's own share from a deposit (``share_misdirected`` if not sealed for it)."""
    info = _context(DEPOSIT_LABEL, item, key_id, index)
    share = KeyShare.from_bytes(
        _open(key.private_bytes, info, _deposit_aad(commitment, not_before), sealed)
    )
    if share.index != index:
        raise ShareMisdirected(f"the sealed share is share {share.index}, not share {index}")
    return share


def seal_for_buyer(
    share: KeyShare, buyer: NodePublicKey, item: str, key_id: str, commitment: bytes
) -> bytes:
    """``share`` re-sealed to the buyer's ephemeral X25519 key (release)."""
    info = _context(RELEASE_LABEL, item, key_id, share.index) + buyer.raw
    return _seal(buyer.raw, info, commitment, share.to_bytes())


def open_released(
    sealed: bytes, buyer: NodeKeyPair, item: str, key_id: str, index: int, commitment: bytes
) -> KeyShare:
    """A share a node released to ``buyer`` (who made the ephemeral key pair)."""
    info = _context(RELEASE_LABEL, item, key_id, index) + buyer.public_key.raw
    share = KeyShare.from_bytes(_open(buyer.private_bytes, info, commitment, sealed))
    if share.index != index:
        raise ShareMisdirected(f"node {index} released share {share.index}")
    return share
