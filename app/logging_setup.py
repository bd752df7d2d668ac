"""Logging for the app and the CLI, with every record scrubbed of anything key-shaped.

``install_logging(level)`` configures the root logger once (stderr) and attaches
``RedactingFilter`` to its handlers: the message (with its arguments merged in) and any exception
text pass through ``realtime.recording.scrub.Scrubber`` — ``Bearer …``, ``sk-…``, ``AIza…``,
``?key=…``, JSON fields named like secrets — plus the exact keys registered with
``register_secret()`` (the keys the app actually loaded).
"""

from __future__ import annotations

import logging
import sys

from realtime.recording.scrub import Scrubber, hold_secret

_SCRUBBER = Scrubber()


def register_secret(value: str) -> None:
    """Redact this exact value from every later log record, recording, export and line the CLI
    prints (call it for each key loaded; it joins the process's held secrets)."""
    hold_secret(value)


def redact(text: str) -> str:
    return _SCRUBBER.text(text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and exception text) with secrets replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep it as is rather than lose it
            return True
        record.msg = _SCRUBBER.text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _SCRUBBER.text(record.exc_text)
        return True


def install_logging(level: int | str = logging.WARNING) -> logging.Handler:
    """Root logging to stderr through the redacting filter. Idempotent; returns the handler."""
    root = logging.getLogger()
    for handler in root.handlers:
        if any(isinstance(f, RedactingFilter) for f in handler.filters):
            root.setLevel(level)
            return handler
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    # websockets logs request headers at DEBUG: never let them through unfiltered.
    logging.getLogger("websockets").setLevel(max(logging.INFO, root.level))
    return handler
