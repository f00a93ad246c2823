"""Kraken Market: a marketplace for personal and institutional data.

Buyers pay for access to a file, a stream subscription, or the *result* of a
computation on data they never see; the backend holds only metadata and links
to ciphertext. See ``ARCHITECTURE.md`` for the design.
"""

__version__ = "0.1.0"
