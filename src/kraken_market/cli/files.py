"""``kraken-market files``: batch files, encrypted by their seller, opened by buyers.

``publish`` encrypts a file with a fresh data key (AES-256-GCM, chunked), uploads
the ciphertext to the platform's storage through the API (``--storage`` writes
to a directory or bucket of your own instead) and deposits the key's Shamir
shares with the compute nodes registered on chain, each sealed to its node
(HPKE); ``fetch`` asks the nodes for the key shares of a purchase, rebuilds the
key, downloads the ciphertext through the API (the buyer of the purchase only)
and decrypts it as it arrives. The seller need not be online when someone buys.
Formats and protocol: docs/access.md; the storage: docs/storage.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from kraken_market.cli.common import JsonOption, client, err, fails_cleanly, out, print_json
from kraken_market.cli.ledger_common import DevAccountOption, KeyFileOption, ledger, product_key
from kraken_market.client import MarketClient
from kraken_market.errors import InvalidRequest

if TYPE_CHECKING:
    from kraken_market.access.seller import PublishedFile
    from kraken_market.client import MarketClient
    from kraken_market.smpc.storage import ShareStorage

app = typer.Typer(
    help="Batch files: encrypt and publish (sellers), fetch and decrypt (buyers).",
    no_args_is_help=True,
)
StorageOption = Annotated[
    str | None,
    typer.Option(
        help="For scripts that keep ciphertexts themselves: a directory or "
        "s3://bucket/prefix to write or read directly (default: the platform's storage, "
        "through the API)"
    ),
]


def _storage(
    location: str | None, api: MarketClient, product: str, purchase: int | None = None
) -> ShareStorage:
    """The storage given, else the platform's, through the API (as the logged-in user)."""
    if location:
        from kraken_market.smpc.storage import open_storage

        return open_storage(location)
    from kraken_market.storage.remote import MarketStorage

    return MarketStorage(
        api, product, purchase=purchase, uploading=lambda name: _bar.phase(f"uploading {name}")
    )


class _Bar:
    """One progress bar on stderr (on a terminal only) for a command's phases: encrypting,
    uploading, downloading and decrypting, each in bytes."""

    def __init__(self) -> None:
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def phase(self, what: str) -> Callable[[int, int], None]:
        def update(done: int, total: int) -> None:
            if self.bar is not None and self.task is not None:
                self.bar.update(self.task, description=what, completed=done, total=total)

        return update

    @contextmanager
    def running(self) -> Iterator[None]:
        columns = [
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
        ]
        with Progress(*columns, console=err, disable=not err.is_terminal, transient=True) as bar:
            self.bar, self.task = bar, bar.add_task("", total=None)
            try:
                yield
            finally:
                self.bar = self.task = None


_bar = _Bar()


def object_name(product: str) -> str:
    """Where a product's file is kept in the storage (its catalog storage link)."""
    return f"{product.lower()}/data.kdata"


def publish_data_file(
    api: MarketClient,
    data: Path,
    product: str,
    storage: str | None,
    dev_account: int | None,
    key_file: Path | None,
) -> PublishedFile:
    """Encrypt ``data``, store the ciphertext (``storage``, else the platform's through
    the API), deposit the key's shares with the nodes registered on chain (signed by
    your account, or a company's Depute tool)."""
    from kraken_market.access.nodes import nodes_from_ledger
    from kraken_market.access.seller import publish_file
    from kraken_market.cli.desk import company_desk

    chain = ledger(dev_account, key_file, signs=True)
    desk = company_desk(api, product)  # may ask for the wallet's passphrase: no bar yet
    signer = chain.account if desk is None else desk.signer()
    with _bar.running():
        return publish_file(
            data,
            product,
            _storage(storage, api, product),
            nodes_from_ledger(chain),
            signer,
            object_name=object_name(product),
            progress=_bar.phase(f"encrypting {data.name}"),
        )


@app.command()
@fails_cleanly
def publish(
    data: Annotated[Path, typer.Argument(help="The file to sell")],
    product: Annotated[str, typer.Option(help="Your batch product's id (published on chain)")],
    storage: StorageOption = None,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Encrypt DATA under a fresh key, upload the ciphertext to the platform's storage
    (as the product's owner: log in first), and give the compute nodes the key's
    shares: after a purchase, each node hands its share to the buyer only. For a
    company's product the company's Depute tool signs the deposit with the company's
    account (the product's owner on chain); the key never leaves your machine."""
    product_key(product)
    if not data.is_file():
        raise InvalidRequest(f"no file at {data}")
    with client() as api:
        published = publish_data_file(api, data, product, storage, dev_account, key_file)
    if as_json:
        print_json(
            {
                "object_name": published.object_name,
                "location": published.location,
                "key_commitment": published.key_commitment,
                "bytes": published.encrypted_length,
                "nodes": list(published.accepted),
                "failed": published.failed,
            }
        )
        return
    out.print(
        f"encrypted {published.plaintext_length} bytes to {published.object_name}; the key "
        f"is shared among nodes {list(published.accepted)} (any {published.t + 1} open it)"
    )


@app.command()
@fails_cleanly
def fetch(
    product: Annotated[str, typer.Argument(help="The batch product you bought")],
    purchase: Annotated[int, typer.Option(min=1, help="Your purchase id (trade buy prints it)")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the decrypted file")],
    storage: StorageOption = None,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Get the key's shares from the nodes (they check your purchase on chain), rebuild
    the key, download the ciphertext (the API checks the purchase is yours) and decrypt it."""
    from kraken_market.access.buyer import endpoints_from_ledger, fetch_file

    product_key(product)
    chain = ledger(dev_account, key_file, signs=True)
    with client() as api, _bar.running():
        links = api.product(product)["storage_links"]
        fetched = fetch_file(
            purchase,
            product,
            _storage(storage, api, product, purchase),
            links[0] if links else object_name(product),
            out_file,
            chain.account,
            endpoints_from_ledger(chain),
            progress=_bar.phase("downloading and decrypting"),
        )
    out.print(f"decrypted {fetched.path} ({fetched.path.stat().st_size} bytes)")
