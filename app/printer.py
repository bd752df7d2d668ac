"""The headless CLI's live transcript: an ``Assistant`` subscriber printing both sides.

Called on the assistant's engine thread (a lock keeps lines whole). Prints the user's final
transcripts, the assistant's text as it streams (with the heard/received milliseconds of a reply
cut off), errors, server errors, offline-model loading and notices (to stderr). The streamed
reply is scrubbed of held secrets and never prints half of one
(``app.scrubbed_output.printable_stream_text``); everything else is scrubbed by the CLI's
``scrubbed_output()`` streams (pass ``out``/``err`` = ``None`` to write to them).
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from app.model import (
    BudgetChanged,
    BudgetLevel,
    BudgetStatus,
    Loading,
    LoadingChanged,
    ModelEvent,
    NoticeChanged,
    ServerError,
    ServerErrorReported,
    StateChanged,
    Turn,
    TurnUpdated,
)
from app.scrubbed_output import printable_stream_text
from app.state import ConversationState as S


class Printer:
    """Assistant subscriber printing the transcript live (called on the engine thread)."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, verbose: bool = False):
        self.verbose = verbose
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._printed: dict[int, int] = {}  # turn seq -> chars of assistant text printed
        self._done: set[int] = set()
        self._open: int | None = None
        self._lock = threading.Lock()
        self._budget_level = BudgetLevel.NONE
        self._stopped = False
        #: True once the conversation has been connected (a cost line means nothing before).
        self.connected_once = False

    def stop(self) -> None:
        """Print nothing more: the run's outcome has been said (any thread; idempotent).
        Events still arriving while the conversation closes (model loading …) are dropped."""
        with self._lock:
            self._line_end()
            self._stopped = True

    def __call__(self, event: ModelEvent) -> None:
        if isinstance(event, StateChanged) and event.state.connected:
            self.connected_once = True
        if self._stopped:
            return
        if isinstance(event, TurnUpdated):
            self.on_turn(event.turn)
        elif isinstance(event, StateChanged):
            self.on_state(event.state, event.message)
        elif isinstance(event, ServerErrorReported):
            self.on_server_error(event.error)
        elif isinstance(event, LoadingChanged):
            self.on_loading(event.loading)
        elif isinstance(event, NoticeChanged):
            self.on_notice(event.message)
        elif isinstance(event, BudgetChanged):
            self.on_budget(event.status)

    def _line_end(self) -> None:
        if self._open is not None:
            self.out.write("\n")
            self._open = None

    def on_turn(self, turn: Turn) -> None:
        with self._lock:
            if turn.seq in self._done:
                return
            if turn.role == "user":
                if turn.partial or not turn.text:
                    return
                self._line_end()
                self._done.add(turn.seq)
                self.out.write(f"you: {turn.text}\n")
            else:
                shown = self._printed.get(turn.seq, 0)
                if self._open != turn.seq:
                    self._line_end()
                    self.out.write("assistant: " + ("…" if shown else ""))
                    self._open = turn.seq
                # Scrubbed of held secrets, never printing half of one (issue 17, item 6).
                text = printable_stream_text(turn.text, not turn.partial or turn.interrupted)
                self.out.write(text[shown:])
                self._printed[turn.seq] = max(shown, len(text))
                if turn.interrupted:
                    self.out.write(
                        f"  [interrupted: heard {turn.played_ms} of {turn.received_ms} ms]"
                    )
                if not turn.partial or turn.interrupted:
                    self._line_end()
                    self._done.add(turn.seq)
            self.out.flush()

    def on_state(self, state: S, message: str) -> None:
        if self.verbose:
            self.err.write(f"[{state.value}]\n")
            self.err.flush()
        if state == S.ERROR and message:
            with self._lock:
                self._line_end()
                self.err.write(f"error: {message}\n")
                self.err.flush()

    def on_server_error(self, error: ServerError) -> None:
        with self._lock:
            self.err.write(f"server error: {error.message}\n")
            self.err.flush()

    def on_loading(self, loading: Loading) -> None:
        if not loading.done:
            self.err.write(
                f"loading offline models {loading.step}/{loading.total}: {loading.what}\n"
            )
            self.err.flush()

    def on_budget(self, status: BudgetStatus) -> None:
        """One line when the budget warns (80 %) or cannot be checked; the stop at 100 % is
        said by the core's notice."""
        before, self._budget_level = self._budget_level, status.level
        if (
            status.level in (BudgetLevel.WARNING, BudgetLevel.UNKNOWN)
            and status.level is not before
        ):
            with self._lock:
                self._line_end()
                self.err.write(f"budget: {status.message}\n")
                self.err.flush()

    def on_notice(self, message: str) -> None:
        if message and not message.startswith("Server:"):
            self.err.write(f"note: {message}\n")
            self.err.flush()
