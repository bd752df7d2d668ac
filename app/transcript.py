"""The conversation transcript: turns for both sides, live partials, heard vs unheard.

``Transcript`` is owned by the assistant's engine thread (not thread-safe); ``turns()`` returns an
immutable tuple of ``Turn`` values that may be handed to any thread.

- A user turn opens when the user starts speaking (or types) and is filled by the provider's input
  transcription, which may arrive late (OpenAI transcribes asynchronously, after the reply started).
  Deltas without an item id (Gemini) go to the newest open user turn.
- An assistant turn is keyed by its item id and streams ``TranscriptDelta`` text.
- An interrupted assistant turn keeps ``played_ms`` and ``received_ms``; ``heard_text`` is the
  part of the text the user actually heard, estimated by the played fraction of the received audio
  and cut at a word boundary, ``unheard_text`` the rest (generated but never played).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from app.latency import TurnLatency
from realtime.events import AddHistoryItem, Event, Usage
from realtime.heard import heard_text, unheard_text

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Turn:
    """One side's turn. ``partial`` while it is still streaming."""

    seq: int
    role: Role
    text: str = ""
    item_id: str = ""
    partial: bool = True
    typed: bool = False
    interrupted: bool = False
    #: A listener's acknowledgement said over the reply: shown greyed, never a turn for the model.
    backchannel: bool = False
    played_ms: int = 0
    received_ms: int = 0
    #: Latency waterfall of the turn this reply answers (assistant turns).
    latency: TurnLatency | None = None
    #: Token usage and its cost in USD (``None``: unknown price) of this reply (assistant turns).
    usage: Usage | None = None
    cost_usd: float | None = None
    #: Free-form detail line the assistant attaches (latency · cost), for the GUI and the CLI.
    detail: str = ""

    @property
    def turn_id(self) -> str:
        """Stable id across updates of this turn."""
        return f"t{self.seq}"

    @property
    def heard_fraction(self) -> float:
        if not self.interrupted:
            return 1.0
        if self.received_ms <= 0:
            return 0.0
        return max(0.0, min(1.0, self.played_ms / self.received_ms))

    @property
    def heard_text(self) -> str:
        """The part the user heard (all of it unless the turn was interrupted)."""
        if not self.interrupted:
            return self.text
        return heard_text(self.text, self.heard_fraction)

    @property
    def unheard_text(self) -> str:
        """Generated but never played (empty unless interrupted)."""
        if not self.interrupted:
            return ""
        return unheard_text(self.text, self.heard_fraction)


class Transcript:
    """Mutable list of turns. Engine thread only."""

    def __init__(self) -> None:
        self._turns: list[Turn] = []
        self._seq = 0
        self.version = 0

    # ------------------------------------------------------------------ helpers
    def _new(self, role: Role, **kw: object) -> int:
        self._seq += 1
        self._turns.append(Turn(seq=self._seq, role=role, **kw))  # type: ignore[arg-type]
        self.version += 1
        return len(self._turns) - 1

    def _set(self, index: int, **kw: object) -> None:
        self._turns[index] = replace(self._turns[index], **kw)  # type: ignore[arg-type]
        self.version += 1

    def _find(self, role: Role, item_id: str) -> int | None:
        if not item_id:
            return None
        for i in range(len(self._turns) - 1, -1, -1):
            t = self._turns[i]
            if t.role == role and t.item_id == item_id:
                return i
        return None

    def _open_user(self) -> int | None:
        """Newest user voice turn that still has no final text."""
        for i in range(len(self._turns) - 1, -1, -1):
            t = self._turns[i]
            if t.role == "user" and t.partial and not t.typed:
                return i
        return None

    # ------------------------------------------------------------------ user side
    def user_started(self, item_id: str = "") -> None:
        """The user began speaking: open a (still empty) user turn unless one is open."""
        open_i = self._open_user()
        if (
            open_i is not None
            and not self._turns[open_i].text
            and not (item_id and self._turns[open_i].item_id not in ("", item_id))
        ):
            if item_id:
                self._set(open_i, item_id=item_id)
            return
        if item_id and self._find("user", item_id) is not None:
            return
        self._new("user", item_id=item_id)

    def user_transcript(self, text: str, final: bool, item_id: str = "") -> None:
        """Input transcription: a delta (``final=False``) or the whole text (``final=True``)."""
        i = self._find("user", item_id)
        if i is None:
            i = self._open_user()
            if i is not None and item_id and self._turns[i].item_id not in ("", item_id):
                i = None
            if i is None:
                i = self._new("user", item_id=item_id)
            elif item_id:
                self._set(i, item_id=item_id)
        t = self._turns[i]
        if final:
            self._set(i, text=text.strip(), partial=False)
        else:
            self._set(i, text=t.text + text)

    def user_backchannel(self, text: str) -> None:
        """A backchannel ("mhm") over the reply: a finished, quiet user entry (not a turn)."""
        self._new("user", text=text, partial=False, backchannel=True)

    def user_typed(self, text: str) -> None:
        self._new("user", text=text, partial=False, typed=True)

    def close_user_partials(self) -> None:
        """Mark open user turns that have text done (Gemini sends no final transcription).
        Empty open turns stay open: the user may be speaking right now."""
        for i, t in enumerate(self._turns):
            if t.role == "user" and t.partial and t.text:
                self._set(i, partial=False, text=t.text.strip())

    def drop_open_user(self) -> None:
        """Forget the open user turn if it has no text yet (its audio went unanswered)."""
        i = self._open_user()
        if i is not None and not self._turns[i].text:
            del self._turns[i]
            self.version += 1

    def drop_empty_user(self) -> None:
        """Remove user turns that never got any text (false starts)."""
        before = len(self._turns)
        self._turns = [
            t for t in self._turns if not (t.role == "user" and not t.partial and not t.text)
        ]
        if len(self._turns) != before:
            self.version += 1

    # ------------------------------------------------------------------ assistant side
    def assistant_delta(self, item_id: str, text: str) -> None:
        if not text:
            return
        i = self._find("assistant", item_id)
        if i is None:
            self._new("assistant", item_id=item_id, text=text)
        else:
            self._set(i, text=self._turns[i].text + text)

    def assistant_done(self, item_id: str, text: str) -> None:
        i = self._find("assistant", item_id)
        if i is None and not text:
            return
        if i is None:
            self._new("assistant", item_id=item_id, text=text, partial=False)
        else:
            self._set(i, text=text or self._turns[i].text, partial=False)

    def assistant_finished(self) -> None:
        """The response ended: nothing of the assistant is partial any more."""
        for i, t in enumerate(self._turns):
            if t.role == "assistant" and t.partial:
                self._set(i, partial=False)

    def assistant_interrupted(self, item_id: str, played_ms: int, received_ms: int) -> None:
        """The user barged in on ``item_id`` after ``played_ms`` of ``received_ms`` audio."""
        i = self._find("assistant", item_id)
        if i is None:
            i = self._new("assistant", item_id=item_id)
        self._set(i, interrupted=True, played_ms=played_ms, received_ms=received_ms)

    def annotate(self, item_id: str, **fields: object) -> Turn | None:
        """Set ``latency``/``usage``/``cost_usd``/``detail`` on an assistant turn (by item id,
        else the newest assistant turn). Returns the updated turn."""
        i = self._find("assistant", item_id)
        if i is None:
            i = next(
                (
                    j
                    for j in range(len(self._turns) - 1, -1, -1)
                    if self._turns[j].role == "assistant"
                ),
                None,
            )
        if i is None:
            return None
        self._set(i, **fields)
        return self._turns[i]

    def get(self, role: Role, item_id: str) -> Turn | None:
        i = self._find(role, item_id)
        return None if i is None else self._turns[i]

    def changed_since(self, version_turns: tuple[Turn, ...]) -> list[Turn]:
        """Turns that differ from an earlier ``turns()`` result (new or updated)."""
        old = {t.seq: t for t in version_turns}
        return [t for t in self._turns if old.get(t.seq) != t]

    # ------------------------------------------------------------------ reading
    def turns(self) -> tuple[Turn, ...]:
        return tuple(self._turns)

    def history(self) -> list[tuple[Role, str]]:
        """(role, heard text) of finished turns, for carrying context into a new session."""
        return [
            (t.role, t.heard_text)
            for t in self._turns
            if t.heard_text and not t.partial and not t.backchannel
        ]


class TranscriptHistory:
    """The transcript as the reconnect context (``realtime.context_log.HistorySource``): the
    turns the user saw, an interrupted reply as far as it was heard (marked "…"), newest
    ``max_turns`` turns within ``max_chars``. Read on the engine thread that owns the
    transcript."""

    def __init__(self, transcript: Transcript, max_turns: int = 20, max_chars: int = 8000):
        self._transcript = transcript
        self.max_turns = max_turns
        self.max_chars = max_chars

    def observe(self, event: Event) -> None:
        """Nothing to do: the conversation core keeps the transcript."""

    def add(self, role: str, text: str) -> None:
        """Nothing to do: typed text is already a turn of the transcript."""

    def items(self) -> tuple[AddHistoryItem, ...]:
        out: list[AddHistoryItem] = []
        chars = 0
        for t in reversed(self._transcript.turns()):
            text = (
                heard_text(t.text, t.heard_fraction, mark="…") if t.interrupted else t.text
            ).strip()
            if not text:
                continue
            if len(out) >= self.max_turns or (out and chars + len(text) > self.max_chars):
                break
            chars += len(text)
            out.append(AddHistoryItem(role=t.role, text=text))
        return tuple(reversed(out))
