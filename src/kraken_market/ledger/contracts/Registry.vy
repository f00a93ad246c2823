# pragma version ~=0.4.3
"""
@title Kraken Market product registry: products, lineage and Data Unions
@notice A product is its catalog id (32 random bytes), its owner, the hash of
        its catalog metadata and policy, its access mode, prices and
        availability, and its parents. Parents must exist when a product is
        published, so the lineage graph is acyclic by construction.
        A Data Union (KRAKEN D5.4, figure 2) is identified by keccak-256 of
        its member ids sorted ascending and concatenated, exactly as the
        catalog computes it; it exists only once every owner of a member has
        consented by transaction, and revenue is split by member weight.
        Stakes are held by the Market (the escrow): `publish` asks it to pull
        the stake from the publisher with transferFrom.
"""

interface IAuthority:
    def paused() -> bool: view
    def hasRole(role: bytes32, account: address) -> bool: view
    def min_stake() -> uint256: view

interface IMarket:
    def lock_stake(product_id: bytes32, owner: address, amount: uint256, price_floor: uint256): nonpayable

MAX_PARENTS: constant(uint256) = 16
MAX_MEMBERS: constant(uint256) = 256
MAX_WEIGHT: constant(uint256) = 1_000_000  # as the catalog; no overflow in revenue splits
BATCH: constant(uint8) = 1
STREAM: constant(uint8) = 2
ANALYTICS: constant(uint8) = 3
LISTED: constant(uint8) = 1
PAUSED: constant(uint8) = 2
RETIRED: constant(uint8) = 3
DELISTED: constant(uint8) = 4
UNION_CONSENT_WINDOW: constant(uint256) = 30 * 86400  # a pending proposal's lifetime
UNION_PENDING: constant(uint8) = 1
UNION_ACTIVE: constant(uint8) = 2
CONSENT_PENDING: constant(uint8) = 1
CONSENT_GIVEN: constant(uint8) = 2


struct Prices:
    access: uint256
    subscription_per_second: uint256
    subscription_min_seconds: uint256
    computation: uint256


struct Product:
    owner: address
    pending_owner: address
    metadata_hash: bytes32
    policy_hash: bytes32
    mode: uint8
    availability: uint8
    prices: Prices
    published_at: uint256


struct Union:
    proposer: address
    mode: uint8
    status: uint8
    consents_missing: uint256
    proposed_at: uint256


struct Terms:
    mode: uint8
    listed: bool
    prices: Prices


event ProductPublished:
    product_id: indexed(bytes32)
    owner: indexed(address)
    metadata_hash: bytes32
    policy_hash: bytes32
    mode: uint8
    prices: Prices
    parents: DynArray[bytes32, MAX_PARENTS]
    stake: uint256

event MetadataChanged:
    product_id: indexed(bytes32)
    metadata_hash: bytes32

event PolicyChanged:
    product_id: indexed(bytes32)
    policy_hash: bytes32

event PricesChanged:
    product_id: indexed(bytes32)
    prices: Prices

event AvailabilityChanged:
    product_id: indexed(bytes32)
    availability: uint8

event OwnershipTransferStarted:
    product_id: indexed(bytes32)
    owner: indexed(address)
    pending_owner: indexed(address)

event OwnershipTransferred:
    product_id: indexed(bytes32)
    previous_owner: indexed(address)
    owner: indexed(address)

event UnionProposed:
    union_id: indexed(bytes32)
    proposer: indexed(address)
    members: DynArray[bytes32, MAX_MEMBERS]
    weights: DynArray[uint256, MAX_MEMBERS]

event UnionConsented:
    union_id: indexed(bytes32)
    owner: indexed(address)

event UnionCreated:
    union_id: indexed(bytes32)

event UnionRejected:
    union_id: indexed(bytes32)
    by: indexed(address)

event UnionMemberAdded:
    product_id: indexed(bytes32)
    union_id: indexed(bytes32)
    weight: uint256


authority: public(immutable(address))
market: public(address)
products: public(HashMap[bytes32, Product])
parents: HashMap[bytes32, DynArray[bytes32, MAX_PARENTS]]
unions: public(HashMap[bytes32, Union])
members: HashMap[bytes32, DynArray[bytes32, MAX_MEMBERS]]
weights: HashMap[bytes32, DynArray[uint256, MAX_MEMBERS]]
# Consents are kept per proposal round: a rejected or expired proposal's consents
# never count for the next proposal of the same members (maybe other weights).
consent: HashMap[bytes32, HashMap[address, uint8]]  # keyed by _round_key(union_id)
union_round: public(HashMap[bytes32, uint256])


@deploy
def __init__(authority_: address):
    authority = authority_


@external
def set_market(market_: address):
    """
    @notice Wires the escrow once, after both contracts are deployed.
    """
    assert staticcall IAuthority(authority).hasRole(empty(bytes32), msg.sender), "not_admin"
    assert self.market == empty(address), "market_already_set"
    assert market_ != empty(address), "zero_address"
    self.market = market_


@external
def publish(
    product_id: bytes32,
    metadata_hash: bytes32,
    policy_hash: bytes32,
    mode: uint8,
    prices: Prices,
    parents: DynArray[bytes32, MAX_PARENTS],
    stake: uint256,
):
    self._not_paused()
    assert self.market != empty(address), "market_not_set"
    assert product_id != empty(bytes32), "bad_product_id"
    assert not self._product_exists(product_id), "product_exists"
    assert self.unions[product_id].status == 0, "product_exists"
    self._check_prices(mode, prices)
    assert stake >= staticcall IAuthority(authority).min_stake(), "stake_too_low"
    for parent: bytes32 in parents:
        assert self._product_exists(parent), "unknown_parent"
    self.products[product_id] = Product(
        owner=msg.sender,
        pending_owner=empty(address),
        metadata_hash=metadata_hash,
        policy_hash=policy_hash,
        mode=mode,
        availability=LISTED,
        prices=prices,
        published_at=block.timestamp,
    )
    self.parents[product_id] = parents
    log ProductPublished(
        product_id=product_id,
        owner=msg.sender,
        metadata_hash=metadata_hash,
        policy_hash=policy_hash,
        mode=mode,
        prices=prices,
        parents=parents,
        stake=stake,
    )
    extcall IMarket(self.market).lock_stake(product_id, msg.sender, stake, self._list_price(mode, prices))


@internal
@pure
def _list_price(mode: uint8, prices: Prices) -> uint256:
    """The price a buyer pays for the product's mode: access, the minimum
    subscription (saturating: the product exceeds 2^256 only for absurd prices),
    or one computation."""
    if mode == BATCH:
        return prices.access
    if mode == ANALYTICS:
        return prices.computation
    if prices.subscription_min_seconds != 0 and prices.subscription_per_second > max_value(uint256) // prices.subscription_min_seconds:
        return max_value(uint256)
    return prices.subscription_per_second * prices.subscription_min_seconds


@external
def set_metadata(product_id: bytes32, metadata_hash: bytes32):
    self._only_owner(product_id)
    self.products[product_id].metadata_hash = metadata_hash
    log MetadataChanged(product_id=product_id, metadata_hash=metadata_hash)


@external
def set_policy(product_id: bytes32, policy_hash: bytes32):
    self._only_owner(product_id)
    self.products[product_id].policy_hash = policy_hash
    log PolicyChanged(product_id=product_id, policy_hash=policy_hash)


@external
def set_prices(product_id: bytes32, prices: Prices):
    self._only_owner(product_id)
    self._check_prices(self.products[product_id].mode, prices)
    self.products[product_id].prices = prices
    log PricesChanged(product_id=product_id, prices=prices)


@external
def set_availability(product_id: bytes32, availability: uint8):
    """
    @notice Listed and paused switch back and forth; retired is final, and a
            product the arbiter delisted stays delisted.
    """
    self._only_owner(product_id)
    assert availability >= LISTED and availability <= RETIRED, "bad_availability"
    current: uint8 = self.products[product_id].availability
    assert current != RETIRED and current != DELISTED, "product_closed"
    assert current != availability, "unchanged"
    self.products[product_id].availability = availability
    log AvailabilityChanged(product_id=product_id, availability=availability)


@external
def delist(product_id: bytes32):
    """
    @notice Called by the Market when the arbiter upholds a claim.
    """
    assert msg.sender == self.market, "not_market"
    self.products[product_id].availability = DELISTED
    log AvailabilityChanged(product_id=product_id, availability=DELISTED)


@external
def transfer_product(product_id: bytes32, new_owner: address):
    """
    @notice First step of a two-step transfer; the new owner must accept.
            The zero address cancels a pending transfer.
    """
    self._only_owner(product_id)
    self.products[product_id].pending_owner = new_owner
    log OwnershipTransferStarted(
        product_id=product_id, owner=msg.sender, pending_owner=new_owner
    )


@external
def accept_product(product_id: bytes32):
    self._not_paused()
    assert self._product_exists(product_id), "unknown_product"
    assert msg.sender == self.products[product_id].pending_owner, "not_pending_owner"
    previous: address = self.products[product_id].owner
    self.products[product_id].owner = msg.sender
    self.products[product_id].pending_owner = empty(address)
    log OwnershipTransferred(product_id=product_id, previous_owner=previous, owner=msg.sender)


@external
def propose_union(
    members: DynArray[bytes32, MAX_MEMBERS], weights: DynArray[uint256, MAX_MEMBERS]
) -> bytes32:
    """
    @notice Members must be sorted ascending without repeats (the order that
            defines the union id); every member owner other than the proposer
            must then call `consent_union`.
    """
    self._not_paused()
    assert len(members) >= 2, "too_few_members"
    assert len(weights) == len(members), "weights_mismatch"
    union_id: bytes32 = keccak256(slice(abi_encode(members), 64, 32 * len(members)))
    pending: Union = self.unions[union_id]
    if pending.status == UNION_PENDING and block.timestamp > pending.proposed_at + UNION_CONSENT_WINDOW:
        self._withdraw(union_id)  # expired unconsented: the members may be proposed again
    assert self.unions[union_id].status == 0, "union_exists"
    key: bytes32 = self._round_key(union_id)
    assert not self._product_exists(union_id), "union_exists"
    mode: uint8 = self.products[members[0]].mode
    missing: uint256 = 0
    previous: bytes32 = empty(bytes32)
    for i: uint256 in range(len(members), bound=MAX_MEMBERS):
        member: bytes32 = members[i]
        assert i == 0 or convert(member, uint256) > convert(previous, uint256), "members_not_sorted"
        previous = member
        assert self._product_exists(member), "unknown_product"
        assert self.products[member].mode == mode, "mixed_modes"
        assert self.products[member].availability <= PAUSED, "product_closed"
        assert weights[i] > 0 and weights[i] <= MAX_WEIGHT, "bad_weight"
        owner: address = self.products[member].owner
        if self.consent[key][owner] == 0:
            if owner == msg.sender:
                self.consent[key][owner] = CONSENT_GIVEN
            else:
                self.consent[key][owner] = CONSENT_PENDING
        if owner != msg.sender:
            missing += 1
    assert self.consent[key][msg.sender] == CONSENT_GIVEN, "not_member_owner"
    self.unions[union_id] = Union(
        proposer=msg.sender,
        mode=mode,
        status=UNION_PENDING,
        consents_missing=missing,
        proposed_at=block.timestamp,
    )
    self.members[union_id] = members
    self.weights[union_id] = weights
    log UnionProposed(union_id=union_id, proposer=msg.sender, members=members, weights=weights)
    log UnionConsented(union_id=union_id, owner=msg.sender)
    if missing == 0:
        self._activate(union_id)
    return union_id


@external
def consent_union(union_id: bytes32):
    """
    @notice Consent of a *current* owner of a member: a product sold while the
            union is pending needs its new owner's consent, and a former
            owner's consent no longer counts for it.
    """
    self._not_paused()
    assert self.unions[union_id].status == UNION_PENDING, "union_not_pending"
    owns: bool = False
    for member: bytes32 in self.members[union_id]:
        if self.products[member].owner == msg.sender:
            owns = True
            break
    assert owns, "consent_not_expected"
    key: bytes32 = self._round_key(union_id)
    assert self.consent[key][msg.sender] != CONSENT_GIVEN, "already_consented"
    self.consent[key][msg.sender] = CONSENT_GIVEN
    missing: uint256 = self._missing_consents(union_id)
    self.unions[union_id].consents_missing = missing
    log UnionConsented(union_id=union_id, owner=msg.sender)
    if missing == 0:
        self._activate(union_id)


@external
def reject_union(union_id: bytes32):
    """
    @notice The current owner of a member (the proposer too) withdraws a pending
            union: its consents lapse and the same members may be proposed again.
    """
    self._not_paused()
    assert self.unions[union_id].status == UNION_PENDING, "union_not_pending"
    owns: bool = False
    for member: bytes32 in self.members[union_id]:
        if self.products[member].owner == msg.sender:
            owns = True
            break
    assert owns, "not_member_owner"
    self._withdraw(union_id)
    log UnionRejected(union_id=union_id, by=msg.sender)


@external
@view
def consent_of(union_id: bytes32, owner: address) -> uint8:
    """
    @notice 0 none, 1 pending, 2 given: `owner`'s consent to the current proposal.
    """
    return self.consent[self._round_key(union_id)][owner]


@external
@view
def product_exists(product_id: bytes32) -> bool:
    return self._product_exists(product_id)


@external
@view
def parents_of(product_id: bytes32) -> DynArray[bytes32, MAX_PARENTS]:
    return self.parents[product_id]


@external
@view
def members_of(union_id: bytes32) -> (DynArray[bytes32, MAX_MEMBERS], DynArray[uint256, MAX_MEMBERS]):
    return self.members[union_id], self.weights[union_id]


@external
@view
def owner_of(product_id: bytes32) -> address:
    return self.products[product_id].owner


@external
@view
def terms(item: bytes32) -> Terms:
    """
    @notice What a purchase of `item` (a product or an active union) costs.
            A union is listed when all its members are; its prices are the
            sums of its members' prices (its shortest subscription the
            longest of theirs).
    """
    if self._product_exists(item):
        product: Product = self.products[item]
        return Terms(mode=product.mode, listed=product.availability == LISTED, prices=product.prices)
    union: Union = self.unions[item]
    if union.status != UNION_ACTIVE:
        return empty(Terms)
    total: Prices = empty(Prices)
    listed: bool = True
    for member: bytes32 in self.members[item]:
        product: Product = self.products[member]
        listed = listed and product.availability == LISTED
        total.access += product.prices.access
        total.subscription_per_second += product.prices.subscription_per_second
        total.subscription_min_seconds = max(
            total.subscription_min_seconds, product.prices.subscription_min_seconds
        )
        total.computation += product.prices.computation
    return Terms(mode=union.mode, listed=listed, prices=total)


@external
@view
def payees(item: bytes32) -> (DynArray[address, MAX_MEMBERS], DynArray[uint256, MAX_MEMBERS]):
    """
    @notice Who is paid for `item` and with what weights: the owner of a
            product, or the current owners of an active union's members.
    """
    if self._product_exists(item):
        return [self.products[item].owner], [1]
    accounts: DynArray[address, MAX_MEMBERS] = []
    if self.unions[item].status == UNION_ACTIVE:
        for member: bytes32 in self.members[item]:
            accounts.append(self.products[member].owner)
    return accounts, self.weights[item]


@external
@view
def covers(item: bytes32, product_id: bytes32) -> bool:
    """
    @notice True when buying `item` bought `product_id`: the item itself, or
            a member of the union `item`.
    """
    if item == product_id:
        return self._product_exists(item)
    for member: bytes32 in self.members[item]:
        if member == product_id:
            return True
    return False


@internal
@view
def _product_exists(product_id: bytes32) -> bool:
    return self.products[product_id].owner != empty(address)


@internal
@view
def _not_paused():
    assert not staticcall IAuthority(authority).paused(), "paused"


@internal
@view
def _only_owner(product_id: bytes32):
    self._not_paused()
    assert self._product_exists(product_id), "unknown_product"
    assert msg.sender == self.products[product_id].owner, "not_owner"


@internal
@pure
def _check_prices(mode: uint8, prices: Prices):
    """
    @notice Only the prices of the product's own access mode may be set, as in
            the catalog.
    """
    assert mode >= BATCH and mode <= ANALYTICS, "bad_mode"
    if mode == BATCH:
        assert prices.subscription_per_second == 0 and prices.subscription_min_seconds == 0 and prices.computation == 0, "bad_prices"
    elif mode == STREAM:
        assert prices.access == 0 and prices.computation == 0, "bad_prices"
        assert prices.subscription_min_seconds > 0, "bad_prices"
    else:
        assert prices.access == 0 and prices.subscription_per_second == 0 and prices.subscription_min_seconds == 0, "bad_prices"


@internal
@view
def _missing_consents(union_id: bytes32) -> uint256:
    """
    @notice Members whose current owner has not consented.
    """
    missing: uint256 = 0
    for member: bytes32 in self.members[union_id]:
        if self.consent[self._round_key(union_id)][self.products[member].owner] != CONSENT_GIVEN:
            missing += 1
    return missing


@internal
@view
def _round_key(union_id: bytes32) -> bytes32:
    return keccak256(concat(union_id, convert(self.union_round[union_id], bytes32)))


@internal
def _withdraw(union_id: bytes32):
    """A pending proposal ends: a new round of consents, the members free again."""
    self.union_round[union_id] += 1
    self.unions[union_id] = empty(Union)
    self.members[union_id] = []
    self.weights[union_id] = []


@internal
def _activate(union_id: bytes32):
    self.unions[union_id].status = UNION_ACTIVE
    log UnionCreated(union_id=union_id)
    weights: DynArray[uint256, MAX_MEMBERS] = self.weights[union_id]
    for i: uint256 in range(len(weights), bound=MAX_MEMBERS):
        log UnionMemberAdded(product_id=self.members[union_id][i], union_id=union_id, weight=weights[i])
