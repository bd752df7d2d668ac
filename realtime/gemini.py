"""Gemini Live (BidiGenerateContent) protocol core.

Pure Sans-I/O state machine implementing ``realtime.core.ProtocolCore``: commands in, JSON
text messages out; server JSON (text or binary frames) in, provider-neutral events out.

Mapping decisions (Gemini has no items, responses or truncation):

* Each model turn gets a synthesized item id from ``id_factory``; it is the ``item_id`` of
  its ``AudioDelta``/``TranscriptDelta`` events and the ``response_id`` of its
  ``ResponseStarted``/``ResponseDone``. ``interrupted`` ends the current item (``Interrupted``,
  ``TranscriptDone``, ``ResponseDone(status="cancelled")``); later audio gets a new item.
* ``turnComplete`` → the user's accumulated input transcript (``InputTranscript(final=True)``),
  ``AudioDone``/``TranscriptDone``/``ResponseDone(usage=latest usageMetadata)`` for the open
  item, then ``TurnComplete``.
* ``CancelResponse``, ``Truncate`` and ``ClearInput`` send nothing: the server stops by itself
  when it hears the user, and stopping local playback is the app's job.
* ``UpdateSession`` is refused: the setup cannot change; reconnect with the new config (use
  the last ``ResumptionHandle``).
* Manual activity (``turn_detection.mode == "none"``): ``ActivityStart``/``ActivityEnd`` →
  ``activityStart``/``activityEnd``; ``CommitInput`` ends an open activity. With automatic
  detection they are refused and ``CommitInput``/``AudioStreamEnd`` send ``audioStreamEnd``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from realtime import _wire
from realtime._wire import WireError, get_bool, get_int, get_list, get_obj, get_str
from realtime.core import Endpoint, WireMessage
from realtime.events import (
    ActivityEnd,
    ActivityStart,
    AddHistoryItem,
    AppendAudio,
    AppendImage,
    AudioDelta,
    AudioDone,
    AudioStreamEnd,
    CancelResponse,
    ClearInput,
    Command,
    CommandRefused,
    CommitInput,
    CreateResponse,
    GoAway,
    InputTranscript,
    Interrupted,
    ResponseDone,
    ResponseStarted,
    ResumptionHandle,
    SendText,
    SessionConfig,
    SessionReady,
    SpeechStarted,
    SpeechStopped,
    ToolCall,
    TranscriptDelta,
    TranscriptDone,
    Truncate,
    TurnComplete,
    TurnDetection,
    UpdateSession,
    Usage,
)
from realtime.gemini_options import apply_options

INPUT_RATE_HZ = 16_000
OUTPUT_RATE_HZ = 24_000
#: Largest audio payload (bytes of PCM) put into one ``realtimeInput``: 1 s at 16 kHz.
MAX_APPEND_BYTES = INPUT_RATE_HZ * 2
DEFAULT_MODEL = "gemini-2.5-flash-native-audio-preview-09-2025"
DEFAULT_HOST = "wss://generativelanguage.googleapis.com"
WS_PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"

_KNOWN_KEYS = frozenset(
    {
        "setupComplete",
        "serverContent",
        "toolCall",
        "toolCallCancellation",
        "usageMetadata",
        "goAway",
        "sessionResumptionUpdate",
        "voiceActivityDetectionSignal",
        "voiceActivity",
    }
)
_DURATION = re.compile(r"^(-?)(\d{1,12})(?:\.(\d{1,9}))?s$")
_RATE = re.compile(r"rate=(\d{3,6})")


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _norm(d: dict[str, object]) -> dict[str, object]:
    """Shallow snake_case → camelCase key normalisation (the SDK accepts both spellings)."""
    if all("_" not in k for k in d):
        return d
    return {_camel(k): v for k, v in d.items()}


def _obj(d: dict[str, object], key: str) -> dict[str, object]:
    return _norm(get_obj(d, key))


def parse_duration_ms(text: str) -> int:
    """Protobuf JSON duration (``"10s"``, ``"1.5s"``, ``"0.000340s"``) → whole ms (≥ 0)."""
    m = _DURATION.match(text.strip())
    if m is None:
        raise WireError(f"duration {_wire.excerpt(text, 40)!r} is not like '10s' or '1.5s'")
    sign, secs, frac = m.groups()
    ms = int(secs) * 1000 + int((frac or "0").ljust(9, "0")[:3])
    return 0 if sign else ms


class GeminiCore(_wire.QueueingCore):
    """Gemini Live core. One thread owns it; see ``realtime.core.ProtocolCore``.

    ``id_factory`` makes the synthesized per-turn item ids (default ``item_1``, ``item_2``, …)
    and user input ids. ``unknown_count`` counts server messages with no field the core knows.
    """

    provider = "gemini"
    input_rate_hz = INPUT_RATE_HZ
    output_rate_hz = OUTPUT_RATE_HZ

    def __init__(
        self, id_factory: Callable[[], str] | None = None, model_prefix: str = "models/"
    ) -> None:
        self._new_id = id_factory or _wire.counter_ids("item")
        #: Prepended to the model name in ``setup.model``: ``models/`` (Gemini API) or
        #: ``projects/P/locations/L/publishers/google/models/`` (Vertex AI).
        self.model_prefix = model_prefix
        self.unknown_count = 0
        super().__init__()
        self._model = ""
        self._manual = False
        self._text_output = False
        self._activity_open = False
        # per-turn state
        self._item = ""
        self._item_text: list[str] = []
        self._audio_done = False
        self._user_item = ""
        self._user_text: list[str] = []
        self._usage: Usage | None = None

    # ------------------------------------------------------------------ ProtocolCore

    def start(self, config: SessionConfig) -> None:
        """Queue the ``setup`` message for ``config``."""
        model = config.model or DEFAULT_MODEL
        self._model = model.removeprefix(self.model_prefix).removeprefix("models/")
        self._manual = config.turn_detection.mode == "none"
        self._text_output = "audio" not in config.output_modalities
        self._emit({"setup": _setup(config, self.model_prefix + self._model)})

    def send(self, command: Command) -> None:
        """Translate ``command`` into queued messages (or a ``CommandRefused`` event)."""
        name = type(command).__name__
        if isinstance(command, AppendAudio):
            self._append(command)
        elif isinstance(command, AppendImage):
            if command.jpeg:
                self._realtime(video=_blob("image/jpeg", command.jpeg))
            else:
                self._refuse(name, "empty image")
        elif isinstance(command, SendText):
            if command.respond:
                self._realtime(text=command.text)
            else:
                self._content("user", command.text, turn_complete=False)
        elif isinstance(command, AddHistoryItem):
            role = "user" if command.role == "user" else "model"
            self._content(role, command.text, turn_complete=False)
        elif isinstance(command, CreateResponse):
            if command.instructions:
                self._content("user", command.instructions, turn_complete=True)
            else:
                self._emit({"clientContent": {"turnComplete": True}})
        elif isinstance(command, ActivityStart):
            if not self._manual:
                self._refuse(name, "automatic activity detection is on (turn_detection != none)")
            elif not self._activity_open:
                self._realtime(activityStart={})
                self._activity_open = True
        elif isinstance(command, ActivityEnd | CommitInput):
            if self._manual:
                if self._activity_open:
                    self._realtime(activityEnd={})
                    self._activity_open = False
                else:
                    self._refuse(name, "no activity was started (send ActivityStart first)")
            elif isinstance(command, CommitInput):
                self._realtime(audioStreamEnd=True)
            else:
                self._refuse(name, "automatic activity detection is on (turn_detection != none)")
        elif isinstance(command, AudioStreamEnd):
            if not self._manual:
                self._realtime(audioStreamEnd=True)
        elif isinstance(command, UpdateSession):
            self._refuse(
                name,
                "Gemini Live cannot change a session after setup: reconnect with the new "
                "settings (the resumption handle keeps the conversation)",
            )
        elif isinstance(command, CancelResponse | Truncate | ClearInput):
            pass  # no such thing on Gemini: see the module docstring
        else:
            raise TypeError(f"not a realtime command: {command!r}")

    # ------------------------------------------------------------------ outgoing

    def _emit(self, obj: dict[str, object]) -> None:
        self._out.append(_wire.dumps(obj))

    def _realtime(self, **fields: object) -> None:
        self._emit({"realtimeInput": fields})

    def _content(self, role: str, text: str, turn_complete: bool) -> None:
        turn = {"role": role, "parts": [{"text": text}]}
        self._emit({"clientContent": {"turns": [turn], "turnComplete": turn_complete}})

    def _refuse(self, command: str, reason: str) -> None:
        self._events.append(CommandRefused(command, reason))

    def _append(self, cmd: AppendAudio) -> None:
        if cmd.rate_hz <= 0 or len(cmd.pcm) % 2:
            self._refuse("AppendAudio", "audio must be PCM16 (even byte count) at a positive rate")
            return
        mime = f"audio/pcm;rate={cmd.rate_hz}"
        for start in range(0, len(cmd.pcm), MAX_APPEND_BYTES):
            self._realtime(audio=_blob(mime, cmd.pcm[start : start + MAX_APPEND_BYTES]))

    # ------------------------------------------------------------------ incoming

    def _receive(self, message: WireMessage) -> None:
        msg = _norm(_wire.parse_object(message))
        if not _KNOWN_KEYS.intersection(msg):
            self.unknown_count += 1
            return
        if "setupComplete" in msg:
            setup = _obj(msg, "setupComplete")
            self._events.append(SessionReady(get_str(setup, "sessionId", ""), self._model))
        if "usageMetadata" in msg:  # before serverContent: a turnComplete beside it uses it
            self._usage = _usage(_obj(msg, "usageMetadata"))
        if "voiceActivity" in msg:
            self._voice_activity(_obj(msg, "voiceActivity"))
        if "voiceActivityDetectionSignal" in msg:
            signal = get_str(_obj(msg, "voiceActivityDetectionSignal"), "vadSignalType", "")
            if signal == "VAD_SIGNAL_TYPE_SOS":
                self._events.append(SpeechStarted())
            elif signal == "VAD_SIGNAL_TYPE_EOS":
                self._events.append(SpeechStopped())
        if "serverContent" in msg:
            self._server_content(_obj(msg, "serverContent"))
        if "toolCall" in msg:
            self._tool_call(_obj(msg, "toolCall"))
        if "goAway" in msg:
            left = get_str(_obj(msg, "goAway"), "timeLeft", "0s")
            self._events.append(GoAway(parse_duration_ms(left)))
        if "sessionResumptionUpdate" in msg:
            update = _obj(msg, "sessionResumptionUpdate")
            handle = get_str(update, "newHandle", "")
            resumable = get_bool(update, "resumable", False)
            if handle:
                self._events.append(ResumptionHandle(handle, resumable))

    def _voice_activity(self, va: dict[str, object]) -> None:
        kind = get_str(va, "voiceActivityType", "")
        offset = va.get("audioOffset")
        ms = parse_duration_ms(offset) if isinstance(offset, str) else 0
        if kind == "ACTIVITY_START":
            self._events.append(SpeechStarted(audio_start_ms=ms))
        elif kind == "ACTIVITY_END":
            self._events.append(SpeechStopped(audio_end_ms=ms))

    def _server_content(self, sc: dict[str, object]) -> None:
        if "inputTranscription" in sc:
            self._input_transcription(_obj(sc, "inputTranscription"))
        if "modelTurn" in sc:
            for part in get_list(_obj(sc, "modelTurn"), "parts"):
                if not isinstance(part, dict):
                    raise WireError("modelTurn part is not an object")
                self._part(_norm(part))
        if "outputTranscription" in sc:
            text = get_str(_obj(sc, "outputTranscription"), "text", "")
            if text:
                self._model_text(text)
        if get_bool(sc, "interrupted"):
            self._events.append(Interrupted())
            self._finish_item("cancelled")
        if get_bool(sc, "generationComplete") and self._item and not self._audio_done:
            self._audio_done = True
            self._events.append(AudioDone(self._item))
        if get_bool(sc, "turnComplete"):
            self._finish_user_transcript()
            self._finish_item("completed")
            if self._usage is not None:  # usage with no model output (e.g. after interrupt)
                self._events.append(ResponseDone("", "completed", self._usage))
                self._usage = None
            self._events.append(TurnComplete())

    def _part(self, part: dict[str, object]) -> None:
        if "inlineData" in part:
            blob = _obj(part, "inlineData")
            mime = get_str(blob, "mimeType", "")
            if not mime.startswith("audio/pcm"):
                return  # not audio we can play (e.g. an image): ignore
            pcm = _wire.b64decode(get_str(blob, "data", ""), lenient=True)
            if len(pcm) % 2:
                raise WireError("audio part has an odd number of bytes (not PCM16)")
            rate_match = _RATE.search(mime)
            rate = int(rate_match.group(1)) if rate_match else OUTPUT_RATE_HZ
            if pcm:
                self._events.append(AudioDelta(self._open_item(), pcm, rate))
        elif self._text_output and "text" in part and not get_bool(part, "thought"):
            text = get_str(part, "text", "")
            if text:
                self._model_text(text)

    def _model_text(self, text: str) -> None:
        item = self._open_item()
        self._item_text.append(text)
        self._events.append(TranscriptDelta(item, text))

    def _open_item(self) -> str:
        if not self._item:
            self._item = self._new_id()
            self._item_text = []
            self._audio_done = False
            self._events.append(ResponseStarted(self._item))
        return self._item

    def _finish_item(self, status: str) -> None:
        if not self._item:
            return
        if not self._audio_done:
            self._events.append(AudioDone(self._item))
        self._events.append(TranscriptDone(self._item, "".join(self._item_text)))
        self._events.append(ResponseDone(self._item, status, self._usage))
        self._usage = None
        self._item = ""
        self._item_text = []

    def _input_transcription(self, tr: dict[str, object]) -> None:
        text = get_str(tr, "text", "")
        if not self._user_item:
            self._user_item = self._new_id()
        if text:
            self._user_text.append(text)
            self._events.append(InputTranscript(text, False, self._user_item))
        if get_bool(tr, "finished"):
            self._finish_user_transcript()

    def _finish_user_transcript(self) -> None:
        if self._user_item and self._user_text:
            self._events.append(InputTranscript("".join(self._user_text), True, self._user_item))
        self._user_item = ""
        self._user_text = []

    def _tool_call(self, tc: dict[str, object]) -> None:
        for call in get_list(tc, "functionCalls"):
            if not isinstance(call, dict):
                raise WireError("functionCalls entry is not an object")
            call = _norm(call)
            args = call.get("args")
            if args is not None and not isinstance(args, dict):
                raise WireError("function call args is not an object")
            self._events.append(
                ToolCall(
                    get_str(call, "id", ""),
                    get_str(call, "name"),
                    json.dumps(args or {}, separators=(",", ":")),
                )
            )


# ---------------------------------------------------------------------- builders


def _blob(mime: str, data: bytes) -> dict[str, object]:
    return {"mimeType": mime, "data": _wire.b64encode(data)}


def _activity_detection(td: TurnDetection) -> dict[str, object]:
    if td.mode == "none":
        return {"disabled": True}
    out: dict[str, object] = {
        "disabled": False,
        "prefixPaddingMs": td.prefix_padding_ms,
        "silenceDurationMs": td.silence_duration_ms,
    }
    if td.threshold >= 0.7:
        out["startOfSpeechSensitivity"] = "START_SENSITIVITY_LOW"
    elif td.threshold <= 0.3:
        out["startOfSpeechSensitivity"] = "START_SENSITIVITY_HIGH"
    if td.mode == "semantic_vad" and td.eagerness in ("low", "high"):
        out["endOfSpeechSensitivity"] = f"END_SENSITIVITY_{td.eagerness.upper()}"
    return out


def _setup(config: SessionConfig, model: str) -> dict[str, object]:
    generation: dict[str, object] = {
        "responseModalities": ["AUDIO" if "audio" in config.output_modalities else "TEXT"],
    }
    if config.voice:
        generation["speechConfig"] = {
            "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": config.voice}}
        }
    if config.temperature is not None:
        generation["temperature"] = config.temperature
    realtime_cfg: dict[str, object] = {
        "automaticActivityDetection": _activity_detection(config.turn_detection)
    }
    if config.turn_detection.mode != "none":
        realtime_cfg["activityHandling"] = (
            "START_OF_ACTIVITY_INTERRUPTS"
            if config.turn_detection.interrupt_response
            else "NO_INTERRUPTION"
        )
    setup: dict[str, object] = {
        "model": model,
        "generationConfig": generation,
        "realtimeInputConfig": realtime_cfg,
        "sessionResumption": (
            {"handle": config.resumption_handle} if config.resumption_handle else {}
        ),
    }
    if config.instructions:
        setup["systemInstruction"] = {"parts": [{"text": config.instructions}]}
    if config.input_transcription:
        setup["inputAudioTranscription"] = {}
    if config.output_transcription:
        setup["outputAudioTranscription"] = {}
    apply_options(setup, config)
    return setup


def _modality_counts(details: list[object]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in details:
        if not isinstance(entry, dict):
            raise WireError("token details entry is not an object")
        entry = _norm(entry)
        modality = get_str(entry, "modality", "")
        counts[modality] = counts.get(modality, 0) + get_int(entry, "tokenCount", 0)
    return counts


def _usage(u: dict[str, object]) -> Usage:
    prompt = _modality_counts(get_list(u, "promptTokensDetails"))
    response = _modality_counts(get_list(u, "responseTokensDetails"))
    return Usage(
        input_tokens=get_int(u, "promptTokenCount", 0),
        output_tokens=get_int(u, "responseTokenCount", 0) + get_int(u, "thoughtsTokenCount", 0),
        input_text_tokens=prompt.get("TEXT", 0),
        input_audio_tokens=prompt.get("AUDIO", 0),
        input_image_tokens=prompt.get("IMAGE", 0) + prompt.get("VIDEO", 0),
        input_cached_tokens=get_int(u, "cachedContentTokenCount", 0),
        output_text_tokens=response.get("TEXT", 0),
        output_audio_tokens=response.get("AUDIO", 0),
    )


# ---------------------------------------------------------------------- endpoint


def endpoint(api_key: str, base_url: str | None = None) -> Endpoint:
    """Where to connect. The key goes in the ``x-goog-api-key`` header, never in the URL.

    ``base_url`` is a host root such as ``http://127.0.0.1:8765`` (→ ``ws://127.0.0.1:8765/ws/
    google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent``) or a full
    ``ws(s)://`` URL that already contains ``/ws/``. Raises ``ValueError`` for an unusable URL.
    """
    parts = urlsplit(base_url or DEFAULT_HOST)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.netloc:
        raise ValueError(
            "Gemini base URL must look like https://host or http://127.0.0.1:PORT, "
            f"got {_wire.excerpt(base_url or '', 80)!r}"
        )
    if "key=" in parts.query:
        raise ValueError("put the Gemini API key in the header, not in the URL (?key=)")
    path = parts.path if "/ws/" in parts.path else parts.path.rstrip("/") + WS_PATH
    url = urlunsplit((scheme, parts.netloc, path, parts.query, ""))
    return Endpoint(
        url=url, headers=(("x-goog-api-key", api_key),), secret_headers=("x-goog-api-key",)
    )
