"""Issue 17, items 16-19: hostile CLI input exits 2 with a sentence, never a traceback.

Each case runs the real ``voicecam`` CLI as a subprocess (all in parallel):
a WAV whose header says 0 Hz, a PNG declaring 65535×65535 pixels, ``--text`` holding a byte that
is not UTF-8 (passed as raw argv bytes under a UTF-8 locale), and ``--timeout nan``.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

from app.cli_checks import MAX_IMAGE_PIXELS, image_size

REPO = Path(__file__).resolve().parents[2]


def wav_with_rate(path: Path, rate: int) -> Path:
    data = b"\x00\x01" * 1600
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data"
    body += struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def png_declaring(path: Path, width: int, height: int) -> Path:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def test_hostile_cli_input_exits_2_with_a_sentence(tmp_path: Path) -> None:
    wav0 = wav_with_rate(tmp_path / "zero.wav", 0)
    huge = png_declaring(tmp_path / "huge.png", 65535, 65535)
    cases: list[tuple[str, list[str | bytes], str]] = [
        ("16 wav 0 Hz", ["--headless", "--audio-in", str(wav0)], "not a usable WAV: sample rate 0"),
        (
            "17 huge png",
            ["--headless", "--text", "hi", "--image", str(huge)],
            f"image too large (65535×65535 = {65535 * 65535} pixels; limit {MAX_IMAGE_PIXELS})",
        ),
        ("18 text not utf-8", ["--headless", "--text", b"caf\xe9 ok"], "not valid UTF-8"),
        ("18 instructions", ["--headless", "--text", "hi", "--instructions", b"\xff"], "UTF-8"),
        ("19 timeout nan", ["--headless", "--text", "hi", "--timeout", "nan"], "--timeout"),
        ("19 timeout inf", ["--headless", "--text", "hi", "--timeout", "inf"], "--timeout"),
        ("19 duration -1", ["--headless", "--duration", "-1"], "--duration"),
    ]
    env = {
        **os.environ,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": str(REPO),
        "HOME": str(tmp_path),
        "VOICECAM_CONFIG_DIR": str(tmp_path / "cfg"),
    }
    procs = [
        (
            name,
            want,
            subprocess.Popen(
                [sys.executable.encode(), b"-m", b"app.cli"]
                + [a if isinstance(a, bytes) else a.encode() for a in argv],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            ),
        )
        for name, argv, want in cases
    ]
    problems = []
    for name, want, proc in procs:
        _, err_b = proc.communicate(timeout=120)
        err = err_b.decode("utf-8", "replace")
        if proc.returncode != 2:
            problems.append(f"{name}: exit {proc.returncode}, want 2: {err[-600:]}")
        if "Traceback" in err:
            problems.append(f"{name}: traceback: {err[-800:]}")
        if want not in err:
            problems.append(f"{name}: message lacks {want!r}: {err[-400:]!r}")
    assert not problems, "\n".join(problems)


def test_image_headers_are_sized_without_decoding(tmp_path: Path) -> None:
    import cv2
    import numpy as np

    img = np.zeros((30, 40, 3), np.uint8)
    for ext in (".png", ".jpg", ".bmp", ".webp", ".ppm"):
        path = tmp_path / f"x{ext}"
        assert cv2.imwrite(str(path), img)
        assert image_size(path.read_bytes()[:65536]) == (40, 30), ext
    assert image_size(png_declaring(tmp_path / "h.png", 65535, 3).read_bytes()) == (65535, 3)
    assert image_size(b"not an image") is None
