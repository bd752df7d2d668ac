"""Replay one recorded session: synced audio, frames and transcript; seek, 0.5×–2×, jump to turn.

GUI thread only, except ``app.sessions.load_replay`` (runs on a worker: it opens and decodes
the file) and the PortAudio callback of :class:`ReplayAudio` (reads from the preloaded,
time-stretched track only).

The replay clock is the audio stream's sample counter once its callback runs, else a monotonic
timer (while the stream opens, no output device, or ``audio=False`` in tests): the clock never
waits for the device. Both channels are mixed for playback: the user's microphone and the
assistant's reply as it was actually played. 0.5×–2× keep the pitch (WSOLA time-stretch,
``app.replay_audio``), with seeking at any speed.

Each Play opens a fresh output stream and each pause closes it. A stream opened earlier would
not survive a live conversation's audio engine re-initialising PortAudio when it recovers a
device (PortAudio then answers "Invalid stream pointer"), and a stream whose callback stops
(the same cause, during playback) is reopened once at the position reached. While it plays,
``playing_changed(True)`` lets the window pause a live conversation's microphone
(``app.gui.replay_mic``), so the replay heard from the speaker is not sent as the user's speech.
"""

from __future__ import annotations

import bisect
import time
from pathlib import Path

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
from app.gui.replay_audio import ReplayAudio, stop_and_close
from app.gui.tasks import TaskRunner
from app.replay_audio import SPEEDS
from app.sessions import ReplayData, load_replay

__all__ = ["ReplayAudio", "ReplayData", "ReplayView", "fmt_clock", "load_replay"]

TICK_MS = 40
#: The audio callback silent this long while playing: the stream died; reopen it once.
STALL_S = 1.0


def fmt_clock(ms: float) -> str:
    s = max(0, int(ms // 1000))
    return f"{s // 60}:{s % 60:02d}"


class ReplayView(QWidget):
    """Frames on the left, turns on the right, transport controls below."""

    loaded = Signal()
    failed = Signal(str)
    #: True when Play starts, False when it pauses or ends (GUI thread).
    playing_changed = Signal(bool)

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
        self._play_id = 0  # each Play's stream belongs to one play; a stale one is closed
        self._reopened = False
        #: a sentence about the live conversation while this replay plays ("" when none)
        self.live_note = ""
        self._start_ms = 0.0  # where a loaded session stands first (a search hit)

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
        self.speed_box.setToolTip("Replay speed (the pitch stays the same)")
        self.speed_box.setAccessibleName("Speed")
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

    def _load(self, path: str | Path) -> ReplayData:
        return load_replay(path)

    def _on_loaded(self, data: ReplayData) -> None:
        self.data, self.player = data, None
        self.title.setText(data.title or data.path.name)
        self.note.setText("")
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
        if self.player is not None and self._playing and self.player.running:
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
        self._reopened = False
        self._open_audio()
        self.play_btn.setText("Pause")
        self.timer.start()
        self.playing_changed.emit(True)

    def _open_audio(self) -> None:
        """Open and start a fresh stream on the worker at the current position (the timer
        clock runs meanwhile, so the display never waits for the device)."""
        data = self.data
        if not self._use_audio or data is None or not len(data.audio):
            return
        self._play_id += 1
        play_id, start_ms, speed = self._play_id, self.position_ms(), self._speed

        def open_started() -> ReplayAudio:
            player = ReplayAudio(data.audio)
            player.seek(start_ms)
            player.set_speed(speed)
            try:
                player.start()
            except Exception:
                player.close()
                raise
            return player

        self.tasks.submit(
            open_started,
            lambda player: self._on_audio_started(play_id, player),
            lambda msg: self._audio_failed(play_id, msg),
        )

    def _on_audio_started(self, play_id: int, player: ReplayAudio) -> None:
        if play_id != self._play_id or not self._playing:  # paused (or replaced) meanwhile
            self.tasks.submit(lambda: stop_and_close(player), lambda _: None)
            return
        self._close_player()
        player.seek(self.position_ms())  # where the timer clock got to (or a seek went)
        self.player = player
        self._show_note()

    def stop(self) -> None:
        if not self._playing:
            return
        self._base_ms = self.position_ms()
        self._playing = False
        self._play_id += 1  # a stream still opening is closed when it arrives
        self._close_player()
        self.play_btn.setText("Play")
        self.timer.stop()
        self.playing_changed.emit(False)

    def _audio_failed(self, play_id: int, msg: str) -> None:
        if play_id != self._play_id:
            return
        self.note.setText(f"Audio output failed ({msg}); replaying without sound.")
        self.player = None

    def set_live_note(self, text: str) -> None:
        """What the live conversation does while this replay plays (``app.gui.replay_mic``)."""
        self.live_note = text
        self._show_note()

    def _show_note(self) -> None:
        if not self.note.text().startswith("Audio output"):
            self.note.setText(self.live_note)

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
        player = self.player
        if (
            player is not None
            and player.running
            and time.monotonic() - player.last_callback_s > STALL_S
        ):  # the stream died under us (PortAudio re-initialised): reopen it here, once
            self._base_ms, self._t0 = player.position_ms(), time.monotonic()
            self._close_player()
            if self._reopened:
                self.note.setText("Audio output stopped; replaying without sound.")
            else:
                self._reopened = True
                self._open_audio()
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
            self.tasks.submit(lambda: stop_and_close(player), lambda _: None)

    def shutdown(self) -> None:
        """Stop playback and the worker (before the view is deleted)."""
        self.stop()
        self.timer.stop()
        self._close_player()
        self.frame_view.shutdown()
        self.tasks.shutdown(cancel_pending=False)
