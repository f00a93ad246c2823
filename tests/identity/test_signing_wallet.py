"""The wallet's side of a signature a page asks for (``kraken_signature``) without a
server: the request's checks, refusing another person's request, the binding made."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from eth_account import Account as EthAccount

from kraken_market.db.base import utcnow
from kraken_market.identity import binding, jose, openid4vp
from kraken_market.identity import openid4vp_wallet as wallet
from kraken_market.identity import signing_wallet as signing
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.keys import DidKey
from kraken_market.identity.signin_errors import RequestObjectInvalid
from kraken_market.identity.wallet import WalletKeys
from kraken_market.identity.wallet_errors import SigningRequestInvalid

VERIFIER = DidKey.generate()
CLIENT_ID = openid4vp.CLIENT_ID_PREFIX + VERIFIER.did
AUDIENCE = "https://market.example"
LINK = wallet.Link("https://market.example/api/v1/wallet-requests/r1", CLIENT_ID)


def request_token(did: str, **changes: Any) -> str:
    now = utcnow()
    payload = {
        "iss": CLIENT_ID,
        "aud": openid4vp.STATIC_AUDIENCE,
        "client_id": CLIENT_ID,
        "response_type": signing.RESPONSE_TYPE,
        "response_mode": "direct_post",
        "response_uri": "https://market.example/api/v1/wallet-requests/r1/response",
        "nonce": "n-1",
        "state": "s-1",
        "client_metadata": openid4vp.client_metadata("Kraken Market"),
        "signing_request": {"kind": "bind_account", "did": did, "audience": AUDIENCE},
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        **changes,
    }
    return jose.sign(VERIFIER, payload, openid4vp.REQUEST_TYP)


def opened(token: str) -> signing.SigningRequest:
    payload = wallet.verified_payload(token, LINK, DidResolver(), utcnow())
    return signing.signing_request(payload)


def test_the_wallet_signs_the_binding_the_request_names() -> None:
    keys = WalletKeys(DidKey.generate(), EthAccount.create())
    request = opened(request_token(keys.did_key.did))
    assert (request.client_name, request.origin, request.kind) == (
        "Kraken Market",
        AUDIENCE,
        "bind_account",
    )
    assert "ledger account" in request.what
    fields = signing.sign(keys, request, utcnow())
    checked = binding.verify(
        fields["binding"],
        fields["account_signature"],
        DidResolver(),
        audience=AUDIENCE,
        now=utcnow(),
    )
    assert (checked.did, checked.account) == (keys.did_key.did, keys.account.address)


def test_another_persons_request_or_an_unknown_kind_is_refused() -> None:
    keys = WalletKeys(DidKey.generate(), EthAccount.create())
    theirs = opened(request_token(DidKey.generate().did))
    with pytest.raises(SigningRequestInvalid, match="not for this wallet's DID"):
        signing.sign(keys, theirs, utcnow())
    unknown = {"kind": "transfer_everything", "did": keys.did_key.did, "audience": AUDIENCE}
    with pytest.raises(SigningRequestInvalid, match="does not sign 'transfer_everything'"):
        opened(request_token(keys.did_key.did, signing_request=unknown))
    with pytest.raises(SigningRequestInvalid, match="not a web address"):
        opened(
            request_token(
                keys.did_key.did,
                signing_request={**unknown, "kind": "bind_account", "audience": "ftp://x"},
            )
        )
    with pytest.raises(RequestObjectInvalid, match="does not say what to sign"):
        opened(request_token(keys.did_key.did, signing_request=None))


def test_a_signing_request_is_checked_like_any_request() -> None:
    did = DidKey.generate().did
    impostor = jose.sign(DidKey.generate(), {"client_id": CLIENT_ID}, openid4vp.REQUEST_TYP)
    with pytest.raises(RequestObjectInvalid, match="signed by"):
        opened(impostor)
    with pytest.raises(RequestObjectInvalid, match="expired"):
        wallet.verified_payload(
            request_token(did), LINK, DidResolver(), utcnow() + timedelta(hours=1)
        )
    # a presentation request is not a signing request, and the other way round
    with pytest.raises(RequestObjectInvalid, match="unsupported response type"):
        wallet.authorization_request(
            wallet.verified_payload(request_token(did), LINK, DidResolver(), utcnow())
        )
