"""``kraken-market analytics request|status|result``: the buyer's side of a computation."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Annotated, Any

import typer

from kraken_market.cli.common import JsonOption, err, fails_cleanly, out, print_json, table
from kraken_market.cli.ledger_common import DevAccountOption, KeyFileOption


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"cannot read the {what} JSON from {path}: {exc}") from exc


JobsDir = Annotated[
    Path | None,
    typer.Option(
        "--jobs-dir", help="Where requests and result keys are kept (default: DATA_DIR/analytics)"
    ),
]


def _jobs_dir(path: Path | None) -> Path:
    from kraken_market.cli.common import settings

    return path or settings().data_dir / "analytics"


def _job(reference: str, jobs_dir: Path | None) -> dict[str, Any]:
    path = Path(reference)
    if not path.is_file():
        path = _jobs_dir(jobs_dir) / f"{reference.lower()}.json"
    if not path.is_file():
        raise typer.BadParameter(f"no request {reference!r} (a job file or a request id)")
    data: dict[str, Any] = json.loads(path.read_text())
    data["key_file"] = str(path.with_suffix(".key"))
    return data


@fails_cleanly
def request(
    spec: Annotated[Path, typer.Option(help='The computation: JSON {"function": "mean@1", ...}')],
    products: Annotated[
        Path, typer.Option(help='JSON [{"product_id", "manifest", "owner"}, ...] (share sets)')
    ],
    nodes: Annotated[str, typer.Option(help="The compute nodes' URLs, comma-separated, in order")],
    purpose: Annotated[str, typer.Option(help="Purpose of use (as granted)")] = "research",
    items: Annotated[
        list[str] | None, typer.Option("--item", help="Item paid for (default: the products)")
    ] = None,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    jobs_dir: JobsDir = None,
) -> None:
    """Pay for a computation on chain and submit it to the compute nodes, straight, for
    scripts that run without the marketplace: nothing quotes the job first (buy through
    the marketplace with 'trade compute', which does).

    A fresh result key is made for it (kept next to the job file, mode 0600): the
    nodes encrypt their result shares to it; its hash is in the paid request."""
    from kraken_market.cli.ledger_common import ledger
    from kraken_market.ledger.model import purpose_code
    from kraken_market.smpc.client import AnalyticsClient, NodeError, request_computation
    from kraken_market.smpc.functions.spec import ComputationSpec
    from kraken_market.smpc.keys import NodeKeyPair
    from kraken_market.smpc.node.identity import write_private
    from kraken_market.smpc.node.jobs import JobRequest
    from kraken_market.smpc.node.worker import ProductInput

    computation = ComputationSpec.model_validate(_read_json(spec, "computation"))
    inputs = [ProductInput.model_validate(p) for p in _read_json(products, "products")]
    endpoints = [n.strip() for n in nodes.split(",") if n.strip()]
    key = NodeKeyPair.generate()
    paid = items or [p.product_id for p in inputs]
    chain = ledger(dev_account, key_file, signs=True)
    rid = "0x" + secrets.token_hex(32)
    folder = _jobs_dir(jobs_dir)
    write_private(folder / f"{rid}.key", key.private_bytes.hex())  # before paying: never lost
    job = {
        "request_id": rid,
        "computation": computation.model_dump(mode="json", by_alias=True),
        "products": [p.model_dump() for p in inputs],
        "nodes": endpoints,
        "items": paid,
    }
    (folder / f"{rid}.json").write_text(json.dumps(job, indent=2) + "\n")
    code = purpose_code(purpose)
    request_computation(chain, computation, paid, code, key.public_key, request_id=rid)
    with AnalyticsClient(endpoints) as client:
        try:
            client.submit(
                JobRequest(
                    request_id=rid,
                    computation=computation,
                    products=inputs,
                    result_public_key=key.public_key.raw.hex(),
                )
            )
        except NodeError as exc:  # refused: say what became of the payment
            from kraken_market.trade.refunds import refused

            answer = {"error": exc.node_code, "message": exc.message.partition(": ")[2]}
            raise refused(chain, rid, {exc.node: answer}) from exc
    out.print(f"paid and submitted {rid}; fetch with: kraken-market analytics result {rid}")


@fails_cleanly
def status(
    job: Annotated[str, typer.Argument(help="Request id or job file")],
    jobs_dir: JobsDir = None,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Each node's state of a computation (signed with your account: the nodes show a
    job to the account that paid for it)."""
    from kraken_market.cli.ledger_common import ledger
    from kraken_market.smpc.client import AnalyticsClient
    from kraken_market.trade.refunds import payment_line

    data = _job(job, jobs_dir)
    chain = ledger(dev_account, key_file, signs=True)
    registered = {node.endpoint: node.account for node in chain.nodes()}
    with AnalyticsClient(data["nodes"], buyer=chain.account, node_accounts=registered) as client:
        statuses = client.status(data["request_id"])
    if as_json:
        print_json(statuses)
        return
    rows = [
        [
            i,
            s["state"],
            (s.get("error") or {}).get("code", ""),
            s.get("attestation") or "",
            (s.get("refund") or {}).get("status", ""),
        ]
        for i, s in statuses.items()
    ]
    columns = ["node", "state", "error", "attestation", "refund"]
    table(f"computation {data['request_id']}", columns, rows)
    out.print(payment_line(chain, data["request_id"]), markup=False, highlight=False)


@fails_cleanly
def result(
    job: Annotated[str, typer.Argument(help="Request id or job file")],
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write")],
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the nodes")] = 900,
    jobs_dir: JobsDir = None,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Wait for the nodes, check each result file against its commitment on chain,
    recombine any t+1 shares and write the result as CSV (signed with the account that
    paid: the nodes show a job to it alone)."""
    from kraken_market.cli.ledger_common import ledger
    from kraken_market.smpc.client import AnalyticsClient
    from kraken_market.smpc.functions.spec import ComputationSpec
    from kraken_market.smpc.node.authorise import LedgerChain
    from kraken_market.smpc.node.identity import load_hpke
    from kraken_market.trade.refunds import refused, returned

    data = _job(job, jobs_dir)
    spec = ComputationSpec.model_validate(data["computation"])
    buyer = ledger(dev_account, key_file, signs=True)  # the nodes show a job to its buyer
    gone = returned(buyer, data["request_id"])
    if gone is not None:  # refunded or reclaimed: there is no result to wait for
        raise gone
    key = load_hpke(Path(data["key_file"]))
    registered = {node.endpoint: node.account for node in buyer.nodes()}
    with AnalyticsClient(data["nodes"], buyer=buyer.account, node_accounts=registered) as client:
        statuses = client.wait(data["request_id"], timeout=timeout)
        t = int(client.info(0)["t"])
        if sum(s["state"] == "delivered" for s in statuses.values()) < t + 1:
            answers = {
                i: {
                    "error": (s.get("error") or {}).get("code"),
                    "message": (s.get("error") or {}).get("message"),
                    "refund": s.get("refund"),
                }
                for i, s in statuses.items()
            }
            raise refused(buyer, data["request_id"], answers)
        chain = LedgerChain(buyer)
        outcome = client.result(data["request_id"], spec, key, t=t, chain=chain)
    if outcome.table is None:
        err.print(f"suppressed: fewer than {spec.min_cohort} rows match; nothing else is revealed")
        raise typer.Exit(3)
    outcome.table.to_csv(out_file)
    out.print(f"{spec.function} from nodes {list(outcome.nodes)} written to {out_file}")


def register(app: typer.Typer) -> None:
    """Add the buyer's commands to the ``analytics`` group."""
    app.command()(request)
    app.command()(status)
    app.command()(result)
