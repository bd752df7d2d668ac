"""Build a frame source from one text spec (the CLI's ``--video``, the settings dialog).

===============================  =========================================================
spec                             source
===============================  =========================================================
``0``, ``camera:0``              camera by index
``camera:Logitech``, ``Logitech`` camera by name (case-insensitive substring)
``/dev/video2``                  camera by device path
``http://…``, ``rtsp://…``       live stream URL (MJPEG over HTTP, RTSP, …)
``path/to/clip.mp4``             video file, paced at its own rate (looping if ``loop``)
``path/to/photo.png``            still image
``screen``, ``screen:2``         a monitor (mss numbering, 1 = first)
``region:X,Y,W,H``               a screen rectangle
``window:Title``                 a window by title
===============================  =========================================================

``exclude_windows``/``exclude_regions`` (privacy) apply to the screen sources: those windows and
rectangles are filled with grey in every grab (see :mod:`video.screen`); camera, file and
stream sources ignore them.
"""

from __future__ import annotations

from pathlib import Path

from video.camera import CameraSource, is_stream_url
from video.file import FileSource
from video.screen import ScreenSource
from video.source import ThreadedSource

__all__ = ["open_source", "parse_region"]

Region = tuple[int, int, int, int]


def parse_region(text: str) -> Region:
    """``"X,Y,W,H"`` (virtual-screen pixels) → a tuple; ValueError that shows the form."""
    parts = text.split(",")
    try:
        x, y, w, h = (int(p) for p in parts)
    except ValueError:
        raise ValueError(
            f"a region is X,Y,W,H in pixels (e.g. 0,0,640,480), got {text!r}"
        ) from None
    if w <= 0 or h <= 0:
        raise ValueError(f"a region needs a width and height > 0, got {text!r}")
    return (x, y, w, h)


def open_source(
    spec: str,
    *,
    loop: bool = True,
    fps: float | None = None,
    exclude_windows: tuple[str, ...] = (),
    exclude_regions: tuple[Region, ...] = (),
) -> ThreadedSource:
    """A (not yet started) source for ``spec``; ValueError with the accepted forms if malformed."""

    def screen(
        monitor: int = 1, region: Region | None = None, window: str | None = None
    ) -> ScreenSource:
        return ScreenSource(
            monitor=monitor,
            region=region,
            window=window,
            fps=fps or 5.0,
            exclude_windows=exclude_windows,
            exclude_regions=exclude_regions,
        )

    text = spec.strip()
    if not text:
        raise ValueError("empty video source; use e.g. 0, camera:NAME, clip.mp4, URL, screen:1")
    low = text.lower()
    if is_stream_url(text):
        return CameraSource(text)
    if low.startswith("camera:"):
        return CameraSource(text.split(":", 1)[1])
    if low == "screen" or low.startswith("screen:"):
        arg = text.split(":", 1)[1] if ":" in text else "1"
        if not arg.strip().isdigit():
            raise ValueError(f"screen:N needs a monitor number, got {spec!r}")
        return screen(monitor=int(arg))
    if low.startswith("region:"):
        try:
            region = parse_region(text.split(":", 1)[1])
        except ValueError:
            raise ValueError(f"region needs X,Y,W,H in pixels, got {spec!r}") from None
        return screen(region=region)
    if low.startswith("window:"):
        return screen(window=text.split(":", 1)[1])
    if text.isdigit() or text.startswith("/dev/"):
        return CameraSource(text)
    if Path(text).expanduser().exists() or Path(text).suffix:
        return FileSource(text, loop=loop, fps=fps)
    return CameraSource(text)
