"""The platform's storage as the owner and seller SDKs write to it: through the API.

Runs on the user's machine. :class:`MarketStorage` is a ``ShareStorage`` for one
product, so ``smpc.owner.share_file`` and ``access.seller.publish_file`` write
through it unchanged: each object is written to a temporary file on this
machine (sealing is push-style, and an upload needs its size and SHA-256 first),
then uploaded with ``MarketClient.upload_object`` when its block ends; a block
that fails uploads nothing. Reads stream (``access.objects.open_object`` uses
:meth:`MarketStorage.open`): a buyer's file is decrypted as it downloads.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import BinaryIO

from kraken_market.client import MarketClient
from kraken_market.smpc.errors import ObjectNotFound
from kraken_market.storage.errors import ObjectImmutable
from kraken_market.storage.transfer import Progress

Uploading = Callable[[str], Progress | None]
"""Given an object's name, the progress callback of its upload (or None)."""


class MarketStorage:
    """Product ``product_id``'s objects in the platform's storage, through ``client``
    (logged in as the owner to write; as a buyer, ``purchase`` names the purchase)."""

    def __init__(
        self,
        client: MarketClient,
        product_id: str,
        *,
        purchase: int | None = None,
        uploading: Uploading | None = None,
    ) -> None:
        self.client, self.product_id = client, product_id.lower()
        self.purchase, self.uploading = purchase, uploading
        self.stored: list[str] = []
        """The names uploaded (or found stored already) through this object, in order."""

    @contextmanager
    def writer(self, name: str) -> Iterator[BinaryIO]:
        with tempfile.TemporaryFile() as spool:
            yield spool
            spool.flush()
            spool.seek(0)
            progress = self.uploading(name) if self.uploading is not None else None
            self.stored.append(
                self.client.upload_object(self.product_id, name, spool, progress=progress)
            )

    def open(self, name: str) -> AbstractContextManager[BinaryIO]:
        return self.client.open_object(name, self.purchase)

    def read(self, name: str) -> bytes:
        with self.open(name) as stream:
            return stream.read()

    def exists(self, name: str) -> bool:
        return self.client.object_size(name, self.purchase) is not None

    def size(self, name: str) -> int:
        size = self.client.object_size(name, self.purchase)
        if size is None:
            raise ObjectNotFound(f"no object {name} in the platform's storage")
        return size

    def delete(self, name: str) -> None:
        raise ObjectImmutable(
            f"{name}: objects in the platform's storage are never deleted or replaced"
        )

    def url(self, name: str) -> str:
        return f"{str(self.client.http.base_url).rstrip('/')}/api/v1/objects/{name}"
