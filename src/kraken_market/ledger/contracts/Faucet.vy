# pragma version ~=0.4.3
"""
@title DATA faucet of the embedded development chain
@notice Deployed only on the embedded chain, where it is made a minter of
        DataToken: anyone may mint up to `max_drip` DATA per call to try the
        marketplace. Never deployed on a chain holding value.
"""

interface Mintable:
    def mint(owner: address, amount: uint256): nonpayable

event Dripped:
    recipient: indexed(address)
    amount: uint256

token: public(immutable(address))
max_drip: public(immutable(uint256))


@deploy
def __init__(token_: address, max_drip_: uint256):
    token = token_
    max_drip = max_drip_


@external
def drip(recipient: address, amount: uint256):
    assert amount > 0 and amount <= max_drip, "drip_out_of_range"
    assert recipient != empty(address), "zero_address"
    extcall Mintable(token).mint(recipient, amount)
    log Dripped(recipient=recipient, amount=amount)
