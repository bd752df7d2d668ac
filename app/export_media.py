"""Audio and video exports of a recorded session: stereo WAV and MP4.

* WAV (``export_wav``): 16-bit stereo at ``rate_hz`` (24 kHz by default), user (microphone)
  left, assistant (reply as played) right, both placed on the session clock so they line up as
  they happened.
* MP4 (``export_mp4``): H.264 video of the camera frames (each shown until the next; sent and
  preview frames), AAC audio of both sides mixed; written with PyAV.

Audio is read and written in blocks of ``BLOCK_S`` seconds (bounded extra memory). Both write
through ``app.export_common.atomic_output`` (all or nothing). Qt-free; blocking (an MP4 takes
seconds): call from a worker thread in the GUI.
"""

from __future__ import annotations

import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from app.export_common import atomic_output
from realtime.recording.reader import SessionFile

__all__ = ["BLOCK_S", "DEFAULT_RATE_HZ", "export_mp4", "export_wav", "mixed_blocks", "tracks"]

DEFAULT_RATE_HZ = 24000

BLOCK_S = 10  #: export audio in blocks of this many seconds (bounded extra memory)


def tracks(sf: SessionFile, rate_hz: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(user, assistant) int16 tracks at ``rate_hz`` from offset 0, and the export length in
    samples (the longer track or the session's duration; shorter tracks end in silence)."""
    user = sf.mic_track(rate_hz).samples
    bot = sf.playback_track(rate_hz).samples
    n = max(len(user), len(bot), round(sf.duration_ms * rate_hz / 1000))
    return user, bot, n


def _block(track: np.ndarray, start: int, stop: int) -> np.ndarray:
    out = np.zeros(stop - start, np.int32)
    part = track[start:stop]
    out[: len(part)] = part
    return out


def mixed_blocks(sf: SessionFile, rate_hz: int) -> Iterator[np.ndarray]:
    """Both sides mixed (int16), in blocks of ``BLOCK_S`` seconds."""
    user, bot, n = tracks(sf, rate_hz)
    step = BLOCK_S * rate_hz
    for start in range(0, n, step):
        stop = min(n, start + step)
        mix = _block(user, start, stop) + _block(bot, start, stop)
        yield np.clip(mix, -32768, 32767).astype(np.int16)


# --------------------------------------------------------------------------- WAV


def export_wav(sf: SessionFile, out: Path, rate_hz: int = DEFAULT_RATE_HZ) -> None:
    user, bot, n = tracks(sf, rate_hz)
    step = BLOCK_S * rate_hz
    with atomic_output(out) as tmp, wave.open(str(tmp), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        for start in range(0, n, step):
            stop = min(n, start + step)
            stereo = np.empty((stop - start, 2), "<i2")
            stereo[:, 0] = _block(user, start, stop)
            stereo[:, 1] = _block(bot, start, stop)
            w.writeframes(stereo.tobytes())


# --------------------------------------------------------------------------- MP4


def _decode(jpeg: bytes) -> np.ndarray | None:
    import cv2

    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    return img if img is not None and img.ndim == 3 else None


def export_mp4(
    sf: SessionFile,
    out: Path,
    fps: int = 10,
    rate_hz: int = DEFAULT_RATE_HZ,
    max_side: int = 1280,
    progress: Callable[[float], None] | None = None,
) -> None:
    """``progress(fraction)`` (0–1, on this thread) about once a second of video encoded."""
    import av
    import cv2

    frames: list[tuple[float, np.ndarray]] = []
    for f in sf.frames():
        img = _decode(f.jpeg)
        if img is not None:
            frames.append((f.t_ms, img))
    if frames:
        h, w = frames[0][1].shape[:2]
        scale = min(1.0, max_side / max(h, w))
        w, h = max(2, int(w * scale) // 2 * 2), max(2, int(h * scale) // 2 * 2)
    else:
        w, h = 320, 240
    _, _, n_audio = tracks(sf, rate_hz)
    duration_ms = max(sf.duration_ms, n_audio / rate_hz * 1000, 1000 / fps)
    n_video = max(1, int(np.ceil(duration_ms * fps / 1000)))
    black = np.zeros((h, w, 3), np.uint8)
    with atomic_output(out) as tmp, av.open(str(tmp), mode="w", format="mp4") as container:
        vs = container.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "veryfast", "crf": "23"}
        aus = container.add_stream("aac", rate=rate_hz, layout="mono")
        k = 0
        current: np.ndarray = black
        for i in range(n_video):
            t = i * 1000 / fps
            while k < len(frames) and frames[k][0] <= t:
                img = frames[k][1]
                current = img if img.shape[:2] == (h, w) else cv2.resize(img, (w, h))
                k += 1
            if progress is not None and i % fps == 0:
                progress(0.9 * i / n_video)  # the video is most of the work
            vf = av.VideoFrame.from_ndarray(current, format="bgr24")
            vf.pts = i
            for packet in vs.encode(vf):
                container.mux(packet)
        for packet in vs.encode():
            container.mux(packet)
        pts = 0
        for block in mixed_blocks(sf, rate_hz):
            samples = block.astype(np.float32) / 32768.0
            for i in range(0, len(samples), 1024):
                chunk = np.ascontiguousarray(samples[i : i + 1024].reshape(1, -1))
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                af.sample_rate = rate_hz
                af.pts = pts
                pts += chunk.shape[1]
                for packet in aus.encode(af):
                    container.mux(packet)
        for packet in aus.encode():
            container.mux(packet)
    if progress is not None:
        progress(1.0)
