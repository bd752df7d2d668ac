"""Checks of hostile or mistaken CLI input the general validator does not cover.

Each function returns ``None`` when the argument is usable, else one sentence a person can act
on (``app.cli_validate.validate`` turns it into exit status 2 with the usage line):

- ``number_problem``: a float flag that is not a finite number above 0 (``--timeout nan``);
- ``text_problem``: free text that cannot be sent as UTF-8 (a byte from a non-UTF-8 locale
  arrives as a lone surrogate in ``sys.argv``);
- ``image_problem``: an image whose header declares more than ``MAX_IMAGE_PIXELS`` (read from
  the header, before anything is decoded), or that the decoder refuses.
"""

from __future__ import annotations

import math
import re
import struct
from pathlib import Path

#: Largest camera stand-in accepted: 50 megapixels (8K video is 33).
MAX_IMAGE_PIXELS = 50_000_000
_HEAD_BYTES = 64 * 1024


def number_problem(flag: str, value: float | None) -> str | None:
    if value is None:
        return None
    if not math.isfinite(value) or value <= 0:
        return f"{flag} must be a finite number of seconds above 0, not {value}"
    return None


def text_problem(flag: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = value[exc.start]
        byte = ord(bad) - 0xDC00 if 0xDC80 <= ord(bad) <= 0xDCFF else None
        what = f"byte 0x{byte:02x}" if byte is not None else f"character U+{ord(bad):04X}"
        return (
            f"{flag}: the text is not valid UTF-8 ({what} at position {exc.start}); "
            "pass UTF-8 text (check the terminal's locale)"
        )
    return None


def image_size(head: bytes) -> tuple[int, int] | None:
    """(width, height) declared by a PNG, JPEG, BMP, WebP or PPM header, else None."""
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        w, h = struct.unpack(">II", head[16:24])
        return w, h
    if head[:2] == b"\xff\xd8":
        return _jpeg_size(head)
    if head[:2] == b"BM" and len(head) >= 26:
        w, h = struct.unpack("<ii", head[18:26])
        return abs(w), abs(h)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        kind = head[12:16]
        if kind == b"VP8X":
            w = int.from_bytes(head[24:27], "little") + 1
            h = int.from_bytes(head[27:30], "little") + 1
            return w, h
        if kind == b"VP8L":
            bits = int.from_bytes(head[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if kind == b"VP8 ":
            w, h = struct.unpack("<HH", head[26:30])
            return w & 0x3FFF, h & 0x3FFF
    if head[:1] == b"P" and head[1:2] in b"123456":
        text = re.sub(rb"#[^\n]*", b" ", head[2:256])
        nums = text.split()
        if len(nums) >= 2 and nums[0].isdigit() and nums[1].isdigit():
            return int(nums[0]), int(nums[1])
    return None


def _jpeg_size(head: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(head):
        if head[i] != 0xFF:
            return None
        marker = head[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = struct.unpack(">H", head[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", head[i + 5 : i + 9])
            return w, h
        i += 2 + length
    return None


def image_problem(flag: str, path: Path) -> str | None:
    """Too large by its header, or refused by the decoder (never raises)."""
    try:
        with path.open("rb") as f:
            head = f.read(_HEAD_BYTES)
    except OSError as exc:
        return f"{flag}: {path}: cannot be read ({exc.strerror or exc})"
    size = image_size(head)
    if size is not None and size[0] * size[1] > MAX_IMAGE_PIXELS:
        return (
            f"{flag}: {path}: image too large ({size[0]}×{size[1]} = {size[0] * size[1]} "
            f"pixels; limit {MAX_IMAGE_PIXELS})"
        )
    import cv2

    try:
        image = cv2.imread(str(path))
    except cv2.error as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "decoder error"
        return f"{flag}: {path}: the image could not be decoded ({reason[:200]})"
    if image is None:
        return f"{flag}: {path}: the image could not be decoded"
    return None
