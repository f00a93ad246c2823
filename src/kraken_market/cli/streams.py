"""``kraken-market streams publish|read``: encrypted streams, keys through the nodes.

``publish`` sends each line of standard input (or of a file) as one message,
encrypted under the current epoch key; every new epoch's key is first
Shamir-shared to the compute nodes. ``read`` prints the messages of a stream
you subscribed to (``kraken-market trade subscribe``), getting each epoch's key
from the nodes, until your paid time ends. The transport is the API's relay,
or NATS JetStream with ``KRAKEN_STREAM_TRANSPORT=nats``. Protocol:
docs/streams.md.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from kraken_market.cli.common import client, err, fails_cleanly, saved_token, settings
from kraken_market.cli.ledger_common import DevAccountOption, KeyFileOption, ledger, product_key

app = typer.Typer(help="Streams: publish messages (sellers), read them (subscribers).")


@app.command()
@fails_cleanly
def publish(
    product: Annotated[str, typer.Argument(help="Your stream product's id (on chain)")],
    source: Annotated[
        Path | None, typer.Option("--from", help="Read lines from this file (default: stdin)")
    ] = None,
    epoch_seconds: Annotated[float, typer.Option(min=1, help="Rotate the key this often")] = 3600,
    epoch_messages: Annotated[
        int | None, typer.Option(min=1, help="...or after this many messages")
    ] = None,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Publish each input line as one encrypted message (a company's stream: its epoch
    keys' deposits are signed by the company's Depute tool)."""
    from kraken_market.access.nodes import nodes_from_ledger
    from kraken_market.access.stream.epochs import EpochSchedule
    from kraken_market.access.stream.node_keys import NodeEpochCustody
    from kraken_market.access.stream.publisher import StreamPublisher
    from kraken_market.access.stream.transport import transport_from_settings
    from kraken_market.cli.desk import company_desk

    product_key(product)
    config = settings()
    chain = ledger(dev_account, key_file, signs=True)
    with client() as api:
        desk = company_desk(api, product)
    signer = chain.account if desk is None else desk.signer()
    lines = source.open("rb") if source else sys.stdin.buffer

    async def run() -> int:
        publisher = StreamPublisher(
            transport_from_settings(config, token=saved_token(config)),
            NodeEpochCustody(nodes_from_ledger(chain), signer),
            product,
            schedule=EpochSchedule(seconds=epoch_seconds, messages=epoch_messages),
        )
        sent = 0
        try:
            for line in lines:
                await publisher.publish(line.rstrip(b"\n"))
                sent += 1
        finally:
            await publisher.transport.close()
        return sent

    err.print(f"published {asyncio.run(run())} messages to {product}")


@app.command()
@fails_cleanly
def read(
    product: Annotated[str, typer.Argument(help="The stream you subscribed to")],
    purchase: Annotated[int, typer.Option(min=1, help="Your subscription's purchase id")],
    from_seq: Annotated[int, typer.Option(min=1, help="First message to read")] = 1,
    follow: Annotated[bool, typer.Option(help="Keep waiting for new messages")] = False,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Print the stream's messages, one per line, until the end (or your paid time)."""
    from kraken_market.access.buyer import endpoints_from_ledger
    from kraken_market.access.stream.node_keys import NodeEpochKeys
    from kraken_market.access.stream.subscriber import StreamSubscriber
    from kraken_market.access.stream.transport import transport_from_settings

    product_key(product)
    config = settings()
    chain = ledger(dev_account, key_file, signs=True)

    async def run() -> None:
        reader = StreamSubscriber(
            transport_from_settings(config, token=saved_token(config), consumer=chain.address),
            NodeEpochKeys(endpoints_from_ledger(chain), purchase, chain.account),
            product,
            paid_until=lambda: chain.paid_until(chain.address, product),
        )
        try:
            async for message in reader.messages(from_seq=from_seq, follow=follow):
                sys.stdout.buffer.write(message.payload + b"\n")
                sys.stdout.buffer.flush()
        finally:
            await reader.close()

    asyncio.run(run())
