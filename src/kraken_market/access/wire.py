"""What sellers, buyers and compute nodes send each other for key custody, and what
their wallets sign.

Both requests are signed with the sender's Ethereum account as EIP-191
version 0x45 ("personal_sign") messages: a short, fixed-format text a wallet
can show. Every field is validated to one spelling (lowercase hex, decimal
integers) before the text is built, so the text is canonical: the node
rebuilds it from the JSON it received and recovers the signer.

One deposit signature covers all m nodes: the text lists the SHA-256 of every
node's sealed share, and each node receives the list with its own share (a
seller signs once per file, also from a phone wallet)::

    Kraken Market key deposit v1
    item: 0x<64 hex>
    key id: data
    not before: 0
    key commitment: 0x<64 hex>
    threshold: 1 of 3
    share 0: 0x<SHA-256 of node 0's sealed share>
    ...

A release request is signed once and sent to every node::

    Kraken Market key release v1
    item: 0x<64 hex>
    key id: data
    purchase: 12
    buyer key: 0x<the ephemeral X25519 public key, 64 hex>
    issued at: 1767225600
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import TYPE_CHECKING, Annotated, Protocol

from eth_utils.address import to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from kraken_market.access.errors import SignatureInvalid
from kraken_market.access.keyshares import KEY_ID_PATTERN, SEALED_SIZE

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

Hex32 = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{64}$")]
AccountAddress = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$")]
Signature = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{130}$")]
KeyId = Annotated[str, StringConstraints(pattern=KEY_ID_PATTERN)]
Base64 = Annotated[str, StringConstraints(max_length=512)]
UINT63 = 2**63 - 1


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Strict standard base64 (RFC 4648 §4, padded); ``ValueError`` otherwise."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("not standard base64 (RFC 4648, padded)") from exc


def _exact_base64(value: str, size: int, what: str) -> str:
    if len(b64decode(value)) != size:
        raise ValueError(f"{what} is {size} bytes")
    return value


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KeyDeposit(_Body):
    """``POST /keys``: one node's sealed share of a data key, signed by the product's owner."""

    item: Hex32
    key_id: KeyId
    node_index: Annotated[int, Field(ge=0, le=254)]
    sealed_share: Base64
    share_digests: Annotated[list[Hex32], Field(min_length=3, max_length=255)]
    threshold: Annotated[int, Field(ge=1, le=127)]
    key_commitment: Hex32
    not_before: Annotated[int, Field(ge=0, le=UINT63)]
    depositor: AccountAddress
    signature: Signature

    @field_validator("sealed_share")
    @classmethod
    def _sealed(cls, value: str) -> str:
        return _exact_base64(value, SEALED_SIZE, "a sealed key share")

    @property
    def share_bytes(self) -> bytes:
        return b64decode(self.sealed_share)

    @property
    def commitment_bytes(self) -> bytes:
        return bytes.fromhex(self.key_commitment[2:])

    def message(self) -> str:
        lines = [
            "Kraken Market key deposit v1",
            f"item: {self.item.lower()}",
            f"key id: {self.key_id}",
            f"not before: {self.not_before}",
            f"key commitment: {self.key_commitment.lower()}",
            f"threshold: {self.threshold} of {len(self.share_digests)}",
        ]
        lines += [f"share {i}: {d.lower()}" for i, d in enumerate(self.share_digests)]
        return "\n".join(lines)

    def same_content(self, other: KeyDeposit) -> bool:
        """Equal up to the spelling of hex (the signature may differ: ECDSA is randomised
        in some wallets)."""
        return (
            self.message() == other.message()
            and self.sealed_share == other.sealed_share
            and self.node_index == other.node_index
            and self.depositor.lower() == other.depositor.lower()
        )


class KeyRelease(_Body):
    """``POST /keys/release``: a buyer asks a node to re-seal its share to ``buyer_public_key``."""

    item: Hex32
    key_id: KeyId
    purchase_id: Annotated[int, Field(ge=0, le=2**256 - 1)]
    buyer_public_key: Base64
    issued_at: Annotated[int, Field(ge=0, le=UINT63)]
    buyer: AccountAddress
    signature: Signature

    @field_validator("buyer_public_key")
    @classmethod
    def _key(cls, value: str) -> str:
        return _exact_base64(value, 32, "an X25519 public key")

    @property
    def buyer_key_bytes(self) -> bytes:
        return b64decode(self.buyer_public_key)

    def message(self) -> str:
        return "\n".join(
            [
                "Kraken Market key release v1",
                f"item: {self.item.lower()}",
                f"key id: {self.key_id}",
                f"purchase: {self.purchase_id}",
                f"buyer key: 0x{self.buyer_key_bytes.hex()}",
                f"issued at: {self.issued_at}",
            ]
        )


class DepositReceipt(_Body):
    item: str
    key_id: str
    node_index: int
    key_commitment: str
    created: bool


class ReleasedShare(_Body):
    item: str
    key_id: str
    node_index: int
    key_commitment: Hex32
    sealed_share: Base64

    @field_validator("sealed_share")
    @classmethod
    def _sealed(cls, value: str) -> str:
        return _exact_base64(value, SEALED_SIZE, "a sealed key share")


def sha256_hex(data: bytes) -> str:
    return "0x" + hashlib.sha256(data).hexdigest()


class DepositSigner(Protocol):
    """Who signs a key deposit as the product's on-chain owner: the owner's account here
    (:class:`AccountSigner`), or a company's Depute tool, which signs with the
    company's account for an employee it authorised (``depute.client.DeskSigner``)."""

    @property
    def address(self) -> str: ...

    def sign_deposit(self, deposit: KeyDeposit) -> str:
        """The EIP-191 signature of ``deposit.message()``."""
        ...


class AccountSigner:
    def __init__(self, account: LocalAccount) -> None:
        self.account = account

    @property
    def address(self) -> str:
        return str(self.account.address)

    def sign_deposit(self, deposit: KeyDeposit) -> str:
        return sign_text(self.account, deposit.message())


def sign_text(account: LocalAccount, text: str) -> str:
    """An EIP-191 (0x45, personal_sign) signature of ``text`` by ``account``, 0x-hex."""
    from eth_account.messages import encode_defunct  # imported when used, as identity.binding

    return "0x" + bytes(account.sign_message(encode_defunct(text=text)).signature).hex()


def check_signer(text: str, signature: str, claimed: str) -> str:
    """The checksummed account that signed ``text``; ``signature_invalid`` unless it is
    ``claimed``."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    try:
        recovered = Account.recover_message(encode_defunct(text=text), signature=signature)
    except Exception as exc:  # eth-account raises several types for malformed signatures
        raise SignatureInvalid("the signature is malformed") from exc
    if to_checksum_address(recovered) != to_checksum_address(claimed):
        raise SignatureInvalid(f"the request was not signed by {to_checksum_address(claimed)}")
    return to_checksum_address(recovered)
