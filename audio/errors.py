"""Errors raised (or reported as events) by the audio package.

Error tree::

    AudioError(Exception)                 base of everything audio/ raises
    ├── AudioConfigError(AudioError)      a setting that cannot work (bad block size, rate, mode)
    └── AudioDeviceError(AudioError)      a microphone/speaker that cannot be opened or went away

``AudioDeviceError`` doubles as an *event*: ``AudioEngine.process()`` returns the instance (never
raises it) when a device fails mid-session; ``message`` says what happened and what to do.
"""

from __future__ import annotations


class AudioError(Exception):
    """Base class of audio errors; ``message`` is meant for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.message == self.message

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.message))


class AudioConfigError(AudioError):
    """An audio setting that cannot work, e.g. a block size that is not a multiple of 10 ms."""


class AudioDeviceError(AudioError):
    """A device could not be opened or disappeared; the message names it and the fix."""
