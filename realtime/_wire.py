"""Small pure helpers shared by the protocol cores: JSON in/out, typed field access, ids.

Everything here is pure (stdlib ``base64``/``json`` only). The ``get_*`` helpers raise
``WireError`` with a short human-readable reason when a server message has the wrong shape;
the cores turn that into a ``ProtocolViolation`` event instead of letting it escape.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from realtime.events import Event, ProtocolViolation

JsonObject = Mapping[str, object]

#: Longest excerpt of server input ever put into an event (characters, before the ellipsis).
EXCERPT_CHARS = 120

K = TypeVar("K")
V = TypeVar("V")


class WireError(Exception):
    """A server message that does not have the shape the protocol promises."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def excerpt(raw: object, limit: int = EXCERPT_CHARS) -> str:
    """A short printable excerpt of ``raw`` (at most ``limit`` characters plus an ellipsis)."""
    if isinstance(raw, bytes | bytearray):
        text = bytes(raw[: limit * 4]).decode("utf-8", errors="replace")
    elif isinstance(raw, str):
        text = raw[: limit * 4]
    else:
        text = type(raw).__name__
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[:limit] + "…"


def parse_object(message: str | bytes) -> dict[str, object]:
    """Parse one text or binary (UTF-8) JSON frame into a dict, or raise ``WireError``."""
    if isinstance(message, bytes | bytearray):
        try:
            text = bytes(message).decode("utf-8")
        except UnicodeDecodeError:
            raise WireError("binary frame is not UTF-8 JSON") from None
    elif isinstance(message, str):
        text = message
    else:
        raise WireError(f"frame is {type(message).__name__}, not str or bytes")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise WireError("malformed JSON") from None
    if not isinstance(value, dict):
        raise WireError(f"JSON {type(value).__name__} where an object was expected")
    return value


def dumps(obj: object) -> str:
    """Compact JSON text for a client message."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def get_str(d: JsonObject, key: str, default: str | None = None) -> str:
    """``d[key]`` as a string; ``default`` when absent or null (``WireError`` if no default)."""
    value = d.get(key)
    if value is None:
        if default is None:
            raise WireError(f"missing field {key!r}")
        return default
    if not isinstance(value, str):
        raise WireError(f"field {key!r} is {type(value).__name__}, not a string")
    return value


def get_int(d: JsonObject, key: str, default: int | None = None) -> int:
    """``d[key]`` as an integer (JSON floats with an integral value are accepted)."""
    value = d.get(key)
    if value is None:
        if default is None:
            raise WireError(f"missing field {key!r}")
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WireError(f"field {key!r} is {type(value).__name__}, not a number")
    if isinstance(value, float):
        if not value.is_integer():
            raise WireError(f"field {key!r} is not an integer")
        return int(value)
    return value


def get_bool(d: JsonObject, key: str, default: bool = False) -> bool:
    value = d.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise WireError(f"field {key!r} is {type(value).__name__}, not a boolean")
    return value


def get_obj(d: JsonObject, key: str, required: bool = False) -> dict[str, object]:
    """``d[key]`` as an object; ``{}`` when absent or null unless ``required``."""
    value = d.get(key)
    if value is None:
        if required:
            raise WireError(f"missing object {key!r}")
        return {}
    if not isinstance(value, dict):
        raise WireError(f"field {key!r} is {type(value).__name__}, not an object")
    return value


def get_list(d: JsonObject, key: str) -> list[object]:
    """``d[key]`` as a list; ``[]`` when absent or null."""
    value = d.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise WireError(f"field {key!r} is {type(value).__name__}, not a list")
    return value


def b64decode(data: str, what: str = "audio", lenient: bool = False) -> bytes:
    """Strict standard base64 (with padding) to bytes, or ``WireError``.

    ``lenient`` also accepts what protobuf JSON parsers accept: the URL-safe alphabet and
    missing padding (pydantic, and so the google-genai SDK, writes URL-safe base64).
    """
    if lenient:
        data = data.replace("-", "+").replace("_", "/")
        data += "=" * (-len(data) % 4)
    try:
        return base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise WireError(f"{what} is not valid base64") from None


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def counter_ids(prefix: str) -> Callable[[], str]:
    """A deterministic id factory: ``prefix_1``, ``prefix_2``, …"""
    n = 0

    def next_id() -> str:
        nonlocal n
        n += 1
        return f"{prefix}_{n}"

    return next_id


class BoundedMap(Generic[K, V]):
    """An insertion-ordered map that forgets its oldest entries beyond ``capacity``."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()

    def __setitem__(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K, default: V) -> V:
        return self._items.get(key, default)


class QueueingCore:
    """The queues and the never-raising ``receive()`` both protocol cores share.

    Subclasses implement ``_receive(message)`` (may raise ``WireError`` for bad input) and
    append to ``self._out`` / ``self._events``.
    """

    def __init__(self) -> None:
        self._out: list[str | bytes] = []
        self._events: list[Event] = []

    def _receive(self, message: str | bytes) -> None:
        raise NotImplementedError

    def receive(self, message: str | bytes) -> None:
        """Parse one server message into queued events. Never raises."""
        try:
            self._receive(message)
        except WireError as exc:
            self._events.append(ProtocolViolation(exc.reason, excerpt(message)))
        except Exception as exc:  # a bug in a core must not kill the session
            self._events.append(
                ProtocolViolation(f"internal error: {type(exc).__name__}", excerpt(message))
            )

    def messages(self) -> list[str | bytes]:
        """Drain the queued wire messages, oldest first."""
        out, self._out = self._out, []
        return out

    def events(self) -> list[Event]:
        """Drain the queued events, oldest first."""
        out, self._events = self._events, []
        return out
