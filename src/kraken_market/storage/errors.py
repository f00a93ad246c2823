"""Storage errors; each ``code`` is part of the public API::

InvalidRequest (422)
├── ObjectKindInvalid          object_kind_invalid      (a suffix of no stored kind, or a
│                                                        kind the product's access mode does
│                                                        not store: .kshare/.jws analytics,
│                                                        .kdata batch)
├── ObjectNotEncrypted         object_not_encrypted     (plaintext, unencrypted shares,
│                                                        anything not ciphertext)
├── ObjectFormatInvalid        object_format_invalid    (a malformed or unsupported header,
│                                                        another product's object, a length
│                                                        other than its header announces)
├── ObjectIncomplete           object_incomplete        (fewer or more bytes than declared)
└── ObjectChecksumMismatch     object_checksum_mismatch (not the SHA-256 declared)
(and from smpc.errors: object_name_invalid, manifest_invalid, manifest_mismatch)
Forbidden (403)
└── ObjectNotReadable          object_not_readable      (only data files, only by buyers)
NotFound (404)
└── UploadNotFound             upload_not_found         (nothing uploaded there, or expired)
Conflict (409)
├── ObjectExists               object_exists            (other bytes under that name)
├── ObjectImmutable            object_immutable         (stored objects are never deleted)
└── ManifestSharesMissing      manifest_shares_missing  (upload the share files first)
PayloadTooLarge (413)
└── ObjectTooLarge             object_too_large         (above storage_max_object_bytes)
UnsupportedMediaType (415)     unsupported_media_type   (uploads are octet streams)
UploadRefused (502)            upload_refused           (the SDK: S3 refused a presigned PUT)
"""

from __future__ import annotations

from kraken_market.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    KrakenError,
    NotFound,
    PayloadTooLarge,
)

__all__ = [
    "ManifestSharesMissing",
    "ObjectChecksumMismatch",
    "ObjectExists",
    "ObjectFormatInvalid",
    "ObjectImmutable",
    "ObjectIncomplete",
    "ObjectKindInvalid",
    "ObjectNotEncrypted",
    "ObjectNotReadable",
    "ObjectTooLarge",
    "UnsupportedMediaType",
    "UploadNotFound",
    "UploadRefused",
]


class ObjectKindInvalid(InvalidRequest):
    code = "object_kind_invalid"


class ObjectNotEncrypted(InvalidRequest):
    code = "object_not_encrypted"


class ObjectFormatInvalid(InvalidRequest):
    code = "object_format_invalid"


class ObjectIncomplete(InvalidRequest):
    code = "object_incomplete"


class ObjectChecksumMismatch(InvalidRequest):
    code = "object_checksum_mismatch"


class ObjectNotReadable(Forbidden):
    code = "object_not_readable"


class UploadNotFound(NotFound):
    code = "upload_not_found"


class ObjectExists(Conflict):
    code = "object_exists"


class ObjectImmutable(Conflict):
    code = "object_immutable"


class ManifestSharesMissing(Conflict):
    code = "manifest_shares_missing"


class ObjectTooLarge(PayloadTooLarge):
    code = "object_too_large"


class UnsupportedMediaType(KrakenError):
    code = "unsupported_media_type"
    status = 415


class UploadRefused(KrakenError):
    """The storage a presigned URL points to refused the bytes (an expired URL, a size or
    checksum other than signed): raised by the SDK, which never got an API answer."""

    code = "upload_refused"
    status = 502
