"""The cheap perceptual hash tells noise and lighting apart from a changed scene."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from video.encode import encode_jpeg
from video.perceptual import dhash, hamming


def test_dhash_ignores_noise_and_jpeg_but_sees_a_changed_scene(media_dir: Path):
    desk = cv2.imread(str(media_dir / "video" / "desk.png"))
    qr = cv2.imread(str(media_dir / "video" / "qr.png"))
    h = dhash(desk)
    assert hamming(h, dhash(desk)) == 0
    rng = np.random.default_rng(1)
    noisy = np.clip(desk.astype(int) + rng.integers(-6, 7, desk.shape), 0, 255).astype(np.uint8)
    assert hamming(h, dhash(noisy)) <= 4
    recoded = cv2.imdecode(np.frombuffer(encode_jpeg(desk, quality=40), np.uint8), 1)
    assert hamming(h, dhash(recoded)) <= 4
    dimmer = (desk * 0.6).astype(np.uint8)  # lights dimmed
    assert hamming(h, dhash(dimmer)) <= 6
    assert hamming(h, dhash(cv2.resize(qr, (1280, 720)))) >= 16
    shifted = np.roll(desk, 200, axis=1)  # the camera panned
    assert hamming(h, dhash(shifted)) >= 10
    assert dhash(cv2.cvtColor(desk, cv2.COLOR_BGR2GRAY)) == h
