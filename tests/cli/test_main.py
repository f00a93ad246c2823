"""The top-level command loads a command group only when it runs."""

from __future__ import annotations

import re
import subprocess
import sys

from typer.testing import CliRunner

from kraken_market.cli.main import COMMANDS, app, load_all


def test_every_command_loads_under_its_name() -> None:
    assert [command.name for command in load_all()] == list(COMMANDS)


def test_a_single_command_has_its_whole_help_and_no_completion_options() -> None:
    shown = CliRunner().invoke(app, ["up", "--help"], terminal_width=200).output
    assert "--install-completion" not in shown
    assert "print its URLs and accounts" in " ".join(shown.split())


def test_a_command_imports_its_group_only() -> None:
    code = (
        "import sys\n"
        "from kraken_market.cli.main import app\n"
        "try:\n"
        "    app(['whoami', '--help'], prog_name='kraken-market')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ['kraken_market.api.app', 'kraken_market.depute.app', 'pandas', 'web3']\n"
        "print('heavy:' + ','.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "kraken-market whoami" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "heavy:"


def test_the_listing_names_every_command_and_a_typo_gets_a_suggestion() -> None:
    runner = CliRunner()
    listing = runner.invoke(app, ["--help"])
    assert listing.exit_code == 0
    listed = re.findall(r"^│ ([a-z]+) ", listing.output, re.MULTILINE)
    assert listed == [*COMMANDS, "version"]
    typo = runner.invoke(app, ["whoam"])
    assert typo.exit_code == 2
    assert "Did you mean 'whoami'?" in typo.output
