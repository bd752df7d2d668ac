"""Reopening a lost or unopenable audio device, on a background thread.

``start_retry`` runs one "audio-device-retry" thread: every ``interval_s`` it tries
``open_pipe()`` (re-initialising PortAudio first, so devices that appeared since are seen) and
hands the first pipeline that opens to ``deliver`` (the engine installs it on its next
``process()``). ``stop`` ends it. The dead stream is closed on a throw-away reaper thread:
closing a stream whose server or device died can block forever.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from audio.devices import reinitialize
from audio.duplex import StreamLike
from audio.errors import AudioDeviceError
from audio.opener import Pipeline, close_quietly, skip_portaudio_exit_handler

log = logging.getLogger("audio.engine")


def start_retry(
    dead: StreamLike | None,
    *,
    open_pipe: Callable[[], Pipeline],
    deliver: Callable[[Pipeline], None],
    stop: threading.Event,
    interval_s: float,
    reinitialize_portaudio: bool,
) -> threading.Thread:
    """Start (and return) the retry thread; see the module docstring."""
    thread = threading.Thread(
        target=_retry_loop,
        args=(dead, open_pipe, deliver, stop, interval_s, reinitialize_portaudio),
        name="audio-device-retry",
        daemon=True,
    )
    thread.start()
    return thread


def _retry_loop(
    dead: StreamLike | None,
    open_pipe: Callable[[], Pipeline],
    deliver: Callable[[Pipeline], None],
    stop: threading.Event,
    interval: float,
    real: bool,
) -> None:
    # Closing a stream whose server/device died can block forever (PortAudio waits for a
    # callback thread stuck in ALSA's poll): do it on a throw-away thread, and only
    # re-initialise PortAudio (which would close it too) once that has finished.
    closed = threading.Event()
    if dead is not None:

        def reap(stream: StreamLike = dead) -> None:
            close_quietly(stream, abort=True)
            closed.set()

        threading.Thread(target=reap, name="audio-stream-reaper", daemon=True).start()
    else:
        closed.set()
    if real and dead is not None and not closed.wait(2.0):
        skip_portaudio_exit_handler()
    while not stop.wait(interval):
        if real and closed.is_set():
            try:
                reinitialize()  # see devices that appeared since
            except Exception as exc:  # PortAudio init failure: keep trying
                log.debug("PortAudio re-initialisation failed: %s", exc)
                continue
        try:
            pipe = open_pipe()
        except AudioDeviceError as exc:
            log.debug("audio device retry failed: %s", exc.message)
            continue
        deliver(pipe)
        return
