"""Supervisor of the embedded offline server (``voicecam-server``) as a child process.

- ``start()`` launches ``python -m realtime.local.server --port 0`` with a random per-launch
  token (passed in the ``VOICECAM_SERVER_TOKEN`` environment variable, so it never appears in
  ``ps``; the child's environment is ``app.server_env.server_environment``: no API keys),
  forwards ``VOICECAM-SERVER PROGRESS k/n what`` lines to ``on_progress``, and returns the URL
  of the ``VOICECAM-SERVER READY <url>`` line. A ``VOICECAM-SERVER ERROR <message>`` line, an
  early exit or a timeout raise ``LocalServerError`` with that message.
- If the child dies while the app runs, a watchdog thread restarts it (at most ``max_restarts``
  times within ``restart_window_s``); ``url`` then changes, which is why sessions resolve it each
  time they connect.
- ``stop()`` sends SIGTERM, waits, then kills. Also registered with ``atexit``.

Thread-safe: ``url``/``token``/``running`` may be read from any thread.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence

from app.server_env import server_environment
from realtime.recording.scrub import hold_secret

log = logging.getLogger(__name__)

READY_PREFIX = "VOICECAM-SERVER READY "
PROGRESS_PREFIX = "VOICECAM-SERVER PROGRESS "
ERROR_PREFIX = "VOICECAM-SERVER ERROR "

#: (step, total, what is loading)
ProgressCallback = Callable[[int, int, str], None]


class LocalServerError(RuntimeError):
    """The offline server could not start; the message says why and what to install/do."""


class LocalServer:
    def __init__(
        self,
        extra_args: Sequence[str] = (),
        *,
        on_progress: ProgressCallback | None = None,
        ready_timeout_s: float = 600.0,
        max_restarts: int = 3,
        restart_window_s: float = 300.0,
        command: Sequence[str] | None = None,
    ) -> None:
        self._extra = list(extra_args)
        self._command = (
            list(command) if command else [sys.executable, "-m", "realtime.local.server"]
        )
        self.on_progress = on_progress
        self._ready_timeout_s = ready_timeout_s
        self._max_restarts = max_restarts
        self._restart_window_s = restart_window_s
        self._lock = threading.RLock()
        self._start_lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._url: str | None = None
        self._token = ""
        self._stopping = False
        self._restarts: collections.deque[float] = collections.deque()
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)
        self._watchdog: threading.Thread | None = None
        self.restart_count = 0
        #: Why the server last died unexpectedly ("" until it does); read by the conversation.
        self.last_crash = ""
        self._last_crash_at = -1e9
        atexit.register(self.stop)

    # ------------------------------------------------------------------ properties
    @property
    def extra_args(self) -> tuple[str, ...]:
        """The arguments it is started with after the fixed ones (e.g. ``--llm-url …``)."""
        return tuple(self._extra)

    @property
    def url(self) -> str | None:
        """``ws://127.0.0.1:PORT/v1/realtime`` of the running server, or None."""
        with self._lock:
            return self._url

    @property
    def base_url(self) -> str | None:
        """The API root for ``realtime.openai_endpoint.endpoint(base_url=…)`` (``ws://…/v1``)."""
        url = self.url
        return None if url is None else url.removesuffix("/realtime")

    @property
    def token(self) -> str:
        with self._lock:
            return self._token

    @property
    def running(self) -> bool:
        with self._lock:
            return self._proc is not None and self._proc.poll() is None and self._url is not None

    @property
    def pid(self) -> int | None:
        with self._lock:
            return None if self._proc is None else self._proc.pid

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> str:
        """Start (if not running) and block until ready; returns the URL. ``stop()`` from
        another thread interrupts a start (it then raises ``LocalServerError``)."""
        with self._start_lock:  # one start at a time; stop() is not blocked by it
            with self._lock:
                if self.running:
                    assert self._url is not None
                    return self._url
                self._stopping = False
            url = self._launch()
            with self._lock:
                if self._watchdog is None or not self._watchdog.is_alive():
                    self._watchdog = threading.Thread(
                        target=self._watch, name="voicecam-server-watchdog", daemon=True
                    )
                    self._watchdog.start()
            return url

    def stop(self, timeout_s: float = 5.0) -> None:
        with self._lock:
            self._stopping = True
            proc, self._proc, self._url = self._proc, None, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout_s)

    # ------------------------------------------------------------------ internals
    def _launch(self) -> str:
        token = secrets.token_urlsafe(24)
        hold_secret(token)
        # Only what the server needs: never the app's API keys or other tokens.
        env = server_environment(os.environ, self._extra, token)
        cmd = [
            *self._command,
            *("--host", "127.0.0.1", "--port", "0", "--exit-with-stdin"),
            *self._extra,
        ]
        log.info("starting offline server: %s", " ".join(cmd))
        try:
            proc = subprocess.Popen(
                cmd,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                # Never written: when this process dies, the pipe closes and the server exits.
                stdin=subprocess.PIPE,
                text=True,
                bufsize=1,
                env=env,
            )
        except OSError as exc:
            raise LocalServerError(f"cannot start the offline server ({exc})") from exc
        with self._lock:
            if self._stopping:  # stop() ran while we were starting: do not leave it behind
                self._kill(proc)
                raise LocalServerError("the offline server was stopped while starting")
            self._proc, self._token, self._url = proc, token, None
        threading.Thread(target=self._drain_stderr, args=(proc,), daemon=True).start()
        ready = threading.Event()
        result: dict[str, str] = {}
        threading.Thread(target=self._read_stdout, args=(proc, ready, result), daemon=True).start()
        if not ready.wait(self._ready_timeout_s):
            self._kill(proc)
            raise LocalServerError(
                f"the offline server did not get ready within {self._ready_timeout_s:.0f} s "
                "(models still loading on a slow machine?)"
            )
        if "url" not in result:
            self._kill(proc)
            message = result.get("error") or self._exit_message(proc)
            raise LocalServerError(f"the offline server could not start: {message}")
        with self._lock:
            if self._stopping:
                self._kill(proc)
                raise LocalServerError("the offline server was stopped while starting")
            self._url = result["url"]
        log.info("offline server ready at %s", self._url)
        return self._url

    def _read_stdout(
        self, proc: subprocess.Popen[str], ready: threading.Event, result: dict[str, str]
    ) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.strip()
            if line.startswith(READY_PREFIX) and "url" not in result:
                result["url"] = line[len(READY_PREFIX) :].strip()
                ready.set()
            elif line.startswith(PROGRESS_PREFIX):
                self._progress(line[len(PROGRESS_PREFIX) :])
            elif line.startswith(ERROR_PREFIX):
                result["error"] = line[len(ERROR_PREFIX) :].strip()
            elif line:
                log.debug("server: %s", line)
        ready.set()  # EOF: the process ended (error or exit)

    def _progress(self, text: str) -> None:
        head, _, what = text.partition(" ")
        k, _, n = head.partition("/")
        if self.on_progress is not None and k.isdigit() and n.isdigit():
            try:
                self.on_progress(int(k), int(n), what)
            except Exception:
                log.exception("progress callback failed")

    def _drain_stderr(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.rstrip()
            if line and "token" not in line.lower():
                self._stderr.append(line)
                log.debug("server stderr: %s", line)

    def recent_crash(self, within_s: float = 60.0) -> str:
        """Why the server died, if it died unexpectedly in the last ``within_s`` s, else "".

        A child that has exited but that the watchdog has not polled yet (it looks every 0.5 s,
        while a dropped connection is seen at once) counts too, so the first reconnect notice
        can already say the server stopped."""
        with self._lock:
            proc = self._proc
            if not self._stopping and proc is not None and proc.poll() is not None:
                return self._exit_message(proc)
        if time.monotonic() - self._last_crash_at <= within_s:
            return self.last_crash
        return ""

    def _exit_message(self, proc: subprocess.Popen[str]) -> str:
        try:
            code = proc.wait(5)
        except subprocess.TimeoutExpired:
            code = None
        tail = " | ".join(list(self._stderr)[-3:])
        return f"exit status {code}" + (f": {tail}" if tail else "")

    @staticmethod
    def _kill(proc: subprocess.Popen[str]) -> None:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)

    def _watch(self) -> None:
        while True:
            time.sleep(0.5)
            with self._lock:
                if self._stopping:
                    return
                proc = self._proc
                if proc is None or proc.poll() is None:
                    continue
                now = time.monotonic()
                while self._restarts and now - self._restarts[0] > self._restart_window_s:
                    self._restarts.popleft()
                if len(self._restarts) >= self._max_restarts:
                    log.error(
                        "offline server keeps crashing (%s); not restarting",
                        self._exit_message(proc),
                    )
                    self._url = None
                    return
                self._restarts.append(now)
                self.restart_count += 1
                self._url = None
                self.last_crash = self._exit_message(proc)
                self._last_crash_at = now
            log.warning("offline server exited (%s); restarting", self.last_crash)
            try:  # outside the lock: loading the models takes a while
                self._launch()
            except LocalServerError as exc:
                if self._stopping:
                    return
                log.error("%s", exc)
