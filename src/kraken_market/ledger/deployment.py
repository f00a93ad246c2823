"""The deployment file: where the marketplace's contracts live on a chain.

``kraken-market chain deploy`` writes it once; every other process (API,
compute nodes, CLI, indexer) reads it, so all of them talk to the same
contracts. JSON, in the data directory by default.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from kraken_market.ledger.errors import NotDeployed


class Deployment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    chain_id: int
    block: int
    """The block of the first deployment transaction: where history starts."""
    admin: str
    token: str
    faucet: str | None
    authority: str
    registry: str
    market: str
    deployed_at: datetime
    token_deployed: bool
    """False when an existing token's configured address is used."""

    def addresses(self) -> dict[str, str]:
        named = {
            "DataToken": self.token,
            "Authority": self.authority,
            "Registry": self.registry,
            "Market": self.market,
        }
        if self.faucet:
            named["Faucet"] = self.faucet
        return named

    def save(self, path: Path) -> None:
        """Write atomically (a reader never sees half a file)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")
        os.replace(partial, path)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        if not path.is_file():
            raise NotDeployed(
                f"no deployment file at {path}: run 'kraken-market chain deploy' first"
            )
        try:
            return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, ValidationError) as exc:
            raise NotDeployed(f"the deployment file {path} is damaged: {exc}") from exc
