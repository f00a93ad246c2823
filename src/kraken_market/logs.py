"""Structured logging (structlog over the standard library) for every process.

Events are key-value records, rendered for a terminal in development or as
one JSON object per line for log shippers, always on stderr (stdout belongs to
command output such as ``--json``). Secrets never go in: callers log ids and
codes, never tokens or request bodies.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
import structlog.tracebacks

from kraken_market.settings import Settings

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]

# Route structlog through stdlib logging from the first import, so that a
# process that never calls configure_logging (a library user, a test) does not
# get records printed on stdout.
structlog.configure(
    processors=[
        structlog.stdlib.filter_by_level,  # drop below-level events before any work
        *_SHARED,
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)


class StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the process's stderr of the moment of each record, not the stream of
    the moment of configuration: whatever replaced sys.stderr for a while (a test
    runner's capture) may be closed by the time a server thread logs."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        """StreamHandler sets its stream; this one has none of its own."""


def configure_logging(settings: Settings) -> None:
    """Send records at the configured level to stderr with the configured renderer."""
    # Tracebacks never show local variables: those hold tokens and request bodies.
    renderers: list[structlog.types.Processor] = (
        [
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            ),
            structlog.processors.JSONRenderer(),
        ]
        if settings.log_format == "json"
        else [
            structlog.dev.ConsoleRenderer(
                colors=sys.stderr.isatty(),
                exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False),
            )
        ]
    )
    handler = StandardError()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderers],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # uvicorn's own access log would duplicate our request events.
    logging.getLogger("uvicorn.access").disabled = True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
