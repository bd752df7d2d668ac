"""The pure halves of reconnecting, synchronously: which closes and failed reopenings are worth
retrying (``realtime.reconnect_policy``) and what a new connection carries over
(``realtime.carryover.Carryover`` with a real ``ContextLog``). The socket-level behaviour is in
``test_reconnect.py``."""

from __future__ import annotations

import pytest

from realtime.carryover import Carryover
from realtime.context_log import ContextLog
from realtime.events import (
    AddHistoryItem,
    AppendAudio,
    AppendImage,
    Closed,
    InputTranscript,
    ResumptionHandle,
    SendText,
    SessionConfig,
    TranscriptDone,
    UpdateSession,
)
from realtime.reconnect_policy import GiveUp, Retry, after_failed_open, retryable
from realtime.session_errors import (
    KeyRejectedError,
    MissingKeyError,
    SessionError,
    SessionRefusedError,
    TlsError,
)

DROP = Closed(code=1006, reason="abnormal closure")


@pytest.mark.parametrize("code", [1000, 1002, 1003, 1007, 1008, 1010])
def test_a_normal_end_or_our_own_protocol_error_is_not_retried(code: int) -> None:
    assert not retryable(Closed(code=code))


@pytest.mark.parametrize("code", [1001, 1006, 1011, 1012, 4000])
def test_drops_and_server_trouble_are_retried(code: int) -> None:
    assert retryable(Closed(code=code))


@pytest.mark.parametrize(
    "exc",
    [
        KeyRejectedError("api.openai.com", 401),
        MissingKeyError("openai", "OPENAI_API_KEY"),
        TlsError("api.openai.com", "certificate verify failed"),
    ],
)
def test_a_failure_a_person_must_fix_gives_up_on_the_original_close(exc: SessionError) -> None:
    decision = after_failed_open(exc, DROP, resumed=False)
    assert decision == GiveUp(DROP, str(exc))


def test_a_fresh_session_refused_for_good_gives_up_with_the_refusal() -> None:
    refused = Closed(code=1008, reason="model not found")
    exc = SessionRefusedError("127.0.0.1", refused, "no such model")
    assert after_failed_open(exc, DROP, resumed=False) == GiveUp(refused, str(exc))


def test_a_refused_resumption_or_a_passing_refusal_is_retried() -> None:
    refused = Closed(code=1008, reason="bad handle")
    exc = SessionRefusedError("gemini", refused)
    assert after_failed_open(exc, DROP, resumed=True) == Retry(str(exc))
    no_answer = SessionRefusedError("127.0.0.1", None, waited_s=5)
    assert after_failed_open(no_answer, DROP, resumed=False) == Retry(str(no_answer))
    flaky = SessionRefusedError("127.0.0.1", Closed(code=1011, reason="overloaded"))
    assert isinstance(after_failed_open(flaky, DROP, resumed=False), Retry)
    assert after_failed_open(SessionError("reset by peer"), DROP, False) == Retry("reset by peer")


def test_gemini_resumes_with_the_latest_resumable_handle_until_it_is_refused() -> None:
    carry = Carryover(ContextLog())
    config = SessionConfig(instructions="be brief")
    assert carry.config_for("gemini", config) == (config, False)
    carry.observe(ResumptionHandle("h1", resumable=True))
    carry.observe(ResumptionHandle("h2", resumable=False))  # not resumable: h1 stays
    resumed, ok = carry.config_for("gemini", config)
    assert ok and resumed.resumption_handle == "h1" and resumed.instructions == "be brief"
    # OpenAI has no resume: a handle in the caller's config is taken out
    stale = SessionConfig(resumption_handle="h1")
    assert carry.config_for("openai", stale) == (SessionConfig(resumption_handle=None), False)
    carry.handle_refused()
    assert carry.config_for("gemini", config) == (config, False)


def test_while_disconnected_typed_text_is_kept_and_real_time_input_dropped() -> None:
    log = ContextLog()
    carry = Carryover(log)
    assert carry.keep(SendText(text="are you there?"))
    assert carry.keep(AddHistoryItem(role="assistant", text="earlier answer"))
    assert carry.keep(UpdateSession(SessionConfig()))  # its config is the session's to keep
    assert not carry.keep(AppendAudio(pcm=b"\x00\x00" * 240, rate_hz=24000))
    assert not carry.keep(AppendImage(jpeg=b"\xff\xd8"))
    assert [(i.role, i.text) for i in log.items()] == [("assistant", "earlier answer")]


def test_what_was_said_and_typed_becomes_the_context() -> None:
    log = ContextLog()
    carry = Carryover(log)
    carry.observe(InputTranscript(item_id="u1", text="what is this?", final=True))
    carry.observe(TranscriptDone(item_id="a1", text="A red mug."))
    carry.sent(SendText(text="thanks"))
    assert [(i.role, i.text) for i in log.items()] == [
        ("user", "what is this?"),
        ("assistant", "A red mug."),
        ("user", "thanks"),
    ]
