"""Is there a camera to turn on? Decides whether a conversation starts with the camera on.

"Turn the camera on when a conversation starts" (``Settings.camera_on``) is honoured only when
a camera is set up: the person chose one (a name, index, stream URL, video file or image in
``Settings.camera``), or, with none chosen, the system has one. Otherwise the window would
show the Camera button on while the preview says "Camera off" (issue 14, item 5).

Any thread; ``camera_is_set_up`` may read sysfs (Linux) or probe OpenCV (elsewhere, slow): call
it from a worker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["NO_CAMERA_NOTICE", "camera_is_set_up"]

NO_CAMERA_NOTICE = (
    "No camera found, so the camera stays off. To show the model something, choose a video "
    "file or image in Settings → Camera, or drop one on the preview."
)


def _cameras_present() -> Sequence[object]:
    from video.camera import list_cameras

    return list_cameras()


def camera_is_set_up(
    spec: str, list_cameras: Callable[[], Sequence[object]] = _cameras_present
) -> bool:
    """True if ``spec`` names a source, or (``spec`` empty: "the first camera") one exists."""
    if spec.strip():
        return True
    try:
        return bool(list_cameras())
    except Exception:  # no way to tell: try the camera as before
        return True
