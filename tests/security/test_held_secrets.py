"""Issue 17, item 6: a server that echoes the client's secret gets it scrubbed everywhere.

A hostile scripted provider (tests/fakes, real WebSocket on 127.0.0.1) requires a backend
token that looks like no key (so only the held-secret registry can catch it), then echoes it in
an ``error`` event and in its close reason. The headless CLI (a real subprocess, ``-vv``,
recording on) must print neither, and the recording must not hold it, while the server error
itself is still reported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from realtime.recording.scrub import Scrubber, held_secrets, hold_secret
from tests.reliability.helpers import FakeThread

REPO = Path(__file__).resolve().parents[2]
TOKEN = "plainBackendToken" + "q7" * 8  # no Bearer/sk-/AIza shape


@pytest.fixture
def hostile() -> Any:
    ft = FakeThread(TOKEN, chunk_delay_s=0.3, reply="One two three four five six seven.")
    yield ft
    ft.close()


def test_a_server_echoing_the_token_gets_it_scrubbed_from_output_and_recording(
    hostile: Any, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    env.update(VOICECAM_BACKEND_TOKEN=TOKEN, HOME=str(tmp_path), PYTHONUNBUFFERED="1")
    rec = tmp_path / "rec"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "app.cli", "--headless", "-vv", "--backend", hostile.url,
            "--text", "Count for me.", "--record", str(rec), "--timeout", "30",
        ],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    fake = hostile.fake
    hostile.call(fake.wait_for, "response.create", timeout=60)
    hostile.call(fake.error, f"Invalid token {TOKEN} for this project.", "invalid_api_key")
    hostile.call(fake.close, 1008, f"token {TOKEN} revoked")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err[-3000:]
    assert "server error: Invalid token [REDACTED] for this project." in err, err[-3000:]
    assert TOKEN not in out and TOKEN not in err, "token printed"
    files = [p for p in rec.rglob("*") if p.is_file()]
    assert files, "nothing recorded"
    for path in files:
        assert TOKEN.encode() not in path.read_bytes(), f"token in {path}"


def test_held_secrets_are_scrubbed_by_every_scrubber_longest_first() -> None:
    inner, outer = "heldInner" + "x" * 8, "pre-heldInner" + "x" * 8 + "-post"
    before = Scrubber()
    hold_secret(inner)
    hold_secret(outer)
    hold_secret("abc")  # too short to be a secret: ignored
    assert held_secrets().index(outer) < held_secrets().index(inner)
    assert "abc" not in held_secrets()
    text = f"a {outer} b {inner} c"
    assert before.text(text) == "a [REDACTED] b [REDACTED] c"
    assert before.data(text.encode()) == b"a [REDACTED] b [REDACTED] c"


def test_a_secret_streamed_in_pieces_is_never_half_printed() -> None:
    """The CLI prints the reply as it streams; a held secret split across deltas must not
    appear, not even its first half, and the rest of the text must."""
    import io

    from app.printer import Printer
    from app.transcript import Turn

    secret = "streamedHeldSecret" + "s9" * 8
    hold_secret(secret)
    out = io.StringIO()
    printer = Printer(out=out, err=io.StringIO())
    full = f"Your token is {secret} and that is all."
    cuts = [5, 17, 20, 30, 40, len(full)]
    for cut in cuts:
        printer.on_turn(Turn(1, "assistant", full[:cut], partial=cut < len(full)))
    text = out.getvalue()
    assert text == "assistant: Your token is [REDACTED] and that is all.\n", text
    assert secret[:8] not in text


def test_an_authorization_header_without_a_token_holds_no_secret() -> None:
    """A failed connect with no key sends "Bearer " alone: holding that would redact the scheme
    of every later bearer token and leave the token itself in the text."""
    from realtime.core import Endpoint
    from realtime.redaction import secret_values

    empty = Endpoint("wss://x.example/v1", (("Authorization", "Bearer "),), ("Authorization",))
    assert secret_values(empty) == ()
    full = Endpoint(
        "wss://x.example/v1", (("Authorization", "Bearer tok-123456"),), ("authorization",)
    )
    assert secret_values(full) == ("Bearer tok-123456", "tok-123456")
