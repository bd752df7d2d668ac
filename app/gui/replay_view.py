"""Replay one recorded session: synced audio, frames and transcript; seek, 0.5×–2×, jump to turn.

GUI thread only, except ``app.sessions.load_replay`` (runs on a worker: it opens and decodes
the file) and the PortAudio callback of :class:`ReplayAudio` (copies from a preloaded array only).

The replay clock is the audio stream's sample counter when audio plays, else a monotonic timer
(no output device, or ``audio=False`` in tests). Both channels are mixed for playback: the user's
microphone and the assistant's reply as it was actually played. 0.5×–2× keep the pitch (WSOLA
time-stretch, ``app.replay_audio``), with seeking at any speed.
"""

from __future__ import annotations

import bisect
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.gui.preview import PreviewWidget
from app.gui.tasks import TaskRunner
from app.replay_audio import SPEEDS, StretchedTrack
from app.sessions import REPLAY_RATE_HZ, ReplayData, load_replay

__all__ = ["ReplayAudio", "ReplayData", "ReplayView", "fmt_clock", "load_replay"]

TICK_MS = 40


def fmt_clock(ms: float) -> str:
    s = max(0, int(ms // 1000))
    return f"{s // 60}:{s % 60:02d}"


class ReplayAudio:
    """Plays the mix from a position at 0.5×–2× through sounddevice, pitch kept (WSOLA,
    ``app.replay_audio.StretchedTrack``; the callback only reads from it).

    ``position_ms()`` is the playback clock (session time). ``start``/``stop`` may block
    briefly (PortAudio): the view calls them on its worker.
    """

    def __init__(self, audio: Any) -> None:
        import sounddevice as sd

        self.track = StretchedTrack(audio, REPLAY_RATE_HZ)
        self._stream = sd.OutputStream(
            samplerate=REPLAY_RATE_HZ,
            channels=1,
            dtype="int16",
            blocksize=480,
            callback=self._callback,
        )

    def _callback(self, outdata: Any, frames: int, _time: Any, _status: Any) -> None:
        self.track.fill(outdata)

    def seek(self, ms: float) -> None:
        self.track.seek(ms)

    def set_speed(self, speed: float) -> None:
        self.track.set_speed(speed)

    def position_ms(self) -> float:
        return self.track.position_ms

    def start(self) -> None:
        self._stream.start()

    def stop(self) -> None:
        self._stream.stop()

    def close(self) -> None:
        self._stream.close()


class ReplayView(QWidget):
    """Frames on the left, turns on the right, transport controls below."""

    loaded = Signal()
    failed = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, audio: bool = True) -> None:
        super().__init__(parent)
        self.setAccessibleName("Replay")
        self.tasks = TaskRunner(self)
        self._use_audio = audio
        self.data: ReplayData | None = None
        self.player: ReplayAudio | None = None
        self._playing = False
        self._speed = 1.0
        self._base_ms = 0.0  # timer clock: position when (re)started
        self._t0 = 0.0
        self._shown_frame = -1
        self._start_ms = 0.0

        self.title = QLabel("")
        self.title.setObjectName("sectionTitle")
        self.note = QLabel("")
        self.note.setObjectName("muted")
        self.frame_view = PreviewWidget()
        self.frame_view.set_placeholder("No camera frames in this session")
        self.frame_view.setAccessibleName("Frame sent at this moment")
        self.turn_list = QListWidget()
        self.turn_list.setWordWrap(True)
        self.turn_list.setAccessibleName("Turns: activate one to jump to it")
        self.turn_list.itemActivated.connect(self._on_turn_activated)
        self.turn_list.itemClicked.connect(self._on_turn_activated)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.frame_view)
        split.addWidget(self.turn_list)
        split.setSizes([520, 380])

        self.play_btn = QPushButton("Play")
        self.play_btn.setAccessibleName("Play or pause")
        self.play_btn.setToolTip("Play/pause (Space)")
        self.play_btn.setShortcut("Space")
        self.play_btn.clicked.connect(self.toggle_play)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setAccessibleName("Position")
        self.slider.sliderMoved.connect(lambda v: self.seek(float(v)))
        self.slider.sliderReleased.connect(lambda: self.seek(float(self.slider.value())))
        self.clock = QLabel("0:00 / 0:00")
        self.clock.setAccessibleName("Time")
        self.speed_box = QComboBox()
        for speed in SPEEDS:
            self.speed_box.addItem(f"{speed:g}×", speed)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.setAccessibleName("Speed")
        self.speed_box.setToolTip("Replay speed (the pitch stays the same)")
        self.speed_box.currentIndexChanged.connect(
            lambda _: self.set_speed(float(self.speed_box.currentData()))
        )
        transport = QHBoxLayout()
        transport.addWidget(self.play_btn)
        transport.addWidget(self.slider, 1)
        transport.addWidget(self.clock)
        transport.addWidget(self.speed_box)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addWidget(split, 1)
        lay.addLayout(transport)
        lay.addWidget(self.note)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self._set_enabled(False)

    # ------------------------------------------------------------------ loading
    def open(self, path: str | Path, start_ms: float = 0.0) -> None:
        """Load ``path`` on the worker, then stand at ``start_ms`` (e.g. a search hit)."""
        self._start_ms = start_ms
        self.stop()
        self._close_player()
        self.data = None
        self._set_enabled(False)
        self.title.setText(f"Loading {Path(path).name}…")
        self.tasks.submit(lambda: self._load(path), self._on_loaded, self._on_failed)

    def _load(self, path: str | Path) -> tuple[ReplayData, ReplayAudio | None, str]:
        data = load_replay(path)
        player, note = None, ""
        if self._use_audio and len(data.audio):
            try:
                player = ReplayAudio(data.audio)
            except Exception as exc:  # no output device: replay silently, say so
                note = f"No audio output ({exc}); replaying without sound."
        return data, player, note

    def _on_loaded(self, result: tuple[ReplayData, ReplayAudio | None, str]) -> None:
        data, player, note = result
        self.data, self.player = data, player
        self.title.setText(data.title or data.path.name)
        self.note.setText(note)
        self.turn_list.clear()
        for t in data.turns:
            who = "You" if t.role == "user" else "Assistant"
            item = QListWidgetItem(f"{fmt_clock(t.start_ms)}  {who}: {t.text}")
            item.setData(Qt.ItemDataRole.UserRole, t.start_ms)
            self.turn_list.addItem(item)
        self.slider.setRange(0, int(data.duration_ms))
        self._shown_frame = -1
        self.frame_view.clear()
        self._set_enabled(True)
        self._base_ms = 0.0
        self.seek(self._start_ms)
        self.loaded.emit()

    def _on_failed(self, msg: str) -> None:
        self.title.setText("This session cannot be replayed")
        self.note.setText(msg)
        self.failed.emit(msg)

    def _set_enabled(self, on: bool) -> None:
        for w in (self.play_btn, self.slider, self.speed_box, self.turn_list):
            w.setEnabled(on)

    # ------------------------------------------------------------------ transport
    def position_ms(self) -> float:
        if self.player is not None and self._playing:
            return self.player.position_ms()
        if self._playing:
            return self._base_ms + (time.monotonic() - self._t0) * 1000.0 * self._speed
        return self._base_ms

    def toggle_play(self) -> None:
        if self._playing:
            self.stop()
        else:
            self.play()

    def play(self) -> None:
        if self.data is None or self._playing:
            return
        if self._base_ms >= self.data.duration_ms:
            self._base_ms = 0.0
        self._playing = True
        self._t0 = time.monotonic()
        if self.player is not None:
            player = self.player
            player.seek(self._base_ms)
            player.set_speed(self._speed)
            self.tasks.submit(player.start, lambda _: None, self._audio_failed)
        self.play_btn.setText("Pause")
        self.timer.start()

    def stop(self) -> None:
        if not self._playing:
            return
        self._base_ms = self.position_ms()
        self._playing = False
        if self.player is not None:
            self.tasks.submit(self.player.stop, lambda _: None, self._audio_failed)
        self.play_btn.setText("Play")
        self.timer.stop()

    def _audio_failed(self, msg: str) -> None:
        self.note.setText(f"Audio output failed ({msg}); replaying without sound.")
        self.player = None

    def seek(self, ms: float) -> None:
        if self.data is None:
            return
        ms = max(0.0, min(ms, self.data.duration_ms))
        self._base_ms = ms
        self._t0 = time.monotonic()
        if self.player is not None:
            self.player.seek(ms)
        self._render(ms)

    def set_speed(self, speed: float) -> None:
        """0.5×–2× (``app.replay_audio.SPEEDS`` in the box), pitch kept."""
        speed = float(speed)
        if speed == self._speed:
            return
        self._base_ms = self.position_ms()
        self._t0 = time.monotonic()
        self._speed = speed
        if self.player is not None:
            self.player.set_speed(speed)
        i = self.speed_box.findData(speed)
        if i >= 0 and i != self.speed_box.currentIndex():
            self.speed_box.setCurrentIndex(i)

    def jump_to_turn(self, index: int) -> None:
        if self.data is not None and 0 <= index < len(self.data.turns):
            self.seek(self.data.turns[index].start_ms)

    def _on_turn_activated(self, item: QListWidgetItem) -> None:
        self.seek(float(item.data(Qt.ItemDataRole.UserRole)))

    def _tick(self) -> None:
        pos = self.position_ms()
        if self.data is not None and pos >= self.data.duration_ms:
            self._render(self.data.duration_ms)
            self.stop()
            self._base_ms = self.data.duration_ms
            return
        self._render(pos)

    def _render(self, pos: float) -> None:
        data = self.data
        if data is None:
            return
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(int(pos))
            self.slider.blockSignals(False)
        self.clock.setText(f"{fmt_clock(pos)} / {fmt_clock(data.duration_ms)}")
        fi = bisect.bisect_right(data.frame_times, pos) - 1
        if fi < 0 and data.frames:
            fi = 0
        if fi != self._shown_frame and fi >= 0:
            self._shown_frame = fi
            self.frame_view.show_jpeg(data.frames[fi], fi)  # decoded on the view's worker
        current = -1
        for i, t in enumerate(data.turns):
            if t.start_ms <= pos:
                current = i
        if self.turn_list.currentRow() != current:
            self.turn_list.setCurrentRow(current)  # -1 (none) before the first turn

    def current_turn(self) -> int:
        return self.turn_list.currentRow()

    # ------------------------------------------------------------------ teardown
    def _close_player(self) -> None:
        if self.player is not None:
            player, self.player = self.player, None
            self.tasks.submit(player.close, lambda _: None)

    def shutdown(self) -> None:
        """Stop playback and the worker (before the view is deleted)."""
        self.stop()
        self.timer.stop()
        self._close_player()
        self.frame_view.shutdown()
        self.tasks.shutdown(cancel_pending=False)
