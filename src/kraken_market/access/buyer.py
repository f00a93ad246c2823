"""The buyer's SDK for a batch product: collect key shares from the nodes, decrypt the file.

::

    fetched = fetch_file(purchase_id, product_id, open_storage(location), object_name,
                         Path("cohort.csv"), account, endpoints_from_ledger(ledger))

``fetch_key`` makes a fresh X25519 key pair, signs one release request
(EIP-191) and asks the nodes in turn; each re-seals its share to that key
after checking the purchase and grant on chain. It stops as soon as t + 1
shares rebuild a key matching the commitment the nodes report (or the one
given), so a dead node or a wrong share costs only one more request.
``download_file`` streams the ciphertext from storage, authenticates every
chunk and only then moves the plaintext into place: a failure leaves no file.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx2
from pydantic import ValidationError

from kraken_market.access import errors
from kraken_market.access.datafile import DataFileHeader, Progress, decrypt_stream
from kraken_market.access.errors import KeyCommitmentMismatch, KeyRecoveryFailed, KeyUnavailable
from kraken_market.access.keyshares import KeyShare, check_key_id, open_released, recombine_key
from kraken_market.access.nodes import NodeRegistry, nodes_from_ledger, post
from kraken_market.access.objects import atomic_output, open_object
from kraken_market.access.wire import KeyRelease, ReleasedShare, b64decode, b64encode, sign_text
from kraken_market.errors import KrakenError
from kraken_market.smpc.client import NodeError
from kraken_market.smpc.ids import normalise
from kraken_market.smpc.keys import NodeKeyPair, NodePublicKey
from kraken_market.smpc.storage import ShareStorage

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

_UNSIGNED = "0x" + "00" * 65
_REFUSALS: dict[str, type[KrakenError]] = {
    cls.code: cls for cls in (getattr(errors, name) for name in errors.__all__)
}


@dataclass(frozen=True)
class RecoveredKey:
    key: bytes = field(repr=False)
    commitment: bytes
    nodes: tuple[int, ...]
    """The nodes whose shares were received."""
    failed: dict[int, str]
    """Node position -> ``code: message`` of every node that gave no usable share."""


@dataclass(frozen=True)
class FetchedFile:
    path: Path
    header: DataFileHeader
    key: RecoveredKey


def endpoints_from_ledger(ledger: NodeRegistry) -> list[str]:
    return [node.endpoint for node in nodes_from_ledger(ledger)]


def release_request(
    item: str,
    key_id: str,
    purchase_id: int,
    buyer_key: NodePublicKey,
    account: LocalAccount,
    *,
    issued_at: int,
) -> KeyRelease:
    """The signed release request every node receives."""
    unsigned = KeyRelease(
        item=normalise(item),
        key_id=check_key_id(key_id),
        purchase_id=purchase_id,
        buyer_public_key=b64encode(buyer_key.raw),
        issued_at=issued_at,
        buyer=account.address,
        signature=_UNSIGNED,
    )
    return unsigned.model_copy(update={"signature": sign_text(account, unsigned.message())})


def fetch_key(
    endpoints: Sequence[str],
    item: str,
    purchase_id: int,
    account: LocalAccount,
    *,
    key_id: str = "data",
    commitment: bytes | None = None,
    http: httpx2.Client | None = None,
    clock: Callable[[], float] = time.time,
) -> RecoveredKey:
    """The data key, from the first t + 1 nodes whose shares recombine to it."""
    ephemeral = NodeKeyPair.generate()
    request = release_request(
        item, key_id, purchase_id, ephemeral.public_key, account, issued_at=int(clock())
    )
    body = request.model_dump(mode="json")
    groups: dict[bytes, list[KeyShare]] = {}
    senders: dict[bytes, list[int]] = {}
    failed: dict[int, str] = {}
    refusals: list[NodeError] = []
    client = http or httpx2.Client(timeout=30)
    try:
        for i, endpoint in enumerate(endpoints):
            try:
                answer = ReleasedShare.model_validate(
                    post(client, i, endpoint, "/keys/release", body).json()
                )
                committed = bytes.fromhex(answer.key_commitment[2:])
                if commitment is not None and committed != commitment:
                    raise KeyCommitmentMismatch(f"node {i} holds a share of another key")
                share = open_released(
                    b64decode(answer.sealed_share), ephemeral, request.item, key_id,
                    answer.node_index, committed,
                )  # fmt: skip
            except NodeError as exc:
                failed[i] = exc.roll_up()
                refusals.append(exc)
                continue
            except (KrakenError, ValidationError, ValueError) as exc:
                failed[i] = exc.roll_up() if isinstance(exc, KrakenError) else f"bad answer: {exc}"
                continue
            group = groups.setdefault(committed, [])
            group.append(share)
            senders.setdefault(committed, []).append(i)
            if len(group) >= share.t + 1:
                try:
                    key = recombine_key(group, committed)
                except KeyRecoveryFailed:
                    continue  # a wrong share among them: ask the next node
                return RecoveredKey(key, committed, tuple(senders[committed]), failed)
    finally:
        if http is None:
            client.close()
    raise _why_not(groups, failed, refusals, len(endpoints))


def _why_not(
    groups: dict[bytes, list[KeyShare]], failed: dict[int, str], refusals: list[NodeError], m: int
) -> KrakenError:
    if any(len(g) >= g[0].t + 1 for g in groups.values()):
        return KeyCommitmentMismatch(
            "the nodes' shares do not rebuild the committed key: a node sent a wrong share; "
            "report it to the platform",
            details={"failed": failed},
        )
    codes = Counter(r.node_code for r in refusals)
    if refusals and len(codes) == 1 and not groups:
        code = refusals[0].node_code
        kind = _REFUSALS.get(code, KeyUnavailable)
        return kind(f"{code}: {refusals[0].message}", details={"failed": failed})
    return KeyUnavailable(
        f"{m - len(failed)} of {m} nodes released a share, too few to rebuild the key: "
        "retry when more nodes are up",
        details={"failed": failed},
    )


def download_file(
    storage: ShareStorage,
    object_name: str,
    key: bytes,
    out: Path,
    *,
    product_id: str | None = None,
    progress: Progress | None = None,
) -> DataFileHeader:
    """Decrypt the stored data file into ``out``, which appears only once every chunk
    authenticated (``datafile_*`` errors otherwise, and no file)."""
    with open_object(storage, object_name) as source, atomic_output(out) as sink:
        return decrypt_stream(source, sink, key, product_id=product_id, progress=progress)


def fetch_file(
    purchase_id: int,
    product_id: str,
    storage: ShareStorage,
    object_name: str,
    out: Path,
    account: LocalAccount,
    endpoints: Sequence[str],
    *,
    key_id: str = "data",
    commitment: bytes | None = None,
    http: httpx2.Client | None = None,
    progress: Progress | None = None,
) -> FetchedFile:
    """Get the key from the nodes for ``purchase_id`` and decrypt the file into ``out``."""
    key = fetch_key(
        endpoints, product_id, purchase_id, account,
        key_id=key_id, commitment=commitment, http=http,
    )  # fmt: skip
    header = download_file(
        storage, object_name, key.key, out, product_id=product_id, progress=progress
    )
    return FetchedFile(Path(out), header, key)
