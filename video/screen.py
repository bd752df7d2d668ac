"""Screen capture as a frame source: a monitor, a region, or a window by title (``mss``).

``ScreenSource(monitor=1)`` captures monitor 1 (mss numbering: 0 = all monitors together, 1 = the
first), ``region=(left, top, width, height)`` a rectangle in virtual-screen pixels, and
``window="Title"`` the rectangle of the visible window with that title (see
:mod:`video.x11windows`; re-located every ``relocate_s`` seconds so a moved window is followed —
what is captured is what is on screen there, including anything covering the window).

Captures are paced at ``fps`` (default 5: a screen rarely needs more, and 1080p grabs cost a few ms
each). Works under Xvfb with a 24- or 32-bit screen (``Xvfb :N -screen 0 1280x800x24``); mss
refuses 16-bit displays, which is reported as a CameraError that says so. A closed window, a
missing monitor or a lost display become CameraError events and are retried in the background.

Exclusion (privacy): ``exclude_windows=("Password", "Slack")`` and ``exclude_regions=((l, t, w, h),
…)`` (virtual-screen pixels, e.g. a rectangle the person drew) are filled with grey in every grab
*before* it is published, so no consumer — preview, feed, recorder — ever sees them. Excluded
windows are looked up on every grab (a moved window is followed at once); if the lookup itself
fails the grab is dropped (CameraError), never published unmasked.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import numpy as np

from video.errors import CameraError
from video.frame import Image, to_bgr
from video.redact import Box, fill_boxes
from video.source import Clock, ThreadedSource
from video.x11windows import WindowInfo, find_window, list_windows

__all__ = ["ScreenSource", "exclusion_boxes", "list_monitors"]


def exclusion_boxes(
    capture: dict[str, int],
    windows: list[WindowInfo],
    titles: tuple[str, ...],
    regions: tuple[tuple[int, int, int, int], ...],
) -> list[Box]:
    """Rectangles to fill, in pixels of a grab of ``capture`` (left/top/width/height on the
    virtual screen): every window whose title contains one of ``titles`` (case-insensitive) and
    every region, each shifted into the grab and clipped to it. Pure."""
    wanted = [t.strip().lower() for t in titles if t.strip()]
    rects = [
        (w.left, w.top, w.width, w.height)
        for w in windows
        if any(t in w.title.lower() for t in wanted)
    ]
    rects += list(regions)
    out: list[Box] = []
    for left, top, width, height in rects:
        box = Box(left - capture["left"], top - capture["top"], width, height).clipped(
            capture["width"], capture["height"]
        )
        if box is not None:
            out.append(box)
    return out


def _mss(display: str | None) -> Any:
    import mss

    cls = getattr(mss, "MSS", None) or mss.mss
    try:
        return cls(display=display) if display else cls()
    except Exception as exc:
        raise CameraError(
            f"Screen capture is not available: {exc}. It needs an X11 display (DISPLAY set; on "
            "Wayland run under XWayland) with 24- or 32-bit colour, or Windows/macOS with screen "
            "recording permission.",
            source="screen",
        ) from exc


def list_monitors(display: str | None = None) -> list[dict[str, int]]:
    """mss monitors: index 0 is the whole virtual screen, 1.. are the physical monitors."""
    with _mss(display) as sct:
        return [
            {k: int(v) for k, v in m.items() if k in ("left", "top", "width", "height")}
            for m in sct.monitors
        ]


class ScreenSource(ThreadedSource):
    """Screen/region/window capture behind the ``FrameSource`` interface."""

    def __init__(
        self,
        *,
        monitor: int = 1,
        region: tuple[int, int, int, int] | None = None,
        window: str | None = None,
        fps: float = 5.0,
        display: str | None = None,
        relocate_s: float = 1.0,
        retry_s: float = 2.0,
        clock: Clock = time.monotonic_ns,
        exclude_windows: tuple[str, ...] = (),
        exclude_regions: tuple[tuple[int, int, int, int], ...] = (),
    ) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        if region is not None and (region[2] <= 0 or region[3] <= 0):
            raise ValueError(f"region width and height must be > 0, got {region}")
        if window is not None and not window.strip():
            raise ValueError("window title must not be empty")
        if region is not None and window is not None:
            raise ValueError("give either region or window, not both")
        for r in exclude_regions:
            if len(r) != 4 or r[2] <= 0 or r[3] <= 0:
                raise ValueError(f"excluded region must be (left, top, width>0, height>0), got {r}")
        if window is not None:
            name = f"Window {window!r}"
        elif region is not None:
            name = "Screen region {}×{} at ({}, {})".format(region[2], region[3], *region[:2])
        else:
            name = f"Screen {monitor}"
        super().__init__(name, retry_s=retry_s, clock=clock)
        self._monitor = monitor
        self._region = region
        self._window = window
        self._fps = fps
        self._display = display
        self._exclude_windows = tuple(t for t in exclude_windows if t.strip())
        self._exclude_regions = tuple(exclude_regions)
        self._relocate_ns = int(relocate_s * 1e9)
        self._sct: Any = None
        self._rect: dict[str, int] | None = None
        self._located_ns = 0
        self._t0 = 0
        self._k = 0

    # -- capture thread ------------------------------------------------------

    def _open(self) -> None:
        sct = _mss(self._display)
        try:
            monitors = sct.monitors
            if self._region is None and self._window is None:
                if not 0 <= self._monitor < len(monitors):
                    raise CameraError(
                        f"There is no monitor {self._monitor} (this display has "
                        f"{len(monitors) - 1}: 1..{len(monitors) - 1}, 0 = all together). "
                        "Choose another monitor in Settings → Camera.",
                        source=self.name,
                    )
                mon = monitors[self._monitor]
                self._rect = {k: int(mon[k]) for k in ("left", "top", "width", "height")}
            else:
                self._rect = self._locate(monitors[0])
        except BaseException:
            sct.close()
            raise
        self._sct = sct
        self._t0, self._k = self._clock(), 0

    def _locate(self, virtual: dict[str, int]) -> dict[str, int]:
        """The capture rectangle clipped to the virtual screen (region or window)."""
        if self._window is not None:
            win = find_window(self._window, self._display)
            left, top, width, height = win.left, win.top, win.width, win.height
        else:
            assert self._region is not None
            left, top, width, height = self._region
        x0, y0 = max(left, virtual["left"]), max(top, virtual["top"])
        x1 = min(left + width, virtual["left"] + virtual["width"])
        y1 = min(top + height, virtual["top"] + virtual["height"])
        if x1 - x0 < 2 or y1 - y0 < 2:
            raise CameraError(
                f"{self.name} is outside the visible screen ({virtual['width']}×"
                f"{virtual['height']}). Move it on screen or choose another region.",
                source=self.name,
            )
        self._located_ns = self._clock()
        return {"left": x0, "top": y0, "width": x1 - x0, "height": y1 - y0}

    def _read(self) -> Image | None:
        sct = self._sct
        if sct is None:
            return None
        due = self._t0 + int(self._k * 1e9 / self._fps)
        now = self._clock()
        if now - due > 1e9 / self._fps:  # behind: restart the schedule instead of bursting
            self._t0, self._k, due = now, 0, now
        if self._wait((due - now) / 1e9):
            return None
        self._k += 1
        if self._window is not None and self._clock() - self._located_ns >= self._relocate_ns:
            self._rect = self._locate(sct.monitors[0])  # CameraError if the window closed
        assert self._rect is not None
        # excluded windows are located before AND after the grab, and both places are filled:
        # a window moving during the grab is covered wherever it was
        before = list_windows(self._display) if self._exclude_windows else []
        shot = sct.grab(self._rect)
        image = to_bgr(np.asarray(shot))
        if self._exclude_windows or self._exclude_regions:
            windows = before + (list_windows(self._display) if self._exclude_windows else [])
            boxes = exclusion_boxes(
                self._rect, windows, self._exclude_windows, self._exclude_regions
            )
            if boxes:
                image = fill_boxes(image, boxes)
        return image

    def _close(self) -> None:
        sct, self._sct = self._sct, None
        if sct is not None:
            with contextlib.suppress(Exception):  # close must never take the thread down
                sct.close()
