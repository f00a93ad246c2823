"""What every part of the demo story shares: the running platform, the cast, the
admin's session, where outputs go, and how steps are told."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from kraken_market.client import MarketClient
from kraken_market.identity.issuer import Issuer
from kraken_market.identity.keys import DidKey
from kraken_market.platform.report import PlatformInfo
from kraken_market.settings import Settings
from kraken_market.smpc.keys import NodePublicKey
from kraken_market.smpc.manifest import ManifestSigner
from kraken_market.smpc.owner import share_file
from kraken_market.smpc.storage import LocalDirectory
from kraken_market.storage.remote import MarketStorage
from kraken_market.story.actors import Cast, PlatformOnAnotherChain

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount


class Story:
    def __init__(
        self,
        settings: Settings,
        platform: PlatformInfo,
        out_dir: Path,
        console: Console,
        bank: LocalAccount | None = None,
    ) -> None:
        from kraken_market.ledger.deployment import Deployment

        self.settings, self.platform, self.console = settings, platform, console
        self.out_dir = out_dir
        self.work_dir = out_dir / "work"  # the sellers' own files (never the platform's)
        self.keys_dir = out_dir / "keys"  # the buyers' result keys (0600)
        for folder in (self.out_dir, self.work_dir, self.keys_dir):
            folder.mkdir(parents=True, exist_ok=True)
        deployment = Deployment.load(Path(platform.chain.deployment_file))
        issuer = Issuer.open(settings.issuer_dir, create=False)
        # platform.json shows an external chain's URL without its path (a provider's
        # API key): this process has the whole URL from the same settings as 'up'.
        if not platform.chain.embedded and settings.chain_is_embedded:
            raise PlatformOnAnotherChain(
                f"the platform runs on an external chain ({platform.chain.url}): run the "
                "demo with the same KRAKEN_CHAIN_URL as 'kraken-market up'"
            )
        chain_url = platform.chain.url if platform.chain.embedded else settings.resolved_chain_url
        self.cast = Cast(platform.api.url, chain_url, deployment, issuer, bank)
        self.admin_api = MarketClient.connect(platform.api.url)
        self.number = 0
        self.steps: list[str] = []
        self.data_keys: list[str] = []
        """Data and epoch keys the sellers made (hex): never to be found on the platform."""
        self.plaintexts: list[str] = []
        """The sellers' plaintext files and messages."""

    def close(self) -> None:
        self.cast.close()
        self.admin_api.close()

    def secrets(self) -> dict[str, list[str]]:
        return {
            "private_keys": self.cast.private_keys,
            "data_keys": self.data_keys,
            "plaintexts": self.plaintexts,
        }

    def step(self, text: str, detail: str | None = None) -> None:
        self.number += 1
        self.steps.append(text)
        self.console.print(f"[bold cyan]{self.number:>2}.[/] {text}", highlight=False)
        if detail:
            self.console.print(detail, highlight=False, markup=False)

    @staticmethod
    def request_id() -> str:
        return "0x" + secrets.token_hex(32)

    @property
    def storage(self) -> LocalDirectory:
        return LocalDirectory(Path(self.platform.data_dir) / "storage")

    def share(
        self,
        api: MarketClient,
        data: Path,
        product: str,
        schema: Mapping[str, Any],
        owner: DidKey | ManifestSigner,
    ) -> str:
        """Share ``data`` among the platform's nodes (their keys as registered), uploaded
        through the API as ``api``'s session (the product's owner, or its company's
        attorney); the signed manifest's object name in the nodes' storage (the
        product's storage link the nodes are sent). ``owner`` signs the manifest: the
        owner's key, or a company's Depute tool."""
        from kraken_market.catalog.schemas import DataSchema

        nodes = sorted(self.platform.nodes, key=lambda node: node.index)
        keys = [NodePublicKey(bytes.fromhex(node.hpke_public_key)) for node in nodes]
        storage = MarketStorage(api, product)
        signer = owner.private_key if isinstance(owner, DidKey) else owner
        signed = share_file(data, product, DataSchema.model_validate(schema), keys, storage, signer)
        return signed.manifest.files[0].name.rsplit("/", 1)[0] + "/manifest.jws"

    def wait_indexed(self, check: Callable[[], bool], timeout: float = 30.0) -> None:
        """Wait until the indexer has seen what ``check`` looks for."""
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise TimeoutError("the indexer did not see the change in time: is 'up' running?")
            time.sleep(0.25)
