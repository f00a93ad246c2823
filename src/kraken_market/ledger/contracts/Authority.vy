# pragma version ~=0.4.3
"""
@title Kraken Market authority: roles, compute nodes, pause switch, parameters
@notice One place that Registry and Market ask "who may do this, and on what
        terms?". Roles are snekmate's access control (OpenZeppelin's model):
        the admin (DEFAULT_ADMIN_ROLE) grants ARBITER_ROLE (rules on claims)
        and VERIFIER_ROLE (records grants after the off-chain policy check).
        The node role is held by the compute nodes the admin registers here
        with their HPKE public key (RFC 9180, X25519) and endpoint. While
        paused, Registry and Market refuse every state change except
        refunds and rulings.
"""

from snekmate.auth import access_control

initializes: access_control

exports: access_control.__interface__

ARBITER_ROLE: public(constant(bytes32)) = keccak256("ARBITER_ROLE")
VERIFIER_ROLE: public(constant(bytes32)) = keccak256("VERIFIER_ROLE")
MAX_NODES: constant(uint256) = 64
MAX_FEE_BPS: constant(uint256) = 2000


struct Node:
    hpke_public_key: bytes32
    endpoint: String[256]
    active: bool


event NodeRegistered:
    node: indexed(address)
    hpke_public_key: bytes32
    endpoint: String[256]

event NodeRemoved:
    node: indexed(address)

event Paused:
    by: indexed(address)

event Unpaused:
    by: indexed(address)

event ParametersChanged:
    treasury: address
    fee_bps: uint256
    min_stake: uint256
    claim_window: uint256
    claim_bond: uint256
    computation_deadline: uint256
    attestations_required: uint256


paused: public(bool)
nodes: public(HashMap[address, Node])
node_accounts: public(DynArray[address, MAX_NODES])

treasury: public(address)
fee_bps: public(uint256)
min_stake: public(uint256)
claim_window: public(uint256)
claim_bond: public(uint256)
computation_deadline: public(uint256)
attestations_required: public(uint256)


@deploy
def __init__(
    treasury_: address,
    fee_bps_: uint256,
    min_stake_: uint256,
    claim_window_: uint256,
    claim_bond_: uint256,
    computation_deadline_: uint256,
    attestations_required_: uint256,
):
    access_control.__init__()
    self._set_parameters(
        treasury_,
        fee_bps_,
        min_stake_,
        claim_window_,
        claim_bond_,
        computation_deadline_,
        attestations_required_,
    )


@external
def set_parameters(
    treasury_: address,
    fee_bps_: uint256,
    min_stake_: uint256,
    claim_window_: uint256,
    claim_bond_: uint256,
    computation_deadline_: uint256,
    attestations_required_: uint256,
):
    self._only_admin()
    self._set_parameters(
        treasury_,
        fee_bps_,
        min_stake_,
        claim_window_,
        claim_bond_,
        computation_deadline_,
        attestations_required_,
    )


@external
def register_node(node: address, hpke_public_key: bytes32, endpoint: String[256]):
    self._only_admin()
    assert node != empty(address), "zero_address"
    assert hpke_public_key != empty(bytes32), "bad_node_key"
    assert len(endpoint) > 0, "bad_node_endpoint"
    if not self.nodes[node].active:
        assert len(self.node_accounts) < MAX_NODES, "too_many_nodes"
        self.node_accounts.append(node)
    self.nodes[node] = Node(hpke_public_key=hpke_public_key, endpoint=endpoint, active=True)
    log NodeRegistered(node=node, hpke_public_key=hpke_public_key, endpoint=endpoint)


@external
def remove_node(node: address):
    self._only_admin()
    assert self.nodes[node].active, "unknown_node"
    self.nodes[node] = empty(Node)
    remaining: DynArray[address, MAX_NODES] = []
    for account: address in self.node_accounts:
        if account != node:
            remaining.append(account)
    self.node_accounts = remaining
    log NodeRemoved(node=node)


@external
@view
def node_count() -> uint256:
    return len(self.node_accounts)


@external
@view
def is_node(account: address) -> bool:
    return self.nodes[account].active


@external
def pause():
    self._only_admin()
    assert not self.paused, "already_paused"
    self.paused = True
    log Paused(by=msg.sender)


@external
def unpause():
    self._only_admin()
    assert self.paused, "not_paused"
    self.paused = False
    log Unpaused(by=msg.sender)


@internal
@view
def _only_admin():
    assert access_control.hasRole[access_control.DEFAULT_ADMIN_ROLE][msg.sender], "not_admin"


@internal
def _set_parameters(
    treasury_: address,
    fee_bps_: uint256,
    min_stake_: uint256,
    claim_window_: uint256,
    claim_bond_: uint256,
    computation_deadline_: uint256,
    attestations_required_: uint256,
):
    assert treasury_ != empty(address), "zero_address"
    assert fee_bps_ <= MAX_FEE_BPS, "fee_too_high"
    assert claim_window_ > 0 and computation_deadline_ > 0, "bad_window"
    assert attestations_required_ > 0, "bad_threshold"
    self.treasury = treasury_
    self.fee_bps = fee_bps_
    self.min_stake = min_stake_
    self.claim_window = claim_window_
    self.claim_bond = claim_bond_
    self.computation_deadline = computation_deadline_
    self.attestations_required = attestations_required_
    log ParametersChanged(
        treasury=treasury_,
        fee_bps=fee_bps_,
        min_stake=min_stake_,
        claim_window=claim_window_,
        claim_bond=claim_bond_,
        computation_deadline=computation_deadline_,
        attestations_required=attestations_required_,
    )
