"""Mutual TLS between the compute nodes: one CA per deployment, one certificate per node.

MPyC 0.11 with ``--ssl`` loads, relative to the party's working directory,
``.config/party_<i>.crt``, ``.config/party_<i>.key`` and ``.config/mpyc_ca.crt``;
a connecting party checks the server's certificate for the host name
``MPyC party <i>`` and the server requires a client certificate from the same
CA (``runtime.start``). :func:`make_deployment` creates the CA and every
node's certificate (ECDSA P-256, X.509 v3 with the name as subject common name
and DNS subject alternative name); :func:`install` puts one node's files where
MPyC looks. The CA's private key is needed only to add nodes: keep it offline.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CONFIG_DIR = ".config"
VALID_DAYS = 3 * 365


def party_name(index: int) -> str:
    return f"MPyC party {index}"


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
    )
    if ca:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
        builder = builder.add_extension(usage, critical=True)
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
        ).add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def make_deployment(directory: Path, m: int, *, name: str = "Kraken Market compute nodes") -> None:
    """A CA and m node certificates under ``directory``: ``ca.crt``, ``ca.key`` and
    ``party-<i>/.config/{party_<i>.crt, party_<i>.key, mpyc_ca.crt}`` (keys mode 0600)."""
    directory = Path(directory)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _certificate(f"{name} CA", ca_key, None, ca_key, ca=True)
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ca.crt").write_bytes(ca_pem)
    _write_private(directory / "ca.key", _pem_key(ca_key))
    for index in range(m):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(party_name(index), key, ca_cert.subject, ca_key, ca=False)
        config = directory / f"party-{index}" / CONFIG_DIR
        config.mkdir(parents=True, exist_ok=True)
        (config / f"party_{index}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_private(config / f"party_{index}.key", _pem_key(key))
        (config / "mpyc_ca.crt").write_bytes(ca_pem)


def install(deployment: Path, index: int, work_dir: Path) -> Path:
    """Copy node ``index``'s files from a :func:`make_deployment` directory into
    ``work_dir/.config`` (MPyC's working directory for this node); returns ``work_dir``."""
    source = Path(deployment) / f"party-{index}" / CONFIG_DIR
    target = Path(work_dir) / CONFIG_DIR
    target.mkdir(parents=True, exist_ok=True)
    for name in (f"party_{index}.crt", "mpyc_ca.crt"):
        (target / name).write_bytes((source / name).read_bytes())
    _write_private(target / f"party_{index}.key", (source / f"party_{index}.key").read_bytes())
    return Path(work_dir)


def installed(work_dir: Path, index: int) -> bool:
    config = Path(work_dir) / CONFIG_DIR
    names = (f"party_{index}.crt", f"party_{index}.key", "mpyc_ca.crt")
    return all((config / name).is_file() for name in names)
