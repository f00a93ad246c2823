"""Wallet errors, each with a stable code the CLI prints and scripts branch on::

KrakenError
├── InvalidRequest
│   ├── WalletInvalid                 wallet_invalid (not a wallet file, or tampered)
│   ├── WeakPassphrase                weak_passphrase
│   ├── CredentialNotForWallet        credential_not_for_wallet (subject is another DID)
│   └── SigningRequestInvalid         signing_request_invalid (unknown kind, another DID)
├── Unauthenticated
│   └── WrongPassphrase               wrong_passphrase (keystore MAC mismatch)
├── Forbidden
│   ├── WalletLocked                  wallet_locked (unlock before signing)
│   └── ForeignMarketplace            foreign_marketplace (a transaction asked by another origin)
├── NotFound
│   ├── WalletNotFound                wallet_not_found
│   └── CredentialNotInWallet         credential_not_in_wallet
└── Conflict
    ├── WalletExists                  wallet_exists (never overwrite keys)
    ├── CredentialDuplicate           credential_duplicate
    └── NothingToPresent              nothing_to_present
"""

from __future__ import annotations

from kraken_market.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthenticated


class WalletInvalid(InvalidRequest):
    code = "wallet_invalid"


class WeakPassphrase(InvalidRequest):
    code = "weak_passphrase"


class CredentialNotForWallet(InvalidRequest):
    code = "credential_not_for_wallet"


class WrongPassphrase(Unauthenticated):
    code = "wrong_passphrase"


class WalletLocked(Forbidden):
    code = "wallet_locked"


class WalletNotFound(NotFound):
    code = "wallet_not_found"


class CredentialNotInWallet(NotFound):
    code = "credential_not_in_wallet"


class WalletExists(Conflict):
    code = "wallet_exists"


class CredentialDuplicate(Conflict):
    code = "credential_duplicate"


class NothingToPresent(Conflict):
    code = "nothing_to_present"


class SigningRequestInvalid(InvalidRequest):
    """A signing request (``kraken_signature``) this wallet cannot or will not sign:
    unknown kind, missing fields, or made for another person's DID."""

    code = "signing_request_invalid"


class ForeignMarketplace(Forbidden):
    """A transaction asked for by another origin than the wallet's own marketplace: the
    wallet names contracts only from its own marketplace's deployment (an asker's own
    "deployment" could call its address "the marketplace"), so it does not sign it."""

    code = "foreign_marketplace"
