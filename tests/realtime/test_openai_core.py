"""OpenAI Realtime core: emitted messages validate against the SDK, golden streams map to events."""

from __future__ import annotations

import base64
import json
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime.core import ProtocolCore
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
    Event,
    InputCommitted,
    InputTranscript,
    ItemTruncated,
    ProtocolViolation,
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
    TurnDetection,
    UpdateSession,
    Usage,
)
from realtime.openai import OpenAICore
from realtime.openai_endpoint import endpoint
from tests.realtime.sdk_validators import validate_openai_client, validate_openai_server

GOLDEN = Path(__file__).parent / "golden"
MS = 48  # bytes of 24 kHz PCM16 per millisecond


def golden(name: str) -> list[str]:
    return (GOLDEN / name).read_text().splitlines()


def drain(core: OpenAICore) -> list[dict[str, Any]]:
    return [json.loads(m) for m in core.messages()]


def feed(core: OpenAICore, lines: list[str]) -> list[Event]:
    for line in lines:
        core.receive(line)
    return core.events()


def started(**kw: Any) -> OpenAICore:
    core = OpenAICore(**kw)
    core.start(SessionConfig())
    core.messages()
    return core


def test_is_a_protocol_core() -> None:
    core: ProtocolCore = OpenAICore()
    assert (core.provider, core.input_rate_hz, core.output_rate_hz) == ("openai", 24000, 24000)


# ------------------------------------------------------------------ client messages vs SDK

CONFIGS = {
    "default": SessionConfig(),
    "full": SessionConfig(
        model="gpt-realtime",
        instructions="Be brief.",
        voice="marin",
        turn_detection=TurnDetection(idle_timeout_ms=6000, threshold=0.7),
        transcription_model="gpt-4o-mini-transcribe",
    ),
    "semantic": SessionConfig(turn_detection=TurnDetection(mode="semantic_vad", eagerness="low")),
    "push_to_talk": SessionConfig(turn_detection=TurnDetection(mode="none")),
    "text_only": SessionConfig(output_modalities=("text",), input_transcription=False),
    "both_modalities": SessionConfig(output_modalities=("text", "audio")),
}

COMMANDS: dict[str, list[Command]] = {
    "audio": [AppendAudio(b"\x01\x02" * 2400, 24000)],
    "audio_large": [AppendAudio(b"\x00\x01" * 60000, 24000)],
    "image": [AppendImage(b"\xff\xd8\xff\xe0fakejpeg", "low")],
    "text": [SendText("What is this?")],
    "text_no_response": [SendText("Remember this.", respond=False)],
    "history_user": [AddHistoryItem("user", "Earlier question")],
    "history_assistant": [AddHistoryItem("assistant", "Earlier answer")],
    "commit": [AppendAudio(b"\x00" * 200 * MS, 24000), CommitInput()],
    "clear": [ClearInput()],
    "response": [CreateResponse()],
    "response_instructions": [CreateResponse("Answer in French.")],
    "cancel": [CreateResponse(), CancelResponse()],
    "activity": [ActivityStart(), AppendAudio(b"\x00" * 150 * MS, 24000), ActivityEnd()],
    "update": [UpdateSession(SessionConfig(voice="cedar", instructions="x"))],
    "stream_end": [AudioStreamEnd()],
}


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_session_update_validates(config: SessionConfig) -> None:
    core = OpenAICore()
    core.start(config)
    (msg,) = drain(core)
    event = validate_openai_client(msg)
    assert event.type == "session.update" and event.session.type == "realtime"
    td = msg["session"]["audio"]["input"]["turn_detection"]
    if config.turn_detection.mode == "none":
        assert td is None
    else:
        assert td["type"] == config.turn_detection.mode
    assert msg["session"]["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert len(msg["session"]["output_modalities"]) == 1


@pytest.mark.parametrize("commands", COMMANDS.values(), ids=COMMANDS.keys())
def test_every_command_validates(commands: list[Command]) -> None:
    core = started()
    for cmd in commands:
        core.send(cmd)
    msgs = drain(core)
    assert not [e for e in core.events() if isinstance(e, CommandRefused)]
    for msg in msgs:
        validate_openai_client(msg)
        assert msg["event_id"]
    assert len({m["event_id"] for m in msgs}) == len(msgs)


def test_image_is_a_data_url_user_item() -> None:
    core = started()
    core.send(AppendImage(b"JPEGDATA", "high"))
    (msg,) = drain(core)
    (part,) = msg["item"]["content"]
    assert msg["item"]["role"] == "user"
    assert part == {
        "type": "input_image",
        "image_url": "data:image/jpeg;base64," + base64.b64encode(b"JPEGDATA").decode(),
        "detail": "high",
    }


def test_large_append_is_chunked_losslessly() -> None:
    core = started()
    pcm = bytes(range(256)) * 1000  # 256000 bytes, ~5.3 s
    core.send(AppendAudio(pcm, 24000))
    msgs = drain(core)
    assert len(msgs) > 1
    assert b"".join(base64.b64decode(m["audio"]) for m in msgs) == pcm


def test_append_refuses_wrong_rate_and_odd_length() -> None:
    core = started()
    core.send(AppendAudio(b"\x00" * 3200, 16000))
    core.send(AppendAudio(b"\x00" * 3, 24000))
    assert drain(core) == []
    assert [type(e) for e in core.events()] == [CommandRefused, CommandRefused]


def test_text_with_response() -> None:
    core = started()
    core.send(SendText("hi"))
    assert [m["type"] for m in drain(core)] == ["conversation.item.create", "response.create"]


def test_send_rejects_non_commands() -> None:
    with pytest.raises(TypeError):
        OpenAICore().send("hello")  # type: ignore[arg-type]


# ------------------------------------------------------------------ local rules


def test_commit_under_100ms_is_refused() -> None:
    core = started()
    core.send(AppendAudio(b"\x00" * (99 * MS), 24000))
    drain(core)
    core.send(CommitInput())
    assert drain(core) == []
    (refused,) = core.events()
    assert isinstance(refused, CommandRefused) and "100 ms" in refused.reason
    core.send(AppendAudio(b"\x00" * MS, 24000))
    core.send(CommitInput())
    assert [m["type"] for m in drain(core)] == [
        "input_audio_buffer.append",
        "input_audio_buffer.commit",
    ]
    core.send(CommitInput())  # buffer is empty again
    assert drain(core) == []
    assert isinstance(core.events()[-1], CommandRefused)


def test_clear_and_server_commit_reset_the_buffer() -> None:
    core = started()
    core.send(AppendAudio(b"\x00" * (300 * MS), 24000))
    core.send(ClearInput())
    core.send(CommitInput())
    assert [m["type"] for m in drain(core)] == [
        "input_audio_buffer.append",
        "input_audio_buffer.clear",
    ]
    core.send(AppendAudio(b"\x00" * (300 * MS), 24000))
    core.receive(
        json.dumps({"type": "input_audio_buffer.committed", "event_id": "e", "item_id": "i"})
    )
    core.send(CommitInput())
    assert [m["type"] for m in drain(core)] == ["input_audio_buffer.append"]


def test_activity_end_commits_and_responds_only_with_enough_audio() -> None:
    core = started()
    core.send(ActivityStart())
    core.send(AppendAudio(b"\x00" * (50 * MS), 24000))
    core.send(ActivityEnd())
    assert [m["type"] for m in drain(core)] == [
        "input_audio_buffer.clear",
        "input_audio_buffer.append",
    ]
    assert isinstance(core.events()[0], CommandRefused)
    core.send(AppendAudio(b"\x00" * (60 * MS), 24000))
    core.send(ActivityEnd())
    assert [m["type"] for m in drain(core)][-2:] == ["input_audio_buffer.commit", "response.create"]


def test_cancel_without_response_sends_nothing() -> None:
    core = started()
    core.send(CancelResponse())
    assert drain(core) == [] and core.events() == []


def test_cancel_during_response_once() -> None:
    core = started()
    core.receive(
        json.dumps({"type": "response.created", "event_id": "e", "response": {"id": "r1"}})
    )
    core.send(CancelResponse())
    core.send(CancelResponse())
    msgs = drain(core)
    assert [(m["type"], m.get("response_id")) for m in msgs] == [("response.cancel", "r1")]
    validate_openai_client(msgs[0])
    core.receive(json.dumps({"type": "response.done", "event_id": "e2", "response": {"id": "r1"}}))
    core.send(CancelResponse())
    assert drain(core) == []


def _audio_delta(item: str, n_bytes: int) -> str:
    return json.dumps(
        {
            "type": "response.output_audio.delta",
            "event_id": "e",
            "response_id": "r",
            "item_id": item,
            "output_index": 0,
            "content_index": 0,
            "delta": base64.b64encode(b"\x00" * n_bytes).decode(),
        }
    )


@pytest.mark.parametrize(
    ("played_ms", "expected"),
    [(5000, 250), (250, 250), (120, 120), (1, 1), (0, None), (-5, None)],
)
def test_truncate_is_clamped_to_received_audio(played_ms: int, expected: int | None) -> None:
    core = started()
    core.receive(_audio_delta("item_A", 100 * MS))
    core.receive(_audio_delta("item_B", 900 * MS))
    core.receive(_audio_delta("item_A", 150 * MS))
    core.events()
    core.send(Truncate("item_A", played_ms))
    msgs = drain(core)
    if expected is None:
        assert msgs == []
        assert isinstance(core.events()[0], CommandRefused)
    else:
        (msg,) = msgs
        validate_openai_client(msg)
        assert (msg["item_id"], msg["content_index"], msg["audio_end_ms"]) == (
            "item_A",
            0,
            expected,
        )


def test_truncate_unknown_item_is_dropped() -> None:
    core = started()
    core.send(Truncate("item_never_seen", 500))
    assert drain(core) == []
    (refused,) = core.events()
    assert isinstance(refused, CommandRefused) and refused.command == "Truncate"


# ------------------------------------------------------------------ golden server streams

GOLDEN_FILES = [
    "openai_turn.jsonl",
    "openai_interrupt.jsonl",
    "openai_error.jsonl",
    "openai_expired.jsonl",
]

TURN_USAGE = Usage(251, 131, 119, 47, 85, 64, 29, 102)


def _pcm(n: int, seed: int) -> bytes:
    import struct

    return b"".join(struct.pack("<h", ((i * 37 + seed * 101) % 2000) - 1000) for i in range(n))


EXPECTED: dict[str, list[Event]] = {
    "openai_turn.jsonl": [
        SessionReady("sess_C9x2Lh0", "gpt-realtime-2025-08-28"),
        SessionUpdated(),
        SpeechStarted(420, "item_U1"),
        SpeechStopped(2260, "item_U1"),
        InputCommitted("item_U1"),
        ResponseStarted("resp_R1"),
        InputTranscript("What's on", False, "item_U1"),
        InputTranscript(" my desk?", False, "item_U1"),
        InputTranscript("What's on my desk?", True, "item_U1"),
        TranscriptDelta("item_A1", "There is"),
        AudioDelta("item_A1", _pcm(2400, 0), 24000),
        TranscriptDelta("item_A1", " a red mug"),
        AudioDelta("item_A1", _pcm(2400, 1), 24000),
        TranscriptDelta("item_A1", " on your desk."),
        AudioDelta("item_A1", _pcm(2400, 2), 24000),
        AudioDone("item_A1"),
        TranscriptDone("item_A1", "There is a red mug on your desk."),
        ResponseDone("resp_R1", "completed", TURN_USAGE),
    ],
    "openai_interrupt.jsonl": [
        ResponseStarted("resp_R2"),
        TranscriptDelta("item_A2", "Let me tell you a long"),
        AudioDelta("item_A2", _pcm(12000, 7), 24000),
        AudioDelta("item_A2", _pcm(12000, 8), 24000),
        SpeechStarted(9120, "item_U2"),
        AudioDone("item_A2"),
        TranscriptDone("item_A2", "Let me tell you a long"),
        ResponseDone("resp_R2", "cancelled", Usage(120, 40, 80, 40, 0, 0, 10, 30)),
        ItemTruncated("item_A2", 640),
        SpeechStopped(10400, "item_U2"),
    ],
    "openai_error.jsonl": [
        SessionReady("sess_C9x2Lh0", "gpt-realtime-2025-08-28"),
        ServerError(
            "Error committing input audio buffer: buffer too small. Expected at least 100ms of "
            "audio, but buffer only has 0.00ms of audio.",
            "input_audio_buffer_commit_empty",
            "invalid_request_error",
            "input_audio_buffer.commit",
        ),
        ServerError(
            "Cancellation failed: no active response found",
            "response_cancel_not_active",
            "invalid_request_error",
        ),
    ],
    "openai_expired.jsonl": [
        ServerError(
            "Your session hit the maximum duration of 60 minutes.",
            "session_expired",
            "invalid_request_error",
            fatal=True,
        )
    ],
}


def golden_core() -> OpenAICore:
    """A core whose client event ids match the golden error stream (evt_3 is a commit)."""
    core = OpenAICore()
    core.start(SessionConfig())  # evt_1
    core.send(AppendAudio(b"\x00" * (100 * MS), 24000))  # evt_2
    core.send(CommitInput())  # evt_3
    core.messages()
    core.events()
    return core


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_golden_stream_validates_against_sdk(name: str) -> None:
    for line in golden(name):
        validate_openai_server(line)


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_golden_whole(name: str) -> None:
    core = golden_core()
    assert feed(core, golden(name)) == EXPECTED[name]
    assert core.unknown_count == 0


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_golden_one_at_a_time_binary_frames(name: str) -> None:
    core = golden_core()
    events: list[Event] = []
    for line in golden(name):
        core.receive(line.encode())
        events += core.events()
    assert events == EXPECTED[name]


UNKNOWN = [
    json.dumps({"type": "response.future_feature.delta", "event_id": "x", "delta": "?"}),
    json.dumps({"type": "session.telemetry", "event_id": "y"}),
]
GARBAGE: list[str | bytes] = [
    "",
    "not json",
    "{",
    "[1, 2, 3]",
    "null",
    '"a string"',
    "{}",
    '{"type": 5}',
    '{"type": "response.output_audio.delta", "item_id": "i", "delta": "!!not base64!!"}',
    '{"type": "response.output_audio.delta", "item_id": "i", "delta": "AA=="}',
    '{"type": "response.output_audio.delta", "item_id": 7, "delta": "AAAA"}',
    '{"type": "response.done", "response": []}',
    '{"type": "response.done", "response": {"usage": {"input_tokens": "many"}}}',
    '{"type": "error", "error": "boom"}',
    '{"type": "conversation.item.truncated", "item_id": "i", "audio_end_ms": 1.5}',
    '{"type": "input_audio_buffer.speech_started", "audio_start_ms": true}',
    b"\xff\xfe\x00garbage",
    "[" * 100_000,
    '{"type": "' + "x" * 1_000_000 + '"',
    '{"type": "response.output_text.delta", "delta": ' + "1" * 5000 + "}",
]


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_golden_with_unknown_types_and_garbage_between(name: str) -> None:
    core = golden_core()
    events: list[Event] = []
    for line in golden(name):
        for junk in [*UNKNOWN, *GARBAGE]:
            core.receive(junk)
        core.receive(line)
        events += core.events()
    violations = [e for e in events if isinstance(e, ProtocolViolation)]
    assert [e for e in events if not isinstance(e, ProtocolViolation)] == EXPECTED[name]
    assert len(violations) == len(GARBAGE) * len(golden(name))
    assert core.unknown_count == len(UNKNOWN) * len(golden(name))
    for v in violations:
        assert len(v.raw_excerpt) <= 200 and len(v.reason) <= 200
        assert not v.reason.startswith("internal error"), v


def test_violation_excerpt_is_short_and_printable() -> None:
    core = OpenAICore()
    core.receive("\x00" + "y" * 10_000)
    (v,) = core.events()
    assert isinstance(v, ProtocolViolation)
    assert len(v.raw_excerpt) <= 200 and v.raw_excerpt.isprintable()


def _server_event_types() -> list[str]:
    from openai.types.realtime import RealtimeServerEvent

    members = typing.get_args(typing.get_args(RealtimeServerEvent)[0])
    return sorted(typing.get_args(m.model_fields["type"].annotation)[0] for m in members)


@pytest.mark.parametrize("type_", _server_event_types())
def test_every_sdk_server_event_type_is_known(type_: str) -> None:
    """Each GA server event type maps to an event or is explicitly ignored (never 'unknown')."""
    core = OpenAICore()
    core.receive(json.dumps({"type": type_, "event_id": "e"}))
    core.events()  # a ProtocolViolation for missing fields is fine here
    assert core.unknown_count == 0


def test_tool_call() -> None:
    core = OpenAICore()
    msg = {
        "type": "response.function_call_arguments.done",
        "event_id": "e",
        "response_id": "r",
        "item_id": "i",
        "output_index": 0,
        "call_id": "call_1",
        "name": "lookup",
        "arguments": '{"q": 1}',
    }
    validate_openai_server(msg)
    core.receive(json.dumps(msg))
    assert core.events() == [ToolCall("call_1", "lookup", '{"q": 1}')]


def test_transcription_failed_is_a_server_error() -> None:
    core = OpenAICore()
    msg = {
        "type": "conversation.item.input_audio_transcription.failed",
        "event_id": "e",
        "item_id": "i",
        "content_index": 0,
        "error": {"type": "transcription_error", "code": "audio_unintelligible", "message": "no"},
    }
    validate_openai_server(msg)
    core.receive(json.dumps(msg))
    (err,) = core.events()
    assert isinstance(err, ServerError) and err.code == "audio_unintelligible" and not err.fatal


# ------------------------------------------------------------------ determinism


def test_recorded_log_replays_to_the_same_events() -> None:
    """A wire log (commands + server messages interleaved) replayed on fresh cores is identical."""
    log: list[tuple[str, object]] = [("cmd", AppendAudio(b"\x00" * (120 * MS), 24000))]
    for name in GOLDEN_FILES:
        for i, line in enumerate(golden(name)):
            log.append(("in", line))
            if i % 3 == 0:
                log.append(("in", GARBAGE[i % len(GARBAGE)]))
            if i == 2:
                log.append(("cmd", CancelResponse()))
                log.append(("cmd", Truncate("item_A1", 80)))

    def replay() -> tuple[list[Event], list[str | bytes]]:
        core = OpenAICore()
        core.start(CONFIGS["full"])
        events: list[Event] = []
        for kind, payload in log:
            if kind == "in":
                assert isinstance(payload, str | bytes)
                core.receive(payload)
            else:
                core.send(payload)  # type: ignore[arg-type]
            events += core.events()
        return events, core.messages()

    first, second = replay(), replay()
    assert first == second
    assert len(first[0]) > 40


# ------------------------------------------------------------------ beta protocol


def test_beta_session_and_events() -> None:
    core = OpenAICore(beta=True)
    core.start(SessionConfig(voice="alloy", temperature=0.7))
    core.send(AppendImage(b"jpeg"))
    core.send(AddHistoryItem("assistant", "hi"))
    session_update, history = drain(core)
    s = session_update["session"]
    assert "type" not in s and "audio" not in s
    assert (s["input_audio_format"], s["output_audio_format"], s["voice"]) == (
        "pcm16",
        "pcm16",
        "alloy",
    )
    assert s["modalities"] == ["audio", "text"]
    assert history["item"]["content"][0]["type"] == "text"
    assert isinstance(core.events()[0], CommandRefused)  # no images in beta

    audio = base64.b64encode(b"\x01\x00" * 240).decode()
    core.receive(json.dumps({"type": "response.audio.delta", "item_id": "a", "delta": audio}))
    core.receive(
        json.dumps({"type": "response.audio_transcript.delta", "item_id": "a", "delta": "Hi"})
    )
    core.receive(json.dumps({"type": "response.text.done", "item_id": "a", "text": "Hi"}))
    core.receive(
        json.dumps({"type": "response.output_audio.delta", "item_id": "a", "delta": audio})
    )
    assert core.events() == [
        AudioDelta("a", b"\x01\x00" * 240, 24000),
        TranscriptDelta("a", "Hi"),
        TranscriptDone("a", "Hi"),
    ]
    assert core.unknown_count == 1  # GA name on a beta session


def test_ga_core_does_not_know_beta_names() -> None:
    core = OpenAICore()
    core.receive(json.dumps({"type": "response.audio.delta", "item_id": "a", "delta": ""}))
    assert core.events() == [] and core.unknown_count == 1


# ------------------------------------------------------------------ endpoint


def test_endpoint_default() -> None:
    ep = endpoint("sk-test")
    assert ep.url == "wss://api.openai.com/v1/realtime?model=gpt-realtime"
    assert ep.headers == (("Authorization", "Bearer sk-test"),)
    assert ep.secret_headers == ("Authorization",)
    assert "sk-test" not in ep.url


def test_endpoint_local_azure_beta() -> None:
    local = endpoint("k", model="gpt-realtime", base_url="http://127.0.0.1:8123/v1/")
    assert local.url == "ws://127.0.0.1:8123/v1/realtime?model=gpt-realtime"
    az = endpoint(
        "azkey", model="my deploy", base_url="https://x.openai.azure.com/openai/v1", azure=True
    )
    assert az.url == "wss://x.openai.azure.com/openai/v1/realtime?model=my%20deploy"
    assert az.headers == (("api-key", "azkey"),) and az.secret_headers == ("api-key",)
    beta = endpoint("k", beta=True)
    assert ("OpenAI-Beta", "realtime=v1") in beta.headers
    with pytest.raises(ValueError):
        endpoint("k", azure=True)
    with pytest.raises(ValueError):
        endpoint("k", base_url="ftp://host/v1")


# ------------------------------------------------------------------ fuzz

_KNOWN_TYPES = [*_server_event_types(), "response.audio.delta", "nonsense"]
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_FIELDS = ["item_id", "delta", "response", "error", "usage", "session", "audio_end_ms",
           "audio_start_ms", "transcript", "text", "call_id", "name", "arguments", "status",
           "input_token_details", "event_id", "code", "message", "id"]  # fmt: skip
_b64ish = st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()) | st.text(max_size=10)
_messages = st.fixed_dictionaries(
    {"type": st.sampled_from(_KNOWN_TYPES)},
    optional={
        f: _json | _b64ish | st.dictionaries(st.sampled_from(_FIELDS), _json) for f in _FIELDS
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        _messages.map(json.dumps),
        _messages.map(lambda m: json.dumps(m).encode()),
        st.text(max_size=50),
        st.binary(max_size=50),
        _json.map(json.dumps),
    ),
    st.booleans(),
)
def test_fuzz_receive_never_raises(message: str | bytes, beta: bool) -> None:
    core = OpenAICore(beta=beta)
    core.receive(message)
    for event in core.events():
        if isinstance(event, ProtocolViolation):
            assert not event.reason.startswith("internal error"), (event, message)
            assert len(event.raw_excerpt) <= 200


def test_cores_import_nothing_impure() -> None:
    """Importing the cores pulls in no I/O, clock, randomness or numpy (beyond the baseline)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "bad = ('asyncio', 'websockets', 'socket', 'time', 'random', 'numpy', 'threading')\n"
        "before = {m for m in bad if m in sys.modules}\n"
        "import realtime.openai, realtime.gemini\n"
        "print(sorted({m for m in bad if m in sys.modules} - before))\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
