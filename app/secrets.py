"""API keys: from the environment or the OS keyring — never from the settings file.

Lookup order for a provider ("openai", "gemini"): the environment (``OPENAI_API_KEY``;
``GEMINI_API_KEY`` then ``GOOGLE_API_KEY``), then a key given during this run (``store_key``
keeps it in memory, so a key typed into Settings works for this launch even when no keyring
backend is installed), then the keyring (service ``voicecam``, user = the provider). Every key
loaded is registered with the logging filter so it can never be logged, and a key is never
written anywhere but the keyring. ``MissingKeyError`` (from ``realtime.session``) names the
variable to set; ``KeyringUnavailable`` says in one plain sentence what to do without a keyring.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from app.logging_setup import register_secret
from realtime.session import KEY_VARIABLES, KEYRING_SERVICE, MissingKeyError, resolve_api_key

__all__ = [
    "KEYRING_SERVICE",
    "KeyringUnavailable",
    "MissingKeyError",
    "api_key",
    "delete_key",
    "forget_this_run_keys",
    "has_key",
    "keep_for_this_run",
    "keyring_unavailable_text",
    "masked",
    "saved_key",
    "store_key",
    "this_run_key",
]

log = logging.getLogger(__name__)


#: Keys given during this run (``store_key``), by provider; in memory only, never on disk.
_run_keys: dict[str, str] = {}
_run_lock = threading.Lock()

_PROVIDER_NAMES = {"openai": "OpenAI", "gemini": "Gemini"}


class KeyringUnavailable(RuntimeError):
    """No usable OS keyring. ``str()`` is one sentence a person can act on (no exception text)."""


def keyring_unavailable_text(provider: str | None = None) -> str:
    """What a person reads when no keyring backend works: the key works for this run, and where
    it can be kept. ``provider`` None: about every provider's key."""
    if provider is None:
        which, env = "A key you enter here", "OPENAI_API_KEY or GEMINI_API_KEY"
    else:
        which = f"Your {_PROVIDER_NAMES.get(provider, provider)} key"
        env = KEY_VARIABLES[provider][0]
    return (
        f"{which} works until VoiceCam closes, because this computer has no keyring to keep it "
        f"in: to keep it, install a keyring backend (for example the gnome-keyring or "
        f"KWallet service, or the keyrings.alt package) or set {env} in the environment."
    )


def _run_key(provider: str) -> str | None:
    with _run_lock:
        return _run_keys.get(provider)


def _keyring_get(service: str, user: str) -> str | None:
    import keyring

    value: str | None = keyring.get_password(service, user)
    return value


def _this_run_then_keyring(service: str, user: str) -> str | None:
    """``resolve_api_key``'s lookup after the environment: this run's key, then the keyring."""
    return _run_key(user) or _keyring_get(service, user)


def saved_key(provider: str) -> str | None:
    """The key stored in the OS keyring for ``provider`` (not the environment's), or None.
    Blocking (the keyring may talk to a daemon): call it off the GUI thread. Raises
    ``KeyringUnavailable`` when no keyring backend works."""
    from keyring.errors import KeyringError

    try:
        value = _keyring_get(KEYRING_SERVICE, provider)
    except KeyringError as exc:
        log.info("no usable keyring (%s)", type(exc).__name__)
        raise KeyringUnavailable(keyring_unavailable_text()) from None
    if value:
        register_secret(value)
    return value or None


def keep_for_this_run(provider: str, key: str) -> None:
    """Use ``key`` for ``provider`` until the process ends (memory only; never written)."""
    if provider not in KEY_VARIABLES:
        raise ValueError(f"unknown provider {provider!r}; expected one of {sorted(KEY_VARIABLES)}")
    key = key.strip()
    if key:
        register_secret(key)
        with _run_lock:
            _run_keys[provider] = key


def forget_this_run_keys() -> None:
    """Drop every key kept for this run (the keyring is untouched)."""
    with _run_lock:
        _run_keys.clear()


def this_run_key(provider: str) -> str | None:
    """The key given for ``provider`` during this run (kept in memory only), or None."""
    return _run_key(provider)


def api_key(provider: str, env: Mapping[str, str] | None = None) -> str:
    """The key for ``provider``; raises ``MissingKeyError`` naming the variable to set."""
    key = resolve_api_key(provider, env=env, keyring_lookup=_this_run_then_keyring)
    register_secret(key)
    return key


def has_key(provider: str, env: Mapping[str, str] | None = None) -> bool:
    try:
        api_key(provider, env)
    except MissingKeyError:
        return False
    return True


def store_key(provider: str, key: str) -> None:
    """Use ``key`` for the rest of this run, and save it in the OS keyring.

    The key is kept in memory first, so it works for this launch even when the keyring fails;
    then it is saved (blocking: call it off the GUI thread). Raises ``KeyringUnavailable`` (one
    plain sentence: the key works until VoiceCam closes, and how to keep it) when it could not
    be saved. It is never written anywhere else."""
    if provider not in KEY_VARIABLES:
        raise ValueError(f"unknown provider {provider!r}; expected one of {sorted(KEY_VARIABLES)}")
    key = key.strip()
    if not key:
        raise ValueError("the API key is empty")
    import keyring
    from keyring.errors import KeyringError

    keep_for_this_run(provider, key)
    try:
        keyring.set_password(KEYRING_SERVICE, provider, key)
    except KeyringError as exc:
        log.info("could not save the %s key in a keyring (%s)", provider, type(exc).__name__)
        raise KeyringUnavailable(keyring_unavailable_text(provider)) from None


def delete_key(provider: str) -> None:
    """Forget ``provider``'s key: this run's copy and the keyring's (a failure is logged)."""
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    with _run_lock:
        _run_keys.pop(provider, None)

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
