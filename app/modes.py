"""Turn-taking modes and the options a conversation is run with (pure values)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from app.provider_options import ProviderOptions
from audio.config import TalkMode
from realtime.events import SessionConfig, TurnDetection

#: How the user takes turns, defined once in ``audio.config`` (the audio engine's talk gate needs
#: it and ``audio`` may not import ``app``):
#:
#: - ``hands_free``: voice activity decides (client VAD, or the provider's own detector when
#:   ``turn_detection`` is ``server``/``semantic``);
#: - ``push_to_talk``: the mic is open while the talk control is held;
#: - ``toggle``: one press opens the mic, the next closes the turn;
#: - ``mute``: the mic sends nothing.
Mode = TalkMode


TurnDetectionChoice = Literal["client", "server", "semantic"]

#: How long the app waits through the user's pauses before taking the turn (client turn
#: detection and the provider's semantic detector): high patience = low eagerness.
Patience = Literal["low", "medium", "high"]
PATIENCE_CHOICES: tuple[Patience, ...] = ("low", "medium", "high")
EAGERNESS_FOR_PATIENCE: dict[str, Literal["low", "medium", "high"]] = {
    "low": "high",
    "medium": "medium",
    "high": "low",
}


@dataclass(frozen=True)
class ConversationOptions:
    """Runtime options of a conversation (the persisted ``Settings`` map onto these)."""

    instructions: str = ""
    voice: str = ""
    mode: Mode = Mode.HANDS_FREE
    #: Hands-free turn detection: our VAD (``client``) or the provider's (``server``/``semantic``).
    turn_detection: TurnDetectionChoice = "client"
    #: Provider VAD threshold (server/semantic modes), 0..1.
    vad_threshold: float = 0.5
    silence_ms: int = 500
    #: Audio kept from before the local VAD's start so the first syllable is not clipped.
    preroll_ms: int = 600
    temperature: float | None = None
    #: Waiting through pauses (``Patience``); maps to the end-of-turn eagerness.
    patience: Patience = "medium"
    #: Provider options (noise reduction, VAD eagerness, media resolution, compression …).
    provider: ProviderOptions = field(default_factory=ProviderOptions)

    @property
    def eagerness(self) -> Literal["low", "medium", "high"]:
        """The end-of-turn eagerness for this patience (``dsp.end_of_turn`` policies)."""
        return EAGERNESS_FOR_PATIENCE.get(self.patience, "medium")

    def session_config(self, model: str, resumption_handle: str | None = None) -> SessionConfig:
        """The provider session for these options (turn detection off unless the provider's
        own detector is chosen in hands-free mode)."""
        if self.mode == Mode.HANDS_FREE and self.turn_detection in ("server", "semantic"):
            td = TurnDetection(
                mode="server_vad" if self.turn_detection == "server" else "semantic_vad",
                threshold=self.vad_threshold,
                silence_duration_ms=self.silence_ms,
                eagerness=self.eagerness,
            )
        else:
            td = TurnDetection(mode="none")
        config = SessionConfig(
            model=model,
            instructions=self.instructions,
            voice=self.voice,
            turn_detection=td,
            resumption_handle=resumption_handle,
            temperature=self.temperature,
        )
        return self.provider.apply(config)

    @property
    def client_vad_turns(self) -> bool:
        """True when our own VAD opens and closes turns (hands-free, client detection)."""
        return self.mode == Mode.HANDS_FREE and self.turn_detection == "client"


def for_backend(options: ConversationOptions, backend: str) -> ConversationOptions:
    """The options adjusted to a backend: the offline server's own turn detection is asked for
    as ``semantic_vad`` (Smart Turn + the transcript: it waits through a hesitation and answers
    a finished question after ~0.2 s of silence), where ``server_vad`` would end every turn at
    500 ms of silence, mid-sentence included."""
    if backend == "local" and options.turn_detection == "server":
        return replace(options, turn_detection="semantic")
    return options
