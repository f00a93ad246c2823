"""The Depute tool answers CORS for the marketplace's web wallet on its wallet
endpoints only (depute/cors.py): invitations and sign-in requests."""

from __future__ import annotations

from pathlib import Path

from kraken_market.depute.config import DeputeConfig, origin_of
from tests.depute.conftest import Rig

SECRET = "x" * 32


def preflight(rig: Rig, path: str, origin: str) -> dict[str, str]:
    answer = rig.http.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    return {k.lower(): v for k, v in answer.headers.items()} | {"status": str(answer.status_code)}


def test_the_wallet_origin_may_call_invitations_and_signin_requests(rig: Rig) -> None:
    wallet = origin_of(rig.marketplace.url)
    for path in (f"/api/invitations/{SECRET}/accept", "/api/signin/requests/abc/response"):
        headers = preflight(rig, path, wallet)
        assert headers["status"] == "200"
        assert headers["access-control-allow-origin"] == wallet
        assert "POST" in headers["access-control-allow-methods"]
        assert "access-control-allow-credentials" not in headers
    offer = rig.http.get(f"/api/invitations/{SECRET}", headers={"Origin": wallet})
    assert offer.status_code == 404  # no such invitation, but readable by the wallet
    assert offer.headers["access-control-allow-origin"] == wallet


def test_other_origins_and_other_paths_get_no_cors(rig: Rig) -> None:
    stranger = "http://evil.example"
    headers = preflight(rig, f"/api/invitations/{SECRET}/accept", stranger)
    assert headers["status"] == "400"
    assert "access-control-allow-origin" not in headers
    wallet = origin_of(rig.marketplace.url)
    listing = rig.http.get("/api/invitations", headers={"Origin": wallet})
    assert "access-control-allow-origin" not in listing.headers
    desk = preflight(rig, "/api/auth/login", wallet)
    assert "access-control-allow-origin" not in desk


def test_the_wallet_origins_come_from_the_marketplace_urls(tmp_path: Path) -> None:
    config = DeputeConfig(
        company="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        directory=tmp_path,
        public_url="http://127.0.0.1:8710",
        marketplace_url="http://127.0.0.1:8700/",
        registry_url="https://market.example/api-behind-proxy",
    )
    assert config.wallet_origins == ["http://127.0.0.1:8700", "https://market.example"]
