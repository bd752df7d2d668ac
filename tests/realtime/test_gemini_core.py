"""Gemini Live core: emitted messages validate against google-genai; golden streams → events."""

from __future__ import annotations

import base64
import json
import struct
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
    GoAway,
    InputTranscript,
    Interrupted,
    ProtocolViolation,
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
from realtime.gemini import GeminiCore
from realtime.gemini_endpoint import WS_PATH, endpoint
from realtime.gemini_payloads import parse_duration_ms
from tests.realtime.sdk_validators import validate_gemini_client, validate_gemini_server

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_FILES = ["gemini_turn.jsonl", "gemini_interrupted.jsonl", "gemini_session.jsonl"]


def golden(name: str) -> list[str]:
    return (GOLDEN / name).read_text().splitlines()


def drain(core: GeminiCore) -> list[dict[str, Any]]:
    return [json.loads(m) for m in core.messages()]


def started(config: SessionConfig | None = None) -> GeminiCore:
    core = GeminiCore()
    core.start(config or SessionConfig())
    core.messages()
    return core


def _pcm(n: int, seed: int) -> bytes:
    return b"".join(struct.pack("<h", ((i * 37 + seed * 101) % 2000) - 1000) for i in range(n))


def test_is_a_protocol_core() -> None:
    core: ProtocolCore = GeminiCore()
    assert (core.provider, core.input_rate_hz, core.output_rate_hz) == ("gemini", 16000, 24000)


# ------------------------------------------------------------------ client messages vs SDK

PTT = SessionConfig(turn_detection=TurnDetection(mode="none"))
CONFIGS = {
    "default": SessionConfig(),
    "full": SessionConfig(
        model="models/gemini-live-2.5-flash",
        instructions="Be brief.",
        voice="Puck",
        resumption_handle="CiQ0ZTc2",
        temperature=0.6,
        turn_detection=TurnDetection(threshold=0.8, silence_duration_ms=700),
    ),
    "semantic": SessionConfig(turn_detection=TurnDetection(mode="semantic_vad", eagerness="high")),
    "no_interrupt": SessionConfig(turn_detection=TurnDetection(interrupt_response=False)),
    "push_to_talk": PTT,
    "text_only": SessionConfig(
        output_modalities=("text",),
        input_transcription=False,
        output_transcription=False,
        context_compression=False,
    ),
}

COMMANDS: dict[str, tuple[SessionConfig, list[Command]]] = {
    "audio": (SessionConfig(), [AppendAudio(b"\x01\x02" * 1600, 16000)]),
    "audio_large": (SessionConfig(), [AppendAudio(b"\x00\x01" * 50000, 16000)]),
    "image": (SessionConfig(), [AppendImage(b"\xff\xd8\xff\xe0fakejpeg")]),
    "text": (SessionConfig(), [SendText("What is this?")]),
    "text_no_response": (SessionConfig(), [SendText("Remember this.", respond=False)]),
    "history": (SessionConfig(), [AddHistoryItem("user", "Q"), AddHistoryItem("assistant", "A")]),
    "response": (SessionConfig(), [CreateResponse()]),
    "response_instructions": (SessionConfig(), [CreateResponse("Answer in French.")]),
    "stream_end": (SessionConfig(), [AudioStreamEnd()]),
    "commit_auto": (SessionConfig(), [CommitInput()]),
    "activity": (PTT, [ActivityStart(), AppendAudio(b"\x00" * 3200, 16000), ActivityEnd()]),
    "commit_manual": (PTT, [ActivityStart(), CommitInput()]),
}


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_setup_validates(config: SessionConfig) -> None:
    core = GeminiCore()
    core.start(config)
    (msg,) = drain(core)
    validate_gemini_client(msg)
    setup = msg["setup"]
    assert setup["model"].startswith("models/") and not setup["model"].startswith("models/models/")
    aad = setup["realtimeInputConfig"]["automaticActivityDetection"]
    assert aad["disabled"] is (config.turn_detection.mode == "none")
    assert ("contextWindowCompression" in setup) is config.context_compression
    assert ("inputAudioTranscription" in setup) is config.input_transcription
    if config.resumption_handle:
        assert setup["sessionResumption"] == {"handle": config.resumption_handle}


def _camel_keys(value: Any) -> Any:
    def camel(k: str) -> str:
        head, *rest = k.split("_")
        return head + "".join(p[:1].upper() + p[1:] for p in rest)

    if isinstance(value, dict):
        return {camel(k): _camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel_keys(v) for v in value]
    return value


def test_setup_equals_what_the_sdk_client_sends() -> None:
    """Our setup matches google-genai's own LiveConnectConfig → wire conversion."""
    from google import genai
    from google.genai import _common, types
    from google.genai import _live_converters as lc

    config = CONFIGS["full"]
    sdk_config = types.LiveConnectConfig(
        response_modalities=["AUDIO"],
        temperature=0.6,
        speech_config=types.SpeechConfig(
            voice_config=types.VoiceConfig(
                prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name="Puck")
            )
        ),
        system_instruction=types.Content(parts=[types.Part(text="Be brief.")]),
        realtime_input_config=types.RealtimeInputConfig(
            automatic_activity_detection=types.AutomaticActivityDetection(
                disabled=False,
                prefix_padding_ms=300,
                silence_duration_ms=700,
                start_of_speech_sensitivity="START_SENSITIVITY_LOW",
            ),
            activity_handling="START_OF_ACTIVITY_INTERRUPTS",
        ),
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
        context_window_compression=types.ContextWindowCompressionConfig(
            sliding_window=types.SlidingWindow()
        ),
        session_resumption=types.SessionResumptionConfig(handle="CiQ0ZTc2"),
    )
    client = genai.Client(api_key="unused")
    params = types.LiveConnectParameters(model="models/gemini-live-2.5-flash", config=sdk_config)
    sdk_msg = _common.convert_to_dict(
        lc._LiveConnectParameters_to_mldev(
            api_client=client._api_client, from_object=params.model_dump(exclude_none=True)
        )
    )
    sdk_setup = _camel_keys(json.loads(json.dumps(sdk_msg["setup"], default=str)))
    core = GeminiCore()
    core.start(config)
    (ours,) = drain(core)
    assert ours["setup"] == sdk_setup


@pytest.mark.parametrize(("config", "commands"), COMMANDS.values(), ids=COMMANDS.keys())
def test_every_command_validates(config: SessionConfig, commands: list[Command]) -> None:
    core = started(config)
    for cmd in commands:
        core.send(cmd)
    assert not core.events()
    msgs = drain(core)
    assert msgs
    for msg in msgs:
        validate_gemini_client(msg)


def test_audio_and_video_shapes() -> None:
    core = started()
    core.send(AppendAudio(b"\x01\x00" * 20000, 16000))  # 40000 bytes → two messages
    core.send(AppendImage(b"JPEG"))
    *audio, video = drain(core)
    assert len(audio) == 2
    assert {a["realtimeInput"]["audio"]["mimeType"] for a in audio} == {"audio/pcm;rate=16000"}
    joined = b"".join(base64.b64decode(a["realtimeInput"]["audio"]["data"]) for a in audio)
    assert joined == b"\x01\x00" * 20000
    assert video == {
        "realtimeInput": {
            "video": {"mimeType": "image/jpeg", "data": base64.b64encode(b"JPEG").decode()}
        }
    }


def test_manual_activity() -> None:
    core = started(PTT)
    core.send(ActivityEnd())  # nothing started
    core.send(ActivityStart())
    core.send(ActivityStart())  # already open: nothing more
    core.send(ActivityEnd())
    assert drain(core) == [
        {"realtimeInput": {"activityStart": {}}},
        {"realtimeInput": {"activityEnd": {}}},
    ]
    assert [type(e) for e in core.events()] == [CommandRefused]


def test_activity_refused_with_automatic_detection() -> None:
    core = started()
    core.send(ActivityStart())
    core.send(ActivityEnd())
    assert drain(core) == []
    assert [type(e) for e in core.events()] == [CommandRefused, CommandRefused]


@pytest.mark.parametrize("cmd", [CancelResponse(), Truncate("item_1", 500), ClearInput()])
def test_no_wire_message_for_cancel_truncate_clear(cmd: Command) -> None:
    core = started()
    core.receive(golden("gemini_turn.jsonl")[3])  # some model audio exists
    core.events()
    core.send(cmd)
    assert drain(core) == [] and core.events() == []


def test_update_session_is_refused() -> None:
    core = started()
    core.send(UpdateSession(SessionConfig(voice="Kore")))
    assert drain(core) == []
    (refused,) = core.events()
    assert isinstance(refused, CommandRefused) and "reconnect" in refused.reason


def test_send_rejects_non_commands() -> None:
    with pytest.raises(TypeError):
        GeminiCore().send(42)  # type: ignore[arg-type]


# ------------------------------------------------------------------ golden server streams

TURN_USAGE = Usage(412, 96, 112, 42, 258, 0, 0, 96)

EXPECTED: dict[str, list[Event]] = {
    "gemini_turn.jsonl": [
        SessionReady("", "gemini-2.5-flash-native-audio-preview-09-2025"),
        InputTranscript("What's on", False, "item_1"),
        InputTranscript(" my desk?", False, "item_1"),
        ResponseStarted("item_2"),
        AudioDelta("item_2", _pcm(2400, 20), 24000),
        TranscriptDelta("item_2", "A red mug"),
        AudioDelta("item_2", _pcm(2400, 21), 24000),
        TranscriptDelta("item_2", " and a"),
        AudioDelta("item_2", _pcm(2400, 22), 24000),
        TranscriptDelta("item_2", " notebook."),
        AudioDone("item_2"),
        InputTranscript("What's on my desk?", True, "item_1"),
        TranscriptDone("item_2", "A red mug and a notebook."),
        ResponseDone("item_2", "completed", TURN_USAGE),
        TurnComplete(),
    ],
    "gemini_interrupted.jsonl": [
        ResponseStarted("item_1"),
        AudioDelta("item_1", _pcm(4800, 30), 24000),
        TranscriptDelta("item_1", "Once upon a time"),
        Interrupted(),
        AudioDone("item_1"),
        TranscriptDone("item_1", "Once upon a time"),
        ResponseDone("item_1", "cancelled", None),
        InputTranscript("Stop, please.", False, "item_2"),
        ResponseStarted("item_3"),
        AudioDelta("item_3", _pcm(2400, 31), 24000),
        TranscriptDelta("item_3", "Sure."),
        InputTranscript("Stop, please.", True, "item_2"),
        AudioDone("item_3"),
        TranscriptDone("item_3", "Sure."),
        ResponseDone("item_3", "completed", None),
        TurnComplete(),
    ],
    "gemini_session.jsonl": [
        SessionReady("live_9f2c", "gemini-2.5-flash-native-audio-preview-09-2025"),
        ResumptionHandle("CiQ0ZTc2YjU2Mi1lNDBk", True),
        ToolCall("call_7", "get_time", '{"tz":"UTC"}'),
        GoAway(10000),
        GoAway(1500),
    ],
}


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_golden_stream_validates_against_sdk(name: str) -> None:
    for line in golden(name):
        validate_gemini_server(line)


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_golden_whole_binary_frames(name: str) -> None:
    core = started()
    for line in golden(name):
        core.receive(line.encode())
    assert core.events() == EXPECTED[name]
    assert core.unknown_count == 0


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_golden_one_at_a_time_text_frames(name: str) -> None:
    core = started()
    events: list[Event] = []
    for line in golden(name):
        core.receive(line)
        events += core.events()
    assert events == EXPECTED[name]


def test_golden_snake_case_spelling() -> None:
    """The SDK's model_dump() spells fields in snake_case; the core reads both."""
    from google.genai import types

    core = started()
    for line in golden("gemini_turn.jsonl"):
        snake = types.LiveServerMessage.model_validate_json(line).model_dump(
            mode="json", exclude_none=True
        )
        core.receive(json.dumps(snake))
    assert core.events() == EXPECTED["gemini_turn.jsonl"]


UNKNOWN = [json.dumps({"futureThing": {"x": 1}}), json.dumps({})]
GARBAGE: list[str | bytes] = [
    "",
    "not json",
    "[1]",
    "null",
    b"\x80\x81binary junk",
    '{"serverContent": 5}',
    '{"serverContent": {"modelTurn": {"parts": [{"inlineData": {"mimeType": "audio/pcm", '
    '"data": "***"}}]}}}',
    '{"serverContent": {"modelTurn": {"parts": [{"inlineData": {"mimeType": "audio/pcm", '
    '"data": "AA=="}}]}}}',
    '{"serverContent": {"modelTurn": {"parts": ["text"]}}}',
    '{"serverContent": {"outputTranscription": {"text": 12}}}',
    '{"goAway": {"timeLeft": "soon"}}',
    '{"goAway": {"timeLeft": 10}}',
    '{"toolCall": {"functionCalls": [{"name": "f", "args": [1]}]}}',
    '{"usageMetadata": {"promptTokenCount": "lots"}}',
    '{"sessionResumptionUpdate": {"newHandle": ["x"]}}',
    "{" * 50_000,
    '{"setupComplete": {"sessionId": "' + "z" * 500_000 + '", "bogus": }',
]


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_golden_with_unknown_types_and_garbage_between(name: str) -> None:
    core = started()
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


def test_voice_activity_and_vad_signal() -> None:
    msgs = [
        {"voiceActivity": {"voiceActivityType": "ACTIVITY_START", "audioOffset": "1.25s"}},
        {"voiceActivity": {"voiceActivityType": "ACTIVITY_END", "audioOffset": "3s"}},
        {"voiceActivityDetectionSignal": {"vadSignalType": "VAD_SIGNAL_TYPE_SOS"}},
        {"voiceActivityDetectionSignal": {"vadSignalType": "VAD_SIGNAL_TYPE_EOS"}},
    ]
    core = started()
    for m in msgs:
        validate_gemini_server(m)
        core.receive(json.dumps(m))
    assert core.events() == [
        SpeechStarted(audio_start_ms=1250),
        SpeechStopped(audio_end_ms=3000),
        SpeechStarted(),
        SpeechStopped(),
    ]


@pytest.mark.parametrize(
    ("text", "ms"),
    [("10s", 10000), ("1.5s", 1500), ("0.000340s", 0), ("59.999s", 59999), ("-1s", 0)],
)
def test_parse_duration(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms


def test_text_modality_parts_become_transcript() -> None:
    core = started(CONFIGS["text_only"])
    msg = {
        "serverContent": {"modelTurn": {"parts": [{"text": "Hi"}, {"text": "x", "thought": True}]}}
    }
    validate_gemini_server(msg)
    core.receive(json.dumps(msg))
    assert core.events() == [ResponseStarted("item_1"), TranscriptDelta("item_1", "Hi")]


# ------------------------------------------------------------------ determinism


def test_recorded_log_replays_to_the_same_events() -> None:
    log: list[str | bytes] = []
    for name in GOLDEN_FILES:
        for i, line in enumerate(golden(name)):
            log.append(line if i % 2 else line.encode())
            if i % 3 == 0:
                log.append(GARBAGE[i % len(GARBAGE)])

    def replay() -> list[Event]:
        core = GeminiCore()
        core.start(CONFIGS["full"])
        events: list[Event] = []
        for m in log:
            core.receive(m)
            events += core.events()
        return events

    first = replay()
    assert first == replay()
    assert len(first) > 30


# ------------------------------------------------------------------ endpoint


def test_endpoint() -> None:
    ep = endpoint("AIza-test")
    assert ep.url == "wss://generativelanguage.googleapis.com" + WS_PATH
    assert ep.headers == (("x-goog-api-key", "AIza-test"),)
    assert ep.secret_headers == ("x-goog-api-key",)
    assert "AIza" not in ep.url and "key=" not in ep.url
    assert endpoint("k", "http://127.0.0.1:9100").url == "ws://127.0.0.1:9100" + WS_PATH
    assert endpoint("k", "ws://127.0.0.1:9100/ws/custom").url == "ws://127.0.0.1:9100/ws/custom"
    with pytest.raises(ValueError):
        endpoint("k", "wss://host/ws/x?key=SECRET")
    with pytest.raises(ValueError):
        endpoint("k", "file:///tmp")


# ------------------------------------------------------------------ fuzz

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_b64ish = st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()) | st.text(max_size=10)
_mime = st.sampled_from(["audio/pcm;rate=24000", "audio/pcm", "audio/pcm;rate=0", "image/png", ""])
_part = st.fixed_dictionaries(
    {},
    optional={
        "inlineData": st.fixed_dictionaries({"mimeType": _mime, "data": _b64ish}) | _json,
        "text": st.text(max_size=10) | _json,
        "thought": st.booleans() | _json,
    },
)
_content = st.fixed_dictionaries(
    {},
    optional={
        "modelTurn": st.fixed_dictionaries({"parts": st.lists(_part, max_size=3) | _json}) | _json,
        "inputTranscription": st.fixed_dictionaries({"text": st.text(max_size=10) | _json}),
        "outputTranscription": st.fixed_dictionaries({"text": st.text(max_size=10) | _json}),
        "interrupted": st.booleans() | _json,
        "generationComplete": st.booleans() | _json,
        "turnComplete": st.booleans() | _json,
    },
)
_message = st.fixed_dictionaries(
    {},
    optional={
        "setupComplete": _json,
        "serverContent": _content | _json,
        "usageMetadata": st.dictionaries(
            st.sampled_from(["promptTokenCount", "promptTokensDetails", "responseTokenCount"]),
            _json,
        ),
        "goAway": st.fixed_dictionaries({"timeLeft": st.from_regex(r"-?\d{0,14}(\.\d{0,12})?s?")})
        | _json,
        "sessionResumptionUpdate": _json,
        "toolCall": st.fixed_dictionaries({"functionCalls": st.lists(_json, max_size=3)}) | _json,
        "voiceActivity": _json,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        _message.map(json.dumps),
        _message.map(lambda m: json.dumps(m).encode()),
        st.text(max_size=50),
        st.binary(max_size=50),
        _json.map(json.dumps),
    )
)
def test_fuzz_receive_never_raises(message: str | bytes) -> None:
    core = GeminiCore()
    core.receive(message)
    for event in core.events():
        if isinstance(event, ProtocolViolation):
            assert not event.reason.startswith("internal error"), (event, message)
            assert len(event.raw_excerpt) <= 200
