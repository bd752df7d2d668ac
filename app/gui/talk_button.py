"""The large round talk control.

A ``QAbstractButton`` painted as a circle in the state colour with a microphone glyph and a
level ring that follows the microphone meter. It only emits Qt's ``pressed``/``released``/
``clicked``; what they mean (start, stop, push-to-talk) is decided by the window per mode.
GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QAbstractButton, QSizePolicy, QWidget

from app.gui.theme import MUTED_COLOUR, state_colour
from app.model import State


class TalkButton(QAbstractButton):
    """Round button; ``set_state`` colours it, ``set_level`` (0..1) drives the outer ring."""

    DIAMETER = 92

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = State.IDLE
        self._level = 0.0
        self._muted = False
        self._active = False  # talking (PTT held / toggle on) or conversation running
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Talk")

    def sizeHint(self) -> QSize:
        d = self.DIAMETER + 16
        return QSize(d, d)

    def set_state(self, state: State) -> None:
        if state != self._state:
            self._state = state
            self.update()

    def set_muted(self, muted: bool) -> None:
        """The microphone is muted: drawn in the "off" colour whatever the state."""
        if muted != self._muted:
            self._muted = muted
            self.update()

    def set_active(self, active: bool) -> None:
        if active != self._active:
            self._active = active
            self.update()

    def set_level(self, level: float) -> None:
        level = max(0.0, min(1.0, level))
        if abs(level - self._level) > 0.02:
            self._level = level
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(8, 8, -8, -8)
        side = min(r.width(), r.height())
        centre = r.center()
        radius = side / 2
        colour = QColor(MUTED_COLOUR) if self._muted else state_colour(self._state)
        if not self.isEnabled():
            colour = QColor("#9aa3ae")
        # level ring
        if self._level > 0.02 and self._state in (State.LISTENING, State.USER_SPEAKING):
            ring = QColor(colour)
            ring.setAlphaF(0.25 + 0.35 * self._level)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(ring)
            extra = 2 + 6 * self._level
            p.drawEllipse(centre, radius + extra, radius + extra)
        fill = colour.darker(115) if self.isDown() else colour
        if self.underMouse() and not self.isDown():
            fill = colour.lighter(110)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(fill)
        p.drawEllipse(centre, radius, radius)
        if self.hasFocus():
            pen = QPen(self.palette().color(self.palette().ColorRole.Highlight), 2)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(centre, radius + 3, radius + 3)
        self._paint_glyph(p, centre, radius)
        p.end()

    def _paint_glyph(self, p: QPainter, c: QPointF, radius: float) -> None:
        """A microphone (or a stop square while a hands-free conversation runs)."""
        white = QColor("white")
        s = radius / 46.0
        if self._active and self._state not in (State.USER_SPEAKING,):
            # stop square for "click to stop"
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(white)
            side = 24 * s
            p.drawRoundedRect(QRectF(c.x() - side / 2, c.y() - side / 2, side, side), 4 * s, 4 * s)
            return
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(white)
        body = QRectF(c.x() - 8 * s, c.y() - 20 * s, 16 * s, 26 * s)
        p.drawRoundedRect(body, 8 * s, 8 * s)
        pen = QPen(white, 3.2 * s)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        path = QPainterPath()
        path.moveTo(c.x() - 14 * s, c.y() - 4 * s)
        path.cubicTo(
            c.x() - 14 * s,
            c.y() + 14 * s,
            c.x() + 14 * s,
            c.y() + 14 * s,
            c.x() + 14 * s,
            c.y() - 4 * s,
        )
        p.drawPath(path)
        p.drawLine(QPointF(c.x(), c.y() + 10 * s), QPointF(c.x(), c.y() + 19 * s))
        p.drawLine(QPointF(c.x() - 8 * s, c.y() + 19 * s), QPointF(c.x() + 8 * s, c.y() + 19 * s))
