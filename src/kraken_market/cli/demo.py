"""``kraken-market demo``: the whole story, against a running ``kraken-market up``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kraken_market.cli.common import JsonOption, err, fails_cleanly, out, print_json, settings
from kraken_market.errors import InvalidRequest, ServiceUnavailable
from kraken_market.files import write_private

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount


class PlatformNotRunning(ServiceUnavailable):
    code = "platform_not_running"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class BankNeeded(InvalidRequest):
    code = "bank_needed"


def _bank(key_file: Path | None, embedded: bool) -> LocalAccount | None:
    """The account that pays the demo's people: none needed on the embedded chain."""
    if key_file is None:
        if embedded:
            return None
        raise BankNeeded(
            "the platform runs on an external chain, where no development faucet pays the "
            "demo's people: give --bank-key-file FILE, the key (mode 0600) of an account "
            "holding the chain's currency and DATA (the platform's admin holds the DATA "
            "of a token it deployed)"
        )
    from eth_account import Account

    from kraken_market.files import read_private

    try:
        account: LocalAccount = Account.from_key(read_private(key_file).strip())
    except ValueError as exc:  # InvalidRequest (no file, readable by others) is one too
        if isinstance(exc, InvalidRequest):
            raise
        raise InvalidRequest(f"{key_file} does not hold a hex private key") from None
    return account


@fails_cleanly
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Where the buyers' results (CSV) and files go")
    ] = Path("kraken-demo"),
    secrets: Annotated[
        Path | None,
        typer.Option(
            hidden=True,
            help="Write the story's secrets (keys, plaintext files) here, so that a privacy "
            "check can search the platform's files for them",
        ),
    ] = None,
    bank_key_file: Annotated[
        Path | None,
        typer.Option(
            "--bank-key-file",
            help="On an external chain (KRAKEN_CHAIN_URL): a file (mode 0600, hex private "
            "key) of an account holding the chain's currency and DATA, which pays the "
            "demo's people (on the embedded chain the development faucet does)",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run the marketplace's whole story against a running 'kraken-market up', printing
    each step: a hospital identified in KCIT authorises an employee through its Depute
    tool; the employee publishes an analytics product with a stake; a research
    institute buys mean, std and a linear regression (CSV); a second buyer's claim is
    rejected by the arbiter; the institute approves and the stake is released; someone buys a
    batch file and decrypts it; someone subscribes to a stream and reads it; the
    employee's attorney credential is revoked and the next publish is refused."""
    from kraken_market.platform.report import PlatformInfo, platform_file
    from kraken_market.story import files, hospital
    from kraken_market.story.context import Story

    config = settings()
    path = platform_file(config.data_dir)
    if not path.is_file():
        raise PlatformNotRunning(
            f"no running platform in {config.data_dir}: start 'kraken-market up' first "
            "(with the same KRAKEN_DATA_DIR)"
        )
    platform = PlatformInfo.model_validate_json(path.read_text())
    if not _running(platform.pid):
        raise PlatformNotRunning(f"the 'up' that wrote {path} is gone: start it again")
    bank = _bank(bank_key_file, platform.chain.embedded)
    story = Story(config, platform, out_dir.resolve(), err if as_json else out, bank)
    try:
        employee, authorisation, representative = hospital.authorise_employee(story)
        product = hospital.publish_analytics(story, employee)
        researcher = story.cast.actor("Rhea (research institute)", category="research-institution")
        purchase = hospital.buy_computations(story, researcher, product)
        hospital.claim_then_approve(story, researcher, product, purchase)
        files.batch_file(story)
        files.stream(story)
        hospital.revoke(story, employee, authorisation, representative, product)
    finally:
        story.close()
    if secrets is not None:
        write_private(secrets, json.dumps(story.secrets(), indent=2))
    if as_json:
        print_json({"steps": story.steps, "out": str(story.out_dir), "product": product})
    else:
        out.print(f"[bold green]done[/]: {story.number} steps; results in {story.out_dir}")
