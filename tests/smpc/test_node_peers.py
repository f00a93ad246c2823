"""Only another compute node registered on chain may prepare, start, release or abandon a
job at a node, once per signed call, and a start's signature covers its ports (three node
apps in process)."""

from __future__ import annotations

import time
from pathlib import Path

from eth_account import Account
from eth_account.messages import encode_defunct

from kraken_market.smpc.node import peers
from tests.access.world import World

RID = "0x" + "ab" * 32


NONCE = "5eed" * 4


def signed(signature: str, at: int, nonce: str = NONCE) -> dict[str, str]:
    return {
        peers.SIGNATURE_HEADER: signature,
        peers.TIME_HEADER: str(at),
        peers.NONCE_HEADER: nonce,
    }


def test_only_a_registered_node_may_prepare_start_or_release_a_job(tmp_path: Path) -> None:
    world = World(tmp_path)
    try:
        node1 = world.apps[1]
        receiver = world.services[1].chain.account
        at = int(time.time())
        prepare = peers.statement("prepare", RID, receiver, at, NONCE)

        unsigned = node1.post(f"/jobs/{RID}/prepare", json={})
        assert (unsigned.status_code, unsigned.json()["code"]) == (401, "node_signature_required")

        stranger = Account.create()
        forged = "0x" + bytes(stranger.sign_message(encode_defunct(text=prepare)).signature).hex()
        refused = node1.post(f"/jobs/{RID}/prepare", json={}, headers=signed(forged, at))
        assert (refused.status_code, refused.json()["code"]) == (403, "not_a_node")

        old = at - 3600  # a signature from an hour ago
        stale = world.services[0].chain.sign(peers.statement("prepare", RID, receiver, old, NONCE))
        late = node1.post(f"/jobs/{RID}/prepare", json={}, headers=signed(stale, old))
        assert late.json()["code"] == "node_signature_required"

        by_node0 = world.services[0].chain.sign(prepare)
        answer = node1.post(f"/jobs/{RID}/prepare", json={}, headers=signed(by_node0, at))
        assert (answer.status_code, answer.json()["code"]) == (404, "job_not_found")

        # node 1 signing to itself is no peer either
        own = world.services[1].chain.sign(prepare)
        itself = node1.post(f"/jobs/{RID}/prepare", json={}, headers=signed(own, at))
        assert itself.json()["code"] == "not_a_node"

        # a start signed for some ports does not start the job at others
        start = peers.statement(
            "start", RID, receiver, at, NONCE, peers.ports_text([20001, 21002, 22003])
        )
        signature = world.services[0].chain.sign(start)
        moved = node1.post(
            f"/jobs/{RID}/start",
            json={"ports": [20001, 21999, 22003]},
            headers=signed(signature, at),
        )
        assert (moved.status_code, moved.json()["code"]) == (403, "not_a_node")
        kept = node1.post(
            f"/jobs/{RID}/start",
            json={"ports": [20001, 21002, 22003]},
            headers=signed(signature, at),
        )
        assert kept.json()["code"] == "job_not_found"  # signed right: then it looks for the job

        # a signed call acts once: the same call sent again is refused
        replayed = node1.post(f"/jobs/{RID}/prepare", json={}, headers=signed(by_node0, at))
        assert (replayed.status_code, replayed.json()["code"]) == (401, "node_signature_required")
        assert replayed.headers["WWW-Authenticate"] == "KrakenNodeSignature"
        # the nonce is signed too: the same signature with another nonce is no node's
        other = node1.post(f"/jobs/{RID}/prepare", json={}, headers=signed(by_node0, at, "ab" * 8))
        assert other.json()["code"] == "not_a_node"
    finally:
        world.close()
