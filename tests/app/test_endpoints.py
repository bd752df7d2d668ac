"""Endpoint settings (issue 13, item 1): precedence, env conventions, URLs, Vertex tokens."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path
from typing import Any

import pytest

from app.backends import BackendError, resolve
from app.cli_args import build_parser
from app.cloud_cli import resolve_with_cloud
from app.compose import resolve_settings
from app.config import Settings, SettingsError
from app.endpoints import CloudEndpoints, azure_base_url
from app.vertex_auth import VertexAuthError, VertexToken
from realtime.openai import OpenAICore
from realtime.recording.scrub import Scrubber

KEYS = {"openai": "sk-" + "o" * 20, "gemini": "AIza" + "g" * 20, "azure": "a" * 32}


def _resolve(env: dict[str, str], **flags: Any) -> Settings:
    return resolve_settings(flags, env=env, base=Settings())


def test_openai_base_url_convention_and_precedence() -> None:
    proxy = "https://proxy.example/v1"
    assert _resolve({"OPENAI_BASE_URL": proxy}).openai_url == proxy
    mine = "https://mine.example/v1"
    both = {"OPENAI_BASE_URL": proxy, "VOICECAM_OPENAI_URL": mine}
    assert _resolve(both).openai_url == mine  # VOICECAM_<FIELD> over the convention
    assert _resolve(both, openai_url="http://127.0.0.1:9/v1").openai_url.endswith(":9/v1")
    backend = resolve(
        "openai", endpoints=CloudEndpoints.of(_resolve(both)), key_lookup=KEYS.__getitem__
    )
    assert backend.endpoint().url == "wss://mine.example/v1/realtime?model=gpt-realtime-2.1"


def test_vertex_and_azure_conventions() -> None:
    google = {"GOOGLE_CLOUD_PROJECT": "my-project-123", "GOOGLE_CLOUD_LOCATION": "europe-west4"}
    assert _resolve(google).vertex_project == ""  # only with GOOGLE_GENAI_USE_VERTEXAI, as the SDK
    vertex = _resolve({**google, "GOOGLE_GENAI_USE_VERTEXAI": "true"})
    assert (vertex.vertex_project, vertex.vertex_location) == ("my-project-123", "europe-west4")
    azure = _resolve(
        {
            "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com/",
            "OPENAI_API_VERSION": "2025-04-01-preview",
        }
    )
    assert azure.azure_endpoint == "https://res.openai.azure.com/"
    assert azure.azure_api_version == "2025-04-01-preview"


def test_a_convention_variable_voicecam_cannot_use_is_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Other tools read OPENAI_BASE_URL too: a value VoiceCam cannot use must not stop it."""
    settings = _resolve({"OPENAI_BASE_URL": "localhost:8000/v1", "OPENAI_API_VERSION": "v1"})
    assert (settings.openai_url, settings.azure_api_version) == ("", "")
    assert "OPENAI_BASE_URL is not used" in caplog.text
    assert "OPENAI_API_VERSION is not used" in caplog.text
    with pytest.raises(SettingsError, match="openai_url"):  # VOICECAM_ values must be right
        _resolve({"VOICECAM_OPENAI_URL": "localhost:8000/v1"})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("openai_url", "proxy.example/v1", "use a URL like"),
        ("gemini_url", "ftp://gateway.example", "use a URL like"),
        ("gemini_url", "https://gateway.example/?key=AIzaXYZ", "no API key in the URL"),
        ("azure_endpoint", "https://user:pw@res.openai.azure.com", "no user name or password"),
        ("vertex_project", "My Project", "not a Google Cloud project id"),
        ("vertex_location", "Europe West", "not like us-central1"),
        ("azure_api_version", "latest", "dated version"),
    ],
)
def test_bad_endpoint_settings_say_what_is_expected(field: str, value: str, message: str) -> None:
    values = {field: value}
    if field == "vertex_location":
        values["vertex_project"] = "my-project-123"
    with pytest.raises(SettingsError, match=message):
        Settings.from_dict(values)


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["--headless", *argv])


def test_backend_url_flag_sets_the_chosen_backends_field() -> None:
    def resolve_(given: Any) -> Settings:
        return resolve_settings(given, env={}, base=Settings())

    url = "https://gateway.example"
    gem = resolve_with_cloud({"backend": "gemini"}, _args("--backend-url", url), resolve_)
    assert (gem.gemini_url, gem.openai_url) == (url, "")
    az = resolve_with_cloud({"backend": "azure"}, _args("--backend-url", url), resolve_)
    assert az.azure_endpoint == url
    with pytest.raises(SettingsError, match="--backend-url is for"):
        resolve_with_cloud({"backend": "local"}, _args("--backend-url", url), resolve_)
    flags = _args("--media-resolution", "low", "--no-context-compression", "--vad-eagerness", "low")
    opts = resolve_with_cloud({}, flags, resolve_)
    assert (opts.media_resolution, opts.context_compression, opts.vad_eagerness) == (
        "low",
        False,
        "low",
    )


def test_azure_urls_headers_and_protocol() -> None:
    for given in (
        "https://res.openai.azure.com",
        "https://res.openai.azure.com/",
        "https://res.openai.azure.com/openai",
        "https://res.openai.azure.com/openai/v1/",
    ):
        assert azure_base_url(given) == "https://res.openai.azure.com/openai/v1"
    ga = resolve(
        "azure",
        "my deploy",
        endpoints=CloudEndpoints(azure_endpoint="https://res.openai.azure.com"),
        key_lookup=KEYS.__getitem__,
    )
    endpoint = ga.endpoint()
    assert endpoint.url == "wss://res.openai.azure.com/openai/v1/realtime?model=my%20deploy"
    assert dict(endpoint.headers) == {"api-key": KEYS["azure"]}
    assert endpoint.secret_headers == ("api-key",)
    assert isinstance(ga.core(), OpenAICore) and not ga.core().beta  # type: ignore[attr-defined]
    preview = resolve(
        "azure",
        "gpt-4o-realtime",
        endpoints=CloudEndpoints(
            azure_endpoint="https://res.openai.azure.com", azure_api_version="2025-04-01-preview"
        ),
        key_lookup=KEYS.__getitem__,
    )
    assert preview.endpoint().url == (
        "wss://res.openai.azure.com/openai/realtime"
        "?api-version=2025-04-01-preview&deployment=gpt-4o-realtime"
    )
    assert preview.core().beta  # type: ignore[attr-defined]  # dated previews speak beta
    assert ("OpenAI-Beta", "realtime=v1") in preview.endpoint().headers
    with pytest.raises(BackendError, match="Azure OpenAI endpoint"):
        resolve("azure", key_lookup=KEYS.__getitem__)


def test_vertex_endpoint_for_regions_and_global() -> None:
    cloud = CloudEndpoints(vertex_project="my-project-123", vertex_location="global")
    endpoint = cloud.vertex_endpoint("ya29.token-0123456789")
    assert endpoint.url == (
        "wss://aiplatform.googleapis.com/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/"
        "BidiGenerateContent"
    )
    assert dict(endpoint.headers) == {"Authorization": "Bearer ya29.token-0123456789"}
    regional = CloudEndpoints(vertex_project="my-project-123").vertex_endpoint("t" * 20)
    assert regional.url.startswith("wss://us-central1-aiplatform.googleapis.com/ws/")


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_vertex_token_prefers_adc_caches_and_refreshes_before_expiry() -> None:
    clock = _Clock()
    issued: list[str] = []

    def adc() -> tuple[str, float | None]:
        issued.append(f"ya29.adc-token-{len(issued)}-0123456789")
        return issued[-1], clock.now + 3600

    def no_gcloud(name: str) -> str | None:
        raise AssertionError("gcloud must not run when ADC works")

    token = VertexToken(adc=adc, which=no_gcloud, clock=clock)
    first = token.get()
    clock.now += 3000
    assert token.get() == first and len(issued) == 1  # still fresh
    clock.now += 400  # within 5 minutes of expiry
    assert token.get() != first and len(issued) == 2
    assert Scrubber().text(f"token {issued[1]}") == "token [REDACTED]"  # a held secret


def test_vertex_token_from_gcloud_and_its_failures() -> None:
    def run_ok(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        assert argv[1:] == ["auth", "print-access-token"] and kw["timeout"] > 0
        return subprocess.CompletedProcess(argv, 0, "ya29.from-gcloud-0123456789\n", "")

    ok = VertexToken(adc=lambda: None, which=lambda n: "/usr/bin/gcloud", run=run_ok)
    assert ok.get() == "ya29.from-gcloud-0123456789"

    def run_fail(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(
            argv, 1, "", "ERROR: (gcloud.auth.print-access-token) You do not currently have an "
            "active account selected.\nPlease run:\n\n  $ gcloud auth login\n\nto obtain new "
            "credentials.\n\nto select an already authenticated account to use.\n"
        )  # fmt: skip

    failing = VertexToken(adc=lambda: None, which=lambda n: "/usr/bin/gcloud", run=run_fail)
    with pytest.raises(
        VertexAuthError, match=r"failed \(You do not currently have an active account selected\.\)"
    ):
        failing.get()
    missing = VertexToken(adc=lambda: None, which=lambda n: None)
    with pytest.raises(VertexAuthError, match="application-default login"):
        missing.get()


def test_application_default_credentials_file_detection_and_a_broken_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.vertex_auth import adc_file, adc_token

    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    assert adc_file() is None and adc_token() is None  # no ADC: gcloud is tried next
    written = tmp_path / "gcloud" / "application_default_credentials.json"
    written.parent.mkdir()
    written.write_text('{"type": "no-such-credential-type"}')
    assert adc_file() == written
    with pytest.raises(VertexAuthError, match="application-default login"):
        adc_token()  # refused by google.auth before any network: said, not crashed
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    assert adc_file() is None
