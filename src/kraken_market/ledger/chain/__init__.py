"""Chain backends: the embedded durable py-evm chain (default) and any EVM JSON-RPC node."""
