"""The platform's own keys, as the API uses them on chain: the verifier (grants)
and the arbiter (rulings on claims).

Each is built on first use (web3 is imported then, not when the API starts):
from its key file (``KRAKEN_VERIFIER_KEY_FILE`` / ``KRAKEN_ARBITER_KEY_FILE``,
mode 0600, a hex private key holding the Authority role), or, outside
production on the embedded chain, the dev account ``chain deploy --dev-account
0`` gave that role (2 verifier, 1 arbiter).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from kraken_market.files import read_private
from kraken_market.settings import Settings

if TYPE_CHECKING:
    from kraken_market.ledger.client import Ledger

DEV_VERIFIER = 2
DEV_ARBITER = 1
T = TypeVar("T")


class PlatformKey:
    """A ledger client signing with one platform key, connected on first use; calls
    are serialised (one nonce sequence)."""

    def __init__(self, settings: Settings, key_file: Path | None, dev_index: int) -> None:
        self.settings, self.key_file, self.dev_index = settings, key_file, dev_index
        self._ledger: Ledger | None = None
        self._lock = threading.Lock()

    def _connect(self) -> Ledger:
        from eth_account import Account

        from kraken_market.ledger.client import Ledger, connect, dev_account
        from kraken_market.ledger.deployment import Deployment

        config = self.settings
        if self.key_file is not None:
            account = Account.from_key(read_private(self.key_file).strip())
        else:
            account = dev_account(self.dev_index)
        deployment = Deployment.load(config.deployment_file)
        return Ledger(connect(config.resolved_chain_url), deployment, account)

    def run(self, action: Callable[[Ledger], T]) -> T:
        with self._lock:
            if self._ledger is None:
                self._ledger = self._connect()
            return action(self._ledger)


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
