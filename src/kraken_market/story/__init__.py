"""The demo story: the marketplace end to end, played against a running platform."""
