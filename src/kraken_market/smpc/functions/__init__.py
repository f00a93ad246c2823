"""The SMPC function catalogue and its implementation.

- ``spec``: what a buyer asks for (:class:`ComputationSpec`, its digest is the
  on-chain ``function_id``); ``catalogue``: versioned functions with parameter
  schemas and output shapes; ``plan``: a spec resolved against the products'
  share columns (pure, no MPC); ``errors``.
- ``mpc_base``, ``mpc_stats``, ``mpc_linalg``, ``evaluate``: the computation
  inside an MPyC party process (never imported by the web server);
- ``finish``: the buyer's exact decoding and divisions.
"""
