"""Microphone and speaker level meters, and the echo meter with its headphones hint.

GUI thread only; the window polls ``assistant.meters()`` ~20 times a second and calls
:meth:`MetersPanel.set_meters`. Levels are dBFS mapped from [-60, 0] to the bar length.
Echo: ERLE (echo return loss enhancement, dB) while the speaker plays decides the hint:
≥ 15 dB "Speakers OK", below that "Use headphones"; no data → "Echo: —".
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from app.model import Meters

FLOOR_DB = -60.0
ERLE_OK_DB = 15.0
SPEAKER_ACTIVE_DBFS = -45.0


def level_fraction(dbfs: float) -> float:
    return max(0.0, min(1.0, (dbfs - FLOOR_DB) / -FLOOR_DB))


ENGINE_HINTS = {
    "speakers_ok": "Speakers OK",
    "use_headphones": "Use headphones",
    "converging": "Echo: measuring…",
    "aec_off": "Echo cancellation off",
}


def echo_hint(m: Meters, last: str) -> str:
    """Hint text; only re-judged while the speaker plays (echo needs playback to measure).
    The audio engine's own verdict wins when it gives one."""
    if m.echo_hint in ENGINE_HINTS:
        return ENGINE_HINTS[m.echo_hint]
    if m.erle_db is None:
        return last or "Echo: —"
    if m.speaker_dbfs < SPEAKER_ACTIVE_DBFS:
        return last or "Echo: —"
    return "Speakers OK" if m.erle_db >= ERLE_OK_DB else "Use headphones"


class LevelBar(QWidget):
    """A thin rounded bar, green → amber → red near full scale."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._fraction = 0.0
        self.setAccessibleName(name)
        self.setMinimumWidth(90)
        self.setFixedHeight(10)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(140, 10)

    def fraction(self) -> float:
        return self._fraction

    def set_fraction(self, f: float) -> None:
        f = max(0.0, min(1.0, f))
        if abs(f - self._fraction) >= 0.01:
            self._fraction = f
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self.palette().color(self.palette().ColorRole.Mid))
        p.drawRoundedRect(r, 4, 4)
        if self._fraction > 0:
            colour = QColor("#2e9e5b")
            if self._fraction > 0.9:
                colour = QColor("#d6453d")
            elif self._fraction > 0.75:
                colour = QColor("#d99a21")
            p.setBrush(colour)
            p.drawRoundedRect(QRectF(r.x(), r.y(), r.width() * self._fraction, r.height()), 4, 4)
        p.end()


class MetersPanel(QWidget):
    """Mic bar, speaker bar, echo line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(6)
        self.mic = LevelBar("Microphone level")
        self.speaker = LevelBar("Speaker level")
        mic_l, spk_l = QLabel("Mic"), QLabel("Speaker")
        for lab in (mic_l, spk_l):
            lab.setObjectName("muted")
        self.echo = QLabel("Echo: —")
        self.echo.setObjectName("muted")
        self.echo.setAccessibleName("Echo status")
        self.echo.setToolTip(
            "Echo cancellation quality while the assistant speaks.\n"
            "If it says 'Use headphones', the microphone hears the speakers."
        )
        grid.addWidget(mic_l, 0, 0)
        grid.addWidget(self.mic, 0, 1)
        grid.addWidget(spk_l, 1, 0)
        grid.addWidget(self.speaker, 1, 1)
        grid.addWidget(self.echo, 2, 0, 1, 2)

    def set_meters(self, m: Meters) -> None:
        self.mic.set_fraction(level_fraction(m.mic_dbfs))
        self.speaker.set_fraction(level_fraction(m.speaker_dbfs))
        hint = echo_hint(m, self.echo.text() if self.echo.text() != "Echo: —" else "")
        if hint != self.echo.text():
            self.echo.setText(hint)
            colour = {"Speakers OK": "#2e9e5b", "Use headphones": "#d6453d"}.get(hint)
            self.echo.setStyleSheet(f"color: {colour};" if colour else "")
        if m.erle_db is not None:
            self.echo.setToolTip(f"Echo reduced by {m.erle_db:.0f} dB")
