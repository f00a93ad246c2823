"""``kraken-market demo``: the whole story, against a running ``kraken-market up``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from kraken_market.cli.common import JsonOption, err, fails_cleanly, out, print_json, settings
from kraken_market.errors import ServiceUnavailable
from kraken_market.files import write_private


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
    story = Story(config, platform, out_dir.resolve(), err if as_json else out)
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
