"""Privacy-preserving analytics (SMPC): owner-side sharing and buyer-side recombination.

m compute nodes (3 by default), threshold t with 1 <= t and 2t < m;
semi-honest nodes, honest majority (at most t collude), engine MPyC. The owner
encodes a table as fixed point in GF(2**128 - 173), Shamir-splits every value
(one share per node), encrypts each node's share file with HPKE (RFC 9180) to
that node's key and signs a manifest of the files; the buyer recombines t + 1
result shares. ``docs/share-format.md`` specifies every byte.

Modules: ``field`` (the prime, vectorised arithmetic), ``fixedpoint``,
``shamir``, ``columns`` (schema -> share columns), ``encoding`` (CSV/Parquet
-> field elements), ``share_format``, ``keys`` and ``envelope`` (HPKE), ``manifest``,
``storage``, ``owner`` (``share_file``), ``buyer``, ``errors``; computations:
``functions`` (catalogue, plans, the MPC side, the buyer's finish), ``results``
(result files and commitments), ``node`` (the compute node), ``config``
(``NodeConfig``), ``client`` (the buyer's SDK), ``local`` (m local MPC
processes for tests and benchmarks). ``docs/smpc.md`` describes them. Nothing
is imported here, so the pure modules load without pandas or pyarrow.
"""
