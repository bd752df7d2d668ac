"""``ContextLog``: a bounded log of the conversation's final transcripts (user speech and typed
text, assistant replies), replayed as ``AddHistoryItem`` on a new connection. A reply cut off by
barge-in keeps the part that was heard (``realtime.heard``, the app's rule). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from realtime.events import (
    AddHistoryItem,
    AudioDelta,
    Event,
    InputCommitted,
    InputTranscript,
    ItemTruncated,
    TranscriptDelta,
    TranscriptDone,
    TurnComplete,
)
from realtime.heard import heard_text


class HistorySource(Protocol):
    """What ``ReconnectingSession`` replays on a new connection. ``ContextLog`` derives it from
    the events; the app passes its own transcript (``app.transcript.TranscriptHistory``) so the
    reconnect context reads the same turns the user sees. Called on the session's loop."""

    def observe(self, event: Event) -> None: ...
    def add(self, role: str, text: str) -> None: ...
    def items(self) -> tuple[AddHistoryItem, ...]: ...


@dataclass
class _Entry:
    role: str
    key: str
    text: str = ""
    final: bool = False
    audio_ms: float = 0.0


class ContextLog:
    """Recent turns of the conversation, in conversation order, bounded.

    Fed with every event (``observe``) and with what the user typed (``add``). User turns are
    placed when their input is committed, so a transcript that arrives late (OpenAI transcribes
    asynchronously) keeps its place before the reply. A reply cut off by a drop keeps its
    partial text; a reply truncated by barge-in keeps roughly the part that was heard.
    """

    def __init__(self, max_turns: int = 20, max_chars: int = 8000) -> None:
        self.max_turns = max_turns
        self.max_chars = max_chars
        self._entries: list[_Entry] = []
        self._by_key: dict[str, _Entry] = {}
        self._turn = 0
        self._seq = 0

    def add(self, role: str, text: str) -> None:
        """A turn known in full (typed text, a seeded history item)."""
        self._seq += 1
        self._put(_Entry(role, f"~add{self._seq}", text, final=True))

    def observe(self, event: Event) -> None:
        if isinstance(event, InputCommitted) and event.item_id:
            self._get("user", event.item_id)
        elif isinstance(event, InputTranscript):
            entry = self._get("user", event.item_id or f"~user{self._turn}")
            if event.final:
                entry.text, entry.final = event.text, True
            elif not entry.final:
                entry.text += event.text
        elif isinstance(event, TranscriptDelta):
            entry = self._get("assistant", event.item_id or f"~assistant{self._turn}")
            if not entry.final:
                entry.text += event.text
        elif isinstance(event, TranscriptDone):
            entry = self._get("assistant", event.item_id or f"~assistant{self._turn}")
            entry.text, entry.final = event.text, True
        elif isinstance(event, AudioDelta) and event.rate_hz > 0:
            entry = self._get("assistant", event.item_id or f"~assistant{self._turn}")
            entry.audio_ms += len(event.pcm) / 2 / event.rate_hz * 1000.0
        elif isinstance(event, ItemTruncated):
            entry_or_none = self._by_key.get(event.item_id)
            if entry_or_none is not None and entry_or_none.audio_ms > 0:
                entry_or_none.text = heard_text(
                    entry_or_none.text, event.audio_end_ms / entry_or_none.audio_ms, mark="…"
                )
                entry_or_none.final = True
        elif isinstance(event, TurnComplete):
            self._turn += 1

    def items(self) -> tuple[AddHistoryItem, ...]:
        """The turns to replay, oldest first (empty turns skipped)."""
        out: list[AddHistoryItem] = []
        for e in self._entries:
            text = e.text.strip()
            if text:
                out.append(
                    AddHistoryItem(role="user" if e.role == "user" else "assistant", text=text)
                )
        return tuple(out)

    def __len__(self) -> int:
        return len(self.items())

    def _get(self, role: str, key: str) -> _Entry:
        entry = self._by_key.get(key)
        if entry is None:
            entry = _Entry(role, key)
            self._put(entry)
        return entry

    def _put(self, entry: _Entry) -> None:
        self._entries.append(entry)
        self._by_key[entry.key] = entry
        while len(self._entries) > self.max_turns or (
            len(self._entries) > 1 and sum(len(e.text) for e in self._entries) > self.max_chars
        ):
            old = self._entries.pop(0)
            self._by_key.pop(old.key, None)
