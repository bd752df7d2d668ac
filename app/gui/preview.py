"""Camera/screen preview and the strip of frames actually sent to the model.

Widgets: GUI thread only. The window polls ``assistant.preview_frame()`` with a timer and hands
the array to :meth:`PreviewWidget.show_frame`; repeated sequence numbers are ignored. The frame
is shrunk to the widget's device-pixel size (OpenCV: nearest to 2× then bilinear) and converted
to a ``QImage`` on the widget's worker thread; one frame is in flight at a time and a newer one
replaces a waiting one, so a slow worker drops frames instead of queueing them.
Sent-frame JPEGs are decoded at thumbnail size by ``QImageReader`` (no full-size decode), also on
a worker; only the small ``QPixmap`` is made on the GUI thread. Call ``shutdown()`` on both
before they are deleted (the window does it on close).
"""

from __future__ import annotations

import time
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QIcon,
    QImage,
    QImageReader,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem, QSizePolicy, QWidget

from app.gui.tasks import TaskRunner

#: A camera/screen frame as the assistant hands it over: BGR ``uint8`` (h, w, 3) or grey (h, w).
Image: TypeAlias = npt.NDArray[np.uint8]
#: What the preview worker renders: a frame, or the JPEG bytes of a sent frame.
Source: TypeAlias = Image | bytes


def bgr_to_qimage(image: Image) -> QImage:
    """BGR ``uint8`` (h, w, 3) or grey (h, w) array → an owning QImage (safe to keep)."""
    arr = np.ascontiguousarray(image)
    if arr.ndim == 2:
        h, w = arr.shape
        return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_Grayscale8).copy()
    h, w = arr.shape[:2]
    return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_BGR888).copy()


def scaled_qimage(image: Image, target_w: int, target_h: int, dpr: float) -> QImage:
    """``image`` (BGR or grey array) shrunk to fit ``target_w``×``target_h`` device pixels, as an
    owning QImage with ``dpr`` set. Any thread. Never enlarges (the painter scales up)."""
    h, w = image.shape[:2]
    scale = min(target_w / w, target_h / h)
    if scale < 0.8:
        import cv2  # lazily: only needed once a camera is on (saves ~0.2 s at launch)

        # More than 2× too big: nearest-neighbour to twice the target first (cheap), then
        # bilinear. INTER_AREA at a non-integer scale costs ~20 ms per 720p frame: too slow.
        if scale < 0.5:
            image = np.asarray(  # a uint8 array resized stays uint8: no copy here
                cv2.resize(
                    image,
                    (max(1, int(w * scale * 2)), max(1, int(h * scale * 2))),
                    interpolation=cv2.INTER_NEAREST,
                ),
                dtype=np.uint8,
            )
            h, w = image.shape[:2]
            scale = min(target_w / w, target_h / h)
        image = np.asarray(
            cv2.resize(
                image,
                (max(1, int(w * scale)), max(1, int(h * scale))),
                interpolation=cv2.INTER_LINEAR,
            ),
            dtype=np.uint8,
        )
    img = bgr_to_qimage(image)
    img.setDevicePixelRatio(dpr)
    return img


class PreviewWidget(QWidget):
    """Shows the latest frame letterboxed, or a placeholder message."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._seq: int | None = None
        self._placeholder = "Camera off"
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Camera preview")
        self.frames_shown = 0
        #: True for ``FLASH_MS`` after :meth:`flash`.
        self.flashing = False
        self._flash_timer = QTimer(self)
        self._flash_timer.setSingleShot(True)
        self._flash_timer.setInterval(FLASH_MS)
        self._flash_timer.timeout.connect(self._end_flash)
        self._worker: TaskRunner | None = None
        self._busy = False
        self._waiting: tuple[Source, int] | None = None
        #: Bumped by ``clear()``: a scaled frame from before it is not shown.
        self._generation = 0

    def sizeHint(self) -> QSize:
        return QSize(560, 315)

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        if self._image is None:
            self.update()

    def clear(self) -> None:
        self._image = None
        self._seq = None
        self._waiting = None
        self._generation += 1
        self.update()

    def has_image(self) -> bool:
        return self._image is not None

    def _target(self) -> tuple[int, int, float]:
        dpr = self.devicePixelRatioF()
        return max(1, int(self.width() * dpr)), max(1, int(self.height() * dpr)), dpr

    def show_frame(self, image: Image, seq: int) -> None:
        """Show a BGR array soon: scaled on the worker, shown when done (live preview). Skips
        the ``seq`` already shown or being scaled; a frame waiting for the worker is replaced."""
        self._submit(image, seq)

    def show_jpeg(self, jpeg: bytes, seq: int) -> None:
        """Like :meth:`show_frame` for a JPEG: decoded at the widget's size on the worker."""
        self._submit(jpeg, seq)

    def _submit(self, source: Source, seq: int) -> None:
        if seq == self._seq:
            return
        self._seq = seq
        if self._busy:
            self._waiting = (source, seq)
            return
        self._render(source)

    def _render(self, source: Source) -> None:
        """On the worker: a BGR array is scaled, JPEG bytes are decoded at the target size."""
        if self._worker is None:
            self._worker = TaskRunner(self)
        self._busy = True
        generation = self._generation
        w, h, dpr = self._target()
        if isinstance(source, bytes):
            jpeg = source

            def work() -> QImage:
                img = decode_thumbnail(jpeg, QSize(w, h))
                img.setDevicePixelRatio(dpr)
                return img
        else:
            image = source

            def work() -> QImage:
                return scaled_qimage(image, w, h, dpr)

        self._worker.submit(
            work,
            lambda img: self._rendered(img, generation),
            lambda _msg: self._rendered(None, generation),
        )

    def _rendered(self, img: QImage | None, generation: int) -> None:
        self._busy = False
        if img is not None and not img.isNull() and generation == self._generation:
            self._show(img)
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            self._render(waiting[0])

    def _show(self, img: QImage) -> None:
        self._image = img
        self.frames_shown += 1
        self.update()

    def scaling(self) -> bool:
        """A frame is being scaled (or waits for the worker)."""
        return self._busy or self._waiting is not None

    def shutdown(self) -> None:
        """Stop the scaling worker (before the widget is deleted)."""
        self._flash_timer.stop()
        if self._worker is not None:
            self._worker.shutdown()

    def flash(self) -> None:
        """Brief white flash: "Look at this" took a snapshot (``FLASH_MS``)."""
        self.flashing = True
        self.update()
        self._flash_timer.start()

    def _end_flash(self) -> None:
        self.flashing = False
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.fillRect(self.rect(), Qt.GlobalColor.black)
        if self._image is None:
            p.setPen(Qt.GlobalColor.lightGray)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._placeholder)
        else:
            dpr = self._image.devicePixelRatio()
            iw, ih = self._image.width() / dpr, self._image.height() / dpr
            s = min(self.width() / iw, self.height() / ih)
            w, h = iw * s, ih * s
            target = QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)
            p.drawImage(target, self._image)
        if self.flashing:
            p.fillRect(self.rect(), QColor(255, 255, 255, 150))
            p.setPen(QPen(QColor("#2f7fdc"), 4))
            p.drawRect(self.rect().adjusted(2, 2, -2, -2))
        p.end()


FLASH_MS = 180


def _marked_snapshot(img: QImage) -> QImage:
    """A snapshot's thumbnail: a blue frame and a camera mark in the corner."""
    out = img.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    p = QPainter(out)
    dpr = out.devicePixelRatio() or 1.0
    w, h = out.width() / dpr, out.height() / dpr
    p.setPen(QPen(QColor("#2f7fdc"), 4))
    p.drawRect(QRectF(2, 2, w - 4, h - 4))
    p.fillRect(QRectF(w - 22, 4, 18, 14), QColor("#2f7fdc"))
    p.setPen(QColor("white"))
    p.drawText(QRectF(w - 22, 4, 18, 14), Qt.AlignmentFlag.AlignCenter, "📷")
    p.end()
    return out


def decode_thumbnail(jpeg: bytes, size: QSize) -> QImage:
    """Decode a JPEG straight to (about) ``size``, keeping the aspect ratio. Null on bad data."""
    data = QByteArray(jpeg)
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buf, QByteArray(b"jpeg"))
    full = reader.size()
    if full.isValid() and full.width() > 0 and full.height() > 0:
        reader.setScaledSize(full.scaled(size, Qt.AspectRatioMode.KeepAspectRatio))
    img = reader.read()
    buf.close()
    return img


class ThumbnailStrip(QListWidget):
    """Horizontal strip of the last ``limit`` frames sent to the model, newest on the right."""

    THUMB = QSize(96, 54)

    def __init__(self, limit: int = 30, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._limit = limit
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setIconSize(self.THUMB)
        self.setSpacing(3)
        self.setFixedHeight(self.THUMB.height() + 22)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAccessibleName("Frames sent to the model")
        self.setObjectName("thumbs")
        self.setToolTip("Frames actually sent to the model")
        self.sent_total = 0
        self._decoder = TaskRunner(self)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.count() == 0:
            p = QPainter(self.viewport())
            p.setPen(self.palette().color(self.palette().ColorRole.PlaceholderText))
            p.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, "No frames sent yet")
            p.end()

    def add_jpeg(self, jpeg: bytes, snapshot: bool = False, cost: str = "") -> None:
        """Add one sent frame: decoded at thumbnail size on the worker, then shown (in order).
        A JPEG that does not decode adds nothing. ``snapshot``: sent by "Look at this" (marked
        with a frame and a 📷 in the strip). ``cost``: what it cost, for its tooltip."""
        size = self.THUMB * self.devicePixelRatioF()
        self._decoder.submit(
            lambda: decode_thumbnail(jpeg, size), lambda img: self._add(img, jpeg, snapshot, cost)
        )

    def pending(self) -> int:
        """Frames still being decoded."""
        return self._decoder.pending()

    def _add(self, img: QImage, jpeg: bytes, snapshot: bool = False, cost: str = "") -> None:
        if img.isNull():
            return
        if snapshot:
            img = _marked_snapshot(img)
        pm = QPixmap.fromImage(img)
        pm.setDevicePixelRatio(self.devicePixelRatioF())
        item = QListWidgetItem(QIcon(pm), "")
        item.setData(Qt.ItemDataRole.UserRole, "snapshot" if snapshot else "frame")
        self.sent_total += 1
        stamp = time.strftime("%H:%M:%S")
        what = "Snapshot (Look at this)" if snapshot else "Frame"
        tip = f"{what} {self.sent_total} sent at {stamp} ({len(jpeg) // 1024} KiB)"
        item.setToolTip(f"{tip}\nCost: {cost}" if cost else tip)
        self.addItem(item)
        while self.count() > self._limit:
            self.takeItem(0)
        self.scrollToItem(item)

    def shutdown(self) -> None:
        """Stop the decoding worker (before the widget is deleted)."""
        self._decoder.shutdown()
