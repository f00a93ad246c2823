"""``kraken-market operator nodes``: the compute nodes registered on chain.

A node's operator makes its keys on the node's own host (``kraken-market node init
--json`` prints its account and HPKE public key) and tells the platform's admin
those and the node's public URL; the admin registers them here. (``kraken-market
node register`` does the same from the node's directory, where the admin has it.)
"""

from __future__ import annotations

import ipaddress
from typing import Annotated
from urllib.parse import urlsplit

import typer

from kraken_market.cli.common import JsonOption, fails_cleanly, out, print_json, table
from kraken_market.cli.ledger_common import DevAccountOption, KeyFileOption
from kraken_market.cli.operator_common import (
    MultisigOption,
    YesOption,
    acting,
    address,
    carry_out,
    reading,
)
from kraken_market.errors import InvalidRequest

app = typer.Typer(
    help="The compute nodes registered on chain: list, register (or update), remove.",
    no_args_is_help=True,
)
ENDPOINT_BYTES = 256
"""The longest endpoint the Authority contract stores (``String[256]``)."""


def hpke_key(text: str) -> bytes:
    """The 32-byte X25519 public key ``text`` (64 hex digits, 0x optional)."""
    digits = text.strip().removeprefix("0x")
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise InvalidRequest(
            "--hpke-key: expected the node's HPKE public key, 64 hex digits (what "
            "'kraken-market node init --json' prints as hpke_public_key)"
        )
    if not any(raw):
        raise InvalidRequest("--hpke-key: a key of zeros is no key; give the node's own")
    return raw


def endpoint_url(text: str) -> tuple[str, str | None]:
    """``text`` as a node endpoint, and a warning when it is plain HTTP off this host."""
    url = text.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
        raise InvalidRequest(
            f"--endpoint: {text!r} is not a URL the marketplace can call; give the node's "
            "public URL, like https://node0.example.org"
        )
    if len(url.encode("utf-8")) > ENDPOINT_BYTES:
        raise InvalidRequest(f"--endpoint: at most {ENDPOINT_BYTES} bytes fit on chain")
    warning = None
    if parts.scheme == "http" and not _loopback(parts.hostname):
        warning = (
            f"{url} is plain HTTP: buyers' and nodes' calls to it cross the network "
            "unencrypted; serve it behind TLS and register its https:// URL"
        )
    return url.rstrip("/"), warning


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command("list")
@fails_cleanly
def list_nodes(as_json: JsonOption = False) -> None:
    """The registered compute nodes: account, endpoint, HPKE public key."""
    chain = reading()
    nodes, required = chain.nodes(), chain.parameters().attestations_required
    if as_json:
        print_json(
            {
                "nodes": [
                    {
                        "account": n.account,
                        "endpoint": n.endpoint,
                        "hpke_public_key": n.hpke_public_key.hex(),
                    }
                    for n in nodes
                ],
                "attestations_required": required,
            }
        )
        return
    rows = [[n.account, n.endpoint, n.hpke_public_key.hex()] for n in nodes]
    table("compute nodes", ["account", "endpoint", "HPKE public key"], rows)
    out.print(f"{len(nodes)} registered; {required} attestations pay a computation out")


@app.command()
@fails_cleanly
def register(
    account: Annotated[str, typer.Argument(help="The node's ledger account (0x-address)")],
    hpke: Annotated[
        str, typer.Option("--hpke-key", help="The node's HPKE public key (64 hex digits)")
    ],
    endpoint: Annotated[str, typer.Option(help="The node's public URL (https://…)")],
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    multisig: MultisigOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Register a compute node, or update one's key and endpoint (signed by an admin).

    The node may then attest deliveries and refuse jobs. Its operator gets ACCOUNT and
    the HPKE key from 'kraken-market node init --json' on the node's host."""
    from kraken_market.ledger.proposals import Change

    who, key = address(account, "ACCOUNT"), hpke_key(hpke)
    url, warning = endpoint_url(endpoint)
    chain = acting(dev_account, key_file, multisig)
    known = {node.account: node for node in chain.nodes()}.get(who)
    if known is None:
        action = f"register compute node {who} at {url}"
    elif (known.endpoint, known.hpke_public_key) == (url, key):
        raise InvalidRequest(f"{who} is registered with that key and endpoint already")
    else:
        action = f"update compute node {who}: endpoint {known.endpoint} -> {url}" + (
            "" if known.hpke_public_key == key else ", a new HPKE key"
        )
    carry_out(
        chain,
        Change(action, "Authority", "register_node", (who, key, url)),
        multisig=multisig,
        yes=yes,
        as_json=as_json,
        done=f"compute node {who} is registered at {url}",
        warnings=(warning,) if warning else (),
    )


@app.command()
@fails_cleanly
def remove(
    account: Annotated[str, typer.Argument(help="The node's ledger account (0x-address)")],
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    multisig: MultisigOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Remove a compute node: it may no longer attest or refuse (signed by an admin)."""
    from kraken_market.ledger.proposals import Change

    who = address(account, "ACCOUNT")
    chain = acting(dev_account, key_file, multisig)
    left, required = len(chain.nodes()) - 1, chain.parameters().attestations_required
    warnings: tuple[str, ...] = ()
    if chain.is_node(who) and left < required:
        warnings = (
            f"{left} node(s) will be left and {required} attestations are required: no "
            "computation can be paid out until another node is registered",
        )
    carry_out(
        chain,
        Change(f"remove compute node {who}", "Authority", "remove_node", (who,)),
        multisig=multisig,
        yes=yes,
        as_json=as_json,
        done=f"compute node {who} is removed",
        warnings=warnings,
    )
