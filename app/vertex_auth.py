"""An OAuth access token for Vertex AI: Application Default Credentials, else the gcloud CLI.

``VertexToken.get()`` returns a token, fetching a new one when none is held or the held one
expires within ``REFRESH_MARGIN_S``. Order:

1. Application Default Credentials (``google.auth``), but only when a credentials file exists —
   ``GOOGLE_APPLICATION_CREDENTIALS`` or the file ``gcloud auth application-default login``
   writes — so a desktop machine never waits on the cloud metadata server;
2. ``gcloud auth print-access-token`` run as a subprocess (tokens last an hour);
3. neither: ``VertexAuthError`` saying what to run.

Every token is registered as a held secret (``app.logging_setup.register_secret``) before it
is returned, so it never reaches a log, a recording or the CLI's output.

Blocking (a subprocess, or a token refresh over HTTPS): call it off the GUI and engine loops —
the backend does it in ``prepare()``, which runs in an executor.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from app.logging_setup import register_secret
from realtime.session import SessionError

__all__ = ["GCLOUD_TOKEN_TTL_S", "REFRESH_MARGIN_S", "VertexAuthError", "VertexToken"]

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
#: gcloud does not say when its token expires; it lasts an hour, so trust it for 50 minutes.
GCLOUD_TOKEN_TTL_S = 50 * 60.0
REFRESH_MARGIN_S = 5 * 60.0
GCLOUD_TIMEOUT_S = 60.0

#: (token, expiry as a UNIX time or None when unknown), or None: no ADC on this machine.
AdcResult = tuple[str, float | None] | None


class VertexAuthError(SessionError):
    """No Google Cloud credentials could give a Vertex AI token (the message says what to do)."""


_NO_CREDENTIALS = (
    "Gemini through Vertex AI needs Google Cloud credentials: run "
    "'gcloud auth application-default login' (or set GOOGLE_APPLICATION_CREDENTIALS to a "
    "service-account key file), or install the gcloud CLI and run 'gcloud auth login'."
)


def adc_file(env: dict[str, str] | None = None) -> Path | None:
    """The Application Default Credentials file in effect, if one exists."""
    environ = os.environ if env is None else env
    named = environ.get("GOOGLE_APPLICATION_CREDENTIALS", "")
    if named:
        return Path(named) if Path(named).is_file() else None
    if os.name == "nt":
        base = Path(environ.get("APPDATA", "")) / "gcloud"
    else:
        base = Path(environ.get("CLOUDSDK_CONFIG", "") or Path.home() / ".config" / "gcloud")
    path = base / "application_default_credentials.json"
    return path if path.is_file() else None


def adc_token() -> AdcResult:
    """A token from Application Default Credentials, or None when this machine has none.
    Raises ``VertexAuthError`` when the credentials exist but cannot give a token."""
    if adc_file() is None:
        return None
    try:
        import google.auth
        import google.auth.transport.requests
        from google.auth.exceptions import GoogleAuthError
    except ImportError:
        return None
    try:
        credentials, _project = google.auth.default(scopes=[SCOPE])
        credentials.refresh(google.auth.transport.requests.Request())  # type: ignore[no-untyped-call]
    except GoogleAuthError as exc:
        raise VertexAuthError(
            f"Google Cloud credentials ({adc_file()}) could not give a Vertex AI token "
            f"({type(exc).__name__}); run 'gcloud auth application-default login' again"
        ) from None
    token = str(getattr(credentials, "token", "") or "")
    expiry = getattr(credentials, "expiry", None)
    # google.auth keeps expiry as a naive UTC datetime.
    expires = expiry.replace(tzinfo=UTC).timestamp() if isinstance(expiry, datetime) else None
    return (token, expires) if token else None


@dataclass
class VertexToken:
    """A Vertex AI access token, refreshed when needed. Not thread-safe: one caller at a time
    (the backend's ``prepare`` and its endpoint factory run one after the other)."""

    adc: Callable[[], AdcResult] = adc_token
    which: Callable[[str], str | None] = shutil.which
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run
    clock: Callable[[], float] = time.time
    _token: str = field(default="", repr=False)
    _expires: float = 0.0

    def get(self) -> str:
        """A valid token (blocking when a new one is needed); ``VertexAuthError`` if none."""
        if self._token and self.clock() < self._expires - REFRESH_MARGIN_S:
            return self._token
        from_adc = self.adc()
        if from_adc is not None:
            token, expires = from_adc
            self._hold(token, expires if expires is not None else self.clock() + 3600.0)
            return token
        token = self._gcloud()
        self._hold(token, self.clock() + GCLOUD_TOKEN_TTL_S)
        return token

    def _hold(self, token: str, expires: float) -> None:
        register_secret(token)
        self._token = token
        self._expires = expires

    def _gcloud(self) -> str:
        gcloud = self.which("gcloud")
        if gcloud is None:
            raise VertexAuthError(_NO_CREDENTIALS)
        try:
            done = self.run(
                [gcloud, "auth", "print-access-token"],
                capture_output=True,
                text=True,
                timeout=GCLOUD_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise VertexAuthError(
                f"'gcloud auth print-access-token' gave no token within {GCLOUD_TIMEOUT_S:.0f} s"
            ) from None
        except OSError as exc:
            raise VertexAuthError(f"could not run gcloud ({exc.strerror or exc})") from None
        token = done.stdout.strip().splitlines()[-1].strip() if done.stdout.strip() else ""
        if done.returncode != 0 or not token:
            # gcloud's first line says what is wrong ("ERROR: (gcloud.auth…) You do not …").
            lines = [line.strip() for line in (done.stderr or "").splitlines() if line.strip()]
            first = re.sub(r"^ERROR:\s*(\([^)]*\)\s*)?", "", lines[0]) if lines else ""
            why = first[:200] or f"exit status {done.returncode}"
            raise VertexAuthError(
                f"'gcloud auth print-access-token' failed ({why}); run 'gcloud auth login'"
            )
        return token
