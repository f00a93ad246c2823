"""Who may read a job's status and result at a compute node: its buyer only.

A request id is public (it is on chain in ``ComputationRequested``), so knowing it
proves nothing. The buyer's client signs, with the ledger account that paid, a
short statement naming the job, the node's own account and the time (EIP-191
``personal_sign``), sent in two headers; the node recovers the account and
compares it with the buyer the chain records for that request. The statement
names the node, so a signature shown to one node opens nothing at another, and
it is good for ``MAX_SKEW`` seconds only.

Used on the buyer's machine (``smpc.client``) and in the compute node
(``smpc.node.app``).
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from kraken_market.errors import Forbidden, Unauthenticated

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

SIGNATURE_HEADER = "X-Kraken-Buyer-Signature"
TIME_HEADER = "X-Kraken-Signed-At"
MAX_SKEW = 300


class BuyerSignatureRequired(Unauthenticated):
    code = "buyer_signature_required"
    scheme = "KrakenBuyerSignature"


class NotJobBuyer(Forbidden):
    code = "not_job_buyer"


def statement(request_id: str, node_account: str, at: int) -> str:
    return f"Kraken Market: read job {request_id.lower()} at node {node_account.lower()} ({at})"


def sign(account: LocalAccount, request_id: str, node_account: str) -> dict[str, str]:
    """The headers proving ``account`` asks about its job at the node ``node_account``."""
    from eth_account.messages import encode_defunct

    at = int(time.time())
    signed = account.sign_message(encode_defunct(text=statement(request_id, node_account, at)))
    return {SIGNATURE_HEADER: "0x" + bytes(signed.signature).hex(), TIME_HEADER: str(at)}


def signer_of(
    signature: str | None, signed_at: str | None, request_id: str, node_account: str
) -> str:
    """The account that signed this node's statement about the job, checked for time."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    hint = "sign the request with the account that paid for the job (the SDK and CLI do)"
    if not signature or not signed_at or not re.fullmatch(r"[0-9]{1,12}", signed_at):
        raise BuyerSignatureRequired(f"a job's status and result are its buyer's: {hint}")
    at = int(signed_at)
    if abs(time.time() - at) > MAX_SKEW:
        raise BuyerSignatureRequired(
            f"the signature is older than {MAX_SKEW} s (or from the future): {hint}"
        )
    try:
        message = encode_defunct(text=statement(request_id, node_account, at))
        return str(Account.recover_message(message, signature=signature))
    except Exception as exc:  # eth-account raises several types for malformed signatures
        raise BuyerSignatureRequired(f"the signature is malformed: {hint}") from exc
