"""A local S3-compatible server for the storage tests (not a test module): moto's
standalone server speaks the S3 protocol over HTTP, so the real boto3 client and its
signing run against it (no S3 service is reachable here)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import boto3  # type: ignore[import-untyped]
import pytest
from moto.server import ThreadedMotoServer


@contextmanager
def moto_s3(bucket: str) -> Iterator[str]:
    """moto's S3 server with ``bucket``, dummy credentials in the environment (none of
    the machine's own AWS settings); yields its endpoint URL."""
    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            env.delenv(name, raising=False)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(Bucket=bucket)
        try:
            yield url
        finally:
            server.stop()
