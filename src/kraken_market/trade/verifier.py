"""The platform's verifier key, as the API uses it to record grants on chain.

Built on first use (web3 is imported then, not when the API starts): from
``KRAKEN_VERIFIER_KEY_FILE`` (mode 0600, a hex private key holding the
Authority's verifier role), or, outside production on the embedded chain, dev
account 2, which ``chain deploy --dev-account 0`` made the verifier.
"""

from __future__ import annotations

import threading

from kraken_market.files import read_private
from kraken_market.settings import Settings
from kraken_market.trade.grants import Verifier

DEV_VERIFIER = 2


class LazyVerifier:
    """A :class:`Verifier` that connects to the chain on its first grant."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._ledger: Verifier | None = None
        self._lock = threading.Lock()

    def _connect(self) -> Verifier:
        from eth_account import Account

        from kraken_market.ledger.client import Ledger, connect, dev_account
        from kraken_market.ledger.deployment import Deployment

        config = self.settings
        if config.verifier_key_file is not None:
            account = Account.from_key(read_private(config.verifier_key_file).strip())
        else:
            account = dev_account(DEV_VERIFIER)
        deployment = Deployment.load(config.deployment_file)
        return Ledger(connect(config.resolved_chain_url), deployment, account)

    def grant(self, buyer: str, item: bytes | str, purpose: int, expiry: int) -> object:
        with self._lock:
            if self._ledger is None:
                self._ledger = self._connect()
            return self._ledger.grant(buyer, item, purpose, expiry)


def verifier_from_settings(settings: Settings) -> Verifier | None:
    """The configured verifier, or None when there is none to use (production without
    a key file, or a remote chain without one)."""
    if settings.verifier_key_file is not None:
        return LazyVerifier(settings)
    if settings.environment != "production" and settings.chain_url is None:
        return LazyVerifier(settings)
    return None
