"""Reading contract logs in bounded block ranges, as providers require.

``eth_getLogs`` over a deployment's whole life is one request the embedded chain
answers, but hosted providers cap it: a largest block range (often a few
thousand blocks or fewer), a largest result, or a time limit, each answered
with a JSON-RPC error of their own wording. So every log
query of the client and the indexer goes through :func:`get_logs`: it asks for at
most ``max_blocks`` blocks at a time (``KRAKEN_CHAIN_LOG_RANGE``), and when the
node refuses a range it halves it and asks again, down to a single block.
"""

from __future__ import annotations

from collections.abc import Callable

from requests.exceptions import ConnectionError as RequestsConnectionError
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.types import BlockIdentifier, FilterParams, LogReceipt

from kraken_market.ledger.errors import ChainUnavailable, LogRangeRefused
from kraken_market.logs import get_logger

log = get_logger(__name__)
DEFAULT_LOG_RANGE = 2000


def get_logs(
    w3: Web3,
    criteria: FilterParams,
    from_block: int,
    to_block: BlockIdentifier = "latest",
    *,
    max_blocks: int = DEFAULT_LOG_RANGE,
    on_range: Callable[[int, int], None] | None = None,
) -> list[LogReceipt]:
    """The logs matching ``criteria`` (address, topics) in ``from_block``..``to_block``,
    in chain order, asked for at most ``max_blocks`` blocks at a time. ``on_range``
    sees each range as it is asked for (tests count them)."""
    if max_blocks < 1:
        raise ValueError("max_blocks must be at least 1")
    try:
        end = int(w3.eth.block_number) if isinstance(to_block, str) else int(to_block)
        found: list[LogReceipt] = []
        span = max_blocks
        start = from_block
        while start <= end:
            last = min(start + span - 1, end)
            if on_range is not None:
                on_range(start, last)
            try:
                found.extend(w3.eth.get_logs({**criteria, "fromBlock": start, "toBlock": last}))
            except Web3RPCError as exc:  # a provider's cap on the range or the result
                if last == start:
                    raise LogRangeRefused(
                        f"the chain node refused the logs of block {start}: {str(exc)[:200]}",
                        details={"block": start},
                    ) from exc
                span = max(1, (last - start + 1) // 2)
                log.info("log_range_shrunk", blocks=span, refused=str(exc)[:120])
                continue
            start = last + 1
        return found
    except RequestsConnectionError as exc:
        raise ChainUnavailable("the chain node does not answer") from exc
