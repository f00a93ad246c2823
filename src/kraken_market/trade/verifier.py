"""The platform's own keys, as the API uses them on chain: the verifier (grants)
and the arbiter (rulings on claims).

Each is built on first use (web3 is imported then, not when the API starts)
from its key file (``KRAKEN_VERIFIER_KEY_FILE`` / ``KRAKEN_ARBITER_KEY_FILE``,
else the one ``up`` made in ``data_dir/keys``; mode 0600, a hex private key
holding the Authority role). Never from a well-known development key: whoever
holds the verifier's key grants anything to anyone, the arbiter's rules on
every claim. Without a key file the API answers those requests 503.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kraken_market.files import read_private
from kraken_market.ledger.configured import ConfiguredLedger
from kraken_market.settings import Settings

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount


class PlatformKey(ConfiguredLedger):
    """A ledger client signing with one platform key, connected on first use; calls
    are serialised (one nonce sequence)."""

    def __init__(self, settings: Settings, key_file: Path) -> None:
        super().__init__(settings, lambda: _account(key_file))


def _account(key_file: Path) -> LocalAccount:
    from eth_account import Account

    account: LocalAccount = Account.from_key(read_private(key_file).strip())
    return account


class LazyVerifier(PlatformKey):
    """The :class:`~kraken_market.trade.grants.Verifier` of the API."""

    def grant(self, buyer: str, item: bytes | str, purpose: int, expiry: int) -> object:
        return self.run(lambda ledger: ledger.grant(buyer, item, purpose, expiry))


class LazyArbiter(PlatformKey):
    """The arbiter key the API rules on claims with (for arbiters who log in)."""

    def rule(self, purchase_id: int, *, uphold: bool) -> str:
        return self.run(lambda ledger: ledger.rule(purchase_id, uphold=uphold).tx_hash)


def verifier_from_settings(settings: Settings) -> LazyVerifier | None:
    """The configured verifier, or None when no key file is there to use."""
    key_file = settings.platform_key_file("verifier")
    return LazyVerifier(settings, key_file) if key_file is not None else None


def arbiter_from_settings(settings: Settings) -> LazyArbiter | None:
    key_file = settings.platform_key_file("arbiter")
    return LazyArbiter(settings, key_file) if key_file is not None else None
