"""A whole session with canary keys; the canaries must appear nowhere.

Canaries: an OpenAI-shaped ``sk-CANARY-…`` (the key the scripted fake provider requires, given to
the app as ``VOICECAM_BACKEND_TOKEN`` and ``OPENAI_API_KEY``) and a Gemini-shaped ``AIza…``
(``GEMINI_API_KEY``, also stored in the keyring for the GUI part).

The session: ``voicecam --headless -vv`` (a real subprocess, DEBUG logging) against the fake with
recording on; a second run the fake kills mid-reply (close 1006: a forced crash of the session);
``voicecam export`` of both recordings to md/srt/wav; session errors raised in-process (key
rejected, host unreachable) and a crash inside the session path (an exception raised from the
recorder hook); and the GUI window (offscreen) showing the error. Then every stdout/stderr line,
every log record (caplog, raw, before any filter), every file under the temp folders (session files
including ``-wal``/``-journal``, exports and frame folders), every exception text/repr/traceback
and every window title is searched for the canaries (as text, UTF-16 and base64).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import pytest

from realtime.recording.schema import FILE_SUFFIX
from tests.reliability.helpers import FakeThread

REPO = Path(__file__).resolve().parents[2]
OPENAI_CANARY = "sk-CANARY-" + "7f3a9c" * 6
GEMINI_CANARY = "AIzaSyCANARY" + "Q9x_Lk-2" * 3 + "zz"
CANARIES = (OPENAI_CANARY, GEMINI_CANARY)


def _forms(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [
        raw,
        secret.encode("utf-16-le"),
        base64.b64encode(raw)[:-4],
        secret[4:-4].encode(),  # a partial copy (e.g. a truncated key in a message)
    ]


def find_canary(data: bytes | str) -> str | None:
    """The first canary form found in ``data``, or None."""
    blob = data.encode("utf-8", "replace") if isinstance(data, str) else data
    for secret in CANARIES:
        for form in _forms(secret):
            if form in blob:
                return f"{secret[:12]}… as {form[:16]!r}"
    return None


def scan_tree(root: Path) -> list[str]:
    hits = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        found = find_canary(path.read_bytes())
        if found:
            hits.append(f"{path}: {found}")
    return hits


def _env(tmp: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("_API_KEY", "_TOKEN")) and k != "PULSE_SERVER"
    }
    env.update(
        OPENAI_API_KEY=OPENAI_CANARY,
        GEMINI_API_KEY=GEMINI_CANARY,
        VOICECAM_BACKEND_TOKEN=OPENAI_CANARY,
        VOICECAM_CONFIG_DIR=str(tmp / "config"),
        HOME=str(tmp / "home"),
        XDG_CONFIG_HOME=str(tmp / "home" / ".config"),
        XDG_DATA_HOME=str(tmp / "home" / ".local" / "share"),
        PYTHONUNBUFFERED="1",
        QT_QPA_PLATFORM="offscreen",
    )
    return env


def _voicecam(
    args: list[str], env: dict[str, str], timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def fake() -> Any:
    ft = FakeThread(OPENAI_CANARY, chunk_delay_s=0.02)
    yield ft
    ft.close()


def test_canary_keys_leak_nowhere(
    fake: Any, tmp_path: Path, media_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    env = _env(tmp_path)
    rec = tmp_path / "rec"
    outputs: list[tuple[str, str]] = []
    question = media_dir / "speech" / "q01_piper.wav"

    # 1. a whole turn, recorded, with a still image as the camera, DEBUG logging
    ok = _voicecam(
        [
            "--headless",
            "-vv",
            "--backend",
            fake.url,
            "--audio-in",
            str(question),
            "--audio-out",
            str(tmp_path / "reply.wav"),
            "--image",
            str(media_dir / "video" / "desk.png"),
            "--record",
            str(rec),
            "--timeout",
            "60",
        ],
        env,
    )
    outputs += [("run stdout", ok.stdout), ("run stderr", ok.stderr)]
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert "assistant: Hello there" in ok.stdout
    assert fake.fake.connections, "the fake provider saw no connection"
    assert not fake.fake.rejected, "the fake refused the key: the canary was not used"

    # 2. forced crash: the provider dies mid-reply (1006); the run must fail cleanly
    fake.fake.chunk_delay_s = 0.5
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "--headless",
            "-vv",
            "--backend",
            fake.url,
            "--text",
            "Tell me a story.",
            "--record",
            str(rec),
            "--timeout",
            "30",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    n_before = len(fake.fake.connections)
    fake.call(fake.fake.wait_until, lambda: len(fake.fake.connections) > n_before, timeout=60)
    fake.call(fake.fake.wait_for, "response.create", timeout=60)
    fake.loop.call_soon_threadsafe(fake.fake.abort)  # on the fake's loop (thread-safe)
    out, err = proc.communicate(timeout=60)
    outputs += [("crash stdout", out), ("crash stderr", err)]
    assert proc.returncode == 1, err[-3000:]
    assert "1006" in err or "closed" in err
    assert "Traceback" not in err, "\n".join(
        ln for ln in err.splitlines() if "DEBUG websockets" not in ln
    )[-5000:]

    # 3. export every recording to md/srt/wav
    # the sessions only: the folder also holds the search index (scanned for the canary below)
    sessions = sorted(rec.glob(f"*{FILE_SUFFIX}"))
    assert sessions, f"no session file in {rec}: {list(rec.iterdir())}"
    exports = tmp_path / "exports"
    exports.mkdir()
    for i, session in enumerate(sessions):
        for fmt in ("md", "srt", "wav"):
            ex = _voicecam(["export", str(session), "--to", str(exports / f"s{i}.{fmt}")], env)
            outputs += [(f"export {fmt} stdout", ex.stdout), (f"export {fmt} stderr", ex.stderr)]
            assert ex.returncode == 0, ex.stderr
    assert any(p.suffix == ".md" for p in exports.iterdir())

    # 4. in-process session errors and a crash inside the session path
    errors = _session_errors(fake)
    for exc in errors:
        outputs.append(
            ("exception", f"{exc}\n{exc!r}\n" + "".join(traceback.format_exception(exc)))
        )

    # 5. the GUI window showing that error
    outputs += _gui_titles(tmp_path, str(errors[0]))

    leaks = [f"{where}: {found}" for where, text in outputs if (found := find_canary(text))]
    leaks += [
        f"log record {r.name}: {found}"
        for r in caplog.records
        # websockets.server is the test's own fake provider logging the headers it received
        if not r.name.startswith("websockets.server")
        and (found := find_canary(r.getMessage() + (r.exc_text or "")))
    ]
    leaks += scan_tree(tmp_path)
    assert not leaks, "canary found:\n" + "\n".join(leaks)


def _session_errors(fake: Any) -> list[BaseException]:
    """Exceptions from the real session code with the canary key in play."""
    from realtime import openai as oai
    from realtime import openai_endpoint
    from realtime.events import Closed, ResponseDone, SendText, SessionConfig
    from realtime.session import RealtimeSession, SessionError

    errors: list[BaseException] = []

    class Exploding:
        """A recorder whose hook raises (a crash inside the session's I/O path)."""

        def on_wire(self, direction: str, message: Any, t_mono_ns: int) -> None:
            raise RuntimeError(f"recorder crashed on a {direction} message")

    async def attempt(key: str, base: str, recorder: Any = None) -> None:
        s = RealtimeSession(
            oai.OpenAICore(),
            openai_endpoint.endpoint(key, "gpt-realtime", base_url=base),
            recorder=recorder,
        )
        try:
            await s.connect(SessionConfig(instructions="hi"))
            await s.send(SendText("hello", respond=True))

            async def drain() -> None:
                async for ev in s.events():
                    if isinstance(ev, ResponseDone | Closed):
                        return

            await asyncio.wait_for(drain(), 10)
            await s.close()
            raise RuntimeError("a session ended normally after its recorder crashed")
        except (SessionError, RuntimeError) as exc:
            errors.append(exc)

    fake.call(attempt, GEMINI_CANARY, fake.fake.base_url)  # rejected (401)
    fake.call(attempt, OPENAI_CANARY, "http://127.0.0.1:9/v1")  # unreachable
    fake.call(attempt, OPENAI_CANARY, fake.fake.base_url, Exploding(), timeout=30)
    assert len(errors) == 3, errors
    return errors


def _gui_titles(tmp: Path, error_text: str) -> list[tuple[str, str]]:
    """Window titles and visible texts of the real main window (offscreen) showing an error."""
    pytest.importorskip("PySide6")
    import keyring
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QWidget

    from app.config import Settings
    from app.gui.main import build_window
    from tests.app.gui.conftest import MemoryKeyring
    from tests.app.gui.fake_assistant import FakeAssistant

    app = QApplication.instance() or QApplication([])
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    kr.set_password("voicecam", "openai", OPENAI_CANARY)
    kr.set_password("voicecam", "gemini", GEMINI_CANARY)
    keyring.set_keyring(kr)
    out: list[tuple[str, str]] = []
    try:
        assistant = FakeAssistant()
        window = build_window(
            assistant, QSettings(str(tmp / "gui.ini"), QSettings.Format.IniFormat), Settings()
        )
        window.show()
        from app.model import State

        assistant.pump = window.events.flush  # shown at once, not at the next frame
        assistant.emit_state(State.ERROR, error_text)
        assert window.ui.hint_label.text() == error_text  # the error really is on screen
        for _ in range(5):
            app.processEvents()
        widgets: list[QWidget] = [w for w in app.topLevelWidgets() if w.isVisible()]
        for top in widgets:
            out.append(("window title", top.windowTitle()))
            for label in top.findChildren(QLabel):
                out.append(("label", label.text() + label.toolTip()))
            for edit in top.findChildren(QLineEdit):
                out.append(("line edit", edit.text() + edit.placeholderText()))
        window.close()
        window.deleteLater()
        app.processEvents()
    finally:
        keyring.set_keyring(previous)
    assert any(kind == "window title" for kind, _ in out)
    return out


def test_canary_search_can_fail(tmp_path: Path) -> None:
    """The scanner finds each form it claims to find (so the test above can fail)."""
    (tmp_path / "a.db-wal").write_bytes(b"xx" + OPENAI_CANARY.encode() + b"yy")
    (tmp_path / "b.txt").write_text(base64.b64encode(GEMINI_CANARY.encode()).decode())
    (tmp_path / "c.bin").write_bytes(OPENAI_CANARY.encode("utf-16-le"))
    (tmp_path / "d.txt").write_text("nothing")
    assert len(scan_tree(tmp_path)) == 3
