"""A ledger client for the chain and deployment that the settings name, made on first use.

The API's platform keys (verifier, arbiter), the stream relay's paid-time reads and
the job forwarder's node list all need one; web3 is imported when it is first used,
not when the API starts (importing it raises the recursion limit: see
``kraken_market.jsondepth``). Without a signer the client gets a throwaway account,
which never signs: it only reads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from kraken_market.settings import Settings

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from kraken_market.ledger.amounts import Token
    from kraken_market.ledger.broadcast import Prepared
    from kraken_market.ledger.client import Ledger
    from kraken_market.ledger.deployment import Deployment
    from kraken_market.ledger.model import Node

T = TypeVar("T")


class ConfiguredLedger:
    def __init__(
        self, settings: Settings, signer: Callable[[], LocalAccount] | None = None
    ) -> None:
        self.settings, self.signer = settings, signer
        self._ledger: Ledger | None = None
        self._lock = threading.Lock()

    def get(self) -> Ledger:
        """The client, connected on the first call."""
        with self._lock:
            if self._ledger is None:
                self._ledger = self._connect()
            return self._ledger

    def token(self) -> Token:
        """The deployment's token (address, symbol, decimals), read once from the chain."""
        return self.get().token()

    def balance(self, account: str) -> int:
        """``account``'s DATA in base units."""
        return self.get().balance(account)

    def nodes(self) -> list[Node]:
        """The compute nodes registered on chain, in registration order."""
        return self.get().nodes()

    def deployment(self) -> Deployment:
        return self.get().deployment

    def prepare(self, sender: str, to: str, data: str) -> Prepared:
        """Chain id, nonce, gas and fees for a wallet to sign (``ledger.broadcast``)."""
        from kraken_market.ledger.broadcast import Broadcaster

        return Broadcaster(self.get()).prepare(sender, to, data)

    def broadcast(self, raw: str) -> str:
        """Send a transaction a wallet signed; its hash."""
        from kraken_market.ledger.broadcast import Broadcaster

        return Broadcaster(self.get()).broadcast(raw)

    def receipt_status(self, tx_hash: str) -> bool | None:
        from kraken_market.ledger.broadcast import Broadcaster

        return Broadcaster(self.get()).receipt_status(tx_hash)

    def run(self, action: Callable[[Ledger], T]) -> T:
        """``action`` on the client, one at a time (one nonce sequence for a signer)."""
        ledger = self.get()
        with self._lock:
            return action(ledger)

    def _connect(self) -> Ledger:
        from kraken_market.ledger.deployment import Deployment

        # Before web3 and eth-account are imported: without a deployment there is
        # nothing to connect to, and the API answers 503 without loading them.
        deployment = Deployment.load(self.settings.deployment_file)

        from eth_account import Account

        from kraken_market.ledger.client import Ledger, connect

        account = self.signer() if self.signer is not None else Account.create()
        return Ledger(
            connect(self.settings.resolved_chain_url),
            deployment,
            account,
            log_range=self.settings.chain_log_range,
        )
