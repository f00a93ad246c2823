"""SMPC analytics errors; each ``code`` is part of the public API::

    InvalidRequest (422)
    ├── DataInvalid                 data_invalid      (details: row, column)
    │   ├── MissingColumn           missing_column
    │   ├── NotNumeric              not_numeric
    │   ├── MissingValue            missing_value
    │   ├── UnknownCategory         unknown_category
    │   ├── OutOfRange              out_of_range
    │   └── UnreadableData          unreadable_data   (not CSV/Parquet, cannot parse)
    ├── SharingInvalid              sharing_invalid   (m, t, node keys, product id)
    ├── ShareFileInvalid            share_file_invalid (container header or payload)
    ├── EnvelopeInvalid             envelope_invalid  (not an encrypted share file)
    │   ├── EnvelopeTruncated       envelope_truncated
    │   ├── EnvelopeMisdirected     envelope_misdirected (for another node or product)
    │   └── EnvelopeTampered        envelope_tampered (a chunk fails authentication)
    ├── ManifestInvalid             manifest_invalid  (signature, signer, shape)
    │   └── ManifestMismatch        manifest_mismatch (a file's hash or size differs)
    ├── ResultSharesInvalid         result_shares_invalid (too few, inconsistent)
    ├── ObjectNameInvalid           object_name_invalid (storage names)
    └── StorageLocationInvalid      storage_location_invalid (not a path or s3:// URL)
    Forbidden (403)
    └── StorageAccessDenied         storage_access_denied (no or refused credentials)
    Conflict (409)
    └── ObjectPreconditionFailed    object_precondition_failed (a conditional S3 write: the
                                    object exists already)
    NotFound (404)
    ├── ObjectNotFound              object_not_found (storage)
    └── BucketNotFound              bucket_not_found (S3)
    ServiceUnavailable (503)
    └── StorageUnavailable          storage_unavailable (endpoint unreachable, S3 failing)

Data errors name the row (1-based, the first data row is row 1) and the column
in the message and in ``details`` ({"row": 17, "column": "age"}), so the
owner can fix the cell.
"""

from __future__ import annotations

from typing import Any

from kraken_market.errors import Conflict, Forbidden, InvalidRequest, NotFound, ServiceUnavailable


class DataInvalid(InvalidRequest):
    code = "data_invalid"

    @classmethod
    def at(cls, row: int | None, column: str | None, problem: str, **extra: Any) -> DataInvalid:
        """``row N, column 'c': problem`` with the same facts in ``details``."""
        where = []
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        prefix = ", ".join(where)
        message = f"{prefix}: {problem}" if prefix else problem
        return cls(message, details={"row": row, "column": column, **extra})


class MissingColumn(DataInvalid):
    code = "missing_column"


class NotNumeric(DataInvalid):
    code = "not_numeric"


class MissingValue(DataInvalid):
    code = "missing_value"


class UnknownCategory(DataInvalid):
    code = "unknown_category"


class OutOfRange(DataInvalid):
    code = "out_of_range"


class UnreadableData(DataInvalid):
    code = "unreadable_data"


class SharingInvalid(InvalidRequest):
    code = "sharing_invalid"


class ShareFileInvalid(InvalidRequest):
    code = "share_file_invalid"


class EnvelopeInvalid(InvalidRequest):
    code = "envelope_invalid"


class EnvelopeTruncated(EnvelopeInvalid):
    code = "envelope_truncated"


class EnvelopeMisdirected(EnvelopeInvalid):
    code = "envelope_misdirected"


class EnvelopeTampered(EnvelopeInvalid):
    code = "envelope_tampered"


class ManifestInvalid(InvalidRequest):
    code = "manifest_invalid"


class ManifestMismatch(ManifestInvalid):
    code = "manifest_mismatch"


class ResultSharesInvalid(InvalidRequest):
    code = "result_shares_invalid"


class ObjectNameInvalid(InvalidRequest):
    code = "object_name_invalid"


class ObjectNotFound(NotFound):
    code = "object_not_found"


class ObjectPreconditionFailed(Conflict):
    code = "object_precondition_failed"


class StorageLocationInvalid(InvalidRequest):
    code = "storage_location_invalid"


class StorageAccessDenied(Forbidden):
    code = "storage_access_denied"


class BucketNotFound(NotFound):
    code = "bucket_not_found"


class StorageUnavailable(ServiceUnavailable):
    code = "storage_unavailable"
