"""Turn-taking modes and the options a conversation is run with (pure values)."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    #: Provider options (noise reduction, VAD eagerness, media resolution, compression …).
    provider: ProviderOptions = field(default_factory=ProviderOptions)

    def session_config(self, model: str, resumption_handle: str | None = None) -> SessionConfig:
        """The provider session for these options (turn detection off unless the provider's
        own detector is chosen in hands-free mode)."""
        if self.mode == Mode.HANDS_FREE and self.turn_detection in ("server", "semantic"):
            td = TurnDetection(
                mode="server_vad" if self.turn_detection == "server" else "semantic_vad",
                threshold=self.vad_threshold,
                silence_duration_ms=self.silence_ms,
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
