"""The platform's storage for ciphertext: what any client (CLI, SDK, browser) uploads.

Runs in the API: ``formats`` (what may be stored, checked as it arrives),
``backends`` (a directory or an S3 bucket, write-once), ``service`` (who writes
and reads what), ``routes`` (HTTP). Runs on the user's machine: ``remote``
(a ``ShareStorage`` that writes through the API, for the owner and seller SDKs).
Reference: ``docs/storage.md``.
"""
