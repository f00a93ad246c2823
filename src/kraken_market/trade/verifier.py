"""The platform's own keys, as the API uses them on chain: the verifier (grants)
and the arbiter (rulings on claims).

Each is built on first use (web3 is imported then, not when the API starts):
from its key file (``KRAKEN_VERIFIER_KEY_FILE`` / ``KRAKEN_ARBITER_KEY_FILE``,
mode 0600, a hex private key holding the Authority role), or, outside
production on the embedded chain, the dev account ``chain deploy --dev-account
0`` gave that role (2 verifier, 1 arbiter).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kraken_market.files import read_private
from kraken_market.ledger.configured import ConfiguredLedger
from kraken_market.settings import Settings

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

DEV_VERIFIER = 2
DEV_ARBITER = 1


class PlatformKey(ConfiguredLedger):
    """A ledger client signing with one platform key, connected on first use; calls
    are serialised (one nonce sequence)."""

    def __init__(self, settings: Settings, key_file: Path | None, dev_index: int) -> None:
        super().__init__(settings, lambda: _account(key_file, dev_index))


def _account(key_file: Path | None, dev_index: int) -> LocalAccount:
    from eth_account import Account

    from kraken_market.ledger.client import dev_account

    if key_file is not None:
        account: LocalAccount = Account.from_key(read_private(key_file).strip())
        return account
    return dev_account(dev_index)


class LazyVerifier(PlatformKey):
    """The :class:`~kraken_market.trade.grants.Verifier` of the API."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.verifier_key_file, DEV_VERIFIER)

    def grant(self, buyer: str, item: bytes | str, purpose: int, expiry: int) -> object:
        return self.run(lambda ledger: ledger.grant(buyer, item, purpose, expiry))


class LazyArbiter(PlatformKey):
    """The arbiter key the API rules on claims with (for arbiters who log in)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.arbiter_key_file, DEV_ARBITER)

    def rule(self, purchase_id: int, *, uphold: bool) -> str:
        return self.run(lambda ledger: ledger.rule(purchase_id, uphold=uphold).tx_hash)


def _usable(settings: Settings, key_file: Path | None) -> bool:
    return key_file is not None or (
        settings.environment != "production" and settings.chain_url is None
    )


def verifier_from_settings(settings: Settings) -> LazyVerifier | None:
    """The configured verifier, or None when there is none to use (production without
    a key file, or a remote chain without one)."""
    return LazyVerifier(settings) if _usable(settings, settings.verifier_key_file) else None


def arbiter_from_settings(settings: Settings) -> LazyArbiter | None:
    return LazyArbiter(settings) if _usable(settings, settings.arbiter_key_file) else None
