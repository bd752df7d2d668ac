"""Render the window's main states with a fake assistant and save PNGs.

Run under a real X server (Xvfb) so fonts, DPI and the window frame are what people see:
``QT_QPA_PLATFORM=xcb python -m tests.app.gui.screenshots OUT_DIR`` (the screenshot test does
this inside pytest-xvfb). Writes idle.png, loading.png, listening.png, speaking.png,
speaking_dark.png, small.png (the minimum window size), error.png, settings.png,
settings_audio.png, sessions.png, replay.png.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[3]
MEDIA = REPO.parent / "shared" / "media"


def main(out: Path) -> int:
    os.environ.setdefault("VOICECAM_CONFIG_DIR", tempfile.mkdtemp(prefix="voicecam-shots-"))
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.config import Settings
    from app.devices import DeviceNames
    from app.gui.main import build_window
    from app.gui.theme import apply_theme
    from app.model import Loading, Meters, Spend, State, Turn, TurnLatency, Usage
    from app.privacy_status import Destination, SendingState, VideoKind
    from tests.app.gui.fake_assistant import FakeAssistant

    app = QApplication.instance() or QApplication([sys.argv[0]])
    apply_theme(app)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="voicecam-shots-"))
    fake = FakeAssistant()
    qs = QSettings(str(tmp / "gui.ini"), QSettings.Format.IniFormat)
    w = build_window(
        fake,
        qs,
        Settings(),
        save_settings=None,
        settings_kwargs={
            "device_lister": lambda: DeviceNames(
                ("Built-in Microphone", "USB Headset"), ("Speakers",)
            ),
            "keyring_read": lambda: {"openai": "sk-proj-xxxxxxxxxxxxxxxxxxxx7f3a", "gemini": None},
        },
        sessions_kwargs={"folder": str(tmp / "none"), "audio": False},
    )
    fake.pump = w.events.flush  # each published event shows at once
    w.resize(1180, 760)
    w.show()

    def latency(commit_ms: int, first_byte_ms: int, audible_ms: int) -> TurnLatency:
        ms = 1_000_000
        return TurnLatency(
            1, 0, commit_ms * ms, first_byte_ns=first_byte_ms * ms, first_audible_ns=audible_ms * ms
        )

    def settle(n: int = 12) -> None:
        for _ in range(n):
            app.processEvents()
            w.poll_meters()
            w.video.poll_preview()
        wait(lambda: w.ui.thumbs.pending() == 0 and not w.ui.preview.scaling())

    def wait(pred, timeout_s: float = 15.0) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout_s
        while not pred() and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        if not pred():
            raise RuntimeError("screenshot state not reached in time")

    def shot(name: str, widget=None) -> None:  # type: ignore[no-untyped-def]
        settle()
        (widget or w).grab().save(str(out / f"{name}.png"))

    shot("idle")

    fake.emit_state(State.LOADING)
    fake.emit_loading(Loading(3, 5, "Loading the speech synthesiser (Piper, 3 of 5)"))
    shot("loading")
    fake.emit_loading(Loading(5, 5, "ready"))

    desk = cv2.imread(str(MEDIA / "video" / "desk.png"))
    if desk is None:
        desk = np.full((480, 640, 3), 90, np.uint8)
    w.ui.camera_btn.setChecked(True)
    fake.set_preview(desk, 1)
    fake.emit_state(State.LISTENING)
    fake.current_meters = Meters(mic_dbfs=-24, speaker_dbfs=-120, erle_db=None)
    shot("listening")

    # The speaking state shows a cloud conversation (OpenAI): it has a per-turn cost and a
    # session cap; the offline backend is free, has no cap and cannot name objects.
    w.ui.backend_box.setCurrentIndex(w.ui.backend_box.findData("openai"))
    # the privacy chip tells the truth about this cloud session: mic and camera go to OpenAI
    fake.sending = SendingState(Destination("OpenAI"), video=VideoKind.CAMERA, frame_interval_s=1.0)
    jpg = cv2.imencode(".jpg", cv2.resize(desk, (640, 360)))[1].tobytes()
    for _ in range(3):
        fake.emit_frame_sent(jpg)
    fake.emit_turn(Turn(1, "user", "Hi! Can you see my desk?", partial=False))
    said = (
        "Yes — I can see a red mug, a green EXIT sign on the wall "
        "and a QR code in the bottom right corner."
    )
    fake.emit_turn(
        Turn(
            2,
            "assistant",
            said,
            partial=False,
            interrupted=True,
            played_ms=580,  # heard up to "…on the wall"
            received_ms=1000,
            latency=latency(110, 380, 560),
            usage=Usage(input_tokens=1240, output_tokens=96),
            cost_usd=0.0112,
        )
    )
    fake.emit_turn(Turn(3, "user", "What does the sign say?", partial=False))
    fake.emit_turn(Turn(4, "assistant", "The sign says EXIT, in white letters on", partial=True))
    fake.emit_spend(Spend(Usage(input_tokens=2480, output_tokens=190), 0.0231))
    fake.emit_time_left(3125)
    fake.emit_state(State.ASSISTANT_SPEAKING)
    fake.current_meters = Meters(mic_dbfs=-52, speaker_dbfs=-14, erle_db=38)
    fake.emit_turn(
        Turn(
            4,
            "assistant",
            "The sign says EXIT, in white letters on",
            partial=True,
            latency=latency(95, 340, 520),
        )
    )
    w.privacy_chip.refresh()  # its poll would show it within a second; show it now
    shot("speaking")

    # dark scheme (Xvfb has no desktop theme to report one, so force it like VOICECAM_THEME)
    apply_theme(app, "dark")
    shot("speaking_dark")
    apply_theme(app, "light")
    # the smallest window (issue 14, item 8): every control whole, the preview smaller
    w.resize(w.minimumSize())
    shot("small")
    w.resize(1180, 760)
    w.ui.backend_box.setCurrentIndex(w.ui.backend_box.findData("local"))
    settle()

    fake.emit_state(
        State.ERROR,
        "The OpenAI key was rejected (401). Check OPENAI_API_KEY or paste a new key in "
        "Settings → API keys.",
    )
    shot("error")

    w.show_settings()
    dlg = w.settings_dialog
    assert dlg is not None
    wait(lambda: dlg.keys_loaded and dlg.devices_loaded)  # type: ignore[attr-defined]
    dlg.tabs.setCurrentIndex(0)  # type: ignore[attr-defined]
    shot("settings", dlg)
    dlg.tabs.setCurrentIndex(1)  # type: ignore[attr-defined]
    shot("settings_audio", dlg)
    dlg.reject()  # type: ignore[attr-defined]

    from tests.app.gui.test_sessions import make_session

    sessions = tmp / "sessions"
    qr = cv2.imread(str(MEDIA / "video" / "qr.png"))
    pics = [p for p in (desk, qr) if p is not None]
    make_session(sessions, "What is written on the sign on my desk?", images=pics)
    make_session(sessions, "Is the mug red or blue?", backend="local", images=pics[::-1])
    from app.gui.sessions_browser import SessionsBrowser

    browser = SessionsBrowser(w, folder=str(sessions), audio=False)
    browser.resize(960, 520)
    browser.show()
    wait(lambda: browser.table.rowCount() == 2)
    shot("sessions", browser)
    browser.open_selected()
    wait(lambda: browser.replay.data is not None)
    browser.replay.jump_to_turn(1)
    shot("replay", browser)
    browser.shutdown()
    browser.close()

    w.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "screenshots")
    )
