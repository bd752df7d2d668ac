"""The logging filter redacts anything key-shaped (and the exact keys the app loaded)."""

from __future__ import annotations

import io
import logging

import pytest

from app.logging_setup import RedactingFilter, register_secret

SAMPLES = [
    ("sk-proj-AbCdEf0123456789xyzXYZ_-", "openai project key"),
    ("sk-CANARY-0123456789abcdef", "openai key"),
    ("AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv", "google key"),
    ("Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "bearer token"),
    ("ek_68a1b2c3d4e5f6a7b8c9d0", "ephemeral key"),
]


def _logger(stream: io.StringIO) -> logging.Logger:
    log = logging.getLogger("voicecam.test.redaction")
    log.handlers.clear()
    log.propagate = False
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    return log


@pytest.mark.parametrize("secret, what", SAMPLES)
def test_key_shaped_strings_are_redacted_in_messages_args_and_tracebacks(
    secret: str, what: str
) -> None:
    stream = io.StringIO()
    log = _logger(stream)
    log.info("connecting with %s to wss://api.example/v1?key=%s", secret, secret)
    log.warning("header Authorization: %s", secret)
    log.debug({"api_key": secret, "note": what})
    try:
        raise RuntimeError(f"the server said no to {secret}")
    except RuntimeError:
        log.exception("failed for %r", secret)
    text = stream.getvalue()
    assert "REDACTED" in text
    core = secret.split()[-1]
    assert core not in text, text
    assert core[6:-4] not in text, text  # not even a partial copy
    assert "the server said no to" in text  # the rest of the message survives
    assert "RuntimeError" in text


def test_registered_exact_secret_of_any_shape_is_redacted() -> None:
    odd = "plainTokenWithNoKnownShape_42x"
    register_secret(odd)
    stream = io.StringIO()
    _logger(stream).error("token=%s in %s", odd, ["a", odd])
    assert odd not in stream.getvalue()
    assert "REDACTED" in stream.getvalue()


def test_audio_base64_is_not_mangled() -> None:
    """Redaction must not eat ordinary payloads (a false positive would corrupt logs)."""
    stream = io.StringIO()
    payload = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAgD4AAAB9AAACABAAZGF0YQAAAAA="
    _logger(stream).info("audio %s", payload)
    assert payload in stream.getvalue()


def test_install_logging_puts_the_filter_on_the_root_handler() -> None:
    from app.logging_setup import install_logging

    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    ws_level = logging.getLogger("websockets").level
    try:
        handler = install_logging(logging.INFO)
        assert any(isinstance(f, RedactingFilter) for f in handler.filters)
        # websockets logs raw request headers at DEBUG; install_logging must keep it above that
        assert logging.getLogger("websockets").getEffectiveLevel() >= logging.INFO
    finally:
        for h in list(root.handlers):
            if h not in before:
                root.removeHandler(h)
        root.setLevel(level)
        logging.getLogger("websockets").setLevel(ws_level)  # other tests read its DEBUG lines


def test_azure_keys_and_vertex_tokens_are_held_secrets_once_loaded() -> None:
    """Issue 13: an Azure key (32 hex digits, no known shape) read from the environment and a
    Vertex AI access token from the gcloud CLI are redacted from every later log line."""
    import subprocess

    from app.secrets import api_key
    from app.vertex_auth import VertexToken

    azure = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    assert api_key("azure", env={"AZURE_OPENAI_API_KEY": azure}) == azure
    vertex = "ya29.a0AfB_byDplainLookingTokenValue0123"
    done = subprocess.CompletedProcess(["gcloud"], 0, vertex + "\n", "")
    token = VertexToken(adc=lambda: None, which=lambda n: "/bin/gcloud", run=lambda *a, **k: done)
    assert token.get() == vertex
    stream = io.StringIO()
    _logger(stream).error("azure %s vertex %s", azure, vertex)
    text = stream.getvalue()
    assert azure not in text and vertex not in text and text.count("REDACTED") == 2
