"""``kraken-market analytics``: share data for privacy-preserving analytics (SMPC)."""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from kraken_market.catalog.schemas import DataSchema
from kraken_market.cli.common import JsonOption, err, fails_cleanly, out, print_json, table
from kraken_market.cli.wallet import WalletOption
from kraken_market.client import MarketClient
from kraken_market.errors import InvalidRequest
from kraken_market.smpc.keys import NodePublicKey
from kraken_market.smpc.manifest import KeySigner, ManifestSigner, SignedManifest
from kraken_market.smpc.owner import share_file
from kraken_market.smpc.storage import LocalDirectory, ShareStorage, open_storage
from kraken_market.storage.remote import MarketStorage
from kraken_market.trade.quote import DEFAULT_COHORT_FLOOR

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
("hpke_public_key" is read as well; "t" is optional: the default is the largest t with
2t < number of nodes). Default: the nodes registered on chain, with the keys the chain holds."""

OUT_HELP = """Storage the compute nodes read from: a directory, or an S3-compatible bucket
s3://bucket or s3://bucket/prefix (add ?endpoint=https://host:port for MinIO, Ceph, ...;
credentials from the AWS environment variables or ~/.aws, as for the aws CLI).
Default: the platform's storage, through the API (log in as the product's owner), and the product
is linked to the share set."""

OWNER_KEY_HELP = """Sign with this Ed25519 key instead of your wallet's DID key: a PEM file (PKCS#8)
or a file holding the 32-byte seed as 64 hex digits. Its did:key must be the product owner's."""

SCHEMA_HELP = """The product schema: JSON {"columns": [...]} as in the catalog (default: the
product's own schema, read from the catalog)."""


class OwnerKeyMismatch(InvalidRequest):
    """The manifest would be signed by someone other than the product's owner: the nodes
    would refuse every job over it (after the buyer paid), so it is refused now."""

    code = "owner_key_mismatch"


UPLOAD_HELP = """Upload to the platform's storage through the API (the default; log in as the
product's owner first)."""


def read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"cannot read the {what} JSON from {path}: {exc}") from exc


def schema_of(data: Any, where: str) -> DataSchema:
    if isinstance(data, dict) and "columns" not in data and "schema" in data:
        data = data["schema"]  # a whole product description
    try:
        return DataSchema.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'schema'}: {e['msg']}" for e in exc.errors()
        )
        raise typer.BadParameter(f"{where} is not a valid product schema: {problems}") from exc


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
    data = read_json(path, "nodes")
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if not isinstance(nodes, list) or not nodes:
        raise typer.BadParameter(f"{path}: expected {{'nodes': [...]}} with at least one node")
    indices = [node.get("index") if isinstance(node, dict) else None for node in nodes]
    if sorted(i for i in indices if isinstance(i, int)) != list(range(len(nodes))):
        raise typer.BadParameter(f"{path}: node indices must be 0, 1, ..., {len(nodes) - 1}")
    ordered = sorted(nodes, key=lambda node: node["index"])
    keys = [
        NodePublicKey(
            _key_bytes(
                str(n.get("public_key", n.get("hpke_public_key", ""))),
                f"{path}: node {n['index']}",
            )
        )
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


def owner_signer(
    api: MarketClient, product: dict[str, Any], owner_key: Path | None, wallet: Path | None
) -> ManifestSigner:
    """Who signs the manifest: the product's owner, or nobody. A company's product is
    signed by the company's Depute tool; a person's by the wallet's DID key (or
    ``owner_key``). A key that is not the owner's is refused here, before anything is
    shared: the nodes would refuse it only after a buyer paid."""
    from kraken_market.cli.desk import company_desk
    from kraken_market.cli.wallet import unlocked

    owner = str(product["owner"])
    if owner_key is None:
        desk = company_desk(api, product["id"])
        if desk is not None:
            return desk.signer()
        signer: ManifestSigner = KeySigner(unlocked(wallet).keys.did_key.private_key)
    else:
        signer = KeySigner(_owner_key(owner_key))
    if signer.owner != owner:
        raise OwnerKeyMismatch(
            f"product {product['id']} is owned by {owner}, but the key signs as {signer.owner}: "
            "share with the owner's wallet (--wallet) or leave --owner-key out",
            details={"owner": owner, "signer": signer.owner},
        )
    return signer


def chain_nodes() -> tuple[list[NodePublicKey], int | None]:
    """The compute nodes registered on chain, in registry order, with the HPKE keys the
    chain holds (never a node's or the API's word for a key)."""
    from kraken_market.access.nodes import nodes_from_ledger
    from kraken_market.cli.ledger_common import ledger

    return [n.public_key for n in nodes_from_ledger(ledger())], None


def manifest_link(signed: SignedManifest) -> str:
    """The manifest's object name: the storage link the product points the nodes at."""
    return signed.manifest.files[0].name.rsplit("/", 1)[0] + "/manifest.jws"


@app.command()
@fails_cleanly
def share(
    data: Annotated[Path, typer.Argument(help="The data: a .csv (header row) or .parquet file")],
    product: Annotated[str, typer.Option("--product", help="Product id (0x + 64 hex digits)")],
    schema: Annotated[Path | None, typer.Option(help=SCHEMA_HELP)] = None,
    nodes: Annotated[Path | None, typer.Option(help=NODES_HELP)] = None,
    out_dir: Annotated[str | None, typer.Option("--out", help=OUT_HELP)] = None,
    upload: Annotated[bool, typer.Option("--upload", help=UPLOAD_HELP)] = False,
    owner_key: Annotated[Path | None, typer.Option(help=OWNER_KEY_HELP)] = None,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Split a data file into encrypted shares for the compute nodes and sign a manifest.

    Every cell is checked against the product's schema; an error names its row and
    column. Numbers become fixed point (within +-2^31, to 2^-32), categories one-hot.
    Each value is split into Shamir shares, one per node registered on chain, and each
    node's file is encrypted to the key the chain holds for it (HPKE, RFC 9180). Only
    the schema's columns are shared. The manifest is signed with your wallet's DID key
    (the product owner's; a company's Depute tool signs for its products), and the
    product is pointed at it.

    Example:

    kraken-market analytics share visits.csv --product 0x5c…e1

    (or --out ./shares, --out s3://bucket/shares?endpoint=https://minio.example:9000 for
    storage of your own)
    """
    from kraken_market.cli.common import client
    from kraken_market.cli.ledger_common import product_key

    if upload and out_dir is not None:
        raise typer.BadParameter("give either --upload (the platform's storage) or --out DIR")
    product_key(product)
    product = product.lower()  # object names are lower case
    if not data.is_file():
        raise InvalidRequest(f"no data file at {data}")
    with client(wallet) as api:
        described = api.product(product)
        product_schema = (
            schema_of(read_json(schema, "schema"), str(schema))
            if schema is not None
            else schema_of(described.get("schema"), f"product {product}'s catalog schema")
        )
        signer = owner_signer(api, described, owner_key, wallet)
        keys, t = _nodes(nodes) if nodes is not None else chain_nodes()
        storage = open_storage(out_dir) if out_dir is not None else MarketStorage(api, product)
        signed = share_data(data, product, product_schema, keys, storage, signer, t)
        link = manifest_link(signed)
        relink = out_dir is None and described["storage_links"] != [link]
        if relink:
            api.update_product(product, {"storage_links": [link]})
        on_chain = relink and bool(api.chain_state(product)["published"])
    manifest = signed.manifest
    if out_dir is None:
        location = link  # the storage link: the name in the platform's storage
    elif isinstance(storage, LocalDirectory):
        location = str(storage.root / link)
    else:
        location = storage.url(link)
    if as_json:
        print_json(
            {
                "manifest": manifest.to_json(),
                "jws": signed.jws,
                "storage_link": link,
                "path": location,
                "linked": out_dir is None,
            }
        )
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
    # soft_wrap: paths and commands are copied whole, never broken over lines
    out.print(f"signed manifest: {location} (owner {manifest.owner})", soft_wrap=True)
    if out_dir is None:
        out.print(f"product {product} now points the compute nodes at {link}", soft_wrap=True)
        if on_chain:  # the storage link is part of the metadata the chain holds a hash of
            out.print(
                f"it is on chain already: run 'kraken-market trade sync {product}' so the "
                "chain's record matches the catalog again",
                soft_wrap=True,
            )
    else:
        out.print(
            f"storage link: {link} — point the product at it once the nodes can read "
            f"{out_dir}: kraken-market products update {product} --link {link}",
            soft_wrap=True,
        )


def share_data(
    data: Path,
    product: str,
    schema: DataSchema,
    keys: list[NodePublicKey],
    storage: ShareStorage,
    signer: ManifestSigner,
    t: int | None,
) -> SignedManifest:
    """Share ``data`` with a progress bar, warning when the table is below the cohort."""
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
        signed = share_file(
            data,
            product,
            schema,
            keys,
            storage,
            signer,
            lambda done, total: bar.update(task, completed=done, total=total),
            t=t,
        )
    rows = signed.manifest.rows
    if rows < DEFAULT_COHORT_FLOOR:
        err.print(
            f"[yellow]warning[/yellow]: {data.name} has {rows} rows, fewer than the smallest "
            f"minimum cohort the compute nodes accept ({DEFAULT_COHORT_FLOOR}): every "
            "computation over this product alone would be suppressed, so buyers are told so "
            "before they pay (only a Data Union with other products can use it)"
        )
    return signed


from kraken_market.cli.analytics_jobs import register  # noqa: E402 - needs the app above

register(app)
