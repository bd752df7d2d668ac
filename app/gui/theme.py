"""Follow the system light/dark scheme; one palette of state colours for the whole window.

GUI thread only. ``apply_theme(app)`` sets the Fusion style with a palette matching the system
colour scheme and re-applies itself when the scheme changes (``QStyleHints.colorSchemeChanged``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from app.model import State

# Colours chosen to read on both light and dark backgrounds.
STATE_COLOURS: dict[State, str] = {
    State.IDLE: "#7a8290",
    State.LOADING: "#d99a21",
    State.CONNECTING: "#d99a21",
    State.LISTENING: "#2e9e5b",
    State.USER_SPEAKING: "#1fb871",
    State.THINKING: "#7b5cd6",
    State.ASSISTANT_SPEAKING: "#2f7fdc",
    State.RECONNECTING: "#d99a21",
    State.ERROR: "#d6453d",
}


#: The microphone is off (mute mode): a grey that reads as "off", never a state's green.
MUTED_COLOUR = "#6f7784"


def state_colour(state: State) -> QColor:
    return QColor(STATE_COLOURS.get(state, "#7a8290"))


def is_dark() -> bool:
    """True when the system (or the current palette) is dark."""
    hints = QGuiApplication.styleHints()
    scheme = hints.colorScheme() if hints is not None else Qt.ColorScheme.Unknown
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
    return window.lightness() < 128


def _palette(dark: bool) -> QPalette:
    p = QPalette()
    if dark:
        base, window, text, alt = "#1e2127", "#262a31", "#e6e8eb", "#2c313a"
        button, mid, muted = "#313741", "#3b424d", "#9aa3ae"
    else:
        base, window, text, alt = "#ffffff", "#f3f4f6", "#1d2330", "#f7f8fa"
        button, mid, muted = "#ffffff", "#d5d9e0", "#6b7380"
    role = QPalette.ColorRole
    p.setColor(role.Window, QColor(window))
    p.setColor(role.WindowText, QColor(text))
    p.setColor(role.Base, QColor(base))
    p.setColor(role.AlternateBase, QColor(alt))
    p.setColor(role.Text, QColor(text))
    p.setColor(role.Button, QColor(button))
    p.setColor(role.ButtonText, QColor(text))
    p.setColor(role.ToolTipBase, QColor(base))
    p.setColor(role.ToolTipText, QColor(text))
    p.setColor(role.PlaceholderText, QColor(muted))
    p.setColor(role.Mid, QColor(mid))
    p.setColor(role.Midlight, QColor(mid))
    p.setColor(role.Highlight, QColor("#2f7fdc"))
    p.setColor(role.HighlightedText, QColor("#ffffff"))
    p.setColor(role.Link, QColor("#4a90e2" if dark else "#1f65c0"))
    p.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor(muted))
    p.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor(muted))
    p.setColor(QPalette.ColorGroup.Disabled, role.WindowText, QColor(muted))
    return p


def stylesheet(dark: bool) -> str:
    """Small stylesheet on top of the palette: rounded cards, roomy controls."""
    card = "#262a31" if dark else "#ffffff"
    border = "#3b424d" if dark else "#dde1e7"
    muted = "#9aa3ae" if dark else "#6b7380"
    user_bg = "#23402f" if dark else "#e6f5ec"
    bot_bg = "#22344d" if dark else "#e8f0fb"
    return f"""
QFrame#card {{ background: {card}; border: 1px solid {border}; border-radius: 10px; }}
QLabel#muted, QLabel#detail {{ color: {muted}; }}
QLabel#conversationDivider {{ color: {muted}; border-top: 1px solid {border};
    padding-top: 4px; margin: 6px 24px 0 24px; }}
QLabel#sectionTitle {{ font-weight: 600; }}
QFrame#bubble_user {{ background: {user_bg}; border-radius: 10px; }}
QFrame#bubble_assistant {{ background: {bot_bg}; border-radius: 10px; }}
QPushButton, QToolButton, QComboBox, QLineEdit {{ min-height: 26px; }}
QPushButton, QToolButton {{ padding: 3px 10px; }}
QToolButton:checked {{ background: #2f7fdc; color: white; border-radius: 4px; }}
QStatusBar QLabel {{ padding: 0 8px; }}
QToolButton#recSwitch, QToolButton#recSwitch:checked {{
    background: transparent; color: palette(text); border: 1px solid {border};
    border-radius: 4px; padding: 1px 8px; min-height: 20px; }}
TranscriptView, TranscriptView > QWidget > QWidget#transcriptInner {{ background: transparent; }}
QListWidget#thumbs {{ border: none; background: transparent; }}
"""


def apply_theme(app: QApplication, scheme: str | None = None) -> None:
    """Fusion + a palette matching the colour scheme; follows later system scheme changes.

    ``scheme``: the ``theme`` setting ("system", "light" or "dark"; ``VOICECAM_THEME`` sets it
    through the settings' environment layer). None: the ``VOICECAM_THEME`` variable, else the
    system. May be called again (the setting changed): the new choice applies at once.
    """
    import os

    app.setStyle("Fusion")
    chosen = (scheme if scheme is not None else os.environ.get("VOICECAM_THEME", "")).lower()
    app.setProperty("voicecam_theme", chosen)
    _apply(app)
    hints = app.styleHints()
    if hints is not None and not app.property("voicecam_theme_hooked"):
        hints.colorSchemeChanged.connect(lambda *_: _apply(app))
        app.setProperty("voicecam_theme_hooked", True)


def _apply(app: QApplication) -> None:
    forced = str(app.property("voicecam_theme") or "")
    dark = forced == "dark" if forced in ("light", "dark") else is_dark()
    app.setPalette(_palette(dark))
    app.setStyleSheet(stylesheet(dark))
