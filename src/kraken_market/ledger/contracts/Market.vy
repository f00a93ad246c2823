# pragma version ~=0.4.3
"""
@title Kraken Market: grants, purchases, the staking escrow and computation payments
@notice Holds every token the marketplace keeps in trust, and nothing else:
        the sellers' stakes, the buyers' claim bonds and the computation
        payments awaiting delivery. Invariant (tested):
        DATA.balanceOf(this) == total_staked + total_bonds + total_held.
        - Grants: the verifier records, after checking the buyer's
          credentials against the product policy off chain, that a buyer may
          use an item (product or union) for a purpose until an expiry.
        - Purchases need a valid grant for every item and a listed item.
          Access and subscription payments go at once to the owner, or to
          union members by weight, minus the platform fee to the treasury.
          Computation payments are held until `attestations_required`
          registered nodes attest delivery, then paid out the same way;
          after the deadline the buyer may reclaim them instead, and before
          any attestation a registered node may refuse the computation for a
          reason the buyer did not cause, which refunds the buyer at once.
        - Escrow: the stake locked at publication is released to the seller
          when a buyer who purchased approves, unless a claim is open. A
          buyer may file one claim per purchase within the claim window
          (for a computation, once its payment was paid out), posting the
          claim bond; the arbiter upholds (the claimant gets the
          bond back and a refund up to the stake, the rest of the stake goes
          to the treasury, the product is delisted) or rejects (the bond goes
          to the seller).
"""

from ethereum.ercs import IERC20

interface IAuthority:
    def paused() -> bool: view
    def hasRole(role: bytes32, account: address) -> bool: view
    def is_node(account: address) -> bool: view
    def treasury() -> address: view
    def fee_bps() -> uint256: view
    def claim_window() -> uint256: view
    def claim_bond() -> uint256: view
    def computation_deadline() -> uint256: view
    def attestations_required() -> uint256: view

interface IRegistry:
    def terms(item: bytes32) -> Terms: view
    def payees(item: bytes32) -> (DynArray[address, MAX_MEMBERS], DynArray[uint256, MAX_MEMBERS]): view
    def covers(item: bytes32, product_id: bytes32) -> bool: view
    def owner_of(product_id: bytes32) -> address: view
    def members_of(union_id: bytes32) -> (DynArray[bytes32, MAX_MEMBERS], DynArray[uint256, MAX_MEMBERS]): view
    def delist(product_id: bytes32): nonpayable

MAX_MEMBERS: constant(uint256) = 256
MAX_ITEMS: constant(uint256) = 16
BPS: constant(uint256) = 10000
ARBITER_ROLE: constant(bytes32) = keccak256("ARBITER_ROLE")
VERIFIER_ROLE: constant(bytes32) = keccak256("VERIFIER_ROLE")
BATCH: constant(uint8) = 1
STREAM: constant(uint8) = 2
ANALYTICS: constant(uint8) = 3
ACCESS: constant(uint8) = 1
SUBSCRIPTION: constant(uint8) = 2
COMPUTATION: constant(uint8) = 3
STAKE_LOCKED: constant(uint8) = 1
STAKE_RELEASED: constant(uint8) = 2
STAKE_SLASHED: constant(uint8) = 3
CLAIM_OPEN: constant(uint8) = 1
CLAIM_UPHELD: constant(uint8) = 2
CLAIM_REJECTED: constant(uint8) = 3
HELD: constant(uint8) = 1
PAID: constant(uint8) = 2
RECLAIMED: constant(uint8) = 3
REFUNDED: constant(uint8) = 4


struct Prices:
    access: uint256
    subscription_per_second: uint256
    subscription_min_seconds: uint256
    computation: uint256


struct Terms:
    mode: uint8
    listed: bool
    prices: Prices


struct Stake:
    amount: uint256
    status: uint8
    open_claims: uint256
    price_floor: uint256  # the least an approving purchase paid: the list price at publication
    release_at: uint256  # 0 until a real approval; then when the stake may go to the owner


struct Purchase:
    buyer: address
    kind: uint8
    purpose: uint8
    amount: uint256
    time: uint256


struct Claim:
    product_id: bytes32
    claimant: address
    bond: uint256
    evidence_hash: bytes32
    status: uint8


struct Computation:
    buyer: address
    purchase_id: uint256
    function_id: bytes32
    result_key_hash: bytes32
    amount: uint256
    deadline: uint256
    attestations: uint256
    status: uint8


struct Refusal:
    node: address
    reason: bytes32  # the node's error code, ASCII, zero-padded (e.g. "share_file_missing")
    block_number: uint256  # where its ComputationRefused event is


event StakeLocked:
    product_id: indexed(bytes32)
    owner: indexed(address)
    amount: uint256

event StakeReleased:
    product_id: indexed(bytes32)
    owner: indexed(address)
    amount: uint256

event StakeReleaseScheduled:
    product_id: indexed(bytes32)
    release_at: uint256

event Granted:
    item: indexed(bytes32)
    buyer: indexed(address)
    purpose: uint8
    expiry: uint256

event GrantRevoked:
    item: indexed(bytes32)
    buyer: indexed(address)
    purpose: uint8

event AccessPurchased:
    item: indexed(bytes32)
    buyer: indexed(address)
    purchase_id: indexed(uint256)
    purpose: uint8
    amount: uint256

event Subscribed:
    item: indexed(bytes32)
    buyer: indexed(address)
    purchase_id: indexed(uint256)
    purpose: uint8
    seconds: uint256
    paid_until: uint256
    amount: uint256

event ComputationRequested:
    request_id: indexed(bytes32)
    buyer: indexed(address)
    purchase_id: indexed(uint256)
    function_id: bytes32
    items: DynArray[bytes32, MAX_ITEMS]
    purpose: uint8
    result_key_hash: bytes32
    amount: uint256
    deadline: uint256

event ComputationItem:
    item: indexed(bytes32)
    request_id: indexed(bytes32)
    amount: uint256

event Attested:
    request_id: indexed(bytes32)
    node: indexed(address)
    result_commitment: bytes32

event ComputationPaid:
    request_id: indexed(bytes32)
    amount: uint256

event ComputationReclaimed:
    request_id: indexed(bytes32)
    buyer: indexed(address)
    amount: uint256

event ComputationRefused:
    request_id: indexed(bytes32)
    buyer: indexed(address)
    node: indexed(address)
    reason: bytes32
    amount: uint256

event Revenue:
    item: indexed(bytes32)
    payee: indexed(address)
    purchase_id: indexed(uint256)
    amount: uint256

event FeePaid:
    purchase_id: indexed(uint256)
    treasury: address
    amount: uint256

event Approved:
    product_id: indexed(bytes32)
    buyer: indexed(address)
    purchase_id: indexed(uint256)

event ClaimFiled:
    product_id: indexed(bytes32)
    claimant: indexed(address)
    purchase_id: indexed(uint256)
    bond: uint256
    evidence_hash: bytes32

event ClaimRuled:
    product_id: indexed(bytes32)
    arbiter: indexed(address)
    purchase_id: indexed(uint256)
    upheld: bool
    refund: uint256
    slashed: uint256


authority: public(immutable(address))
registry: public(immutable(address))
token: public(immutable(address))

stakes: public(HashMap[bytes32, Stake])
grants: public(HashMap[address, HashMap[bytes32, HashMap[uint8, uint256]]])
purchases: public(HashMap[uint256, Purchase])
purchase_items: HashMap[uint256, DynArray[bytes32, MAX_ITEMS]]
purchase_count: public(uint256)
paid_until: public(HashMap[address, HashMap[bytes32, uint256]])
approved: public(HashMap[uint256, HashMap[bytes32, bool]])
claims: public(HashMap[uint256, Claim])
computations: public(HashMap[bytes32, Computation])
computation_amounts: HashMap[bytes32, DynArray[uint256, MAX_ITEMS]]
computation_of: HashMap[uint256, bytes32]
attestations: public(HashMap[bytes32, HashMap[address, bytes32]])
refusals: public(HashMap[bytes32, Refusal])

total_staked: public(uint256)
total_bonds: public(uint256)
total_held: public(uint256)


@deploy
def __init__(authority_: address, registry_: address, token_: address):
    authority = authority_
    registry = registry_
    token = token_


@external
def lock_stake(product_id: bytes32, owner: address, amount: uint256, price_floor: uint256):
    """
    @notice Called by the Registry while it publishes `product_id`; `price_floor` is
            the product's list price then, the least a purchase that approves
            it must have paid (a later price cut does not lower it).
    """
    assert msg.sender == registry, "not_registry"
    self._pull(owner, amount)
    self.stakes[product_id] = Stake(
        amount=amount, status=STAKE_LOCKED, open_claims=0, price_floor=price_floor, release_at=0
    )
    self.total_staked += amount
    log StakeLocked(product_id=product_id, owner=owner, amount=amount)


@external
def grant(buyer: address, item: bytes32, purpose: uint8, expiry: uint256):
    self._not_paused()
    self._only_role(VERIFIER_ROLE)
    assert buyer != empty(address), "zero_address"
    assert expiry > block.timestamp, "grant_expired"
    self.grants[buyer][item][purpose] = expiry
    log Granted(item=item, buyer=buyer, purpose=purpose, expiry=expiry)


@external
def revoke_grant(buyer: address, item: bytes32, purpose: uint8):
    self._only_role(VERIFIER_ROLE)
    assert self.grants[buyer][item][purpose] != 0, "unknown_grant"
    self.grants[buyer][item][purpose] = 0
    log GrantRevoked(item=item, buyer=buyer, purpose=purpose)


@external
@view
def has_grant(buyer: address, item: bytes32, purpose: uint8) -> bool:
    return self.grants[buyer][item][purpose] > block.timestamp


@external
def buy_access(item: bytes32, purpose: uint8, max_amount: uint256) -> uint256:
    """
    @notice `max_amount` is the price the buyer was quoted: a price raised in
            between (front-running the purchase) refuses it instead of
            charging more.
    """
    self._not_paused()
    terms: Terms = self._purchasable(item, purpose, BATCH)
    assert terms.prices.access <= max_amount, "price_changed"
    purchase_id: uint256 = self._record(ACCESS, purpose, terms.prices.access, [item])
    self._pull(msg.sender, terms.prices.access)
    self._distribute(item, terms.prices.access, purchase_id)
    log AccessPurchased(
        item=item, buyer=msg.sender, purchase_id=purchase_id, purpose=purpose, amount=terms.prices.access
    )
    return purchase_id


@external
def subscribe(item: bytes32, purpose: uint8, seconds: uint256, max_amount: uint256) -> uint256:
    """
    @notice Adds `seconds` of stream access, from now or from the end of the
            time already paid, whichever is later.
    """
    self._not_paused()
    terms: Terms = self._purchasable(item, purpose, STREAM)
    assert seconds >= terms.prices.subscription_min_seconds, "subscription_too_short"
    amount: uint256 = terms.prices.subscription_per_second * seconds
    assert amount <= max_amount, "price_changed"
    until: uint256 = max(block.timestamp, self.paid_until[msg.sender][item]) + seconds
    self.paid_until[msg.sender][item] = until
    purchase_id: uint256 = self._record(SUBSCRIPTION, purpose, amount, [item])
    self._pull(msg.sender, amount)
    self._distribute(item, amount, purchase_id)
    log Subscribed(
        item=item,
        buyer=msg.sender,
        purchase_id=purchase_id,
        purpose=purpose,
        seconds=seconds,
        paid_until=until,
        amount=amount,
    )
    return purchase_id


@external
def request_computation(
    request_id: bytes32,
    function_id: bytes32,
    items: DynArray[bytes32, MAX_ITEMS],
    purpose: uint8,
    result_key_hash: bytes32,
    max_amount: uint256,
) -> uint256:
    """
    @notice Pays for one computation over `items`; the payment is held here
            until enough compute nodes attest delivery.
    """
    self._not_paused()
    assert request_id != empty(bytes32), "bad_request_id"
    assert self.computations[request_id].buyer == empty(address), "request_exists"
    assert len(items) > 0, "no_items"
    assert result_key_hash != empty(bytes32), "bad_result_key"
    amounts: DynArray[uint256, MAX_ITEMS] = []
    amount: uint256 = 0
    for i: uint256 in range(len(items), bound=MAX_ITEMS):
        for j: uint256 in range(i, bound=MAX_ITEMS):
            assert items[j] != items[i], "duplicate_item"
        terms: Terms = self._purchasable(items[i], purpose, ANALYTICS)
        amounts.append(terms.prices.computation)
        amount += terms.prices.computation
    assert amount <= max_amount, "price_changed"
    purchase_id: uint256 = self._record(COMPUTATION, purpose, amount, items)
    deadline: uint256 = block.timestamp + staticcall IAuthority(authority).computation_deadline()
    self.computations[request_id] = Computation(
        buyer=msg.sender,
        purchase_id=purchase_id,
        function_id=function_id,
        result_key_hash=result_key_hash,
        amount=amount,
        deadline=deadline,
        attestations=0,
        status=HELD,
    )
    self.computation_amounts[request_id] = amounts
    self.computation_of[purchase_id] = request_id
    self._pull(msg.sender, amount)
    self.total_held += amount
    log ComputationRequested(
        request_id=request_id,
        buyer=msg.sender,
        purchase_id=purchase_id,
        function_id=function_id,
        items=items,
        purpose=purpose,
        result_key_hash=result_key_hash,
        amount=amount,
        deadline=deadline,
    )
    for i: uint256 in range(len(items), bound=MAX_ITEMS):
        log ComputationItem(item=items[i], request_id=request_id, amount=amounts[i])
    return purchase_id


@external
def attest(request_id: bytes32, result_commitment: bytes32):
    """
    @notice A registered compute node attests that it delivered its result
            share (commitment: hash of the encrypted share). Reaching the
            threshold pays the held amount out.
    """
    self._not_paused()
    assert staticcall IAuthority(authority).is_node(msg.sender), "not_node"
    computation: Computation = self.computations[request_id]
    assert computation.status == HELD, "computation_not_held"
    assert result_commitment != empty(bytes32), "bad_commitment"
    assert self.attestations[request_id][msg.sender] == empty(bytes32), "already_attested"
    self.attestations[request_id][msg.sender] = result_commitment
    count: uint256 = computation.attestations + 1
    self.computations[request_id].attestations = count
    log Attested(request_id=request_id, node=msg.sender, result_commitment=result_commitment)
    if count < staticcall IAuthority(authority).attestations_required():
        return
    self.computations[request_id].status = PAID
    self.total_held -= computation.amount
    items: DynArray[bytes32, MAX_ITEMS] = self.purchase_items[computation.purchase_id]
    amounts: DynArray[uint256, MAX_ITEMS] = self.computation_amounts[request_id]
    for i: uint256 in range(len(items), bound=MAX_ITEMS):
        self._distribute(items[i], amounts[i], computation.purchase_id)
    log ComputationPaid(request_id=request_id, amount=computation.amount)


@external
def reclaim(request_id: bytes32):
    """
    @notice The buyer takes a held payment back once the deadline passed
            without enough attestations (allowed while paused).
    """
    computation: Computation = self.computations[request_id]
    assert computation.buyer != empty(address), "unknown_request"
    assert msg.sender == computation.buyer, "not_buyer"
    assert computation.status == HELD, "computation_not_held"
    assert block.timestamp > computation.deadline, "deadline_not_passed"
    self.computations[request_id].status = RECLAIMED
    self.total_held -= computation.amount
    self._push(computation.buyer, computation.amount)
    log ComputationReclaimed(request_id=request_id, buyer=computation.buyer, amount=computation.amount)


@external
def refuse(request_id: bytes32, reason: bytes32):
    """
    @notice A registered compute node refuses a held computation for a reason
            the buyer did not cause (`reason`: its error code, e.g. the seller's
            share file is missing or tampered, the manifest is not signed by the
            product's owner, the node's storage is gone): the held amount goes
            back to the buyer at once, instead of after the deadline.
            Trust: the MPC needs every node, so one node can already stop any
            computation by not computing, and the buyer then reclaims after the
            deadline; refusing only brings that refund forward, and the money
            goes to the buyer, never to the node. It is refused once any node
            attested (a delivered result means every node computed: nothing was
            wrong with the inputs, and a refund then would give the result away),
            so an attestation after a refusal fails and a refusal after one too.
            Not while paused, like `attest` (the buyer may still reclaim).
    """
    self._not_paused()
    assert staticcall IAuthority(authority).is_node(msg.sender), "not_node"
    computation: Computation = self.computations[request_id]
    assert computation.status == HELD, "computation_not_held"
    assert reason != empty(bytes32), "bad_refusal_reason"
    assert computation.attestations == 0, "delivery_attested"
    self.computations[request_id].status = REFUNDED
    self.refusals[request_id] = Refusal(node=msg.sender, reason=reason, block_number=block.number)
    self.total_held -= computation.amount
    self._push(computation.buyer, computation.amount)
    log ComputationRefused(
        request_id=request_id,
        buyer=computation.buyer,
        node=msg.sender,
        reason=reason,
        amount=computation.amount,
    )


@external
def approve(purchase_id: uint256, product_id: bytes32):
    """
    @notice The buyer of `purchase_id` approves a product it bought. The first
            real approval schedules the stake's release to the owner one claim
            window later (`release_stake`), so that other buyers can still
            object: a claim filed meanwhile holds it, an upheld one slashes it.
    """
    self._not_paused()
    self._only_buyer_of(purchase_id, product_id)
    assert not self.approved[purchase_id][product_id], "already_approved"
    assert self.claims[purchase_id].status == 0, "already_claimed"
    stake: Stake = self.stakes[product_id]
    assert stake.open_claims == 0, "claim_open"
    # Only a real purchase counts: paid, delivered, at least the price the product
    # was published at (a seller cutting its price to 1 wei to buy and approve it
    # would otherwise take its stake back), by someone other than its owner.
    assert self.purchases[purchase_id].amount > 0, "free_purchase"
    if self.purchases[purchase_id].kind == COMPUTATION:
        assert self.computations[self.computation_of[purchase_id]].status == PAID, "not_delivered"
    assert self.purchases[purchase_id].amount >= stake.price_floor, "below_floor"
    assert msg.sender != staticcall IRegistry(registry).owner_of(product_id), "own_product"
    self.approved[purchase_id][product_id] = True
    log Approved(product_id=product_id, buyer=msg.sender, purchase_id=purchase_id)
    if stake.status == STAKE_LOCKED and stake.release_at == 0:
        release_at: uint256 = block.timestamp + staticcall IAuthority(authority).claim_window()
        self.stakes[product_id].release_at = release_at
        log StakeReleaseScheduled(product_id=product_id, release_at=release_at)


@external
def release_stake(product_id: bytes32):
    """
    @notice Anyone may pay out an approved product's stake to its owner once the
            claim window after its first approval has passed with no claim open.
    """
    self._not_paused()
    stake: Stake = self.stakes[product_id]
    assert stake.status == STAKE_LOCKED, "stake_not_locked"
    assert stake.release_at != 0, "not_approved"
    assert block.timestamp >= stake.release_at, "release_not_due"
    assert stake.open_claims == 0, "claim_open"
    self.stakes[product_id].status = STAKE_RELEASED
    self.stakes[product_id].amount = 0
    self.total_staked -= stake.amount
    owner: address = staticcall IRegistry(registry).owner_of(product_id)
    self._push(owner, stake.amount)
    log StakeReleased(product_id=product_id, owner=owner, amount=stake.amount)


@external
def file_claim(purchase_id: uint256, product_id: bytes32, evidence_hash: bytes32, max_bond: uint256):
    self._not_paused()
    self._only_buyer_of(purchase_id, product_id)
    assert self.claims[purchase_id].status == 0, "already_claimed"
    assert not self.approved[purchase_id][product_id], "already_approved"
    # A computation payment still held, reclaimed or refunded never reached the
    # seller: the buyer's remedy is `reclaim` (or a node's `refuse`); a claim on
    # top would refund it twice.
    if self.purchases[purchase_id].kind == COMPUTATION:
        assert self.computations[self.computation_of[purchase_id]].status == PAID, "not_delivered"
    assert block.timestamp <= self.purchases[purchase_id].time + staticcall IAuthority(authority).claim_window(), "claim_window_closed"
    assert self.stakes[product_id].status == STAKE_LOCKED, "stake_not_locked"
    bond: uint256 = staticcall IAuthority(authority).claim_bond()
    assert bond <= max_bond, "bond_changed"
    self.claims[purchase_id] = Claim(
        product_id=product_id,
        claimant=msg.sender,
        bond=bond,
        evidence_hash=evidence_hash,
        status=CLAIM_OPEN,
    )
    self.stakes[product_id].open_claims += 1
    self._pull(msg.sender, bond)
    self.total_bonds += bond
    log ClaimFiled(
        product_id=product_id,
        claimant=msg.sender,
        purchase_id=purchase_id,
        bond=bond,
        evidence_hash=evidence_hash,
    )


@external
def rule(purchase_id: uint256, uphold: bool):
    """
    @notice The arbiter's ruling on the open claim of `purchase_id` (allowed
            while paused, so disputes can still be settled).
    """
    self._only_role(ARBITER_ROLE)
    claim: Claim = self.claims[purchase_id]
    assert claim.status == CLAIM_OPEN, "no_open_claim"
    product_id: bytes32 = claim.product_id
    self.stakes[product_id].open_claims -= 1
    self.total_bonds -= claim.bond
    refund: uint256 = 0
    slashed: uint256 = 0
    if uphold:
        self.claims[purchase_id].status = CLAIM_UPHELD
        stake: uint256 = self.stakes[product_id].amount
        refund = min(self._paid_for(purchase_id, product_id), stake)
        slashed = stake - refund
        if self.stakes[product_id].status == STAKE_LOCKED:
            self.stakes[product_id].status = STAKE_SLASHED
            self.stakes[product_id].amount = 0
            self.total_staked -= stake
            extcall IRegistry(registry).delist(product_id)
        self._push(claim.claimant, claim.bond + refund)
        self._push(staticcall IAuthority(authority).treasury(), slashed)
    else:
        self.claims[purchase_id].status = CLAIM_REJECTED
        self._push(staticcall IRegistry(registry).owner_of(product_id), claim.bond)
    log ClaimRuled(
        product_id=product_id,
        arbiter=msg.sender,
        purchase_id=purchase_id,
        upheld=uphold,
        refund=refund,
        slashed=slashed,
    )


@external
@view
def items_of(purchase_id: uint256) -> DynArray[bytes32, MAX_ITEMS]:
    return self.purchase_items[purchase_id]


@external
@view
def awaiting_delivery(request_id: bytes32) -> bool:
    """
    @notice What a compute node checks before touching any share: the request
            exists and its payment is held (not reclaimed, refunded or paid out).
    """
    return self.computations[request_id].status == HELD


@internal
@view
def _purchasable(item: bytes32, purpose: uint8, mode: uint8) -> Terms:
    terms: Terms = staticcall IRegistry(registry).terms(item)
    assert terms.mode != 0, "unknown_product"
    assert terms.mode == mode, "wrong_access_mode"
    assert terms.listed, "not_listed"
    assert self.grants[msg.sender][item][purpose] > block.timestamp, "no_grant"
    return terms


@internal
def _record(kind: uint8, purpose: uint8, amount: uint256, items: DynArray[bytes32, MAX_ITEMS]) -> uint256:
    purchase_id: uint256 = self.purchase_count + 1
    self.purchase_count = purchase_id
    self.purchases[purchase_id] = Purchase(
        buyer=msg.sender, kind=kind, purpose=purpose, amount=amount, time=block.timestamp
    )
    self.purchase_items[purchase_id] = items
    return purchase_id


@internal
def _distribute(item: bytes32, amount: uint256, purchase_id: uint256):
    """
    @notice Fee to the treasury, the rest to the payees by weight; the
            rounding remainder goes to the last payee, so nothing stays here.
    """
    if amount == 0:
        return
    fee: uint256 = amount * staticcall IAuthority(authority).fee_bps() // BPS
    if fee > 0:
        treasury: address = staticcall IAuthority(authority).treasury()
        self._push(treasury, fee)
        log FeePaid(purchase_id=purchase_id, treasury=treasury, amount=fee)
    rest: uint256 = amount - fee
    accounts: DynArray[address, MAX_MEMBERS] = []
    weights: DynArray[uint256, MAX_MEMBERS] = []
    accounts, weights = staticcall IRegistry(registry).payees(item)
    total_weight: uint256 = 0
    for weight: uint256 in weights:
        total_weight += weight
    paid: uint256 = 0
    last: uint256 = len(accounts) - 1
    for i: uint256 in range(len(accounts), bound=MAX_MEMBERS):
        share: uint256 = rest - paid
        if i < last:
            share = rest * weights[i] // total_weight
        paid += share
        self._push(accounts[i], share)
        log Revenue(item=item, payee=accounts[i], purchase_id=purchase_id, amount=share)


@internal
@view
def _paid_for(purchase_id: uint256, product_id: bytes32) -> uint256:
    """
    @notice What the buyer paid for `product_id` in `purchase_id`: the price of
            the item itself, or the product's weighted share of a union's price.
            An upheld claim refunds at most this, never what other products of
            the purchase earned.
    """
    purchase: Purchase = self.purchases[purchase_id]
    items: DynArray[bytes32, MAX_ITEMS] = self.purchase_items[purchase_id]
    for i: uint256 in range(len(items), bound=MAX_ITEMS):
        amount: uint256 = purchase.amount
        if purchase.kind == COMPUTATION:
            amount = self.computation_amounts[self.computation_of[purchase_id]][i]
        if items[i] == product_id:
            return amount
        members: DynArray[bytes32, MAX_MEMBERS] = []
        weights: DynArray[uint256, MAX_MEMBERS] = []
        members, weights = staticcall IRegistry(registry).members_of(items[i])
        total: uint256 = 0
        for weight: uint256 in weights:
            total += weight
        for j: uint256 in range(len(members), bound=MAX_MEMBERS):
            if members[j] == product_id:
                return amount * weights[j] // total
    return 0


@internal
@view
def _only_buyer_of(purchase_id: uint256, product_id: bytes32):
    purchase: Purchase = self.purchases[purchase_id]
    assert purchase.buyer != empty(address), "unknown_purchase"
    assert purchase.buyer == msg.sender, "not_buyer"
    covered: bool = False
    for item: bytes32 in self.purchase_items[purchase_id]:
        if staticcall IRegistry(registry).covers(item, product_id):
            covered = True
            break
    assert covered, "not_purchased"


@internal
def _pull(owner: address, amount: uint256):
    if amount > 0:
        assert extcall IERC20(token).transferFrom(owner, self, amount, default_return_value=True), "transfer_failed"


@internal
def _push(to: address, amount: uint256):
    if amount > 0:
        assert extcall IERC20(token).transfer(to, amount, default_return_value=True), "transfer_failed"


@internal
@view
def _not_paused():
    assert not staticcall IAuthority(authority).paused(), "paused"


@internal
@view
def _only_role(role: bytes32):
    assert staticcall IAuthority(authority).hasRole(role, msg.sender), "not_authorised"
