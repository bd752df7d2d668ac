"""Process-wide OpenCV settings for the video pipeline.

OpenCV parallelises resizes and colour conversions over a thread pool whose workers spin while
waiting for work. On a 2-core machine, for 720p frames, that costs more CPU than it saves:
``bench/bench_video.py`` measured a 30 fps 720p MJPEG camera + 30 fps preview + 1 fps to the model
at 9.1–9.2 % of one core with OpenCV's default 2 threads and 5.4–6.4 % with 1 thread.
The app should call :func:`limit_threads` once at start-up (it is process-wide).
"""

from __future__ import annotations

import cv2

__all__ = ["limit_threads"]


def limit_threads(n: int = 1) -> int:
    """Set OpenCV's worker thread count (process-wide); returns the previous count."""
    if n < 1:
        raise ValueError(f"thread count must be >= 1, got {n}")
    previous = int(cv2.getNumThreads())
    cv2.setNumThreads(n)
    return previous
