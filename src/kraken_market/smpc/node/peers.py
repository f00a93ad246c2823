"""Compute nodes talking to each other to start a job together (``smpc.node.schedule``).

Who the peers are comes from the chain: the Authority contract lists every
registered node's account and endpoint (an admin registered them). The lead
node asks each endpoint's ``GET /node`` which index it serves and keeps it only
if the account it names is the one registered for that endpoint.

Every call is signed by the calling node's ledger account: an EIP-191
``personal_sign`` statement naming the action, the job, the receiving node's
account, the time, a random nonce, and for a start the ports (so a signature
cannot start a job at other ports or at another node). The receiver recovers the signer,
acts only for a node registered on chain (``verify``), and acts on each
signature once (a replayed call is refused). Runs in the compute node.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx2

from kraken_market.client import error_fields
from kraken_market.errors import Forbidden, KrakenError, ServiceUnavailable, Unauthenticated

SIGNATURE_HEADER = "X-Kraken-Node-Signature"
TIME_HEADER = "X-Kraken-Signed-At"
NONCE_HEADER = "X-Kraken-Nonce"
MAX_SKEW = 60
REFRESH = 30.0
"""Seconds the registered nodes are reused before the chain is read again."""
FRESH_EVERY = 5.0
"""Seconds between chain reads for a signer not yet known (so strangers cannot make a
node read the chain at every request)."""


class NodeSignatureRequired(Unauthenticated):
    code = "node_signature_required"
    scheme = "KrakenNodeSignature"


class NotANode(Forbidden):
    code = "not_a_node"


class PeerUnavailable(ServiceUnavailable):
    code = "peer_unavailable"


class PeerRefused(KrakenError):
    """A peer answered a coordination call with an error (its ``code`` kept)."""

    code = "peer_refused"

    def __init__(self, node: int, status: int, code: str, message: str) -> None:
        super().__init__(f"node {node}: {message}", details={"node": node, "code": code})
        self.node, self.status_code, self.peer_code = node, status, code


def statement(
    action: str, request_id: str, to_account: str, at: int, nonce: str, extra: str = ""
) -> str:
    tail = f" {extra}" if extra else ""
    return (
        f"Kraken Market: node {action} job {request_id.lower()} at node "
        f"{to_account.lower()} ({at}, {nonce}){tail}"
    )


def ports_text(ports: Sequence[int]) -> str:
    return "ports " + json.dumps(list(ports), separators=(",", ":"))


@dataclass(frozen=True)
class Peer:
    index: int
    endpoint: str
    account: str


class Peers:
    """The other nodes of the deployment, by index, and signed calls to them."""

    def __init__(
        self,
        own_index: int,
        own_account: str,
        registered: Callable[[], list[tuple[str, str]]],
        sign: Callable[[str], str],
        *,
        http: httpx2.Client | None = None,
    ) -> None:
        """``registered``: (account, endpoint) of every node on chain; ``sign``: this
        node's EIP-191 signature of a text, hex."""
        self.own_index, self.own_account = own_index, own_account.lower()
        self._registered, self._sign = registered, sign
        self.http = http or httpx2.Client(timeout=httpx2.Timeout(10.0, connect=2.0))
        self._lock = threading.Lock()
        self._accounts: tuple[float, set[str]] = (0.0, set())
        self._by_index: dict[int, Peer] = {}
        self._nodes: tuple[float, list[tuple[str, str]]] = (0.0, [])
        self._fresh_read = 0.0
        self._seen: dict[str, float] = {}  # signatures acted on, within their lifetime

    # -- who is a node ------------------------------------------------------------------

    def accounts(self, *, fresh: bool = False) -> set[str]:
        with self._lock:
            at, known = self._accounts
            if fresh or time.monotonic() - at > REFRESH:
                known = {account.lower() for account, _ in self._registered()}
                self._accounts = (time.monotonic(), known)
            return known

    def verify(
        self,
        signature: str | None,
        signed_at: str | None,
        nonce: str | None,
        text_of: Callable[[int, str], str],
    ) -> str:
        """The registered node that signed ``text_of(signed_at, nonce)``, once (refused
        otherwise)."""
        from eth_account import Account
        from eth_account.messages import encode_defunct

        if (
            not signature
            or not signed_at
            or not re.fullmatch(r"[0-9]{1,12}", signed_at)
            or not nonce
            or not re.fullmatch(r"[0-9a-f]{16,64}", nonce)
        ):
            raise NodeSignatureRequired("only a registered compute node may call this")
        at = int(signed_at)
        if abs(time.time() - at) > MAX_SKEW:
            raise NodeSignatureRequired(f"the node signature is older than {MAX_SKEW} s")
        try:
            signer = str(
                Account.recover_message(
                    encode_defunct(text=text_of(at, nonce)), signature=signature
                )
            )
        except Exception as exc:  # eth-account raises several types for malformed signatures
            raise NodeSignatureRequired("the node signature is malformed") from exc
        known = signer.lower() in self.accounts()
        if not known and time.monotonic() - self._fresh_read > FRESH_EVERY:
            self._fresh_read = time.monotonic()  # a node registered a moment ago
            known = signer.lower() in self.accounts(fresh=True)
        if signer.lower() == self.own_account or not known:
            raise NotANode(f"{signer} is not another compute node registered on chain")
        with self._lock:  # each signed call acts once: a replay is refused
            now = time.monotonic()
            self._seen = {s: t for s, t in self._seen.items() if now - t < 2 * MAX_SKEW}
            if signature.lower() in self._seen:
                raise NodeSignatureRequired("this node signature was used already")
            self._seen[signature.lower()] = now
        return signer

    # -- calling them -------------------------------------------------------------------

    def others(self) -> list[Peer]:
        """Every other node, by index (asked of each registered endpoint once)."""
        with self._lock:
            known = dict(self._by_index)
        if len(known) + 1 >= len(self._registered_now()):
            return [known[i] for i in sorted(known)]
        for account, endpoint in self._registered_now():
            if account.lower() == self.own_account or any(
                p.endpoint == endpoint for p in known.values()
            ):
                continue
            try:
                info = self.http.get(f"{endpoint}/node").json()
            except (httpx2.HTTPError, ValueError):
                continue  # down for now: asked again on the next call
            if str(info.get("account", "")).lower() != account.lower():
                continue  # not the node the chain registered at that endpoint
            index = int(info["index"])
            known[index] = Peer(index, endpoint, account)
        with self._lock:
            self._by_index = known
        return [known[i] for i in sorted(known)]

    def _registered_now(self) -> list[tuple[str, str]]:
        """The registered nodes, read from the chain at most every ``REFRESH`` seconds."""
        with self._lock:
            at, nodes = self._nodes
        if time.monotonic() - at > REFRESH:
            nodes = [(a, e.rstrip("/")) for a, e in self._registered()]
            with self._lock:
                self._nodes = (time.monotonic(), nodes)
        return nodes

    def forget(self, peer: Peer) -> None:
        """Ask the chain and the endpoint again next time (the node moved or restarted)."""
        with self._lock:
            self._by_index.pop(peer.index, None)
            self._nodes = (0.0, [])

    def call(
        self, peer: Peer, action: str, request_id: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """POST ``/jobs/{id}/{action}`` at ``peer``, signed; its JSON answer."""
        at, nonce = int(time.time()), secrets.token_hex(8)
        extra = ports_text(body["ports"]) if body and "ports" in body else ""
        signature = self._sign(statement(action, request_id, peer.account, at, nonce, extra))
        headers = {SIGNATURE_HEADER: signature, TIME_HEADER: str(at), NONCE_HEADER: nonce}
        try:
            response = self.http.post(
                f"{peer.endpoint}/jobs/{request_id}/{action}", json=body or {}, headers=headers
            )
        except httpx2.HTTPError as exc:
            self.forget(peer)
            raise PeerUnavailable(f"node {peer.index} at {peer.endpoint} does not answer") from exc
        if response.status_code >= 400:
            code, message, _ = error_fields(response)
            raise PeerRefused(peer.index, response.status_code, code, message)
        answer: dict[str, Any] = response.json()
        return answer
