"""Batch access errors (encrypted data files, key shares, key custody); each ``code``
is part of the public API::

    InvalidRequest (422)
    ├── DataFileInvalid           datafile_invalid        (not a data file, bad header fields)
    │   ├── DataFileTruncated     datafile_truncated      (ends before its last chunk)
    │   ├── DataFileTrailingData  datafile_trailing_data  (bytes after its last chunk)
    │   ├── DataFileMisdirected   datafile_misdirected    (for another product)
    │   ├── DataFileWrongKey      datafile_wrong_key      (the key is not the file's key)
    │   ├── DataFileHeaderTampered datafile_header_tampered
    │   ├── DataFileChunkReordered datafile_chunk_reordered (a chunk at another position)
    │   ├── DataFileChunkSpliced  datafile_chunk_spliced  (a chunk of another file)
    │   └── DataFileChunkTampered datafile_chunk_tampered (a chunk fails authentication)
    ├── SourceChanged             source_changed          (the plaintext changed while read)
    ├── KeySharingInvalid         key_sharing_invalid     (key length, m, t, node list)
    ├── KeyShareInvalid           key_share_invalid       (a share that does not open or parse)
    │   └── ShareMisdirected      share_misdirected       (sealed for another node/item/key)
    └── KeyRecoveryFailed         key_recovery_failed     (too few shares, or none recombine
        └── KeyCommitmentMismatch key_commitment_mismatch  to the committed key)
    Unauthenticated (401)
    ├── SignatureInvalid          signature_invalid
    └── RequestStale              request_stale           (issued_at more than 300 s off)
    Forbidden (403)
    ├── DepositorNotOwner         depositor_not_owner     (not the product's owner on chain)
    ├── PurchaseMismatch          purchase_mismatch       (other buyer, kind or item)
    └── GrantMissing              grant_missing           (smpc.node.errors: no valid grant)
    PaymentRequired (402)
    └── NotPaid                   not_paid                (subscription ends before the epoch)
    NotFound (404)
    ├── ProductUnknown            product_unknown         (no such product on chain)
    ├── PurchaseUnknown           purchase_unknown
    └── KeyUnknown                key_unknown             (this node holds no such key share)
    Conflict (409)
    ├── KeyExists                 key_exists              (another deposit for the item and key id)
    └── FileExists                file_exists             (seller SDK: file published already)
    PayloadTooLarge (413)         payload_too_large
    ServiceUnavailable (503)
    └── KeyUnavailable            key_unavailable         (fewer than t + 1 nodes released a share)
"""

from __future__ import annotations

from kraken_market.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthenticated,
)
from kraken_market.smpc.node.errors import GrantMissing, PaymentRequired

__all__ = [
    "DataFileChunkReordered",
    "DataFileChunkSpliced",
    "DataFileChunkTampered",
    "DataFileHeaderTampered",
    "DataFileInvalid",
    "DataFileMisdirected",
    "DataFileTrailingData",
    "DataFileTruncated",
    "DataFileWrongKey",
    "DepositorNotOwner",
    "FileExists",
    "GrantMissing",
    "KeyCommitmentMismatch",
    "KeyExists",
    "KeyRecoveryFailed",
    "KeyShareInvalid",
    "KeySharingInvalid",
    "KeyUnavailable",
    "KeyUnknown",
    "NotPaid",
    "PayloadTooLarge",
    "ProductUnknown",
    "PurchaseMismatch",
    "PurchaseUnknown",
    "RequestStale",
    "ShareMisdirected",
    "SignatureInvalid",
    "SourceChanged",
]


class DataFileInvalid(InvalidRequest):
    code = "datafile_invalid"


class DataFileTruncated(DataFileInvalid):
    code = "datafile_truncated"


class DataFileTrailingData(DataFileInvalid):
    code = "datafile_trailing_data"


class DataFileMisdirected(DataFileInvalid):
    code = "datafile_misdirected"


class DataFileWrongKey(DataFileInvalid):
    code = "datafile_wrong_key"


class DataFileHeaderTampered(DataFileInvalid):
    code = "datafile_header_tampered"


class DataFileChunkReordered(DataFileInvalid):
    code = "datafile_chunk_reordered"


class DataFileChunkSpliced(DataFileInvalid):
    code = "datafile_chunk_spliced"


class DataFileChunkTampered(DataFileInvalid):
    code = "datafile_chunk_tampered"


class SourceChanged(InvalidRequest):
    code = "source_changed"


class KeySharingInvalid(InvalidRequest):
    code = "key_sharing_invalid"


class KeyShareInvalid(InvalidRequest):
    code = "key_share_invalid"


class ShareMisdirected(KeyShareInvalid):
    code = "share_misdirected"


class KeyRecoveryFailed(InvalidRequest):
    code = "key_recovery_failed"


class KeyCommitmentMismatch(KeyRecoveryFailed):
    code = "key_commitment_mismatch"


class SignatureInvalid(Unauthenticated):
    code = "signature_invalid"


class RequestStale(Unauthenticated):
    code = "request_stale"


class DepositorNotOwner(Forbidden):
    code = "depositor_not_owner"


class PurchaseMismatch(Forbidden):
    code = "purchase_mismatch"


class NotPaid(PaymentRequired):
    code = "not_paid"


class ProductUnknown(NotFound):
    code = "product_unknown"


class PurchaseUnknown(NotFound):
    code = "purchase_unknown"


class KeyUnknown(NotFound):
    code = "key_unknown"


class KeyExists(Conflict):
    code = "key_exists"


class KeyUnavailable(ServiceUnavailable):
    code = "key_unavailable"


class FileExists(Conflict):
    """The seller's file is already in the storage under that name (and its key with the
    nodes): publishing again would replace the file but not the key."""

    code = "file_exists"
