"""A compute node: HTTP service (``app``, ``service``), chain checks (``authorise``),
attestations (``attestation``), job store (``jobs``), MPC processes (``runner``,
``worker``), TLS (``tls``), keys (``identity``). MPyC is imported only by
``worker``, in its own process."""
