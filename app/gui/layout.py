"""The main window's widgets: :class:`MainWindowUi`, built once, in the manner of Qt Designer's
``Ui_`` classes.

``MainWindowUi(win, backends)`` creates every widget, lays them out in ``win`` and keeps them as
its own declared attributes; it connects no signal to the window (the window wires its slots
after, so nothing here calls back into a half-built window). GUI thread only.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QBoxLayout,
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.backends import BackendInfo
from app.gui.meters import MetersPanel
from app.gui.preview import PreviewWidget, ThumbnailStrip
from app.gui.reflow import MIN_HEIGHT, MIN_WIDTH, PREVIEW_MIN, STATE_MIN_WIDTH, BottomReflow
from app.gui.status import StatusPanel
from app.gui.talk_button import TalkButton
from app.gui.transcript_view import TranscriptView
from app.model import Mode

MODE_LABELS = {
    Mode.HANDS_FREE: "Hands-free",
    Mode.PUSH_TO_TALK: "Push-to-talk",
    Mode.TOGGLE: "Toggle",
    Mode.MUTE: "Mute",
}


def _muted(text: str) -> QLabel:
    lab = QLabel(text)
    lab.setObjectName("muted")
    return lab


def _card() -> QFrame:
    card = QFrame()
    card.setObjectName("card")
    return card


class MainWindowUi:
    """The window's widgets. Top row: backend/model/voice, connect, sessions, settings.
    Middle: preview + sent frames + camera controls | transcript + text entry. Bottom: talk
    button, state and hint, modes, meters. The status bar: latency, cost, recording."""

    backend_box: QComboBox
    model_box: QComboBox
    voice_box: QComboBox
    connect_btn: QPushButton
    sessions_btn: QPushButton
    settings_btn: QPushButton
    splitter: QSplitter
    preview: PreviewWidget
    thumbs: ThumbnailStrip
    camera_btn: QToolButton
    screen_btn: QToolButton
    look_btn: QPushButton
    transcript: TranscriptView
    text_box: QLineEdit
    send_btn: QPushButton
    talk_btn: TalkButton
    state_label: QLabel
    hint_label: QLabel
    progress: QProgressBar
    mode_group: QButtonGroup
    mode_buttons: dict[Mode, QToolButton]
    meters: MetersPanel
    reflow: BottomReflow
    status: StatusPanel

    def __init__(self, win: QMainWindow, backends: Sequence[BackendInfo]) -> None:
        central = QWidget()
        root = QVBoxLayout(central)
        root.setContentsMargins(14, 10, 14, 6)
        root.setSpacing(10)
        root.addLayout(self._top_row(backends))
        root.addWidget(self._middle(), 1)
        root.addWidget(self._bottom(win))
        win.setCentralWidget(central)
        self.status = StatusPanel()
        win.setStatusBar(self.status)
        win.resize(1120, 720)
        win.setMinimumSize(MIN_WIDTH, MIN_HEIGHT)  # every control whole (app.gui.reflow)

    def _top_row(self, backends: Sequence[BackendInfo]) -> QHBoxLayout:
        top = QHBoxLayout()
        top.setSpacing(8)
        self.backend_box = QComboBox()
        self.backend_box.setAccessibleName("Backend")
        self.backend_box.setToolTip("Which service answers (Ctrl+B)")
        for b in backends:
            self.backend_box.addItem(b.label, b.name)
        self.model_box = QComboBox()
        self.model_box.setAccessibleName("Model")
        self.model_box.setMinimumContentsLength(14)
        self.voice_box = QComboBox()
        self.voice_box.setAccessibleName("Voice")
        self.voice_box.setMinimumContentsLength(8)
        self.connect_btn = QPushButton("Connect")
        self.connect_btn.setAccessibleName("Connect")
        self.connect_btn.setToolTip("Connect or disconnect (Ctrl+K)")
        for text, w in (("Backend", self.backend_box), ("Model", self.model_box)):
            lab = _muted(text)
            lab.setBuddy(w)
            top.addWidget(lab)
            top.addWidget(w)
        top.addWidget(_muted("Voice"))
        top.addWidget(self.voice_box)
        top.addWidget(self.connect_btn)
        top.addStretch(1)
        self.sessions_btn = QPushButton("Sessions")
        self.sessions_btn.setAccessibleName("Recorded sessions")
        self.sessions_btn.setToolTip("Browse and replay recorded sessions (Ctrl+H)")
        self.settings_btn = QPushButton("Settings")
        self.settings_btn.setAccessibleName("Settings")
        self.settings_btn.setToolTip("Keys, devices, voice, camera… (Ctrl+,)")
        top.addWidget(self.sessions_btn)
        top.addWidget(self.settings_btn)
        return top

    def _middle(self) -> QSplitter:
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        left = _card()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(10, 10, 10, 10)
        ll.setSpacing(8)
        self.preview = PreviewWidget()
        self.preview.setMinimumSize(PREVIEW_MIN)  # the first to give way in a small window
        self.preview.set_placeholder("Camera off — press Ctrl+E, or drop a video or image here")
        ll.addWidget(self.preview, 1)
        ll.addWidget(_muted("Frames sent to the model"))
        self.thumbs = ThumbnailStrip()
        ll.addWidget(self.thumbs)
        cams = QHBoxLayout()
        self.camera_btn = QToolButton()
        self.camera_btn.setText("Camera")
        self.camera_btn.setCheckable(True)
        self.camera_btn.setAccessibleName("Camera on or off")
        self.camera_btn.setToolTip("Camera on/off (Ctrl+E)")
        self.screen_btn = QToolButton()
        self.screen_btn.setText("Share screen")
        self.screen_btn.setCheckable(True)
        self.screen_btn.setAccessibleName("Share screen")
        self.screen_btn.setToolTip("Share your screen instead of the camera (Ctrl+Shift+S)")
        self.look_btn = QPushButton("Look at this")
        self.look_btn.setAccessibleName("Look at this: send a snapshot now")
        self.look_btn.setToolTip("Send the current frame to the model now (Ctrl+L)")
        cams.addWidget(self.camera_btn)
        cams.addWidget(self.screen_btn)
        cams.addStretch(1)
        cams.addWidget(self.look_btn)
        ll.addLayout(cams)

        right = _card()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(10, 10, 10, 10)
        rl.setSpacing(8)
        title = QLabel("Conversation")
        title.setObjectName("sectionTitle")
        rl.addWidget(title)
        self.transcript = TranscriptView()
        rl.addWidget(self.transcript, 1)
        trow = QHBoxLayout()
        self.text_box = QLineEdit()
        self.text_box.setPlaceholderText("Type a message… (Ctrl+T; Esc leaves the box)")
        self.text_box.setAccessibleName("Message")
        self.send_btn = QPushButton("Send")
        self.send_btn.setAccessibleName("Send message")
        trow.addWidget(self.text_box, 1)
        trow.addWidget(self.send_btn)
        rl.addLayout(trow)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([560, 520])
        return self.splitter

    def _bottom(self, win: QMainWindow) -> QFrame:
        bottom = _card()
        bl = QHBoxLayout(bottom)
        bl.setContentsMargins(12, 8, 16, 8)
        bl.setSpacing(16)
        self.talk_btn = TalkButton()
        self.talk_btn.setToolTip(
            "Start/stop; in push-to-talk hold it (or Space) while you talk.\n"
            "Ctrl+Space holds it from anywhere, the message box too."
        )
        bl.addWidget(self.talk_btn)
        sc = QVBoxLayout()
        sc.setSpacing(2)
        sc.addStretch(1)
        self.state_label = QLabel()
        self.state_label.setAccessibleName("Status")
        f = self.state_label.font()
        f.setPointSizeF(f.pointSizeF() * 1.45)
        f.setBold(True)
        self.state_label.setFont(f)
        self.state_label.setWordWrap(True)  # two lines rather than cut in a small window
        self.state_label.setMinimumWidth(STATE_MIN_WIDTH)
        self.hint_label = _muted("")
        self.hint_label.setWordWrap(True)
        self.hint_label.setAccessibleName("Status detail")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(8)
        self.progress.setAccessibleName("Model loading progress")
        self.progress.hide()
        sc.addWidget(self.state_label)
        sc.addWidget(self.hint_label)
        sc.addWidget(self.progress)
        sc.addStretch(1)
        bl.addLayout(sc, 1)

        modes = QVBoxLayout()
        modes.setSpacing(4)
        modes.addStretch(1)
        modes.addWidget(_muted("Mode"))
        mrow = QHBoxLayout()
        mrow.setSpacing(2)
        self.mode_group = QButtonGroup(win)
        self.mode_group.setExclusive(True)
        self.mode_buttons = {}
        for i, (m, text) in enumerate(MODE_LABELS.items(), start=1):
            b = QToolButton()
            b.setText(text)
            b.setCheckable(True)
            b.setAccessibleName(f"{text} mode")
            b.setToolTip(f"{text} (Ctrl+{i})" if m != Mode.MUTE else "Mute (Ctrl+M)")
            self.mode_group.addButton(b)
            self.mode_buttons[m] = b
            mrow.addWidget(b)
        modes.addLayout(mrow)
        modes.addStretch(1)
        self.meters = MetersPanel()
        self.meters.setMinimumWidth(200)
        # modes and meters: one row when wide enough, else the meters under the modes
        side = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        side.setSpacing(16)
        side.addLayout(modes)
        side.addWidget(self.meters)
        bl.addLayout(side)
        talk_width = self.talk_btn.sizeHint().width()
        margins = bl.contentsMargins()
        self.reflow = BottomReflow(
            bottom, side, talk_width + margins.left() + margins.right() + 2 * bl.spacing()
        )
        return bottom
