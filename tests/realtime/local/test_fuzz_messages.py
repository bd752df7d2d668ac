"""Fuzzing the offline server's message handling over a real socket (bounded; the long run is
``bench/fuzz_local_server.py``).

Each case opens a WebSocket to the session's real ``voicecam-server`` (``local_server`` fixture:
models loaded once), sends fuzzed client messages, then a sentinel ``conversation.item.retrieve``
whose ``error`` reply proves the session still runs. Every reply must be an OpenAI-shaped server
event (the official SDK's types). An exception escaping the server's handler would close the
connection (1011) before the sentinel is answered and print a traceback on the server's stderr.

The deterministic cases below are the bugs the long fuzz run found (the reason names the fix);
they were fixed in the server and now run as regression tests.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from realtime.local.protocol import CLIENT_EVENT_TYPES
from tests.realtime.sdk_validators import validate_openai_server

pytestmark = pytest.mark.models

# Every event type the server accepts (from the server itself), plus unknown ones.
_CLIENT_TYPES = [*sorted(CLIENT_EVENT_TYPES), "unknown.event"]
_KEYS = [
    "type",
    "event_id",
    "session",
    "audio",
    "item",
    "item_id",
    "content",
    "content_index",
    "audio_end_ms",
    "response",
    "role",
    "text",
    "image_url",
    "input",
    "output",
    "format",
    "turn_detection",
    "output_modalities",
    "instructions",
    "transcript",
]


class Client:
    """A sync WebSocket client to the local server that validates every reply."""

    def __init__(self, server: Any) -> None:
        self.ws = connect(
            server.url + "?model=fuzz",
            additional_headers={"Authorization": f"Bearer {server.token}"},
            max_size=None,
            open_timeout=30,
        )
        self.replies: list[dict[str, Any]] = []
        self._n = 0
        first = self.recv()
        assert first["type"] == "session.created"

    def recv(self, timeout: float = 30.0) -> dict[str, Any]:
        raw = self.ws.recv(timeout)
        event = json.loads(raw)
        validate_openai_server(event)  # pydantic.ValidationError: not OpenAI-shaped
        self.replies.append(event)
        return event

    def send(self, raw: str | bytes) -> None:
        self.ws.send(raw)

    def alive(self) -> None:
        """Send a sentinel and read (validating) every reply until its error event."""
        self._n += 1
        sid = f"sentinel_{self._n}"
        self.ws.send(
            json.dumps({"type": "conversation.item.retrieve", "item_id": sid, "event_id": sid})
        )
        while True:
            try:
                event = self.recv()
            except ConnectionClosed as exc:
                pytest.fail(f"the server closed the session ({exc.rcvd}) instead of answering")
            if event["type"] == "error" and event["error"].get("event_id") == sid:
                return

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(scope="module")
def client_factory(local_server: Any) -> Any:
    clients: list[Client] = []

    def make() -> Client:
        c = Client(local_server)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()
    assert local_server.proc.poll() is None, "the server exited"


def _tracebacks(server: Any, since: int) -> list[str]:
    return [ln for ln in server.lines[since:] if "Traceback" in ln or "handler failed" in ln]


# ----------------------------------------------------------------------------- strategies

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(_CLIENT_TYPES)
    | st.sampled_from(["file:///etc/passwd", "/etc/hostname", "data:image/png;base64,AAAA"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _seed(etype: str) -> dict[str, Any]:
    silence = base64.b64encode(bytes(2 * 24 * 40)).decode()
    return {
        "session.update": {"type": "session.update", "session": {"type": "realtime"}},
        "input_audio_buffer.append": {"type": "input_audio_buffer.append", "audio": silence},
        "conversation.item.create": {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "hi"}],
            },
        },
        "conversation.item.truncate": {
            "type": "conversation.item.truncate",
            "item_id": "x",
            "content_index": 0,
            "audio_end_ms": 0,
        },
    }.get(etype, {"type": etype})


@st.composite
def mutated_events(draw: Any) -> str | bytes:
    """A seed client event with fields replaced/added at the top or one level down."""
    event = _seed(draw(st.sampled_from(_CLIENT_TYPES)))
    for _ in range(draw(st.integers(0, 3))):
        target = event
        nested = [v for v in event.values() if isinstance(v, dict)]
        if nested and draw(st.booleans()):
            target = draw(st.sampled_from(nested))
        target[draw(st.sampled_from(_KEYS))] = draw(json_values)
    text = json.dumps(event)
    if draw(st.booleans()):
        return text.encode()
    return text


raw_frames = (
    st.binary(max_size=64)
    | st.text(max_size=64)
    | st.sampled_from(["", "null", "[]", "{}", '{"type": null}', "[" * 3000, '{"a":' * 800])
)
messages = st.lists(mutated_events() | json_values.map(json.dumps) | raw_frames, max_size=4)


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(batch=messages)
def _fuzz_batch(client_factory: Any, batch: list[Any]) -> None:
    client = client_factory()
    try:
        for raw in batch:
            client.send(raw)
        client.alive()
    finally:
        client.close()
    internal = [e for e in client.replies if e["type"] == "error" and _internal(e)]
    assert not internal, internal  # the server's safety net caught a bug


def _internal(event: dict[str, Any]) -> bool:
    return event["error"].get("code") == "server_error"


def test_fuzzed_messages_never_break_the_session(client_factory: Any, local_server: Any) -> None:
    since = len(local_server.lines)
    _fuzz_batch(client_factory)
    assert not _tracebacks(local_server, since), "\n".join(local_server.lines[since:][-40:])


# ----------------------------------------------------------------------------- found by the bench


def _one(client_factory: Any, event: Any) -> list[dict[str, Any]]:
    client = client_factory()
    try:
        client.send(event if isinstance(event, str | bytes) else json.dumps(event))
        if isinstance(event, dict) and event.get("type") == "response.create":
            # A response runs to response.done, or the request is refused with an error.
            while client.recv(60)["type"] not in ("response.done", "error"):
                pass
        client.alive()
        return client.replies
    finally:
        client.close()


FOUND = {
    "deep_nesting": (
        "[" * 50_000,
        "protocol.parse_client_event: json.loads raises RecursionError (not JSONDecodeError) for "
        "deeply nested JSON and it escapes handle(); catch RecursionError → invalid_json",
    ),
    "audio_not_object": (
        {"type": "session.update", "session": {"type": "realtime", "audio": {"input": 1}}},
        "connection._on_session_update: session.audio / .input / .output / .format are used "
        "with .get() unchecked (AttributeError escapes); refuse non-objects with invalid_type",
    ),
    "unknown_eagerness": (
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "audio": {"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "x"}}},
            },
        },
        "connection._vad_params: _SEMANTIC_SILENCE_MS[eagerness] KeyError for an unknown "
        "eagerness; validate eagerness ∈ low/medium/high/auto in _on_session_update",
    ),
    "non_string_event_id_echoed": (
        {"type": "input_audio_buffer.commit", "event_id": [1, 2]},
        "protocol.error_event echoes a non-string client event_id (error.event_id must be a "
        "string): use exc.event_id only if isinstance(str), in require()/handlers too",
    ),
    "metadata_not_strings": (
        {"type": "response.create", "response": {"metadata": {"k": None}, "max_output_tokens": 1}},
        "connection._on_response_create: response.metadata is echoed unchecked; the SDK needs "
        "dict[str, str] (≤16 keys) — refuse anything else with invalid_type",
    ),
    "transcription_not_object": (
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"transcription": 5}}},
        },
        "connection._on_session_update: audio.input.transcription stored and echoed unchecked "
        "(must be null or an object whose model is a string)",
    ),
    "system_text_part": (
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "system",
                "content": [{"type": "text", "text": "be brief"}],
            },
        },
        "connection._on_conversation_item_create: a system part of type 'text' is echoed as "
        "'text' but the SDK's system message allows only 'input_text' (normalise or refuse)",
    ),
    "transcript_not_string": (
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_audio", "transcript": ["x"]}],
            },
        },
        "connection._on_conversation_item_create: output_audio/input_audio 'transcript' is not "
        "type-checked (a list breaks Item.text() in a later response and the echoed item)",
    ),
}


@pytest.mark.parametrize("name", sorted(FOUND))
def test_bugs_found_by_fuzzing(client_factory: Any, name: str, request: Any) -> None:
    event, reason = FOUND[name]
    del reason  # fixed in realtime/local (session_config.py, protocol.py, connection.py)
    replies = _one(client_factory, event)
    if name == "transcript_not_string":  # the damage shows once a response reads the history
        client = client_factory()
        try:
            client.send(json.dumps(event))
            client.send(
                json.dumps(
                    {
                        "type": "response.create",
                        "response": {"output_modalities": ["text"], "max_output_tokens": 2},
                    }
                )
            )
            while client.recv(60)["type"] != "response.done":
                pass
            client.alive()
            replies = replies + client.replies
        finally:
            client.close()
    assert replies
    assert not [e for e in replies if e["type"] == "error" and _internal(e)], replies


# Found by the fuzz bench; fixed in session_config.py (eagerness must be a string).
def test_unhashable_eagerness_is_refused_not_an_internal_error(client_factory: Any) -> None:
    event = {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "audio": {"input": {"turn_detection": {"type": "semantic_vad", "eagerness": {"a": 1}}}},
        },
    }
    replies = _one(client_factory, event)
    assert not [e for e in replies if e["type"] == "error" and _internal(e)], replies
