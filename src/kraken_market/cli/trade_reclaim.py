"""``kraken-market trade reclaim``: a held computation payment back after its deadline."""

from __future__ import annotations

from typing import Annotated

import typer

from kraken_market.cli.common import JsonOption, fails_cleanly, out, print_json
from kraken_market.cli.ledger_common import DevAccountOption, KeyFileOption, ledger, product_key


@fails_cleanly
def reclaim(
    request_id: Annotated[str, typer.Argument(help="The computation's request id (0x + 64 hex)")],
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take back the payment of a computation the nodes did not deliver by its deadline.

    A computation a compute node refused for a reason that was not yours (the seller's
    share files or manifest) was refunded at once: there is nothing to reclaim, and
    this says so, with the transaction. Before the deadline it says how long is left."""
    from kraken_market.trade.refunds import data
    from kraken_market.trade.refunds import reclaim as take_back

    product_key(request_id)  # the same 0x + 64 hex shape as a product id
    chain = ledger(dev_account, key_file, signs=True)
    done = take_back(chain, request_id)
    if as_json:
        print_json(
            {
                "request_id": done.request_id,
                "amount": str(done.amount),
                "transaction": done.transaction,
            }
        )
        return
    out.print(
        f"reclaimed {data(chain, done.amount)} of computation {done.request_id} "
        f"(tx {done.transaction})",
        markup=False,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command()(reclaim)
