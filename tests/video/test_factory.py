"""``open_source``: one text spec (CLI ``--video``) → the right source, or a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from video.camera import CameraSource
from video.factory import open_source
from video.file import FileSource


def test_specs_map_to_sources(media_dir: Path):
    clip = str(media_dir / "video" / "desk.mp4")
    assert isinstance(open_source(clip), FileSource)
    assert isinstance(open_source(str(media_dir / "video" / "desk.png")), FileSource)
    assert isinstance(open_source("http://127.0.0.1:8080/cam.mjpg"), CameraSource)
    assert isinstance(open_source("rtsp://cam.local/stream"), CameraSource)
    assert isinstance(open_source("0"), CameraSource)
    assert isinstance(open_source("/dev/video2"), CameraSource)
    assert open_source("camera:HD Pro Webcam").name == "Camera 'HD Pro Webcam'"
    assert isinstance(open_source("Logitech"), CameraSource)
    assert open_source("screen").name == "Screen 1"
    assert open_source("screen:2").name == "Screen 2"
    assert open_source("window:Firefox").name == "Window 'Firefox'"
    assert open_source("region:10,20,300,200").name == "Screen region 300×200 at (10, 20)"


@pytest.mark.parametrize(
    ("spec", "message"),
    [("", "empty"), ("region:1,2,3", "X,Y,W,H"), ("screen:left", "monitor number")],
)
def test_bad_specs_say_what_is_accepted(spec: str, message: str):
    with pytest.raises(ValueError, match=message):
        open_source(spec)


def test_screen_sources_carry_the_exclusions_and_regions_parse():
    from video.factory import parse_region
    from video.screen import ScreenSource

    src = open_source("screen", exclude_windows=("Password",), exclude_regions=((0, 0, 10, 10),))
    assert isinstance(src, ScreenSource)
    assert src._exclude_windows == ("Password",) and src._exclude_regions == ((0, 0, 10, 10),)
    assert open_source("region:0,0,50,50", exclude_windows=("x",))._exclude_windows == ("x",)  # type: ignore[attr-defined]
    assert parse_region("5,6,70,80") == (5, 6, 70, 80)
    with pytest.raises(ValueError, match="X,Y,W,H"):
        parse_region("5,6,70")
    with pytest.raises(ValueError, match="width and height"):
        parse_region("5,6,0,80")
