"""The ``kraken-market`` command line: one module per command group."""
