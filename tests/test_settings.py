"""One Settings object: defaults, KRAKEN_* environment, TOML file from KRAKEN_CONFIG."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from kraken_market.settings import EXTERNAL_CHAIN_CONFIRMATIONS, Settings


def test_defaults_need_no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("KRAKEN_CONFIG", "KRAKEN_DATA_DIR", "KRAKEN_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    settings = Settings()
    assert settings.data_dir == Path(".kraken")
    assert settings.resolved_database_url.endswith(".kraken/kraken.db")
    assert settings.resolved_api_url == "http://127.0.0.1:8700"


def test_environment_overrides_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "kraken.toml"
    config.write_text('api_port = 9000\nlog_format = "json"\ndata_dir = "/var/lib/kraken"\n')
    monkeypatch.setenv("KRAKEN_CONFIG", str(config))
    monkeypatch.setenv("KRAKEN_API_PORT", "9100")
    settings = Settings()
    assert (settings.api_port, settings.log_format) == (9100, "json")
    assert settings.data_dir == Path("/var/lib/kraken")


def test_bad_configuration_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRAKEN_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(FileNotFoundError, match=r"missing\.toml"):
        Settings()
    config = tmp_path / "kraken.toml"
    config.write_text("api_prot = 9000\n")  # a typo must not pass silently
    monkeypatch.setenv("KRAKEN_CONFIG", str(config))
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.delenv("KRAKEN_CONFIG")
    monkeypatch.setenv("KRAKEN_API_PORT", "99999")
    with pytest.raises(ValidationError):
        Settings()


def test_mpc_ports_in_the_ephemeral_range_are_refused(tmp_path: Path) -> None:
    from kraken_market.ports import ephemeral_ports

    low, _high = ephemeral_ports()
    with pytest.raises(ValidationError, match="ephemeral port range"):
        Settings(data_dir=tmp_path, node_mpc_base_port=low + 1000)
    assert Settings(data_dir=tmp_path, node_mpc_base_port=low - 3000).node_mpc_base_port > 0


def test_confirmation_depth_is_0_on_the_embedded_chain_and_12_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("KRAKEN_CONFIG", "KRAKEN_CHAIN_URL", "KRAKEN_CHAIN_CONFIRMATIONS"):
        monkeypatch.delenv(var, raising=False)
    embedded = Settings(data_dir=tmp_path)
    assert embedded.chain_is_embedded and embedded.resolved_chain_confirmations == 0
    assert embedded.resolved_chain_url == "http://127.0.0.1:8545"
    monkeypatch.setenv("KRAKEN_CHAIN_URL", "https://rpc.gnosischain.com/")
    external = Settings(data_dir=tmp_path)
    assert not external.chain_is_embedded
    assert external.resolved_chain_url == "https://rpc.gnosischain.com"
    assert external.resolved_chain_confirmations == EXTERNAL_CHAIN_CONFIRMATIONS == 12
    monkeypatch.setenv("KRAKEN_CHAIN_CONFIRMATIONS", "0")  # an explicit setting wins
    assert Settings(data_dir=tmp_path).resolved_chain_confirmations == 0
    assert Settings(data_dir=tmp_path, chain_url=None).resolved_chain_confirmations == 0
    monkeypatch.delenv("KRAKEN_CHAIN_URL")
    monkeypatch.setenv("KRAKEN_CHAIN_CONFIRMATIONS", "64")
    assert Settings(data_dir=tmp_path).resolved_chain_confirmations == 64
    monkeypatch.setenv("KRAKEN_CHAIN_CONFIRMATIONS", "-1")
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path)
