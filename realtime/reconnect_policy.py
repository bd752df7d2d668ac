"""When reconnecting can help: the pure decisions of ``realtime.reconnect.ReconnectingSession``.

* ``retryable(closed)``: after an abnormal close, is a new connection worth trying? Not after
  a normal end or our own protocol/policy errors (``NON_RETRYABLE_CODES``).
* ``after_failed_open(exc, closed, resumed)``: a new connection could not be opened while
  recovering from ``closed``; ``GiveUp`` (with the close to end on and the reason) when no retry
  can fix it — a rejected or missing key, a TLS failure (a person has to act), or a server that
  refused a fresh (not resumed) session with a non-retryable code — else ``Retry`` with the
  reason to show in the next ``Reconnecting``. A refused resumption is always retried: the next
  attempt carries the context instead of the handle.

Pure: no I/O, no clock; any thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from realtime.events import Closed
from realtime.session_errors import (
    KeyRejectedError,
    MissingKeyError,
    SessionError,
    SessionRefusedError,
    TlsError,
)

__all__ = [
    "NON_RETRYABLE_CODES",
    "OPENAI_RENEW_AFTER_S",
    "GiveUp",
    "Retry",
    "after_failed_open",
    "retryable",
]

#: OpenAI Realtime sessions end at 60 minutes; renew a little before.
OPENAI_RENEW_AFTER_S = 55 * 60.0
#: Close codes after which reconnecting cannot help (normal end, our protocol/policy errors).
NON_RETRYABLE_CODES = frozenset({1000, 1002, 1003, 1007, 1008, 1010})
#: Failures that no retry fixes: a person has to act.
_FATAL_ERRORS = (KeyRejectedError, MissingKeyError, TlsError)


@dataclass(frozen=True)
class GiveUp:
    """Stop reconnecting: end with ``closed`` and say ``why``."""

    closed: Closed
    why: str


@dataclass(frozen=True)
class Retry:
    """Try again after the next backoff delay; ``why`` is the reason to show."""

    why: str


def retryable(closed: Closed) -> bool:
    """Whether a connection that ended with ``closed`` (not by us) is worth reopening."""
    return closed.code not in NON_RETRYABLE_CODES


def after_failed_open(exc: SessionError, closed: Closed, resumed: bool) -> GiveUp | Retry:
    """The decision after opening a new connection failed with ``exc`` while recovering from
    ``closed``; ``resumed``: that attempt offered a resumption handle."""
    if isinstance(exc, _FATAL_ERRORS):
        return GiveUp(closed, str(exc))
    if isinstance(exc, SessionRefusedError):
        refused = exc.closed
        if refused is not None and not retryable(refused) and not resumed:
            return GiveUp(refused, str(exc))
    return Retry(str(exc))
