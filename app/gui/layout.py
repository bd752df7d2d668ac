"""The main window's widgets and actions (split from :mod:`app.gui.window` to keep it small).

GUI thread only. ``build_ui(win)`` creates every widget as an attribute of the window and wires
its signals to the window's methods; ``make_actions(win)`` adds one shortcut per main action.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.gui.meters import MetersPanel
from app.gui.model import Mode
from app.gui.preview import PreviewWidget, ThumbnailStrip
from app.gui.status import StatusPanel
from app.gui.talk_button import TalkButton
from app.gui.transcript_view import TranscriptView

if TYPE_CHECKING:
    from app.gui.window import MainWindow

MODE_LABELS = {
    Mode.HANDS_FREE: "Hands-free",
    Mode.PUSH_TO_TALK: "Push-to-talk",
    Mode.TOGGLE: "Toggle",
    Mode.MUTE: "Mute",
}


def build_ui(win: MainWindow) -> None:
    """Create the widgets as attributes of ``win`` (called once from its constructor)."""
    central = QWidget()
    root = QVBoxLayout(central)
    root.setContentsMargins(14, 10, 14, 6)
    root.setSpacing(10)

    # ---- top row: backend / model / voice / connect ... sessions / settings
    top = QHBoxLayout()
    top.setSpacing(8)
    win.backend_box = QComboBox()
    win.backend_box.setAccessibleName("Backend")
    win.backend_box.setToolTip("Which service answers (Ctrl+B)")
    for b in win._backends.values():
        win.backend_box.addItem(b.label, b.name)
    win.model_box = QComboBox()
    win.model_box.setAccessibleName("Model")
    win.model_box.setMinimumContentsLength(14)
    win.voice_box = QComboBox()
    win.voice_box.setAccessibleName("Voice")
    win.voice_box.setMinimumContentsLength(8)
    win.backend_box.currentIndexChanged.connect(win._on_backend_changed)
    win.connect_btn = QPushButton("Connect")
    win.connect_btn.setAccessibleName("Connect")
    win.connect_btn.setToolTip("Connect or disconnect (Ctrl+K)")
    win.connect_btn.clicked.connect(win.toggle_connection)
    for text, w in (("Backend", win.backend_box), ("Model", win.model_box)):
        lab = QLabel(text)
        lab.setObjectName("muted")
        lab.setBuddy(w)
        top.addWidget(lab)
        top.addWidget(w)
    vlab = QLabel("Voice")
    vlab.setObjectName("muted")
    top.addWidget(vlab)
    top.addWidget(win.voice_box)
    top.addWidget(win.connect_btn)
    top.addStretch(1)
    win.sessions_btn = QPushButton("Sessions")
    win.sessions_btn.setAccessibleName("Recorded sessions")
    win.sessions_btn.setToolTip("Browse and replay recorded sessions (Ctrl+H)")
    win.sessions_btn.clicked.connect(win.show_sessions)
    win.settings_btn = QPushButton("Settings")
    win.settings_btn.setAccessibleName("Settings")
    win.settings_btn.setToolTip("Keys, devices, voice, camera… (Ctrl+,)")
    win.settings_btn.clicked.connect(win.show_settings)
    top.addWidget(win.sessions_btn)
    top.addWidget(win.settings_btn)
    root.addLayout(top)
    win._on_backend_changed()

    # ---- middle: preview card | transcript card
    win.splitter = QSplitter(Qt.Orientation.Horizontal)
    win.splitter.setChildrenCollapsible(False)
    left = QFrame()
    left.setObjectName("card")
    ll = QVBoxLayout(left)
    ll.setContentsMargins(10, 10, 10, 10)
    ll.setSpacing(8)
    win.preview = PreviewWidget()
    win.preview.set_placeholder("Camera off — press Ctrl+E to turn it on")
    ll.addWidget(win.preview, 1)
    sent_lab = QLabel("Frames sent to the model")
    sent_lab.setObjectName("muted")
    ll.addWidget(sent_lab)
    win.thumbs = ThumbnailStrip()
    ll.addWidget(win.thumbs)
    cams = QHBoxLayout()
    win.camera_btn = QToolButton()
    win.camera_btn.setText("Camera")
    win.camera_btn.setCheckable(True)
    win.camera_btn.setAccessibleName("Camera on or off")
    win.camera_btn.setToolTip("Camera on/off (Ctrl+E)")
    win.camera_btn.toggled.connect(win._on_camera)
    win.screen_btn = QToolButton()
    win.screen_btn.setText("Share screen")
    win.screen_btn.setCheckable(True)
    win.screen_btn.setAccessibleName("Share screen")
    win.screen_btn.setToolTip("Share your screen instead of the camera (Ctrl+Shift+S)")
    win.screen_btn.toggled.connect(win._on_screen)
    win.look_btn = QPushButton("Look at this")
    win.look_btn.setAccessibleName("Look at this: send a snapshot now")
    win.look_btn.setToolTip("Send the current frame to the model now (Ctrl+L)")
    win.look_btn.clicked.connect(win.assistant.look_at_this)
    cams.addWidget(win.camera_btn)
    cams.addWidget(win.screen_btn)
    cams.addStretch(1)
    cams.addWidget(win.look_btn)
    ll.addLayout(cams)

    right = QFrame()
    right.setObjectName("card")
    rl = QVBoxLayout(right)
    rl.setContentsMargins(10, 10, 10, 10)
    rl.setSpacing(8)
    tlab = QLabel("Conversation")
    tlab.setObjectName("sectionTitle")
    rl.addWidget(tlab)
    win.transcript = TranscriptView()
    rl.addWidget(win.transcript, 1)
    trow = QHBoxLayout()
    win.text_box = QLineEdit()
    win.text_box.setPlaceholderText("Type a message… (Ctrl+T)")
    win.text_box.setAccessibleName("Message")
    win.text_box.returnPressed.connect(win.send_text)
    win.send_btn = QPushButton("Send")
    win.send_btn.setAccessibleName("Send message")
    win.send_btn.clicked.connect(win.send_text)
    trow.addWidget(win.text_box, 1)
    trow.addWidget(win.send_btn)
    rl.addLayout(trow)
    win.splitter.addWidget(left)
    win.splitter.addWidget(right)
    win.splitter.setStretchFactor(0, 1)
    win.splitter.setStretchFactor(1, 1)
    win.splitter.setSizes([560, 520])
    root.addWidget(win.splitter, 1)

    # ---- bottom: talk button, state, modes, meters
    bottom = QFrame()
    bottom.setObjectName("card")
    bl = QHBoxLayout(bottom)
    bl.setContentsMargins(12, 8, 16, 8)
    bl.setSpacing(16)
    win.talk_btn = TalkButton()
    win.talk_btn.setToolTip("Start/stop; in push-to-talk hold it (or Space) while you talk")
    win.talk_btn.pressed.connect(win._on_talk_pressed)
    win.talk_btn.released.connect(win._on_talk_released)
    bl.addWidget(win.talk_btn)
    sc = QVBoxLayout()
    sc.setSpacing(2)
    sc.addStretch(1)
    win.state_label = QLabel()
    win.state_label.setAccessibleName("Status")
    f = win.state_label.font()
    f.setPointSizeF(f.pointSizeF() * 1.45)
    f.setBold(True)
    win.state_label.setFont(f)
    win.hint_label = QLabel()
    win.hint_label.setObjectName("muted")
    win.hint_label.setWordWrap(True)
    win.hint_label.setAccessibleName("Status detail")
    win.progress = QProgressBar()
    win.progress.setRange(0, 1000)
    win.progress.setTextVisible(False)
    win.progress.setFixedHeight(8)
    win.progress.setAccessibleName("Model loading progress")
    win.progress.hide()
    sc.addWidget(win.state_label)
    sc.addWidget(win.hint_label)
    sc.addWidget(win.progress)
    sc.addStretch(1)
    bl.addLayout(sc, 1)

    modes = QVBoxLayout()
    modes.setSpacing(4)
    mlab = QLabel("Mode")
    mlab.setObjectName("muted")
    modes.addStretch(1)
    modes.addWidget(mlab)
    mrow = QHBoxLayout()
    mrow.setSpacing(2)
    win.mode_group = QButtonGroup(win)
    win.mode_group.setExclusive(True)
    win.mode_buttons: dict[Mode, QToolButton] = {}
    for i, (m, text) in enumerate(MODE_LABELS.items(), start=1):
        b = QToolButton()
        b.setText(text)
        b.setCheckable(True)
        b.setAccessibleName(f"{text} mode")
        b.setToolTip(f"{text} (Ctrl+{i})" if m != Mode.MUTE else "Mute (Ctrl+M)")
        b.clicked.connect(lambda _=False, mode=m: win.set_mode(mode))
        win.mode_group.addButton(b)
        win.mode_buttons[m] = b
        mrow.addWidget(b)
    modes.addLayout(mrow)
    modes.addStretch(1)
    bl.addLayout(modes)
    win.meters = MetersPanel()
    win.meters.setMinimumWidth(200)
    bl.addWidget(win.meters)
    root.addWidget(bottom)

    win.setCentralWidget(central)
    win.status = StatusPanel()
    win.status.recording_toggled.connect(win.assistant.set_recording)
    win.setStatusBar(win.status)
    win.resize(1120, 720)
    win.setMinimumSize(720, 520)


def make_actions(win: MainWindow) -> None:
    """One QAction per main action, with its shortcut; ``win.actions_by_name``."""

    def act(name: str, keys: str | QKeySequence.StandardKey, slot: Callable[[], Any]) -> QAction:
        a = QAction(name, win)
        a.setShortcut(QKeySequence(keys))
        a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        a.triggered.connect(lambda _=False: slot())
        win.addAction(a)
        return a

    win.actions_by_name = {
        "connect": act("Connect/disconnect", "Ctrl+K", win.toggle_connection),
        "camera": act("Camera", "Ctrl+E", win.camera_btn.toggle),
        "screen": act("Share screen", "Ctrl+Shift+S", win.screen_btn.toggle),
        "look": act("Look at this", "Ctrl+L", win.look_btn.click),
        "text": act("Type a message", "Ctrl+T", win.text_box.setFocus),
        "mute": act("Mute", "Ctrl+M", win.toggle_mute),
        "settings": act("Settings", "Ctrl+,", win.show_settings),
        "sessions": act("Sessions", "Ctrl+H", win.show_sessions),
        "record": act("Recording", "Ctrl+R", win.status.rec_button.toggle),
        "backend": act("Backend", "Ctrl+B", win.backend_box.showPopup),
        "quit": act("Quit", "Ctrl+Q", win.close),
    }
    for i, m in enumerate((Mode.HANDS_FREE, Mode.PUSH_TO_TALK, Mode.TOGGLE), start=1):
        win.actions_by_name[f"mode{i}"] = act(
            MODE_LABELS[m], f"Ctrl+{i}", lambda mode=m: win.set_mode(mode)
        )
