"""OpenAI Realtime protocol core (GA ``gpt-realtime``; beta event names behind ``beta=True``).

Pure Sans-I/O state machine implementing ``realtime.core.ProtocolCore``: commands in, JSON
text messages out; server JSON in, provider-neutral events out. No clock, no I/O.

Local rules it enforces (each refusal is a ``CommandRefused`` event, never an exception):

* ``CommitInput`` needs ≥ 100 ms of audio appended since the last commit/clear.
* ``CancelResponse`` sends ``response.cancel`` only while a response is in progress.
* ``Truncate`` is clamped to the audio received for that item and never sent at ≤ 0 ms;
  unknown items are dropped.
* Audio must be PCM16 at 24 kHz (``input_rate_hz``); resampling is the caller's job.

Every client message carries an ``event_id``; the core remembers the type of the last
``SENT_EVENT_MEMORY`` ones so an ``error`` can name the client event it refers to. The JSON
shapes it sends and reads are built in ``realtime.openai_payloads``; where to connect is
``realtime.openai_endpoint.endpoint``.
"""

from __future__ import annotations

from collections.abc import Callable

from realtime import _wire
from realtime._wire import WireError, get_int, get_obj, get_str
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
    InputCommitted,
    InputTranscript,
    ItemTruncated,
    ResponseDone,
    ResponseStarted,
    SendText,
    ServerError,
    SessionConfig,
    SessionReady,
    SessionUpdated,
    SpeechStarted,
    SpeechStopped,
    ToolCall,
    TranscriptDelta,
    TranscriptDone,
    Truncate,
    UpdateSession,
)
from realtime.openai_payloads import beta_session, ga_session, message_item, parse_usage, text_part
from realtime.openai_vocab import IGNORED_SERVER_EVENTS, MIN_COMMIT_MS, RATE_HZ
from realtime.openai_vocab import ClientEvent as C
from realtime.openai_vocab import ServerEvent as S

BYTES_PER_MS = RATE_HZ * 2 // 1000  # 48 bytes of PCM16 mono per millisecond
#: Largest audio payload (bytes of PCM) put into one ``input_audio_buffer.append``: 1 s.
MAX_APPEND_BYTES = RATE_HZ * 2
SENT_EVENT_MEMORY = 512
ITEM_MEMORY = 64
FATAL_CODES = frozenset({"session_expired"})

# Server event types that carry nothing the app needs (listed so they are not "unknown").
_IGNORED = IGNORED_SERVER_EVENTS

# Beta server names -> GA names (only recognised with ``beta=True``).
_BETA_RENAMES = {
    "response.audio.delta": "response.output_audio.delta",
    "response.audio.done": "response.output_audio.done",
    "response.audio_transcript.delta": "response.output_audio_transcript.delta",
    "response.audio_transcript.done": "response.output_audio_transcript.done",
    "response.text.delta": "response.output_text.delta",
    "response.text.done": "response.output_text.done",
}
_GA_ONLY = frozenset(_BETA_RENAMES.values()) | {"conversation.item.added", "conversation.item.done"}


class OpenAICore(_wire.QueueingCore):
    """OpenAI Realtime core. One thread owns it; see ``realtime.core.ProtocolCore``.

    ``id_factory`` makes client ``event_id`` values (default: ``evt_1``, ``evt_2``, …).
    ``beta=True`` speaks the pre-GA protocol (flat ``pcm16`` formats, beta event names, no images).
    ``unknown_count`` counts server messages whose ``type`` the core does not know.
    """

    provider = "openai"
    input_rate_hz = RATE_HZ
    output_rate_hz = RATE_HZ

    def __init__(self, id_factory: Callable[[], str] | None = None, beta: bool = False) -> None:
        self._new_id = id_factory or _wire.counter_ids("evt")
        self.beta = beta
        self.unknown_count = 0
        super().__init__()
        self._sent_types: _wire.BoundedMap[str, str] = _wire.BoundedMap(SENT_EVENT_MEMORY)
        self._item_audio_bytes: _wire.BoundedMap[str, int] = _wire.BoundedMap(ITEM_MEMORY)
        self._buffered_bytes = 0
        self._response_active = False
        self._response_id = ""
        self._cancel_sent = False
        self._handlers: dict[str, Callable[[dict[str, object]], None]] = {
            S.SESSION_CREATED: self._on_session_created,
            S.SESSION_UPDATED: lambda m: self._events.append(SessionUpdated()),
            S.ERROR: self._on_error,
            S.SPEECH_STARTED: self._on_speech_started,
            S.SPEECH_STOPPED: self._on_speech_stopped,
            S.INPUT_COMMITTED: self._on_committed,
            S.INPUT_TRANSCRIPTION_DELTA: self._on_input_delta,
            S.INPUT_TRANSCRIPTION_COMPLETED: self._on_input_done,
            S.INPUT_TRANSCRIPTION_FAILED: self._on_input_failed,
            S.ITEM_TRUNCATED: self._on_truncated,
            S.RESPONSE_CREATED: self._on_response_created,
            S.AUDIO_DELTA: self._on_audio_delta,
            S.AUDIO_DONE: self._on_audio_done,
            S.AUDIO_TRANSCRIPT_DELTA: self._on_transcript_delta,
            S.AUDIO_TRANSCRIPT_DONE: self._on_transcript_done,
            S.TEXT_DELTA: self._on_transcript_delta,
            S.TEXT_DONE: self._on_text_done,
            S.FUNCTION_CALL_ARGUMENTS_DONE: self._on_function_call,
            S.RESPONSE_DONE: self._on_response_done,
        }

    # ------------------------------------------------------------------ ProtocolCore

    def start(self, config: SessionConfig) -> None:
        """Queue the opening ``session.update`` for ``config``."""
        self._emit(C.SESSION_UPDATE, session=self._session(config))

    def send(self, command: Command) -> None:
        """Translate ``command`` into queued messages (or a ``CommandRefused`` event)."""
        name = type(command).__name__
        if isinstance(command, AppendAudio):
            self._append(command)
        elif isinstance(command, AppendImage):
            self._image(command)
        elif isinstance(command, SendText):
            self._user_text(command.text)
            if command.respond:
                self._create_response(None)
        elif isinstance(command, AddHistoryItem):
            self._history(command)
        elif isinstance(command, CommitInput):
            self._commit(name)
        elif isinstance(command, ClearInput | ActivityStart):
            self._clear()
        elif isinstance(command, ActivityEnd):
            if self._commit(name):
                self._create_response(None)
        elif isinstance(command, CreateResponse):
            self._create_response(command.instructions)
        elif isinstance(command, CancelResponse):
            self._cancel()
        elif isinstance(command, Truncate):
            self._truncate(command)
        elif isinstance(command, UpdateSession):
            self._emit(C.SESSION_UPDATE, session=self._session(command.config))
        elif isinstance(command, AudioStreamEnd):
            pass  # nothing to tell OpenAI: the buffer simply stops growing
        else:
            raise TypeError(f"not a realtime command: {command!r}")

    # ------------------------------------------------------------------ outgoing

    def _emit(self, type_: str, **fields: object) -> None:
        event_id = self._new_id()
        self._sent_types[event_id] = type_
        self._out.append(_wire.dumps({"type": type_, "event_id": event_id, **fields}))

    def _refuse(self, command: str, reason: str) -> None:
        self._events.append(CommandRefused(command, reason))

    def _session(self, config: SessionConfig) -> dict[str, object]:
        return beta_session(config) if self.beta else ga_session(config)

    def _append(self, cmd: AppendAudio) -> None:
        if cmd.rate_hz != RATE_HZ:
            self._refuse("AppendAudio", f"OpenAI takes {RATE_HZ} Hz audio, got {cmd.rate_hz} Hz")
            return
        if len(cmd.pcm) % 2:
            self._refuse("AppendAudio", "PCM16 audio must have an even number of bytes")
            return
        for start in range(0, len(cmd.pcm), MAX_APPEND_BYTES):
            chunk = cmd.pcm[start : start + MAX_APPEND_BYTES]
            self._emit(C.INPUT_AUDIO_BUFFER_APPEND, audio=_wire.b64encode(chunk))
        self._buffered_bytes += len(cmd.pcm)

    def _image(self, cmd: AppendImage) -> None:
        if self.beta:
            self._refuse("AppendImage", "the OpenAI Realtime beta protocol takes no images")
            return
        if not cmd.jpeg:
            self._refuse("AppendImage", "empty image")
            return
        url = "data:image/jpeg;base64," + _wire.b64encode(cmd.jpeg)
        content: dict[str, object] = {"type": "input_image", "image_url": url, "detail": cmd.detail}
        self._emit(C.CONVERSATION_ITEM_CREATE, item=message_item("user", content))

    def _user_text(self, text: str) -> None:
        self._emit(
            C.CONVERSATION_ITEM_CREATE, item=message_item("user", text_part("input_text", text))
        )

    def _history(self, cmd: AddHistoryItem) -> None:
        if cmd.role == "user":
            content = text_part("input_text", cmd.text)
        else:
            content = text_part("text" if self.beta else "output_text", cmd.text)
        self._emit(C.CONVERSATION_ITEM_CREATE, item=message_item(cmd.role, content))

    def _commit(self, command: str) -> bool:
        buffered_ms = self._buffered_bytes // BYTES_PER_MS
        if buffered_ms < MIN_COMMIT_MS:
            self._refuse(
                command,
                f"only {buffered_ms} ms of audio since the last commit; "
                f"OpenAI needs at least {MIN_COMMIT_MS} ms",
            )
            return False
        self._emit(C.INPUT_AUDIO_BUFFER_COMMIT)
        self._buffered_bytes = 0
        return True

    def _clear(self) -> None:
        self._emit(C.INPUT_AUDIO_BUFFER_CLEAR)
        self._buffered_bytes = 0

    def _create_response(self, instructions: str | None) -> None:
        if instructions:
            self._emit(C.RESPONSE_CREATE, response={"instructions": instructions})
        else:
            self._emit(C.RESPONSE_CREATE)
        self._response_active = True
        self._response_id = ""
        self._cancel_sent = False

    def _cancel(self) -> None:
        if not self._response_active or self._cancel_sent:
            return
        if self._response_id:
            self._emit(C.RESPONSE_CANCEL, response_id=self._response_id)
        else:
            self._emit(C.RESPONSE_CANCEL)
        self._cancel_sent = True

    def _truncate(self, cmd: Truncate) -> None:
        if cmd.item_id not in self._item_audio_bytes:
            self._refuse("Truncate", f"no audio was received for item {cmd.item_id[:64]!r}")
            return
        received_ms = self._item_audio_bytes.get(cmd.item_id, 0) // BYTES_PER_MS
        audio_end_ms = min(cmd.played_ms, received_ms)
        if audio_end_ms <= 0:
            self._refuse("Truncate", "nothing of the item was played: truncating at 0 ms")
            return
        self._emit(
            "conversation.item.truncate",
            item_id=cmd.item_id,
            content_index=0,
            audio_end_ms=audio_end_ms,
        )

    # ------------------------------------------------------------------ incoming

    def _receive(self, message: WireMessage) -> None:
        msg = _wire.parse_object(message)
        type_ = get_str(msg, "type")
        if self.beta:
            if type_ in _GA_ONLY:
                self.unknown_count += 1
                return
            type_ = _BETA_RENAMES.get(type_, type_)
        handler = self._handlers.get(type_)
        if handler is not None:
            handler(msg)
        elif type_ not in _IGNORED:
            self.unknown_count += 1

    def _on_session_created(self, msg: dict[str, object]) -> None:
        session = get_obj(msg, "session")
        model = session.get("model")
        self._events.append(
            SessionReady(
                session_id=get_str(session, "id", ""),
                model=model if isinstance(model, str) else "",
            )
        )

    def _on_error(self, msg: dict[str, object]) -> None:
        error = get_obj(msg, "error", required=True)
        code = get_str(error, "code", "")
        event_id = get_str(error, "event_id", "")
        self._events.append(
            ServerError(
                message=get_str(error, "message", ""),
                code=code,
                error_type=get_str(error, "type", ""),
                client_event=self._sent_types.get(event_id, "") if event_id else "",
                fatal=code in FATAL_CODES,
            )
        )

    def _on_speech_started(self, msg: dict[str, object]) -> None:
        self._events.append(
            SpeechStarted(get_int(msg, "audio_start_ms", 0), get_str(msg, "item_id", ""))
        )

    def _on_speech_stopped(self, msg: dict[str, object]) -> None:
        self._events.append(
            SpeechStopped(get_int(msg, "audio_end_ms", 0), get_str(msg, "item_id", ""))
        )

    def _on_committed(self, msg: dict[str, object]) -> None:
        self._buffered_bytes = 0  # the server (VAD) committed the buffer
        self._events.append(InputCommitted(get_str(msg, "item_id", "")))

    def _on_input_delta(self, msg: dict[str, object]) -> None:
        delta = get_str(msg, "delta", "")
        if delta:
            self._events.append(InputTranscript(delta, False, get_str(msg, "item_id", "")))

    def _on_input_done(self, msg: dict[str, object]) -> None:
        self._events.append(
            InputTranscript(get_str(msg, "transcript", ""), True, get_str(msg, "item_id", ""))
        )

    def _on_input_failed(self, msg: dict[str, object]) -> None:
        error = get_obj(msg, "error")
        self._events.append(
            ServerError(
                message=get_str(error, "message", "input transcription failed"),
                code=get_str(error, "code", ""),
                error_type=get_str(error, "type", "transcription_failed"),
            )
        )

    def _on_truncated(self, msg: dict[str, object]) -> None:
        self._events.append(ItemTruncated(get_str(msg, "item_id"), get_int(msg, "audio_end_ms")))

    def _on_response_created(self, msg: dict[str, object]) -> None:
        response = get_obj(msg, "response")
        response_id = get_str(response, "id", "")
        self._response_active = True
        self._response_id = response_id
        self._cancel_sent = False
        self._events.append(ResponseStarted(response_id))

    def _on_audio_delta(self, msg: dict[str, object]) -> None:
        item_id = get_str(msg, "item_id")
        pcm = _wire.b64decode(get_str(msg, "delta"))
        if len(pcm) % 2:
            raise WireError("audio delta has an odd number of bytes (not PCM16)")
        self._item_audio_bytes[item_id] = self._item_audio_bytes.get(item_id, 0) + len(pcm)
        self._events.append(AudioDelta(item_id, pcm, RATE_HZ))

    def _on_audio_done(self, msg: dict[str, object]) -> None:
        self._events.append(AudioDone(get_str(msg, "item_id", "")))

    def _on_transcript_delta(self, msg: dict[str, object]) -> None:
        self._events.append(TranscriptDelta(get_str(msg, "item_id", ""), get_str(msg, "delta")))

    def _on_transcript_done(self, msg: dict[str, object]) -> None:
        self._events.append(
            TranscriptDone(get_str(msg, "item_id", ""), get_str(msg, "transcript", ""))
        )

    def _on_text_done(self, msg: dict[str, object]) -> None:
        self._events.append(TranscriptDone(get_str(msg, "item_id", ""), get_str(msg, "text", "")))

    def _on_function_call(self, msg: dict[str, object]) -> None:
        self._events.append(
            ToolCall(get_str(msg, "call_id"), get_str(msg, "name"), get_str(msg, "arguments", ""))
        )

    def _on_response_done(self, msg: dict[str, object]) -> None:
        response = get_obj(msg, "response")
        usage_obj = response.get("usage")
        usage = parse_usage(get_obj(response, "usage")) if usage_obj is not None else None
        self._response_active = False
        self._cancel_sent = False
        self._events.append(
            ResponseDone(
                response_id=get_str(response, "id", ""),
                status=get_str(response, "status", "completed"),
                usage=usage,
            )
        )
