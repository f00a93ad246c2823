"""Share storage in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, ...) through boto3.

``S3Bucket("s3://bucket/prefix")`` keeps object ``name`` under the key
``prefix/name`` (URL syntax: ``smpc.storage.parse_s3_url``). Writes are atomic
like the local directory's: ``writer`` buffers up to one part (8 MiB); a
smaller object is one ``PutObject``, a larger one a multipart upload of 8 MiB
parts, visible only on ``CompleteMultipartUpload``. Any exception in the block
(or in an upload) aborts the upload: nothing is left under the name and an
existing object is kept. (A process killed mid-upload leaves an incomplete
upload, invisible to readers, that a bucket lifecycle rule
``AbortIncompleteMultipartUpload`` removes.) 10,000 parts cap an object at 78 GiB.

The endpoint is AWS unless given (``endpoint_url``, ``?endpoint=``, or boto3's
``AWS_ENDPOINT_URL_S3``/``AWS_ENDPOINT_URL``); with an endpoint, buckets are
addressed by path (``http://host:9000/bucket/key``), as MinIO and Ceph expect.
Credentials and region come from boto3's default chain (environment,
``~/.aws``, SSO, container and instance roles), never logged nor put in messages.

Errors: a missing key is ``ObjectNotFound``, a missing bucket ``BucketNotFound``,
a conditional write (``IfNoneMatch``) onto an existing key ``ObjectPreconditionFailed``,
missing or refused credentials ``StorageAccessDenied``, an unreachable endpoint
or a failing service ``StorageUnavailable``.

The tests (``tests/smpc/test_s3_storage.py``) run against moto's S3-compatible
server, not AWS.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
)

from kraken_market.errors import KrakenError
from kraken_market.smpc.errors import (
    BucketNotFound,
    ObjectNotFound,
    ObjectPreconditionFailed,
    StorageAccessDenied,
    StorageLocationInvalid,
    StorageUnavailable,
)
from kraken_market.smpc.storage import check_endpoint, check_name, parse_s3_url

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

PART_SIZE = 8 * 1024 * 1024
_DENIED = {"AccessDenied", "AllAccessDisabled", "ExpiredToken", "InvalidAccessKeyId"}
_DENIED |= {"InvalidToken", "SignatureDoesNotMatch", "403"}
log = logging.getLogger(__name__)


class S3Bucket:
    """Objects under ``prefix/`` in an S3 bucket (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        max_attempts: int = 3,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
    ) -> None:
        self.bucket, self.prefix, options = parse_s3_url(url)
        given = [check_endpoint(e) for e in (endpoint_url, options.get("endpoint")) if e]
        if len(set(given)) > 1:
            raise StorageLocationInvalid(f"two endpoints: {given[0]!r} and {given[1]!r}")
        self.endpoint = given[0] if given else None
        self.region = region or options.get("region")
        config = Config(
            retries={"mode": "standard", "max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # The manifest's SHA-256 checks every byte end to end; the newer default
            # checksum headers are refused by some S3-compatible services.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            # SigV4 for presigned URLs too (boto3 would presign some with SigV2, which
            # cannot sign the content length and checksum of an upload).
            signature_version="s3v4",
        )
        session = boto3.session.Session(region_name=self.region)
        self._client: Any = session.client("s3", endpoint_url=self.endpoint, config=config)

    def __repr__(self) -> str:
        where = f", endpoint {self.endpoint}" if self.endpoint else ""
        return f"S3Bucket(s3://{self.bucket}/{self.prefix}{where})"

    def key(self, name: str) -> str:
        """The S3 key of object ``name``."""
        name = check_name(name)
        return f"{self.prefix}/{name}" if self.prefix else name

    def url(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.key(name)}"

    @contextmanager
    def writer(self, name: str) -> Iterator[BinaryIO]:
        upload = _Upload(self, self.key(name))
        try:
            yield cast("BinaryIO", upload)
            upload.finish()
        except BaseException:
            upload.abort()
            raise
        finally:
            upload.close()

    def read(self, name: str) -> bytes:
        key = self.key(name)
        response = self.call("read", key, "get_object")
        with self._translated("read", key):
            body = response["Body"]
            try:
                return cast("bytes", body.read())
            finally:
                body.close()

    def exists(self, name: str) -> bool:
        key = self.key(name)
        try:
            self.call("look up", key, "head_object")
        except ObjectNotFound:
            self.call("find the bucket", None, "head_bucket")  # BucketNotFound, not False
            return False
        return True

    def delete(self, name: str) -> None:
        self.call("delete", self.key(name), "delete_object")

    def presigned_url(self, operation: str, name: str, expires: int, **params: Any) -> str:
        """A URL that lets its holder run ``operation`` (``put_object``, ``get_object``) on
        object ``name`` for ``expires`` seconds, with ``params`` (content length, checksum,
        content type) signed into it (SigV4 query signing; no request is sent)."""
        params = {"Bucket": self.bucket, "Key": self.key(name), **params}
        with self._translated("sign a URL for", self.key(name)):
            url = self._client.generate_presigned_url(operation, Params=params, ExpiresIn=expires)
        return str(url)

    def call(self, what: str, key: str | None, operation: str, **params: Any) -> Any:
        """``operation`` on the bucket (and ``key``), its failures as Kraken errors."""
        if key is not None:
            params["Key"] = key
        with self._translated(what, key):
            return getattr(self._client, operation)(Bucket=self.bucket, **params)

    @contextmanager
    def _translated(self, what: str, key: str | None) -> Iterator[None]:
        try:
            yield
        except ClientError as exc:
            raise self._client_error(exc, what, key) from exc
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise StorageAccessDenied(
                f"no usable S3 credentials to {what} {self._where(key)}: set AWS_ACCESS_KEY_ID "
                "and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or another source boto3 reads"
            ) from exc
        except BotoCoreError as exc:  # connection refused, DNS, timeouts, broken streams
            endpoint = self.endpoint or "the AWS S3 endpoint"
            raise StorageUnavailable(
                f"cannot {what} {self._where(key)}: {endpoint} is unreachable "
                f"({type(exc).__name__})"
            ) from exc

    def _client_error(self, exc: ClientError, what: str, key: str | None) -> KrakenError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        where = self._where(key)
        if code == "NoSuchBucket" or (key is None and status == 404):
            return BucketNotFound(f"no bucket {self.bucket!r} at {self.endpoint or 'AWS S3'}")
        if code == "PreconditionFailed" or status == 412:
            return ObjectPreconditionFailed(f"{where} exists already ({what}: a conditional write)")
        if code in ("NoSuchKey", "NotFound", "404") or status == 404:
            return ObjectNotFound(f"no object {where}")
        if code in _DENIED or status == 403:
            return StorageAccessDenied(f"S3 refused to let us {what} {where} ({code or status})")
        detail = f"{code or status}: {str(error.get('Message', ''))[:200]}"
        return StorageUnavailable(f"S3 failed to {what} {where} ({detail})")

    def _where(self, key: str | None) -> str:
        return f"s3://{self.bucket}/{key}" if key is not None else f"s3://{self.bucket}"


class _Upload(io.RawIOBase):
    """A write stream: one ``PutObject`` below a part, else a multipart upload."""

    def __init__(self, bucket: S3Bucket, key: str) -> None:
        super().__init__()
        self.bucket, self.key = bucket, key
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        if self.closed:
            raise ValueError("write to a finished upload")
        view = memoryview(data).cast("B")
        self.buffer += view
        while len(self.buffer) >= PART_SIZE:
            self._send_part(bytes(self.buffer[:PART_SIZE]))
            del self.buffer[:PART_SIZE]
        return len(view)

    def _send_part(self, data: bytes) -> None:
        if self.upload_id is None:
            created = self.bucket.call("start an upload to", self.key, "create_multipart_upload")
            self.upload_id = str(created["UploadId"])
        number = len(self.parts) + 1
        sent = self.bucket.call(
            f"upload part {number} to",
            self.key,
            "upload_part",
            UploadId=self.upload_id,
            PartNumber=number,
            Body=data,
        )
        self.parts.append({"ETag": sent["ETag"], "PartNumber": number})

    def finish(self) -> None:
        """Make the object visible: ``PutObject``, or the last part and completion."""
        if self.upload_id is None:
            self.bucket.call("write", self.key, "put_object", Body=bytes(self.buffer))
        else:
            if self.buffer:
                self._send_part(bytes(self.buffer))
            self.bucket.call(
                "complete the upload to",
                self.key,
                "complete_multipart_upload",
                UploadId=self.upload_id,
                MultipartUpload={"Parts": self.parts},
            )
        self.buffer.clear()

    def abort(self) -> None:
        """Drop the multipart upload, if any (the caller's exception is what matters)."""
        self.buffer.clear()
        if self.upload_id is None:
            return
        try:
            self.bucket.call(
                "abort the upload to", self.key, "abort_multipart_upload", UploadId=self.upload_id
            )
        except KrakenError as exc:
            log.warning(
                "could not abort the multipart upload to %s (%s); a lifecycle rule "
                "AbortIncompleteMultipartUpload removes it",
                f"s3://{self.bucket.bucket}/{self.key}",
                exc.code,
            )
