# pragma version ~=0.4.3
"""
@title DATA, the marketplace's ERC-20 token
@notice Prices, stakes, claim bonds and payments are paid in DATA (ERC-20,
        EIP-20; EIP-2612 permits). The implementation is snekmate's audited
        module; this contract only names the token and mints the initial supply
        to the deployer. On a real chain an existing token's address is
        configured instead and this contract is not deployed.
"""

from snekmate.auth import ownable as ow
from snekmate.tokens import erc20

initializes: ow
initializes: erc20[ownable := ow]

exports: erc20.__interface__


@deploy
def __init__(initial_supply: uint256):
    ow.__init__()
    erc20.__init__("Kraken Market DATA", "DATA", 18, "Kraken Market DATA", "1")
    erc20._mint(msg.sender, initial_supply)
