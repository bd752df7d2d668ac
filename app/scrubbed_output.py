"""What the CLI prints and the window shows, scrubbed of every secret the process holds.

``scrubbed_output()`` swaps ``sys.stdout``/``sys.stderr`` for ``ScrubbingStream`` wrappers for
the duration of a headless run: each ``write`` goes through a scrub function before reaching the
real stream. Standard error (errors, server errors, close reasons, notes, logging, tracebacks)
gets the full ``Scrubber`` (held secrets and key shapes); standard output (the transcript) only
the exact held secrets, so ordinary words such as "token: 3" in an answer are kept.

Contract: a secret is redacted when it arrives within one ``write`` call (every line the CLI
prints is one call). Text printed piece by piece as it streams in (the assistant's reply) goes
through ``printable_stream_text`` first, which holds back a tail that could be the start of a
held secret until the next piece shows whether it is. Thread-safe as the wrapped stream is.

The window: ``scrub_event(event)`` returns an ``app.model`` event as a view may show it
(messages, errors and close reasons get the full ``Scrubber``; transcript text only the exact
held secrets). Pure; any thread.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TextIO

from app.model import (
    ModelEvent,
    NoticeChanged,
    RecordingChanged,
    ServerErrorReported,
    StateChanged,
    TurnUpdated,
)
from realtime.recording.scrub import REDACTED, Scrubber, held_secrets

_FULL = Scrubber()


def scrub_all(text: str) -> str:
    """Held secrets and key-shaped strings."""
    return _FULL.text(text)


def scrub_held(text: str) -> str:
    """Only the exact secrets the process holds."""
    for secret in held_secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def scrub_event(event: ModelEvent) -> ModelEvent:
    """``event`` with every text a window shows scrubbed (the same object if nothing changed)."""
    if isinstance(event, StateChanged) and event.message:
        message = scrub_all(event.message)
        return event if message == event.message else replace(event, message=message)
    if isinstance(event, NoticeChanged) and event.message:
        message = scrub_all(event.message)
        return event if message == event.message else replace(event, message=message)
    if isinstance(event, RecordingChanged) and event.error:
        error = scrub_all(event.error)
        return event if error == event.error else replace(event, error=error)
    if isinstance(event, ServerErrorReported) and event.error.message:
        message = scrub_all(event.error.message)
        if message == event.error.message:
            return event
        return replace(event, error=replace(event.error, message=message))
    if isinstance(event, TurnUpdated):
        turn = event.turn
        text, detail = scrub_held(turn.text), scrub_held(turn.detail)
        if text == turn.text and detail == turn.detail:
            return event
        return replace(event, turn=replace(turn, text=text, detail=detail))
    return event


def printable_stream_text(text: str, final: bool) -> str:
    """What of a growing ``text`` may be printed now: scrubbed of held secrets, and unless
    ``final``, without a trailing part that could be the beginning of one (so a secret split
    across two pieces is never half printed). Each result is a prefix of the next one's."""
    text = scrub_held(text)
    if final:
        return text
    hold = 0
    for secret in held_secrets():
        for k in range(min(len(secret) - 1, len(text)), hold, -1):
            if text.endswith(secret[:k]):
                hold = k
                break
    return text[: len(text) - hold]


class ScrubbingStream(io.TextIOBase):
    """A text stream writing ``scrub(text)`` to ``inner``."""

    def __init__(self, inner: TextIO, scrub: Callable[[str], str]) -> None:
        super().__init__()
        self.inner = inner
        self._scrub = scrub

    def write(self, text: str) -> int:
        self.inner.write(self._scrub(text))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.inner, "encoding", "utf-8")


@contextlib.contextmanager
def scrubbed_output() -> Iterator[None]:
    """Scrub ``sys.stdout``/``sys.stderr`` until the block ends (then restore them)."""
    out, err = sys.stdout, sys.stderr
    sys.stdout = ScrubbingStream(out, scrub_held)
    sys.stderr = ScrubbingStream(err, scrub_all)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
