"""The whole platform on one machine (``kraken-market up``), for development and demos.

- ``launch``: the order of the start (what waits for what) and what it found or made;
- ``supervisor``: child processes with a log file each, readiness probes, ordered stop;
- ``child``: how a child runs (one command group, stops itself if ``up`` dies);
- ``nodes``: the compute nodes' certificates, keys, ``node.json`` and chain registration;
- ``demo``: the demo admin and representative wallets and the demo company (KCIT + Depute);
- ``report``: what is running where (``platform.json``, the table ``up`` prints).

Everything is set up on the first start of a data directory and reused after,
so a restart resumes with all state (keys, accounts, registrations).
"""
