"""``kraken-market analytics``: share data for privacy-preserving analytics (SMPC)."""

from __future__ import annotations

import base64
import binascii
import json
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from kraken_market.catalog.schemas import DataSchema
from kraken_market.cli.common import (
    JsonOption,
    client,
    err,
    fails_cleanly,
    out,
    print_json,
    table,
)
from kraken_market.smpc.keys import NodePublicKey
from kraken_market.smpc.manifest import SignedManifest
from kraken_market.smpc.owner import share_file
from kraken_market.smpc.storage import LocalDirectory, ShareStorage, open_storage
from kraken_market.storage.remote import MarketStorage

app = typer.Typer(
    help=(
        "Privacy-preserving analytics: buyers get only the result of a computation, "
        "never the data. The data is split into Shamir shares, one per compute node "
        "(3 by default; any t+1 recombine, t or fewer learn nothing), each encrypted "
        "to its node's key."
    ),
    no_args_is_help=True,
)


@app.callback()
def analytics() -> None:
    """Privacy-preserving analytics (SMPC): share data with the compute nodes."""


NODES_HELP = """JSON file naming the compute nodes, in order, with their HPKE (X25519) public keys:
{"t": 1, "nodes": [{"index": 0, "public_key": "<base64url or hex, 32 bytes>"}, ...]}
("t" is optional: the default is the largest t with 2t < number of nodes)."""

OUT_HELP = """Storage the compute nodes read from: a directory, or an S3-compatible bucket
s3://bucket or s3://bucket/prefix (add ?endpoint=https://host:port for MinIO, Ceph, ...;
credentials from the AWS environment variables or ~/.aws, as for the aws CLI)."""

UPLOAD_HELP = """Upload the encrypted shares and the signed manifest to the platform's storage
through the API, where the compute nodes read them (log in as the product's owner first),
instead of writing them to --out."""

OWNER_KEY_HELP = """Your Ed25519 signing key: a PEM file (PKCS#8) or a file holding the 32-byte
seed as 64 hex digits. Its did:key must be the product owner's. Create one with
'openssl genpkey -algorithm ed25519 -out owner.pem'."""


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"cannot read the {what} JSON from {path}: {exc}") from exc


def _schema(path: Path) -> DataSchema:
    data = _read_json(path, "schema")
    if isinstance(data, dict) and "columns" not in data and "schema" in data:
        data = data["schema"]  # a whole product description
    try:
        return DataSchema.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'schema'}: {e['msg']}" for e in exc.errors()
        )
        raise typer.BadParameter(f"{path} is not a valid product schema: {problems}") from exc


def _key_bytes(text: str, where: str) -> bytes:
    text = text.strip()
    try:
        raw = bytes.fromhex(text) if len(text) == 64 else base64.urlsafe_b64decode(text + "==")
    except (ValueError, binascii.Error) as exc:
        raise typer.BadParameter(f"{where}: not hex or base64url") from exc
    if len(raw) != 32:
        raise typer.BadParameter(f"{where}: a key is 32 bytes, this one has {len(raw)}")
    return raw


def _nodes(path: Path) -> tuple[list[NodePublicKey], int | None]:
    data = _read_json(path, "nodes")
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if not isinstance(nodes, list) or not nodes:
        raise typer.BadParameter(f"{path}: expected {{'nodes': [...]}} with at least one node")
    indices = [node.get("index") if isinstance(node, dict) else None for node in nodes]
    if sorted(i for i in indices if isinstance(i, int)) != list(range(len(nodes))):
        raise typer.BadParameter(f"{path}: node indices must be 0, 1, ..., {len(nodes) - 1}")
    ordered = sorted(nodes, key=lambda node: node["index"])
    keys = [
        NodePublicKey(_key_bytes(str(n.get("public_key", "")), f"{path}: node {n['index']}"))
        for n in ordered
    ]
    t = data.get("t")
    if t is not None and (not isinstance(t, int) or isinstance(t, bool)):
        raise typer.BadParameter(f"{path}: t must be an integer")
    return keys, t


def _owner_key(path: Path) -> Ed25519PrivateKey:
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise typer.BadParameter(f"cannot read the owner key {path}: {exc}") from exc
    if b"-----BEGIN" in content:
        try:
            key = load_pem_private_key(content, password=None)
        except (ValueError, TypeError) as exc:
            raise typer.BadParameter(f"{path}: not an unencrypted PEM private key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise typer.BadParameter(f"{path}: the key is not an Ed25519 key")
        return key
    try:
        seed = bytes.fromhex(content.decode().strip())
    except (UnicodeDecodeError, ValueError) as exc:
        raise typer.BadParameter(f"{path}: neither PEM nor a hex seed") from exc
    if len(seed) != 32:
        raise typer.BadParameter(f"{path}: an Ed25519 seed is 32 bytes (64 hex digits)")
    return Ed25519PrivateKey.from_private_bytes(seed)


@app.command()
@fails_cleanly
def share(
    data: Annotated[Path, typer.Argument(help="The data: a .csv (header row) or .parquet file")],
    product: Annotated[str, typer.Option("--product", help="Product id (0x + 64 hex digits)")],
    schema: Annotated[
        Path, typer.Option(help='The product schema: JSON {"columns": [...]}, as in the catalog')
    ],
    nodes: Annotated[Path, typer.Option(help=NODES_HELP)],
    owner_key: Annotated[Path, typer.Option(help=OWNER_KEY_HELP)],
    out_dir: Annotated[str | None, typer.Option("--out", help=OUT_HELP)] = None,
    upload: Annotated[bool, typer.Option("--upload", help=UPLOAD_HELP)] = False,
    as_json: JsonOption = False,
) -> None:
    """Split a data file into encrypted shares for the compute nodes and sign a manifest.

    Every cell is checked against the schema; an error names its row and column.
    Numbers become fixed point (within +-2^31, to 2^-32), categories one-hot.
    Each value is split into Shamir shares, one per node, and each node's file
    is encrypted to its key (HPKE, RFC 9180). Only the schema's columns are shared.
    Nodes check your signed manifest before they use a file.

    Example:

    kraken-market analytics share visits.csv --product 0x5c…e1
      --schema schema.json --nodes nodes.json --owner-key owner.pem --upload

    (or --out ./shares, --out s3://bucket/shares?endpoint=https://minio.example:9000)
    """
    if upload == (out_dir is not None):
        raise typer.BadParameter("give either --upload (the platform's storage) or --out DIR")
    product_schema = _schema(schema)
    keys, t = _nodes(nodes)
    signing_key = _owner_key(owner_key)
    with ExitStack() as stack:
        if upload:
            api = stack.enter_context(client())
            storage: ShareStorage = MarketStorage(api, product)
        else:
            assert out_dir is not None
            storage = open_storage(out_dir)
        signed = _share(data, product, product_schema, keys, storage, signing_key, t)
    manifest = signed.manifest
    manifest_name = manifest.files[0].name.rsplit("/", 1)[0] + "/manifest.jws"
    if upload:
        manifest_path = manifest_name  # the storage link: the name in the platform's storage
    elif isinstance(storage, LocalDirectory):
        manifest_path = str(storage.root / manifest_name)
    else:
        manifest_path = storage.url(manifest_name)
    if as_json:
        print_json({"manifest": manifest.to_json(), "jws": signed.jws, "path": manifest_path})
        return
    out.print(
        f"shared [bold]{manifest.rows}[/bold] rows x {len(manifest.columns)} columns of "
        f"{data.name} among {manifest.m} nodes (any {manifest.t + 1} recombine)"
    )
    table(
        f"share set {manifest.share_set}",
        ["node", "file", "bytes", "sha256"],
        [[e.node_index, e.name, e.size, e.sha256] for e in manifest.files],
    )
    out.print(f"signed manifest: {manifest_path} (owner {manifest.owner})")
    if upload:
        out.print(
            "uploaded to the platform's storage; link the product to it: kraken-market "
            f"products update {product} --link {manifest_name}",
            markup=False,
            soft_wrap=True,  # a command to copy: never broken across lines
        )


def _share(
    data: Path,
    product: str,
    product_schema: DataSchema,
    keys: list[NodePublicKey],
    storage: ShareStorage,
    signing_key: Ed25519PrivateKey,
    t: int | None,
) -> SignedManifest:
    """Share ``data`` into ``storage`` with a progress bar of rows (then of uploads)."""
    columns = [
        TextColumn("sharing {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=err, disable=not err.is_terminal, transient=True) as bar:
        task = bar.add_task(data.name, total=None)
        if isinstance(storage, MarketStorage):
            storage.uploading = lambda name: (
                lambda done, total: bar.update(
                    task,
                    description=f"{name.rsplit('/', 1)[-1]} (bytes)",
                    completed=done,
                    total=total,
                )
            )
        return share_file(
            data,
            product,
            product_schema,
            keys,
            storage,
            signing_key,
            lambda done, total: bar.update(task, completed=done, total=total),
            t=t,
        )


from kraken_market.cli.analytics_jobs import register  # noqa: E402 - needs the app above

register(app)
