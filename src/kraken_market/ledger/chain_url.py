"""A chain's JSON-RPC URL in words that may be shown and logged.

Hosted providers (Infura, Alchemy, a consortium's gateway) put the API key in the
URL's user part, path or query; whoever holds it spends the operator's quota. So
messages, logs, ``up``'s table and ``platform.json`` show only the scheme, host and
port; processes read the whole URL from ``KRAKEN_CHAIN_URL``.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def shown_chain_url(url: str) -> str:
    """A chain's JSON-RPC URL as ``up`` prints and records it: hosted providers put the
    API key in the user part, the path or the query (``https://host/v3/KEY``), so only
    the scheme, host and port are shown, with ``…`` for the rest."""
    parts = urlsplit(url)
    if parts.hostname is None:
        return "(not a URL)"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    shown = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    hidden = parts.username or parts.password or parts.query or parts.path.strip("/")
    return shown + ("/…" if hidden else "")
