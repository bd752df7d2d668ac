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

The JSON shapes it sends and reads are in ``realtime.gemini_payloads``; where to connect is
``realtime.gemini_endpoint.endpoint`` (an API key) or ``realtime.gemini_vertex`` (Vertex AI).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from realtime import _wire
from realtime._wire import WireError, get_bool, get_list, get_str
from realtime.core import WireMessage
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
    UpdateSession,
    Usage,
)
from realtime.gemini_payloads import (
    inline_blob,
    norm,
    norm_obj,
    parse_duration_ms,
    parse_usage,
    setup_payload,
)

INPUT_RATE_HZ = 16_000
OUTPUT_RATE_HZ = 24_000
#: Largest audio payload (bytes of PCM) put into one ``realtimeInput``: 1 s at 16 kHz.
MAX_APPEND_BYTES = INPUT_RATE_HZ * 2
DEFAULT_MODEL = "gemini-2.5-flash-native-audio-preview-09-2025"

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
_RATE = re.compile(r"rate=(\d{3,6})")


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
        self._emit({"setup": setup_payload(config, self.model_prefix + self._model)})

    def send(self, command: Command) -> None:
        """Translate ``command`` into queued messages (or a ``CommandRefused`` event)."""
        name = type(command).__name__
        if isinstance(command, AppendAudio):
            self._append(command)
        elif isinstance(command, AppendImage):
            if command.jpeg:
                self._realtime(video=inline_blob("image/jpeg", command.jpeg))
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
            self._realtime(audio=inline_blob(mime, cmd.pcm[start : start + MAX_APPEND_BYTES]))

    # ------------------------------------------------------------------ incoming

    def _receive(self, message: WireMessage) -> None:
        msg = norm(_wire.parse_object(message))
        if not _KNOWN_KEYS.intersection(msg):
            self.unknown_count += 1
            return
        if "setupComplete" in msg:
            setup = norm_obj(msg, "setupComplete")
            self._events.append(SessionReady(get_str(setup, "sessionId", ""), self._model))
        if "usageMetadata" in msg:  # before serverContent: a turnComplete beside it uses it
            self._usage = parse_usage(norm_obj(msg, "usageMetadata"))
        if "voiceActivity" in msg:
            self._voice_activity(norm_obj(msg, "voiceActivity"))
        if "voiceActivityDetectionSignal" in msg:
            signal = get_str(norm_obj(msg, "voiceActivityDetectionSignal"), "vadSignalType", "")
            if signal == "VAD_SIGNAL_TYPE_SOS":
                self._events.append(SpeechStarted())
            elif signal == "VAD_SIGNAL_TYPE_EOS":
                self._events.append(SpeechStopped())
        if "serverContent" in msg:
            self._server_content(norm_obj(msg, "serverContent"))
        if "toolCall" in msg:
            self._tool_call(norm_obj(msg, "toolCall"))
        if "goAway" in msg:
            left = get_str(norm_obj(msg, "goAway"), "timeLeft", "0s")
            self._events.append(GoAway(parse_duration_ms(left)))
        if "sessionResumptionUpdate" in msg:
            update = norm_obj(msg, "sessionResumptionUpdate")
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
            self._input_transcription(norm_obj(sc, "inputTranscription"))
        if "modelTurn" in sc:
            for part in get_list(norm_obj(sc, "modelTurn"), "parts"):
                if not isinstance(part, dict):
                    raise WireError("modelTurn part is not an object")
                self._part(norm(part))
        if "outputTranscription" in sc:
            text = get_str(norm_obj(sc, "outputTranscription"), "text", "")
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
            blob = norm_obj(part, "inlineData")
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
            call = norm(call)
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
