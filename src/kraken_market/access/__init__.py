"""Batch access with owner-offline fulfilment (issue 6).

A seller encrypts a file with a fresh data key (``datafile``: chunked
AES-256-GCM), uploads the ciphertext to object storage, and deposits the key
with the compute nodes as Shamir shares, each HPKE-sealed to one node
(``keyshares``, ``wire``, ``seller``). After a buyer pays on chain, each node
checks the chain itself and re-seals its share to the buyer's ephemeral key
(``custody``, ``custody_store``, ``node_routes``); the buyer rebuilds the key
from any t + 1 shares and decrypts (``buyer``). The marketplace backend never
sees plaintext or keys. ``nodes`` and ``objects`` are the SDK's helpers,
``errors`` the error tree; ``docs/access.md`` specifies the formats. Stream
subscriptions (``stream``) deposit their epoch keys through the same custody
(key id ``epoch-<n>``).
"""
