"""Why the local platform could not start or keep running::

KrakenError
└── PlatformError              platform_error
    ├── ProcessFailed          process_failed    (a child exited; details: name, status, log)
    ├── ProcessNotReady        process_not_ready (no answer from its probe in time)
    ├── SetupMismatch          setup_mismatch    (settings differ from the data directory's)
    ├── AccountsUnfunded       accounts_unfunded (an external chain: accounts without gas money)
    └── StopRequested          stop_requested    (Ctrl-C / SIGTERM while starting)
"""

from __future__ import annotations

from kraken_market.errors import KrakenError


class PlatformError(KrakenError):
    code = "platform_error"


class ProcessFailed(PlatformError):
    code = "process_failed"


class ProcessNotReady(PlatformError):
    code = "process_not_ready"


class SetupMismatch(PlatformError):
    code = "setup_mismatch"


class AccountsUnfunded(PlatformError):
    """On a chain ``up`` does not own: accounts that must sign hold too little of the
    chain's currency (details: accounts, each with name, address, balance, needed)."""

    code = "accounts_unfunded"


class StopRequested(PlatformError):
    """Not a failure: the operator asked to stop before the platform was ready."""

    code = "stop_requested"
