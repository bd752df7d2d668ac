"""Cloud endpoints end to end (issue 13, items 1-3): the real cores and the composition root
against the scripted fakes on 127.0.0.1, every client message validated by the official SDKs.

* Gemini through a custom URL (a gateway: the fault proxy in front of the fake) completes a
  turn with an image, the key travels in a header, and the video session asks for
  context-window compression;
* Gemini through Vertex AI: bearer token from the gcloud CLI (a real subprocess), the Vertex
  path and the model's resource name;
* Azure OpenAI through the headless CLI: the ``/openai/v1/realtime?model=DEPLOYMENT`` URL and
  the ``api-key`` header, never a bearer;
* a model with no price: its cost is "unknown", never 0.
"""

from __future__ import annotations

import json
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import cli
from app.assistant import Assistant
from app.compose import assemble, build_file_audio, resolve_settings
from app.config import Settings
from app.state import ConversationState as S
from app.vertex_auth import VertexAuthError
from realtime.recording.scrub import held_secrets
from tests.app.fakes import FakeThread
from tests.fakes.fake_gemini import FakeGemini
from tests.fakes.fake_openai import FakeOpenAI
from tests.fixtures.fault_proxy import FaultProxy
from video.file import FileSource

GEMINI_KEY = "gemini-cloud-test-key-0123456789"
VERTEX_TOKEN = "ya29.vertex-test-token-0123456789abcdef"
AZURE_KEY = "azure-test-key-0123456789abcdef"


def _checked(ft: FakeThread) -> None:
    assert not ft.fake.client_errors, ft.fake.client_errors  # every message SDK-validated
    assert not ft.fake.fake_errors, ft.fake.fake_errors


@pytest.fixture
def gemini_fake() -> Iterator[FakeThread]:
    ft = FakeThread(FakeGemini(api_key=GEMINI_KEY, chunk_delay_s=0.02))
    yield ft
    ft.close()
    _checked(ft)


@pytest.fixture
def no_google_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No ADC file and no gcloud on PATH; returns an empty folder that is the whole PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud-config"))
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def _settings(**values: Any) -> Settings:
    return resolve_settings(values, env={}, base=Settings())


def _talk_with_image(settings: Settings, media_dir: Path, tmp_path: Path) -> Any:
    """One spoken turn with the desk image as the camera; returns the final snapshot."""
    parts = assemble(
        settings,
        reconnect=False,
        make_audio=lambda rate: build_file_audio(
            media_dir / "speech" / "q02_piper.wav", tmp_path / "reply.wav", send_rate_hz=rate
        ),
        frames_source=FileSource(media_dir / "video" / "desk.png", loop=True, still_fps=5.0),
    )
    a = Assistant(parts.backend, parts.audio, parts.frames, parts.options)
    try:
        a.start()
        snap = a.wait_for(lambda s: s.completed_turns >= 1 and s.state == S.LISTENING, 60)
        assert snap is not None, a.snapshot()
        return snap
    finally:
        a.close()
        parts.close()


def _types(fake: FakeGemini) -> list[str]:
    return [fake._type_of(m) for m in fake.current.received]


def test_gemini_through_a_gateway_url_with_an_image_and_compression(
    gemini_fake: FakeThread,
    media_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    gateway = FakeThread(FaultProxy(gemini_fake.fake.url.split("/ws/")[0]))
    try:
        # The environment convention names the gateway; the composition root reaches it.
        settings = resolve_settings(
            {"backend": "gemini"}, env={"VOICECAM_GEMINI_URL": gateway.fake.http_url}
        )
        assert settings.gemini_url == gateway.fake.http_url
        snap = _talk_with_image(settings, media_dir, tmp_path)
    finally:
        gateway.close()
    fake: FakeGemini = gemini_fake.fake
    assert gateway.fake.accepted >= 1  # it went through the gateway
    conn = fake.current
    assert conn.headers.get("x-goog-api-key") == GEMINI_KEY
    assert GEMINI_KEY not in conn.path and "key=" not in conn.path
    types = _types(fake)
    assert "realtimeInput.video" in types  # the image was sent
    assert [t.text for t in snap.turns if t.role == "assistant"][-1] == (
        "I can see a desk with a red mug."
    )
    setup = conn.received[0]["setup"]
    assert setup["model"] == "models/gemini-3.8-live"
    # A session with video asks for compression, sized to the model's context window.
    assert setup["contextWindowCompression"] == {
        "slidingWindow": {"targetTokens": 52428},
        "triggerTokens": 104857,
    }
    assert snap.cost_usd is not None and snap.cost_usd > 0


def test_gemini_through_vertex_ai_with_a_gcloud_token(
    media_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_google_credentials: Path,
) -> None:
    gcloud = no_google_credentials / "gcloud"
    script = f'#!/bin/sh\n[ "$1 $2" = "auth print-access-token" ] && echo {VERTEX_TOKEN}\n'
    gcloud.write_text(script)
    gcloud.chmod(gcloud.stat().st_mode | stat.S_IXUSR)
    ft = FakeThread(FakeGemini(api_key=VERTEX_TOKEN, bearer=True, chunk_delay_s=0.02))
    try:
        settings = _settings(
            backend="gemini",
            vertex_project="my-project-123",
            vertex_location="europe-west4",
            gemini_url=ft.fake.base_url,  # a private endpoint instead of the regional host
        )
        snap = _talk_with_image(settings, media_dir, tmp_path)
    finally:
        ft.close()
    _checked(ft)
    conn = ft.fake.current
    assert conn.path == ("/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent")
    assert conn.headers.get("Authorization") == f"Bearer {VERTEX_TOKEN}"
    assert conn.received[0]["setup"]["model"] == (
        "projects/my-project-123/locations/europe-west4/publishers/google/models/gemini-3.8-live"
    )
    assert snap.completed_turns >= 1
    assert VERTEX_TOKEN in held_secrets()  # scrubbed from logs, recordings and output


def test_vertex_ai_without_credentials_says_what_to_run(no_google_credentials: Path) -> None:
    settings = _settings(backend="gemini", vertex_project="my-project-123")
    parts = assemble(settings, reconnect=False, make_audio=lambda rate: build_file_audio(
        None, None, send_rate_hz=rate
    ))  # fmt: skip
    try:
        with pytest.raises(VertexAuthError, match="gcloud auth application-default login"):
            parts.backend.prepare()
    finally:
        parts.close()


class _Run:
    def __init__(self, argv: list[str]) -> None:
        self.code: int | None = None
        self.thread = threading.Thread(target=self._run, args=(argv,), daemon=True)
        self.thread.start()

    def _run(self, argv: list[str]) -> None:
        try:
            self.code = cli.main(argv)
        except SystemExit as exc:
            self.code = int(exc.code or 0)

    def wait(self, timeout: float = 60) -> int:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "voicecam --headless did not exit"
        assert self.code is not None
        return self.code


def test_azure_openai_url_and_api_key_header(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    ft = FakeThread(FakeOpenAI(api_key=AZURE_KEY, chunk_delay_s=0.02))
    try:
        root = ft.fake.base_url.removesuffix("/v1")  # http://127.0.0.1:PORT, like NAME.openai…
        run = _Run(
            ["--headless", "--backend", "azure", "--backend-url", root, "--model", "my-deploy",
             "--text", "What is on my desk?", "--timeout", "30"]
        )  # fmt: skip
        assert run.wait() == 0, capsys.readouterr().err
    finally:
        ft.close()
    _checked(ft)
    conn = ft.fake.connections[0]
    assert conn.path == "/openai/v1/realtime?model=my-deploy"
    assert conn.headers.get("api-key") == AZURE_KEY
    assert "Authorization" not in conn.headers  # Azure keys never go as a bearer
    out, err = capsys.readouterr()
    assert AZURE_KEY not in out + err


def test_a_model_with_no_price_costs_unknown_not_zero(
    gemini_fake: FakeThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    settings = _settings(
        backend="gemini", model="gemini-9-live-unpriced", gemini_url=gemini_fake.fake.base_url
    )
    parts = assemble(settings, reconnect=False, make_audio=lambda rate: build_file_audio(
        None, None, send_rate_hz=rate
    ))  # fmt: skip
    a = Assistant(parts.backend, parts.audio, None, parts.options)
    try:
        a.start()
        assert a.wait_for(lambda s: s.state == S.LISTENING, 30), a.snapshot()
        a.send_text("What is on my desk?")
        snap = a.wait_for(lambda s: s.completed_turns >= 1 and s.state == S.LISTENING, 30)
        assert snap is not None, a.snapshot()
    finally:
        a.close()
        parts.close()
    assert snap.usage.total_tokens == 260  # usage arrived …
    assert snap.cost_usd is None  # … but its price is not known: never shown as $0
    assert "unknown" in snap.cost_line and "gemini-9-live-unpriced" in snap.cost_line
    assert json.dumps(gemini_fake.fake.current.received[0]).count("unpriced") == 1
