"""Pure and small parts of app/: transcript, pricing, state, latency, settings, secrets, logging,
backends, the file audio port, and the offline-server supervisor (with a stand-in command)."""

from __future__ import annotations

import logging
import sys
import textwrap
import time
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from app.backends import BackendError, resolve
from app.config import Settings, SettingsError
from app.file_audio import FileAudio
from app.latency import LatencyTracker
from app.local_server import LocalServer, LocalServerError
from app.logging_setup import RedactingFilter, register_secret
from app.pricing import CostMeter, PriceTable, PricingError
from app.secrets import api_key, masked, store_key
from app.state import ConversationState as S
from app.state import InvalidTransition, StateMachine
from app.transcript import Transcript
from dsp.pcm import read_wav
from realtime.events import Usage
from realtime.session import MissingKeyError

# ------------------------------------------------------------------ transcript


def test_interrupted_turn_splits_heard_and_unheard_at_a_word() -> None:
    t = Transcript()
    t.assistant_delta("a", "The mug on your desk is red and ")
    t.assistant_delta("a", "the sign says exit.")
    t.assistant_interrupted("a", played_ms=500, received_ms=1000)
    turn = t.turns()[0]
    assert turn.interrupted and turn.heard_fraction == 0.5
    assert turn.heard_text + " " + turn.unheard_text == turn.text
    assert not turn.heard_text.endswith(" ") and " " not in turn.heard_text[-1:]
    assert turn.text.startswith(turn.heard_text) and turn.heard_text.count(" ") >= 3
    t.assistant_interrupted("a", played_ms=0, received_ms=1000)
    assert t.turns()[0].heard_text == "" and t.turns()[0].unheard_text == turn.text


def test_late_user_transcript_lands_before_the_reply() -> None:
    t = Transcript()
    t.user_started()
    t.assistant_delta("a1", "Hello")
    t.user_transcript("What is this?", final=True, item_id="u1")
    assert [(x.role, x.text) for x in t.turns()] == [
        ("user", "What is this?"),
        ("assistant", "Hello"),
    ]


def test_gemini_deltas_without_ids_build_one_user_turn() -> None:
    t = Transcript()
    t.user_transcript("What", final=False)
    t.user_transcript(" is this?", final=False)
    t.close_user_partials()
    (turn,) = t.turns()
    assert turn.text == "What is this?" and not turn.partial


def test_empty_assistant_done_creates_no_turn_and_empty_user_turn_stays_open() -> None:
    t = Transcript()
    t.assistant_done("x", "")
    t.user_started()
    t.close_user_partials()
    (turn,) = t.turns()
    assert turn.role == "user" and turn.partial


# ------------------------------------------------------------------ pricing


def test_cost_of_gpt_realtime_usage_with_cached_tokens() -> None:
    table = PriceTable.load()
    assert table.as_of
    price = table.lookup("gpt-realtime-2025-08-28")
    assert price is not None and price.name == "gpt-realtime"
    assert table.lookup("gpt-realtime-mini-2025").name == "gpt-realtime-mini"  # type: ignore[union-attr]
    u = Usage(
        input_tokens=1000, output_tokens=100, input_audio_tokens=1000, output_audio_tokens=100
    )
    assert price.cost(u) == pytest.approx((1000 * 32 + 100 * 64) / 1e6)
    cached = Usage(input_tokens=1000, input_audio_tokens=1000, input_cached_tokens=400)
    assert price.cost(cached) == pytest.approx((600 * 32 + 400 * 0.4) / 1e6)


def test_meter_free_unknown_and_override(tmp_path: Path) -> None:
    table = PriceTable.load()
    free = CostMeter(table, "smollm2", free=True)
    assert free.add(Usage(input_tokens=5000, output_tokens=5000)) == 0.0
    assert "free" in free.describe()
    unknown = CostMeter(table, "mystery-model")
    unknown.add(Usage(input_tokens=10))
    assert not unknown.known and "unknown" in unknown.describe()
    override = tmp_path / "pricing.toml"
    override.write_text('as_of = "2030-01-01"\n[models."mystery-model"]\ntext_input = 1.0\n')
    t2 = PriceTable.load(override=override)
    assert t2.as_of == "2030-01-01" and t2.lookup("mystery-model") is not None
    override.write_text("not = [toml")
    with pytest.raises(PricingError, match="not valid TOML"):
        PriceTable.load(override=override)


# ------------------------------------------------------------------ state and latency


def test_state_machine_rejects_impossible_transitions() -> None:
    sm = StateMachine()
    assert sm.go(S.CONNECTING) and not sm.go(S.CONNECTING)
    with pytest.raises(InvalidTransition):
        StateMachine().go(S.THINKING)  # idle cannot think
    sm.go(S.ERROR, "boom")
    assert sm.error == "boom" and sm.state.label == "Error"


def test_latency_waterfall_and_server_stop_does_not_override_local_end() -> None:
    lt = LatencyTracker()
    lt.speech_ended(1_000_000_000)
    lt.speech_ended(1_300_000_000, override=False)  # the server's late speech_stopped
    lt.committed(1_100_000_000)
    lt.first_byte(1_600_000_000, "a")
    assert lt.waiting_for_audible == "a"
    lt.audible(1_700_000_000)
    (turn,) = lt.turns()
    assert (turn.to_commit_ms, turn.to_first_byte_ms, turn.to_audible_ms) == (100, 500, 100)
    assert turn.total_ms == 700 and "latency 700 ms" in turn.describe()


# ------------------------------------------------------------------ settings, secrets, logs


def test_settings_round_trip_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICECAM_CONFIG_DIR", str(tmp_path))
    s = Settings(
        backend="openai", voice="marin", instructions='Say "hi"\nthen stop', aec="headphones"
    )
    path = s.save()
    assert path == tmp_path / "settings.toml"
    assert Settings.load() == s
    text = path.read_text()
    keys = [line.split("=")[0].strip() for line in text.splitlines() if "=" in line]
    assert keys and not [k for k in keys if "key" in k.lower() or "token" in k.lower()]
    path.write_text('backend = "nonsense"\n')
    with pytest.raises(SettingsError, match="backend"):
        Settings.load()
    path.write_text("frames_per_minute = true\n")
    with pytest.raises(SettingsError, match="frames_per_minute"):
        Settings.load()
    assert Settings(vad_sensitivity=1.0).options().vad_threshold == pytest.approx(0.2)


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


def test_keys_from_env_then_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    ring = MemoryKeyring()
    old = keyring.get_keyring()
    keyring.set_keyring(ring)
    try:
        with pytest.raises(MissingKeyError, match="GEMINI_API_KEY"):
            api_key("gemini", env={})
        store_key("gemini", "  AIzaSyTESTKEY1234567890  ")
        assert ring.store[("voicecam", "gemini")] == "AIzaSyTESTKEY1234567890"
        assert api_key("gemini", env={}) == "AIzaSyTESTKEY1234567890"
        assert api_key("gemini", env={"GEMINI_API_KEY": "env-key-123456"}) == "env-key-123456"
        assert masked("AIzaSyTESTKEY1234567890") == "AIz…7890"
    finally:
        keyring.set_keyring(old)


def test_log_records_never_carry_keys() -> None:
    register_secret("my-secret-value-42")
    record = logging.LogRecord(
        "x",
        logging.WARNING,
        __file__,
        1,
        "connect %s with %s",
        ("Bearer sk-abcdefghijklmnop", "my-secret-value-42"),
        None,
    )
    RedactingFilter().filter(record)
    message = record.getMessage()
    assert "sk-abcdefghijklmnop" not in message and "my-secret-value-42" not in message


# ------------------------------------------------------------------ backends


def test_backend_registry() -> None:
    keys = {"openai": "sk-x" * 5, "gemini": "AIza" * 5}
    openai = resolve("openai", key_lookup=keys.__getitem__)
    assert (openai.provider, openai.input_rate_hz, openai.model) == (
        "openai",
        24000,
        "gpt-realtime-2.1",  # the current flagship (app.model_catalog)
    )
    assert openai.session_cap_s == 3600 and not openai.free
    gem = resolve("gemini", key_lookup=keys.__getitem__)
    assert (gem.provider, gem.input_rate_hz) == ("gemini", 16000)
    assert "key=" not in gem.endpoint().url  # the key travels in a header
    ws = resolve("ws://127.0.0.1:9999/v1/realtime?model=x", key_lookup=keys.__getitem__)
    assert ws.endpoint().url.startswith("ws://127.0.0.1:9999/v1/realtime?model=") and ws.free
    local = resolve("local", local_server=LocalServer())
    assert local.free and local.provider == "openai"
    with pytest.raises(BackendError, match="unknown backend"):
        resolve("claude")
    with pytest.raises(BackendError, match="ws://"):
        resolve("ws://")


# ------------------------------------------------------------------ file audio


def test_file_audio_paces_mic_and_simulates_the_speaker(tmp_path: Path, media_dir: Path) -> None:
    now = [0]
    clock = lambda: now[0]  # noqa: E731
    out = tmp_path / "out.wav"
    fa = FileAudio(media_dir / "speech" / "q01_piper.wav", out, clock=clock, send_rate_hz=24000)
    fa.start()
    assert fa.process() == []  # nothing before the session is ready
    fa.on_session_ready()
    now[0] = 3_000_000_000
    events = fa.process()
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("MicAudio") == 150 and "VoiceStarted" in kinds  # 3 s in 20 ms blocks
    mic = next(e for e in events if type(e).__name__ == "MicAudio")
    assert len(mic.pcm16_send) == 960 and len(mic.pcm16_16k) == 640
    fa.play("a", b"\x10\x00" * 24000, 24000)  # 1 s of reply
    now[0] += 400_000_000
    assert fa.is_playing and fa.played_ms("a") == 400
    assert fa.first_audible_ns("a") == 3_000_000_000
    fa.clear_playback()
    now[0] += 1_000_000_000
    assert not fa.is_playing and fa.played_ms("a") == 400
    fa.stop()
    pcm, rate = read_wav(out)
    assert rate == 24000 and len(pcm) == 2 * 24000 * 400 // 1000


# ------------------------------------------------------------------ local server supervisor

FAKE_SERVER = textwrap.dedent(
    """
    import os, sys, time
    mode = sys.argv[1]
    assert os.environ.get("VOICECAM_SERVER_TOKEN"), "token must come in the environment"
    assert "--token" not in sys.argv
    print("VOICECAM-SERVER PROGRESS 1/2 loading speech-to-text", flush=True)
    if mode == "error":
        print("VOICECAM-SERVER ERROR piper-tts is not installed: pip install piper-tts", flush=True)
        sys.exit(3)
    print("VOICECAM-SERVER PROGRESS 2/2 loading voice", flush=True)
    print("VOICECAM-SERVER READY ws://127.0.0.1:4242/v1/realtime", flush=True)
    if mode == "crash":
        time.sleep(0.3)
        sys.exit(1)
    time.sleep(60)
    """
)


def test_supervisor_reports_progress_ready_and_stops(tmp_path: Path) -> None:
    script = tmp_path / "fake_server.py"
    script.write_text(FAKE_SERVER)
    progress: list[tuple[int, int, str]] = []
    server = LocalServer(
        on_progress=lambda k, n, w: progress.append((k, n, w)),
        command=[sys.executable, str(script), "ok"],
    )
    assert server.start() == "ws://127.0.0.1:4242/v1/realtime"
    assert server.base_url == "ws://127.0.0.1:4242/v1" and len(server.token) >= 20
    assert progress == [(1, 2, "loading speech-to-text"), (2, 2, "loading voice")]
    pid = server.pid
    server.stop()
    assert not server.running and pid is not None


def test_supervisor_error_line_and_restart_after_crash(tmp_path: Path) -> None:
    script = tmp_path / "fake_server.py"
    script.write_text(FAKE_SERVER)
    failing = LocalServer(command=[sys.executable, str(script), "error"])
    with pytest.raises(LocalServerError, match="pip install piper-tts"):
        failing.start()
    crashing = LocalServer(command=[sys.executable, str(script), "crash"], max_restarts=2)
    crashing.start()
    first_token = crashing.token
    deadline = time.monotonic() + 20
    while crashing.restart_count < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert crashing.restart_count == 2  # restarted, then gave up within the window
    assert crashing.token != first_token  # a fresh token per launch
    crashing.stop()


def test_cli_dispatches_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    from app import cli

    for sub in ("replay", "export", "rerun"):
        try:
            code = cli.main([sub, "--help"])
        except SystemExit as exc:
            code = int(exc.code or 0)
        assert code == 0
        assert f"voicecam {sub}" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        cli.main(["--audio-in", "x.wav"])  # a scripted question belongs to --headless
    assert exc.value.code == 2 and "needs --headless" in capsys.readouterr().err


def test_stop_interrupts_a_start_in_progress(tmp_path: Path) -> None:
    import threading

    script = tmp_path / "slow_server.py"
    script.write_text(
        "import time\nprint('VOICECAM-SERVER PROGRESS 1/1 loading', flush=True)\ntime.sleep(60)\n"
    )
    server = LocalServer(command=[sys.executable, str(script)])
    errors: list[Exception] = []

    def run() -> None:
        try:
            server.start()
        except LocalServerError as exc:
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    deadline = time.monotonic() + 10
    while server.pid is None and time.monotonic() < deadline:
        time.sleep(0.05)
    server.stop()
    t.join(10)
    assert not t.is_alive() and errors and not server.running
