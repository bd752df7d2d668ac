"""The realtime session's errors, and where its API keys come from.

Error tree (every message says what to do next and never contains the key)::

    SessionError
    ├── MissingKeyError       no key in the environment / keyring (names OPENAI_API_KEY, ...)
    ├── KeyRejectedError      HTTP 401/403 on the upgrade
    ├── HostUnreachableError  DNS failure, connection refused, timeout (names host:port)
    ├── TlsError              certificate verification or TLS handshake failed (always verified)
    ├── HandshakeError        any other refused or broken upgrade (HTTP status, not WebSocket)
    ├── SessionRefusedError   connected, but the server closed before confirming the session
    └── NotConnectedError     send() before connect() or after the connection closed

``resolve_api_key`` reads a provider's key from the environment, else the OS keyring; a missing
key raises ``MissingKeyError`` naming the variable to set.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping

from realtime.events import Closed

log = logging.getLogger("realtime.session")

#: Environment variables holding each provider's key, first one is the documented name.
KEY_VARIABLES: Mapping[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "azure": ("AZURE_OPENAI_API_KEY",),
}
#: Keyring service under which keys are stored (username = provider name).
KEYRING_SERVICE = "voicecam"


# --------------------------------------------------------------------------- errors


class SessionError(Exception):
    """A connection problem with a message a person can act on. Never contains a secret."""


class MissingKeyError(SessionError):
    def __init__(self, provider: str, variable: str) -> None:
        self.provider = provider
        self.variable = variable
        super().__init__(
            f"No API key for {provider}: set the {variable} environment variable "
            f"(or store the key in the system keyring, service {KEYRING_SERVICE!r}, "
            f"user {provider!r}) and try again."
        )


class KeyRejectedError(SessionError):
    def __init__(self, host: str, status: int) -> None:
        self.host = host
        self.status = status
        super().__init__(
            f"{host} rejected the API key (HTTP {status}): check that the key is correct, "
            "not revoked, and allowed to use this model."
        )


class HostUnreachableError(SessionError):
    def __init__(self, host: str, why: str) -> None:
        self.host = host
        super().__init__(
            f"Cannot reach {host}: {why}. Check the network connection, the backend URL "
            "and any firewall or proxy."
        )


class TlsError(SessionError):
    def __init__(self, host: str, why: str) -> None:
        self.host = host
        super().__init__(
            f"Secure connection to {host} failed: {why}. The server's certificate could not "
            "be verified; check the system clock, the URL, and any intercepting proxy "
            "(certificate verification cannot be turned off)."
        )


class HandshakeError(SessionError):
    """The server answered, but not with a WebSocket upgrade (or the upgrade broke)."""

    def __init__(self, host: str, why: str, status: int | None = None) -> None:
        self.host = host
        self.status = status
        super().__init__(f"{host} refused the realtime connection: {why}.")


class SessionRefusedError(SessionError):
    """The WebSocket opened but the server ended it before confirming the session (bad model,
    refused resumption handle, ...). ``closed`` is how it ended (``None``: no answer in time)."""

    def __init__(self, host: str, closed: Closed | None, error: str = "", waited_s: float = 0):
        self.host = host
        self.closed = closed
        if closed is None:
            why = f"no session confirmation within {waited_s:g} s"
        else:
            why = f"closed with code {closed.code}" + (
                f" ({closed.reason})" if closed.reason else ""
            )
        if error:
            why += f"; the server said: {error}"
        super().__init__(f"{host} did not start the session: {why}.")


class NotConnectedError(SessionError):
    pass


# --------------------------------------------------------------------------- keys


def resolve_api_key(
    provider: str,
    *,
    env: Mapping[str, str] | None = None,
    keyring_lookup: Callable[[str, str], str | None] | None = None,
) -> str:
    """The API key for ``provider`` ("openai"/"gemini") from the environment, else the keyring.

    ``keyring_lookup(service, username)`` is e.g. ``keyring.get_password``; it is only called
    when the environment has no key, and errors from it count as "no key".
    Raises ``MissingKeyError`` naming the variable to set.
    """
    variables = KEY_VARIABLES.get(provider)
    if variables is None:
        raise ValueError(f"unknown provider {provider!r}; expected one of {sorted(KEY_VARIABLES)}")
    environ = os.environ if env is None else env
    for name in variables:
        value = environ.get(name, "").strip()
        if value:
            return value
    if keyring_lookup is not None:
        try:
            stored = keyring_lookup(KEYRING_SERVICE, provider)
        except Exception as exc:  # a broken keyring backend means "no key", say why in the log
            log.warning("keyring lookup for %s failed: %s", provider, type(exc).__name__)
            stored = None
        if stored and stored.strip():
            return stored.strip()
    raise MissingKeyError(provider, variables[0])
