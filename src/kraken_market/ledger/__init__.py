"""The ledger: smart contracts, the embedded durable chain, the client and the indexer."""
