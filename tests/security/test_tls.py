"""TLS verification is always on for cloud backends (wss://), and nothing can turn it off."""

from __future__ import annotations

import asyncio
import re
import ssl
import subprocess
from pathlib import Path

import pytest
from websockets.asyncio.server import serve

from realtime import gemini, gemini_endpoint, openai, openai_endpoint
from realtime.events import SessionConfig
from realtime.session import RealtimeSession, TlsError

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-test-tls-0123456789abcdef"


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


async def _attempt(cert: Path, key: Path, provider: str, ca_file: str | None = None) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    reached: list[str] = []

    async def handler(ws: object) -> None:
        reached.append("upgraded")

    async with serve(handler, "127.0.0.1", 0, ssl=ctx) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        base = f"https://127.0.0.1:{port}/v1"
        if provider == "openai":
            core, ep = (
                openai.OpenAICore(),
                openai_endpoint.endpoint(KEY, "gpt-realtime", base_url=base),
            )
        else:
            core, ep = (
                gemini.GeminiCore(),
                gemini_endpoint.endpoint("AIza" + "x" * 35, base_url=base),
            )
        assert ep.url.startswith("wss://")
        session = RealtimeSession(core, ep, ca_file=ca_file, open_timeout_s=10)
        try:
            await asyncio.wait_for(session.connect(SessionConfig()), 20)
        finally:
            await session.close()
        assert not reached


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_self_signed_server_is_refused_with_tls_error(
    self_signed: tuple[Path, Path], provider: str
) -> None:
    with pytest.raises(TlsError) as info:
        asyncio.run(_attempt(*self_signed, provider))
    message = str(info.value)
    assert "127.0.0.1" in message and "certificate" in message.lower()
    assert KEY not in message


def test_trusting_the_ca_explicitly_still_verifies_the_host_name(
    self_signed: tuple[Path, Path], tmp_path: Path
) -> None:
    """``ca_file`` adds trust but keeps hostname checking: a cert for another name fails."""
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=other.example", "-addext", "subjectAltName=DNS:other.example",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    with pytest.raises(TlsError):
        asyncio.run(_attempt(cert, key, "openai", ca_file=str(cert)))


_DISABLING = [
    r"CERT_NONE",
    r"check_hostname\s*=\s*False",
    r"ssl\s*=\s*False",
    r"verify\s*=\s*False",
    r"_create_unverified_context",
    r"PYTHONHTTPSVERIFY",
    r"(?i)insecure",
    r"verify_mode\s*=\s*ssl\.CERT_OPTIONAL",
]


def test_no_code_path_disables_certificate_verification() -> None:
    hits = []
    for pkg in ("app", "realtime", "audio", "video", "dsp"):
        for path in (REPO / pkg).rglob("*.py"):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if line.lstrip().startswith("#"):
                    continue
                for pat in _DISABLING:
                    if re.search(pat, line):
                        hits.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not hits, "verification could be disabled:\n" + "\n".join(hits)


def test_the_grep_would_catch_a_disabling_line(tmp_path: Path) -> None:
    sample = "ctx.check_hostname = False\nctx.verify_mode = ssl.CERT_NONE\n"
    assert sum(bool(re.search(p, ln)) for ln in sample.splitlines() for p in _DISABLING) == 2
