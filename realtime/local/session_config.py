"""The session configuration of one connection and the validation of ``session.update``.

``SessionState.apply(event)`` checks the whole ``session`` object first and changes nothing if any
part is refused (raising ``ClientEventError`` naming the parameter); only known fields with valid
types are kept, so what ``session.updated`` echoes always validates against the SDK's types.

What the local server supports: ``output_modalities`` ["audio"] or ["text"]; ``instructions``;
``audio.input.format`` / ``audio.output.format`` ``audio/pcm`` at 24 kHz; ``turn_detection``
``server_vad`` (threshold, prefix_padding_ms, silence_duration_ms, create_response,
interrupt_response, idle_timeout_ms), ``semantic_vad`` (eagerness low/medium/high/auto, mapped to
a stop delay of 1000/700/400/700 ms) or null; ``transcription`` null or {model, language, prompt};
``voice`` (any name: there is one local voice); ``max_output_tokens``; ``temperature``.
Tools are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from realtime.local.protocol import ClientEventError
from realtime.local.turns import ServerVadParams
from realtime.openai_vocab import (
    PCM_FORMAT_TYPE,
    RATE_HZ,
    VAD_PREFIX_PADDING_MS,
    VAD_SILENCE_MS,
    VAD_THRESHOLD,
)

SEMANTIC_SILENCE_MS = {"low": 1000, "medium": 700, "auto": 700, "high": 400}
MAX_INSTRUCTIONS = 20000
_ABSENT = object()


def _default_vad() -> dict[str, Any]:
    return {
        "type": "server_vad",
        "threshold": VAD_THRESHOLD,
        "prefix_padding_ms": VAD_PREFIX_PADDING_MS,
        "silence_duration_ms": VAD_SILENCE_MS,
        "create_response": True,
        "interrupt_response": True,
        "idle_timeout_ms": None,
    }


@dataclass
class SessionState:
    """The configuration a ``Connection`` runs with (wire shapes, ready to echo)."""

    model: str = "voicecam-local"
    instructions: str = ""
    modalities: tuple[str, ...] = ("audio",)
    transcription: dict[str, Any] | None = None
    turn_detection: dict[str, Any] | None = field(default_factory=_default_vad)
    voice: str = "joe"
    max_output_tokens: int | str = "inf"
    temperature: float | None = None

    def vad_params(self) -> ServerVadParams | None:
        td = self.turn_detection
        if td is None:
            return None
        if td["type"] == "semantic_vad":
            return ServerVadParams(
                silence_duration_ms=SEMANTIC_SILENCE_MS[td.get("eagerness", "auto")],
                eagerness=td.get("eagerness", "auto"),
                create_response=td.get("create_response", True),
                interrupt_response=td.get("interrupt_response", True),
            )
        return ServerVadParams(
            threshold=td["threshold"],
            prefix_padding_ms=td["prefix_padding_ms"],
            silence_duration_ms=td["silence_duration_ms"],
            create_response=td["create_response"],
            interrupt_response=td["interrupt_response"],
            idle_timeout_ms=td.get("idle_timeout_ms"),
        )

    def apply(self, event: dict[str, Any]) -> None:
        """Validate ``event["session"]`` completely, then apply it. Raises ``ClientEventError``."""
        eid = event.get("event_id")

        def bad(msg: str, param: str, code: str = "invalid_value") -> ClientEventError:
            return ClientEventError(
                msg, code, param=param, event_id=eid, event_type="session.update"
            )

        def obj(parent: dict[str, Any], key: str, param: str) -> dict[str, Any]:
            value = parent.get(key)
            if value is None:
                return {}
            if not isinstance(value, dict):
                raise bad(f"'{param}' must be an object.", param, "invalid_type")
            return value

        s = event.get("session")
        if not isinstance(s, dict):
            raise bad(
                "Missing required parameter: 'session'.", "session", "missing_required_parameter"
            )
        if s.get("type") != "realtime":
            raise bad("Missing or invalid 'session.type': expected 'realtime'.", "session.type")
        new: dict[str, Any] = {}
        if "instructions" in s:
            ins = s["instructions"]
            if not isinstance(ins, str) or len(ins) > MAX_INSTRUCTIONS:
                raise bad(
                    f"'session.instructions' must be a string of at most "
                    f"{MAX_INSTRUCTIONS} characters.",
                    "session.instructions",
                )
            new["instructions"] = ins
        mods = s.get("output_modalities")
        if mods is not None:
            if not isinstance(mods, list) or len(mods) != 1 or mods[0] not in ("audio", "text"):
                raise bad(
                    '\'output_modalities\' must be ["audio"] or ["text"].',
                    "session.output_modalities",
                )
            new["modalities"] = (mods[0],)
        if s.get("tools"):
            raise bad("Tools are not supported by the local server.", "session.tools")
        audio = obj(s, "audio", "session.audio")
        ain = obj(audio, "input", "session.audio.input")
        aout = obj(audio, "output", "session.audio.output")
        for part, where in ((ain, "input"), (aout, "output")):
            fmt = obj(part, "format", f"session.audio.{where}.format")
            if fmt and (fmt.get("type") != PCM_FORMAT_TYPE or fmt.get("rate", RATE_HZ) != RATE_HZ):
                raise bad(
                    f"Only audio/pcm at 24000 Hz is supported for {where}.",
                    f"session.audio.{where}.format",
                )
        if "turn_detection" in ain:
            new["turn_detection"] = self._turn_detection(ain["turn_detection"], bad)
        if "transcription" in ain:
            tr = ain["transcription"]
            if tr is not None:
                if not isinstance(tr, dict):
                    raise bad(
                        "'transcription' must be an object or null.",
                        "session.audio.input.transcription",
                        "invalid_type",
                    )
                clean: dict[str, Any] = {}
                for key in ("model", "language", "prompt"):
                    if key in tr and tr[key] is not None:
                        if not isinstance(tr[key], str):
                            raise bad(
                                f"'transcription.{key}' must be a string.",
                                f"session.audio.input.transcription.{key}",
                                "invalid_type",
                            )
                        clean[key] = tr[key]
                clean.setdefault("model", "whisper-1")
                tr = clean
            new["transcription"] = tr
        voice = aout.get("voice", _ABSENT)
        if voice is not _ABSENT and voice is not None:
            if isinstance(voice, dict) and isinstance(voice.get("id"), str):
                voice = voice["id"]
            if not isinstance(voice, str) or not voice:
                raise bad(
                    "'voice' must be a voice name.", "session.audio.output.voice", "invalid_type"
                )
            new["voice"] = voice
        mot = s.get("max_output_tokens")
        if mot is not None:
            if mot != "inf" and not (type(mot) is int and 1 <= mot <= 4096):
                raise bad(
                    "'max_output_tokens' must be 1-4096 or 'inf'.", "session.max_output_tokens"
                )
            new["max_output_tokens"] = mot
        temp = s.get("temperature")
        if temp is not None:
            if isinstance(temp, bool) or not isinstance(temp, int | float) or not 0 <= temp <= 2:
                raise bad("'temperature' must be a number from 0 to 2.", "session.temperature")
            new["temperature"] = float(temp)
        for key, value in new.items():
            setattr(self, key, value)

    @staticmethod
    def _turn_detection(td: Any, bad: Any) -> dict[str, Any] | None:
        base = "session.audio.input.turn_detection"
        if td is None:
            return None
        if not isinstance(td, dict) or td.get("type") not in ("server_vad", "semantic_vad"):
            raise bad(
                "'turn_detection.type' must be 'server_vad' or 'semantic_vad'.", base + ".type"
            )

        def boolean(key: str) -> bool:
            v = td.get(key)
            if v is None:
                return True
            if not isinstance(v, bool):
                raise bad(f"'{key}' must be a boolean.", f"{base}.{key}", "invalid_type")
            return v

        def integer(key: str, default: int | None, lo: int, hi: int) -> int | None:
            v = td.get(key)
            if v is None:
                return default
            if type(v) is not int or not lo <= v <= hi:
                raise bad(f"'{key}' must be an integer from {lo} to {hi}.", f"{base}.{key}")
            return v

        if td["type"] == "semantic_vad":
            eager = td.get("eagerness") or "auto"
            if not isinstance(eager, str) or eager not in SEMANTIC_SILENCE_MS:
                raise bad("'eagerness' must be low, medium, high or auto.", base + ".eagerness")
            return {
                "type": "semantic_vad",
                "eagerness": eager,
                "create_response": boolean("create_response"),
                "interrupt_response": boolean("interrupt_response"),
            }
        threshold = td.get("threshold")
        if threshold is None:
            threshold = VAD_THRESHOLD
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not 0.0 <= threshold <= 1.0
        ):
            raise bad("'threshold' must be a number from 0 to 1.", base + ".threshold")
        return {
            "type": "server_vad",
            "threshold": float(threshold),
            "prefix_padding_ms": integer("prefix_padding_ms", 300, 0, 5000),
            "silence_duration_ms": integer("silence_duration_ms", 500, 100, 10000),
            "create_response": boolean("create_response"),
            "interrupt_response": boolean("interrupt_response"),
            "idle_timeout_ms": integer("idle_timeout_ms", None, 1000, 600000),
        }
