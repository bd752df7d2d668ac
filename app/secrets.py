"""API keys: from the environment or the OS keyring — never from the settings file.

Lookup order for a provider ("openai", "gemini"): the environment (``OPENAI_API_KEY``;
``GEMINI_API_KEY`` then ``GOOGLE_API_KEY``), then the keyring (service ``voicecam``, user = the
provider). Every key loaded is registered with the logging filter so it can never be logged.
``MissingKeyError`` (from ``realtime.session``) names the variable to set.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from app.logging_setup import register_secret
from realtime.session import KEY_VARIABLES, KEYRING_SERVICE, MissingKeyError, resolve_api_key

__all__ = [
    "KEYRING_SERVICE",
    "MissingKeyError",
    "api_key",
    "delete_key",
    "has_key",
    "masked",
    "saved_key",
    "store_key",
]

log = logging.getLogger(__name__)


def _keyring_get(service: str, user: str) -> str | None:
    import keyring

    value: str | None = keyring.get_password(service, user)
    return value


def saved_key(provider: str) -> str | None:
    """The key stored in the OS keyring for ``provider`` (not the environment's), or None.
    Blocking (the keyring may talk to a daemon): call it off the GUI thread."""
    value = _keyring_get(KEYRING_SERVICE, provider)
    if value:
        register_secret(value)
    return value or None


def api_key(provider: str, env: Mapping[str, str] | None = None) -> str:
    """The key for ``provider``; raises ``MissingKeyError`` naming the variable to set."""
    key = resolve_api_key(provider, env=env, keyring_lookup=_keyring_get)
    register_secret(key)
    return key


def has_key(provider: str, env: Mapping[str, str] | None = None) -> bool:
    try:
        api_key(provider, env)
    except MissingKeyError:
        return False
    return True


def store_key(provider: str, key: str) -> None:
    """Save ``key`` in the OS keyring. Raises RuntimeError with a readable message on failure."""
    if provider not in KEY_VARIABLES:
        raise ValueError(f"unknown provider {provider!r}; expected one of {sorted(KEY_VARIABLES)}")
    key = key.strip()
    if not key:
        raise ValueError("the API key is empty")
    import keyring
    from keyring.errors import KeyringError

    register_secret(key)
    try:
        keyring.set_password(KEYRING_SERVICE, provider, key)
    except KeyringError as exc:
        raise RuntimeError(
            f"Could not store the {provider} key in the system keyring ({type(exc).__name__}). "
            f"Set the {KEY_VARIABLES[provider][0]} environment variable instead."
        ) from None


def delete_key(provider: str) -> None:
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        keyring.delete_password(KEYRING_SERVICE, provider)
    except PasswordDeleteError:
        pass
    except KeyringError as exc:
        log.warning(
            "could not delete the %s key from the keyring: %s", provider, type(exc).__name__
        )


def masked(key: str) -> str:
    """Show a saved key safely: ``sk-…wxyz`` (never more than the last 4 characters)."""
    key = key.strip()
    if len(key) <= 8:
        return "•" * len(key)
    head = key[:3] if key.startswith(("sk-", "AIz")) else ""
    return f"{head}…{key[-4:]}"
