"""``python -m kraken_market`` runs the CLI (used by ``kraken-market up`` for its children)."""

from kraken_market.cli.main import app

app(prog_name="kraken-market")
