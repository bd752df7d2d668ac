"""The surface every protocol core offers (Sans-I/O).

A core turns provider-neutral commands into wire messages and wire messages into events.
It does no I/O and reads no clock: ``realtime/session.py`` moves its messages over a socket.

Call order for one connection::

    core = OpenAICore(id_factory=...)        # or GeminiCore(...)
    core.start(config)                       # queues session.update / setup
    send each of core.messages()             # the session does this
    core.receive(message)                    # for every message from the server
    for event in core.events(): ...          # drain after each receive()/send()
    core.send(command)                       # local intents, at any time after start()

Nothing raises out of ``receive()``: bad input becomes ``ProtocolViolation`` or
``ServerError`` events. ``send()`` raises ``TypeError`` only for an object that is not a
command; a command the provider cannot take becomes a ``CommandRefused`` event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from realtime.events import Command, Event, SessionConfig

WireMessage = str | bytes


@dataclass(frozen=True)
class Endpoint:
    """Where and how to connect. ``headers`` may hold a secret: never log or record them."""

    url: str
    #: Kept out of ``repr()`` so a logged or formatted Endpoint never shows a key.
    headers: tuple[tuple[str, str], ...] = field(repr=False)
    #: Header names whose values are secrets, for redaction.
    secret_headers: tuple[str, ...] = ()


class ProtocolCore(Protocol):
    """One provider's protocol state machine. Not thread-safe: one thread owns it."""

    #: Short provider name used in logs and recordings ("openai", "gemini").
    provider: str
    #: Sample rate the provider wants for ``AppendAudio`` (Hz).
    input_rate_hz: int
    #: Sample rate of ``AudioDelta`` events (Hz).
    output_rate_hz: int

    def start(self, config: SessionConfig) -> None:
        """Queue the opening message(s) for ``config``. Call once, before anything else."""

    def send(self, command: Command) -> None:
        """Translate a local intent into zero or more queued wire messages."""

    def receive(self, message: WireMessage) -> None:
        """Parse one server message into queued events. Never raises."""

    def messages(self) -> list[WireMessage]:
        """Drain the queued wire messages, oldest first."""

    def events(self) -> list[Event]:
        """Drain the queued events, oldest first."""
