"""The typed ledger client: every contract function of the marketplace in Python.

One :class:`Ledger` acts for one account (its key signs every transaction
locally) against one deployment, over any web3 provider: the in-process
embedded chain in tests, ``kraken-market chain serve`` or any EVM node over
HTTP. Writes return a :class:`~kraken_market.ledger.model.Receipt` (or the id
they created); reads return the dataclasses of ``ledger.model``; failures are
``LedgerError`` subclasses with stable codes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from eth_utils.address import to_checksum_address
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import HTTPError
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.providers.rpc.utils import REQUEST_RETRY_ALLOWLIST, ExceptionRetryConfiguration
from web3.types import FilterParams, RPCEndpoint

from kraken_market.catalog.ids import union_id as catalog_union_id
from kraken_market.ledger.amounts import Token
from kraken_market.ledger.chain_url import shown_chain_url
from kraken_market.ledger.contracts import artifact
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.errors import (
    ChainUnavailable,
    InsufficientFunds,
    NotDeployed,
    reverted,
)
from kraken_market.ledger.log_ranges import DEFAULT_LOG_RANGE, get_logs
from kraken_market.ledger.model import (
    AvailabilityCode,
    ChainEvent,
    ClaimRecord,
    ClaimStatus,
    ComputationRecord,
    ModeCode,
    Node,
    Parameters,
    PaymentStatus,
    Prices,
    ProductOnChain,
    PurchaseKind,
    PurchaseRecord,
    Receipt,
    Refusal,
    Stake,
    StakeStatus,
    refusal_code,
    refusal_reason,
)
from kraken_market.ledger.reverts import revert_reason
from kraken_market.ledger.transactions import REVERT_ERRORS, EventDecoder, Sender
from kraken_market.types import ProductId

ZERO_ADDRESS = "0x" + "00" * 20
UNLIMITED = 2**256 - 1
ALLOWANCE_REFUSED = "erc20: insufficient allowance"
ADMIN_ROLE = b"\x00" * 32
ARBITER_ROLE = Web3.keccak(text="ARBITER_ROLE")
VERIFIER_ROLE = Web3.keccak(text="VERIFIER_ROLE")
ROLES = {"admin": ADMIN_ROLE, "arbiter": ARBITER_ROLE, "verifier": VERIFIER_ROLE}


def dev_account(index: int) -> LocalAccount:
    """Dev account ``index`` (0-9) of the embedded chain: eth-tester's fixed
    test keys, funded at genesis. Never use them on a chain holding value."""
    if not 0 <= index < 10:
        raise ValueError("dev accounts are numbered 0 to 9")
    account: LocalAccount = Account.from_key((index + 1).to_bytes(32, "big"))
    return account


CACHED_REQUESTS = {RPCEndpoint("eth_chainId")}
"""Answers kept for the connection's life: web3 checks the chain id before every
``eth_call`` and ``eth_estimateGas``, which would otherwise cost a request each."""


READ_METHODS = tuple(
    method
    for method in REQUEST_RETRY_ALLOWLIST
    if not method.startswith(("eth_send", "eth_sign", "personal", "admin", "txpool"))
)
"""What may be asked again: web3's list without anything that sends or signs. A send
asked again after its answer was lost could be mined twice (the nonce resync after
"nonce too low" signs a new transaction); a lost send is the Sender's to recover."""


def read_retries() -> ExceptionRetryConfiguration:
    """Reads (calls, blocks, logs, receipts, balances; never a send) asked again when
    the connection fails: after a network outage, each thread's kept-alive connection to
    the node is dead (the node's close never arrived) and fails once.

    web3's default names the builtin ``ConnectionError``, which requests' own
    ``ConnectionError`` is not, so without this nothing was retried and a compute node
    whose link flapped failed its next jobs with ``chain_unavailable``. Timeouts are
    not asked again (a dead node would hold the caller for minutes): the caller sees
    ``ChainUnavailable`` at once. 5 tries, 0.125 s doubling: under 2 s in all."""
    return ExceptionRetryConfiguration(
        errors=(RequestsConnectionError, HTTPError),
        retries=5,
        backoff_factor=0.125,
        method_allowlist=list(READ_METHODS),
    )


def connect(url: str, *, timeout: float = 30.0) -> Web3:
    """A web3 connection to a JSON-RPC node, checked to answer."""
    w3 = Web3(
        HTTPProvider(
            url,
            request_kwargs={"timeout": timeout},
            cache_allowed_requests=True,
            cacheable_requests=CACHED_REQUESTS,
            exception_retry_configuration=read_retries(),
        )
    )
    try:
        w3.eth.chain_id  # noqa: B018 - probe the node
    except (RequestsConnectionError, OSError) as exc:
        raise ChainUnavailable(
            f"no chain node answers at {shown_chain_url(url)}: start it with 'kraken-market "
            "chain serve' (or 'kraken-market up'), or check KRAKEN_CHAIN_URL"
        ) from exc
    return w3


def as_bytes32(value: bytes | str) -> bytes:
    """A 32-byte id from bytes or a 0x-hex string (the catalog's id format)."""
    raw = (
        bytes.fromhex(value[2:] if value.startswith("0x") else value)
        if isinstance(value, str)
        else value
    )
    if len(raw) != 32:
        raise ValueError(f"expected 32 bytes, got {len(raw)}")
    return raw


def _address(value: str) -> str | None:
    return None if int(value, 16) == 0 else to_checksum_address(value)


class Ledger:
    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        account: LocalAccount,
        *,
        timeout: float = 60.0,
        poll_latency: float = 0.005,
        log_range: int = DEFAULT_LOG_RANGE,
    ) -> None:
        self.w3 = w3
        self.deployment = deployment
        self.log_range = log_range
        """Most blocks one log query asks for (``Settings.chain_log_range``)."""
        self.contracts: dict[str, Contract] = {
            name: w3.eth.contract(address=to_checksum_address(address), abi=artifact(name).abi)
            for name, address in deployment.addresses().items()
        }
        self.decoder = EventDecoder(self.contracts)
        self._unlimited_allowance = False
        self._token: Token | None = None
        self.sender = Sender(w3, account, self.decoder, timeout=timeout, poll_latency=poll_latency)

    @property
    def address(self) -> str:
        return self.sender.address

    @property
    def account(self) -> LocalAccount:
        """The account this client signs with (for off-chain signatures by the same key)."""
        return self.sender.account

    def acting_as(self, account: LocalAccount) -> Ledger:
        """The same connection and deployment, acting for another account."""
        other = Ledger(
            self.w3,
            self.deployment,
            account,
            timeout=self.sender.timeout,
            poll_latency=self.sender.poll_latency,
            log_range=self.log_range,
        )
        other._token = self._token
        return other

    def check_deployed(self) -> None:
        """Every contract of the deployment has code on this chain."""
        if int(self.w3.eth.chain_id) != self.deployment.chain_id:
            raise NotDeployed(
                f"the deployment is for chain {self.deployment.chain_id}, "
                f"the node serves chain {self.w3.eth.chain_id}"
            )
        for name, contract in self.contracts.items():
            if not self.w3.eth.get_code(contract.address):
                raise NotDeployed(f"no {name} contract at {contract.address}: deploy again")

    # -- plumbing -----------------------------------------------------------------------

    def _fn(self, contract: str, name: str, *args: Any) -> ContractFunction:
        function: ContractFunction = self.contracts[contract].functions[name](*args)
        return function

    def transact(self, action: str, contract: str, name: str, *args: Any) -> Receipt:
        """Any contract function as a transaction (the typed methods below use this)."""
        return self.sender.transact(self._fn(contract, name, *args), action)

    def _call(self, contract: str, name: str, *args: Any) -> Any:
        try:
            return self._fn(contract, name, *args).call()
        except REVERT_ERRORS as exc:
            reason = revert_reason(exc)
            if reason is None:
                raise
            raise reverted(reason, f"reading {contract}.{name}") from exc
        except RequestsConnectionError as exc:
            raise ChainUnavailable("the chain node does not answer") from exc

    # -- DATA token ---------------------------------------------------------------------

    def token(self) -> Token:
        """The token prices, stakes and payments are in: its address, and the symbol and
        ``decimals()`` its contract reports (read once: an ERC-20's never change), so
        amounts are shown and typed in whole tokens without assuming 18 decimals."""
        if self._token is None:
            self._token = Token(
                address=to_checksum_address(self.deployment.token),
                symbol=str(self._call("DataToken", "symbol")),
                decimals=int(self._call("DataToken", "decimals")),
            )
        return self._token

    def balance(self, account: str | None = None) -> int:
        return int(self._call("DataToken", "balanceOf", account or self.address))

    def ether_balance(self, account: str | None = None) -> int:
        return int(self.w3.eth.get_balance(to_checksum_address(account or self.address)))

    def allowance(self, spender: str, owner: str | None = None) -> int:
        return int(self._call("DataToken", "allowance", owner or self.address, spender))

    def total_supply(self) -> int:
        return int(self._call("DataToken", "totalSupply"))

    def transfer(self, to: str, amount: int) -> Receipt:
        return self.transact(
            "transfer DATA", "DataToken", "transfer", to_checksum_address(to), amount
        )

    def approve_spending(self, amount: int, spender: str | None = None) -> Receipt:
        """Let the Market (default) pull up to ``amount`` DATA: stakes, prices, bonds."""
        target = spender or self.deployment.market
        receipt = self.transact("approve DATA", "DataToken", "approve", target, amount)
        if target == self.deployment.market:
            self._unlimited_allowance = amount == UNLIMITED
        return receipt

    def ensure_allowance(self, amount: int | Callable[[], int]) -> None:
        """Let the Market pull ``amount`` (or what the callable computes): approves it
        for unlimited spending once, then remembers, saving two calls per purchase.
        The memory is dropped when the token refuses for want of allowance (the owner
        lowered it from another client, or the token spends it down): see
        :meth:`paying`."""
        if self._unlimited_allowance:
            return
        needed = amount() if callable(amount) else amount
        current = self.allowance(self.deployment.market)
        if current < needed:
            self.approve_spending(UNLIMITED)
            current = UNLIMITED
        # snekmate's ERC-20 never decreases an allowance of 2^256-1
        self._unlimited_allowance = current == UNLIMITED

    def paying(self, amount: int, action: str, contract: str, name: str, *args: Any) -> Receipt:
        """A transaction in which the Market pulls up to ``amount`` DATA: the allowance is
        ensured first; if the token still refuses for want of it (the remembered unlimited
        allowance was lowered elsewhere), it is read again, approved, and the transaction
        sent once more (it was refused at estimation: nothing was sent or paid)."""
        if amount:
            self.ensure_allowance(amount)
        try:
            return self.transact(action, contract, name, *args)
        except InsufficientFunds as exc:
            if exc.reason != ALLOWANCE_REFUSED or not self._unlimited_allowance:
                raise
        self._unlimited_allowance = False
        self.ensure_allowance(amount)
        return self.transact(action, contract, name, *args)

    def send_ether(self, to: str, wei: int) -> Receipt:
        """Send gas money (the chain's own currency) to ``to``."""
        return self.sender.send_value(to, wei)

    def drip(self, amount: int, to: str | None = None) -> Receipt:
        """Mint DATA from the faucet (embedded development chain only)."""
        if "Faucet" not in self.contracts:
            raise NotDeployed("this chain has no faucet: it exists on the embedded chain only")
        return self.transact("faucet", "Faucet", "drip", to or self.address, amount)

    # -- Authority ----------------------------------------------------------------------

    def has_role(self, role: str, account: str) -> bool:
        return bool(self._call("Authority", "hasRole", ROLES[role], account))

    def grant_role(self, role: str, account: str) -> Receipt:
        return self.transact(f"grant {role} role", "Authority", "grantRole", ROLES[role], account)

    def revoke_role(self, role: str, account: str) -> Receipt:
        return self.transact(f"revoke {role} role", "Authority", "revokeRole", ROLES[role], account)

    def register_node(self, account: str, hpke_public_key: bytes, endpoint: str) -> Receipt:
        return self.transact(
            "register node", "Authority", "register_node", account, hpke_public_key, endpoint
        )

    def remove_node(self, account: str) -> Receipt:
        return self.transact("remove node", "Authority", "remove_node", account)

    def nodes(self) -> list[Node]:
        accounts = self._call("Authority", "node_count")
        result = []
        for index in range(int(accounts)):
            account = self._call("Authority", "node_accounts", index)
            key, endpoint, _active = self._call("Authority", "nodes", account)
            result.append(Node(account=account, hpke_public_key=bytes(key), endpoint=endpoint))
        return result

    def is_node(self, account: str) -> bool:
        return bool(self._call("Authority", "is_node", account))

    def pause(self) -> Receipt:
        return self.transact("pause", "Authority", "pause")

    def unpause(self) -> Receipt:
        return self.transact("unpause", "Authority", "unpause")

    def paused(self) -> bool:
        return bool(self._call("Authority", "paused"))

    def parameters(self) -> Parameters:
        names = (
            "treasury",
            "fee_bps",
            "min_stake",
            "claim_window",
            "claim_bond",
            "computation_deadline",
            "attestations_required",
        )
        values = {name: self._call("Authority", name) for name in names}
        return Parameters(**values)

    def set_parameters(self, parameters: Parameters) -> Receipt:
        return self.transact("set parameters", "Authority", "set_parameters", *parameters.as_args())

    # -- Registry -----------------------------------------------------------------------

    def publish(
        self,
        product_id: bytes | str,
        *,
        mode: ModeCode,
        prices: Prices,
        metadata_hash: bytes = b"\x00" * 32,
        policy_hash: bytes = b"\x00" * 32,
        parents: Sequence[bytes | str] = (),
        stake: int = 0,
    ) -> Receipt:
        """Publish a catalog product; approves the Market for the stake if needed."""
        return self.paying(
            stake,
            "publish",
            "Registry",
            "publish",
            as_bytes32(product_id),
            metadata_hash,
            policy_hash,
            int(mode),
            prices.as_tuple(),
            [as_bytes32(parent) for parent in parents],
            stake,
        )

    def set_metadata(self, product_id: bytes | str, metadata_hash: bytes) -> Receipt:
        return self.transact(
            "update metadata", "Registry", "set_metadata", as_bytes32(product_id), metadata_hash
        )

    def set_policy(self, product_id: bytes | str, policy_hash: bytes) -> Receipt:
        return self.transact(
            "update policy", "Registry", "set_policy", as_bytes32(product_id), policy_hash
        )

    def set_prices(self, product_id: bytes | str, prices: Prices) -> Receipt:
        return self.transact(
            "update prices", "Registry", "set_prices", as_bytes32(product_id), prices.as_tuple()
        )

    def set_availability(self, product_id: bytes | str, availability: AvailabilityCode) -> Receipt:
        return self.transact(
            "change availability",
            "Registry",
            "set_availability",
            as_bytes32(product_id),
            int(availability),
        )

    def transfer_product(self, product_id: bytes | str, new_owner: str) -> Receipt:
        return self.transact(
            "transfer product", "Registry", "transfer_product", as_bytes32(product_id), new_owner
        )

    def accept_product(self, product_id: bytes | str) -> Receipt:
        return self.transact("accept product", "Registry", "accept_product", as_bytes32(product_id))

    def propose_union(self, members: dict[bytes | str, int]) -> tuple[bytes, Receipt]:
        """Propose a Data Union of ``members`` (id -> revenue weight); its id is the
        catalog's union id. Members are sorted here, as the contract requires."""
        ordered = sorted((as_bytes32(member), weight) for member, weight in members.items())
        expected = as_bytes32(
            catalog_union_id([ProductId("0x" + member.hex()) for member, _ in ordered])
        )
        receipt = self.transact(
            "propose union",
            "Registry",
            "propose_union",
            [member for member, _ in ordered],
            [weight for _, weight in ordered],
        )
        created = bytes(receipt.first("UnionProposed").args["union_id"])
        assert created == expected, "the registry and the catalog disagree on a union id"
        return created, receipt

    def consent_union(self, union_id: bytes | str) -> Receipt:
        return self.transact("consent to union", "Registry", "consent_union", as_bytes32(union_id))

    def union_consent(self, union_id: bytes | str, owner: str) -> int:
        """``owner``'s consent to the current proposal of ``union_id``: 0 none, 1 awaited,
        2 given (``Registry.consent_of``)."""
        return int(self._call("Registry", "consent_of", as_bytes32(union_id), owner))

    def reject_union(self, union_id: bytes | str) -> Receipt:
        """Withdraw a pending union as the owner of a member (or its proposer): its
        consents lapse and the same members may be proposed again."""
        return self.transact("reject union", "Registry", "reject_union", as_bytes32(union_id))

    def product(self, product_id: bytes | str) -> ProductOnChain | None:
        key = as_bytes32(product_id)
        owner, pending, metadata, policy, mode, availability, prices, published = self._call(
            "Registry", "products", key
        )
        if int(owner, 16) == 0:
            return None
        return ProductOnChain(
            product_id=key,
            owner=owner,
            pending_owner=_address(pending),
            metadata_hash=bytes(metadata),
            policy_hash=bytes(policy),
            mode=ModeCode(mode),
            availability=AvailabilityCode(availability),
            prices=Prices.from_tuple(prices),
            published_at=int(published),
            parents=tuple(bytes(p) for p in self._call("Registry", "parents_of", key)),
        )

    def parents_of(self, product_id: bytes | str) -> list[bytes]:
        return [bytes(p) for p in self._call("Registry", "parents_of", as_bytes32(product_id))]

    def union(self, union_id: bytes | str) -> dict[str, Any] | None:
        key = as_bytes32(union_id)
        proposer, mode, status, missing, proposed_at = self._call("Registry", "unions", key)
        if status == 0:
            return None
        members, weights = self._call("Registry", "members_of", key)
        return {
            "union_id": key,
            "proposer": proposer,
            "mode": ModeCode(mode),
            "status": "active" if status == 2 else "pending",
            "consents_missing": int(missing),
            "proposed_at": int(proposed_at),
            "members": {bytes(m): int(w) for m, w in zip(members, weights, strict=True)},
        }

    def terms(self, item: bytes | str) -> tuple[ModeCode | None, bool, Prices]:
        mode, listed, prices = self._call("Registry", "terms", as_bytes32(item))
        return (ModeCode(mode) if mode else None), bool(listed), Prices.from_tuple(prices)

    # -- Market: grants -----------------------------------------------------------------

    def grant(self, buyer: str, item: bytes | str, purpose: int, expiry: int) -> Receipt:
        return self.transact("grant", "Market", "grant", buyer, as_bytes32(item), purpose, expiry)

    def revoke_grant(self, buyer: str, item: bytes | str, purpose: int) -> Receipt:
        return self.transact(
            "revoke grant", "Market", "revoke_grant", buyer, as_bytes32(item), purpose
        )

    def has_grant(self, buyer: str, item: bytes | str, purpose: int) -> bool:
        return bool(self._call("Market", "has_grant", buyer, as_bytes32(item), purpose))

    # -- Market: purchases --------------------------------------------------------------

    def buy_access(
        self, item: bytes | str, purpose: int, max_amount: int | None = None
    ) -> tuple[int, Receipt]:
        """Buy access to a batch product or union; the purchase id and receipt. The
        contract charges at most ``max_amount`` (default: the price quoted now), so a
        price raised in between refuses the purchase (``price_changed``)."""
        price = self.terms(item)[2].access if max_amount is None else max_amount
        receipt = self.paying(
            price, "buy access", "Market", "buy_access", as_bytes32(item), purpose, price
        )
        return int(receipt.first("AccessPurchased").args["purchase_id"]), receipt

    def subscribe(
        self, item: bytes | str, purpose: int, seconds: int, max_amount: int | None = None
    ) -> tuple[int, Receipt]:
        """Buy ``seconds`` of a stream, charged at most ``max_amount`` (default: as quoted)."""
        if max_amount is None:
            max_amount = self.terms(item)[2].subscription_per_second * seconds
        receipt = self.paying(
            max_amount,
            "subscribe",
            "Market",
            "subscribe",
            as_bytes32(item),
            purpose,
            seconds,
            max_amount,
        )
        return int(receipt.first("Subscribed").args["purchase_id"]), receipt

    def paid_until(self, buyer: str, item: bytes | str) -> int:
        return int(self._call("Market", "paid_until", buyer, as_bytes32(item)))

    def access_purchases(self, buyer: str, item: bytes | str) -> list[ChainEvent]:
        """``buyer``'s ``AccessPurchased`` events for ``item``, oldest first: read from the
        chain (both are indexed topics), so no marketplace database or session is needed."""
        market = self.contracts["Market"]
        criteria: FilterParams = {
            "address": market.address,
            "topics": [
                market.events.AccessPurchased().topic,
                HexStr("0x" + as_bytes32(item).hex()),
                HexStr("0x" + bytes.fromhex(buyer.removeprefix("0x")).rjust(32, b"\0").hex()),
            ],
        }
        return list(self.decoder.decode_all(self.logs(criteria)))

    def logs(
        self, criteria: FilterParams, from_block: int | None = None, to_block: int | None = None
    ) -> list[Any]:
        """Logs matching ``criteria`` from ``from_block`` (default: the deployment's
        first block) to ``to_block`` (default: the latest), in bounded ranges."""
        return get_logs(
            self.w3,
            criteria,
            self.deployment.block if from_block is None else from_block,
            "latest" if to_block is None else to_block,
            max_blocks=self.log_range,
        )

    def chain_time(self) -> int:
        """'Now' as the next transaction will see it: the latest block's timestamp, or
        the wall clock when the chain has been idle longer (a block is made only for a
        transaction, so the latest one may be old)."""
        try:
            latest = int(self.w3.eth.get_block("latest")["timestamp"])
        except RequestsConnectionError as exc:
            raise ChainUnavailable("the chain node does not answer") from exc
        return max(latest, int(time.time()))

    def request_computation(
        self,
        request_id: bytes | str,
        function_id: bytes,
        items: Sequence[bytes | str],
        purpose: int,
        result_key_hash: bytes,
        max_amount: int | None = None,
    ) -> tuple[int, Receipt]:
        """Pay for a computation (held until delivery), at most ``max_amount``
        (default: the sum of the prices quoted now)."""
        if max_amount is None:
            max_amount = sum(self.terms(item)[2].computation for item in items)
        receipt = self.paying(
            max_amount,
            "request computation",
            "Market",
            "request_computation",
            as_bytes32(request_id),
            function_id,
            [as_bytes32(item) for item in items],
            purpose,
            result_key_hash,
            max_amount,
        )
        return int(receipt.first("ComputationRequested").args["purchase_id"]), receipt

    def attest(self, request_id: bytes | str, result_commitment: bytes) -> Receipt:
        return self.transact(
            "attest delivery", "Market", "attest", as_bytes32(request_id), result_commitment
        )

    def reclaim(self, request_id: bytes | str) -> Receipt:
        return self.transact("reclaim payment", "Market", "reclaim", as_bytes32(request_id))

    def refuse(self, request_id: bytes | str, reason: str) -> Receipt:
        """As a compute node: refuse a held computation for a reason the buyer did not
        cause (``reason``: the node's error code); the buyer is refunded at once."""
        return self.transact(
            "refuse computation",
            "Market",
            "refuse",
            as_bytes32(request_id),
            refusal_reason(reason),
        )

    def refusal(self, request_id: bytes | str) -> Refusal | None:
        """Who refused ``request_id`` and why, with the refund's transaction (None if
        no node refused it)."""
        key = as_bytes32(request_id)
        node, reason, block_number = self._call("Market", "refusals", key)
        if int(node, 16) == 0:
            return None
        market = self.contracts["Market"]
        logs = self.logs(
            {
                "address": market.address,
                "topics": [market.events.ComputationRefused().topic, HexStr("0x" + key.hex())],
            },
            int(block_number),
            int(block_number),
        )
        return Refusal(
            request_id=key,
            node=to_checksum_address(node),
            reason=refusal_code(bytes(reason)),
            block_number=int(block_number),
            tx_hash="0x" + bytes(logs[0]["transactionHash"]).hex() if logs else None,
        )

    def awaiting_delivery(self, request_id: bytes | str) -> bool:
        return bool(self._call("Market", "awaiting_delivery", as_bytes32(request_id)))

    def computation(self, request_id: bytes | str) -> ComputationRecord | None:
        key = as_bytes32(request_id)
        buyer, purchase, function, key_hash, amount, deadline, count, status = self._call(
            "Market", "computations", key
        )
        if int(buyer, 16) == 0:
            return None
        return ComputationRecord(
            request_id=key,
            buyer=buyer,
            purchase_id=int(purchase),
            function_id=bytes(function),
            result_key_hash=bytes(key_hash),
            amount=int(amount),
            deadline=int(deadline),
            attestations=int(count),
            status=PaymentStatus(status),
        )

    def purchase(self, purchase_id: int) -> PurchaseRecord | None:
        buyer, kind, purpose, amount, when = self._call("Market", "purchases", purchase_id)
        if int(buyer, 16) == 0:
            return None
        items = tuple(bytes(i) for i in self._call("Market", "items_of", purchase_id))
        return PurchaseRecord(
            purchase_id=purchase_id,
            buyer=buyer,
            kind=PurchaseKind(kind),
            purpose=int(purpose),
            amount=int(amount),
            time=int(when),
            items=items,
        )

    # -- Market: escrow -----------------------------------------------------------------

    def stake(self, product_id: bytes | str) -> Stake:
        amount, status, open_claims, price_floor, release_at = self._call(
            "Market", "stakes", as_bytes32(product_id)
        )
        return Stake(
            amount=int(amount),
            status=StakeStatus(status),
            open_claims=int(open_claims),
            price_floor=int(price_floor),
            release_at=int(release_at),
        )

    def release_stake(self, product_id: bytes | str) -> Receipt:
        """Pay an approved product's stake out to its owner (anyone may, once the claim
        window after the first approval has passed with no claim open)."""
        return self.transact("release stake", "Market", "release_stake", as_bytes32(product_id))

    def approve_product(self, purchase_id: int, product_id: bytes | str) -> Receipt:
        return self.transact(
            "approve product", "Market", "approve", purchase_id, as_bytes32(product_id)
        )

    def file_claim(
        self, purchase_id: int, product_id: bytes | str, evidence_hash: bytes
    ) -> Receipt:
        bond = int(self._call("Authority", "claim_bond"))
        return self.paying(
            bond,
            "file claim",
            "Market",
            "file_claim",
            purchase_id,
            as_bytes32(product_id),
            evidence_hash,
            bond,
        )

    def rule(self, purchase_id: int, *, uphold: bool) -> Receipt:
        return self.transact("rule on claim", "Market", "rule", purchase_id, uphold)

    def claim(self, purchase_id: int) -> ClaimRecord | None:
        product, claimant, bond, evidence, status = self._call("Market", "claims", purchase_id)
        if status == 0:
            return None
        return ClaimRecord(
            purchase_id=purchase_id,
            product_id=bytes(product),
            claimant=claimant,
            bond=int(bond),
            evidence_hash=bytes(evidence),
            status=ClaimStatus(status),
        )

    def escrow_totals(self) -> dict[str, int]:
        """What the Market holds in trust, by kind, and its actual DATA balance."""
        return {
            "staked": int(self._call("Market", "total_staked")),
            "bonds": int(self._call("Market", "total_bonds")),
            "held": int(self._call("Market", "total_held")),
            "balance": self.balance(self.deployment.market),
        }


__all__ = ["ZERO_ADDRESS", "Ledger", "as_bytes32", "connect", "dev_account"]
