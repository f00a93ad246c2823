"""The demo's file and stream parts: a seller sells an encrypted file and a stream; buyers
get the keys from the compute nodes (the seller is not asked) and read them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx2

from kraken_market.access.buyer import endpoints_from_ledger, fetch_file
from kraken_market.access.nodes import nodes_from_ledger
from kraken_market.access.seller import publish_file
from kraken_market.access.stream.epochs import EpochSchedule
from kraken_market.access.stream.node_keys import NodeEpochCustody, NodeEpochKeys
from kraken_market.access.stream.publisher import StreamPublisher
from kraken_market.access.stream.relay_client import RelayTransport
from kraken_market.access.stream.subscriber import StreamSubscriber
from kraken_market.storage.remote import MarketStorage
from kraken_market.story.actors import DATA
from kraken_market.story.context import Story
from kraken_market.trade.buy import buy_access, subscribe
from kraken_market.trade.publish import publish_on_chain

POLICY = {"purposes": ["research", "education"], "regions": ["EU"]}


def batch_file(story: Story) -> None:
    """Sam sells a CSV; Fay buys it, gets the key from the nodes and decrypts it."""
    sam = story.cast.actor("Sam (runner)")
    product = sam.api.create_product(
        {
            "title": "My marathon training log 2026",
            "description": "Daily distance, pace and heart rate from my watch.",
            "tags": ["sport", "wearables"],
            "access_mode": "batch",
            "prices": {"access": str(3 * DATA)},
            "policy": POLICY,
            "stake": str(10 * DATA),
        }
    )
    name = f"{product['id']}/data.kdata"
    sam.api.update_product(product["id"], {"storage_links": [name]})
    publish_on_chain(sam.api, sam.ledger, product["id"], wait=30)
    log = story.work_dir / "training-log.csv"
    log.write_text(
        "day,km,pace_min_per_km,heart_rate\n"
        + "".join(
            f"2026-03-{d:02d},{5 + d % 7}.{d % 10},5:{10 + d % 40:02d},{128 + d % 17}\n"
            for d in range(1, 29)
        )
    )
    story.plaintexts.append(str(log))
    uploads = MarketStorage(sam.api, product["id"])  # the platform's storage, through the API
    published = publish_file(
        log, product["id"], uploads, nodes_from_ledger(sam.ledger), sam.account,
        object_name=name,
    )  # fmt: skip
    story.step(
        f"Sam encrypted a file under a fresh key and gave its shares to nodes "
        f"{list(published.accepted)}; listed {product['id'][:12]}… at 3 DATA"
    )
    fay = story.cast.actor("Fay (student)", category="individual")
    bought = buy_access(fay.api, fay.ledger, product["id"], "education")
    out = story.out_dir / "training-log.csv"
    downloads = MarketStorage(fay.api, product["id"], purchase=bought.purchase_id)
    fetched = fetch_file(
        bought.purchase_id, product["id"], downloads, name, out, fay.account,
        endpoints_from_ledger(fay.ledger),
    )  # fmt: skip
    story.data_keys.append(fetched.key.key.hex())
    assert out.read_bytes() == log.read_bytes()
    story.step(
        f"Fay bought it (purchase {bought.purchase_id}), got the key from the nodes and "
        f"decrypted {out} (identical to Sam's file)"
    )


def stream(story: Story) -> None:
    """Sol streams heart-rate readings (a new epoch key every 3 messages, deposited with
    the nodes); Tom subscribes for a minute and reads them through the relay."""
    asyncio.run(_stream(story))


async def _stream(story: Story) -> None:
    sol = story.cast.actor("Sol (cyclist)")
    product = sol.api.create_product(
        {
            "title": "Live heart rate while cycling",
            "description": "One reading a second from my chest strap.",
            "tags": ["sport", "live"],
            "access_mode": "stream",
            "prices": {"subscription_per_second": str(DATA // 100), "subscription_min_seconds": 60},
            "policy": POLICY,
            "stake": "0",
        }
    )
    publish_on_chain(sol.api, sol.ledger, product["id"], wait=30)
    readings = [f'{{"t": {i}, "bpm": {131 + i % 9}}}'.encode() for i in range(7)]
    story.plaintexts.append(str(_kept(story, "readings.jsonl", readings)))
    publisher = StreamPublisher(
        _relay(story, sol.session["session_token"]),
        NodeEpochCustody(nodes_from_ledger(sol.ledger), sol.account),
        product["id"],
        schedule=EpochSchedule(seconds=None, messages=3),
    )
    epochs = {(await publisher.publish(reading)).epoch for reading in readings}
    await publisher.transport.close()
    story.step(f"Sol streamed {len(readings)} readings in {len(epochs)} epochs (fresh keys)")
    tom = story.cast.actor("Tom (coach)", category="individual")
    bought = subscribe(tom.api, tom.ledger, product["id"], "education", 60)
    reader = StreamSubscriber(
        _relay(story, tom.session["session_token"]),
        NodeEpochKeys(endpoints_from_ledger(tom.ledger), bought.purchase_id, tom.account),
        product["id"],
        paid_until=lambda: tom.ledger.paid_until(tom.ledger.address, product["id"]),
    )
    received = [m.payload async for m in reader.messages(from_seq=1, follow=False)]
    await reader.close()
    assert received == readings
    story.step(
        f"Tom subscribed for 60 s (purchase {bought.purchase_id}), got each epoch's key "
        f"from the nodes and read all {len(received)} readings"
    )


def _relay(story: Story, token: str) -> RelayTransport:
    headers = {"Authorization": f"Bearer {token}"}
    return RelayTransport(httpx2.AsyncClient(base_url=story.platform.api.url, headers=headers))


def _kept(story: Story, name: str, lines: list[bytes]) -> Path:
    path = story.work_dir / name
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path
