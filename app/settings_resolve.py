"""Settings with the documented precedence: explicit overrides > environment > settings file.

``resolve_settings(overrides)`` is the one place the layers meet::

    explicit overrides (command-line flags, a dialog) > environment (VOICECAM_<FIELD>) >
    the settings file (app.config.Settings.load(), VOICECAM_CONFIG_DIR) > built-in defaults

``settings_from_env(env)`` reads the ``VOICECAM_<FIELD>`` layer: one variable per ``Settings``
field, parsed by the field's type (a value of the wrong type raises ``SettingsError`` naming the
variable), over the providers' own conventions (``OPENAI_BASE_URL`` …,
``app.endpoints.env_conventions``). A model or voice chosen at a lower layer than the backend
belongs to another backend and is dropped for the backend's default; likewise the local model
server's details below its ``llm_url``.

Pure apart from ``Settings.load()`` when no ``base`` is given and ``os.environ`` when no
``env`` is; any thread. Re-exported by ``app.compose``, the composition root that uses it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import fields

from app.config import Settings, SettingsError
from app.endpoints import env_conventions

__all__ = ["ENV_PREFIX", "SettingValue", "resolve_settings", "settings_from_env"]

ENV_PREFIX = "VOICECAM_"
#: A setting's value as given by a flag, the environment or the file.
SettingValue = str | int | float | bool


def _parse_env(name: str, text: str, want: type) -> SettingValue:
    if want is bool:
        low = text.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{name}={text!r}: use true or false")
    if want is int or want is float:
        try:
            return want(text)
        except ValueError:
            raise SettingsError(f"{name}={text!r}: should be a number") from None
    return text


def settings_from_env(env: Mapping[str, str] | None = None) -> dict[str, SettingValue]:
    """The ``VOICECAM_<FIELD>`` variables that name a ``Settings`` field, parsed by its type."""
    env = os.environ if env is None else env
    defaults = Settings()
    # The providers' own conventions (OPENAI_BASE_URL …; app.endpoints) unless VOICECAM_ says.
    out: dict[str, SettingValue] = dict(env_conventions(env))
    for f in fields(Settings):
        name = ENV_PREFIX + f.name.upper()
        if name in env:
            out[f.name] = _parse_env(name, env[name], type(getattr(defaults, f.name)))
    return out


def resolve_settings(
    overrides: Mapping[str, SettingValue | None] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    base: Settings | None = None,
) -> Settings:
    """Settings with the documented precedence. ``overrides``: field → value (None = not given);
    ``base``: the settings file's values (default: ``Settings.load()``). Raises
    ``SettingsError`` for an unknown field or a bad value."""
    settings = base if base is not None else Settings.load()
    known = {f.name for f in fields(Settings)}
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(given) - known)
    if unknown:
        raise SettingsError(f"unknown setting(s): {', '.join(unknown)}")
    from_env = settings_from_env(env)
    merged: dict[str, SettingValue] = {**_as_dict(settings), **from_env, **given}
    # A model or voice belongs to its backend: one chosen at a lower level than the backend
    # (e.g. saved for another backend) is dropped for the backend's default.
    layer = {"backend": _layer("backend", from_env, given)}
    for key in ("model", "voice"):
        if _layer(key, from_env, given) < layer["backend"]:
            merged[key] = ""
    # Likewise the rest of a local model server choice belongs to its llm_url.
    url_layer = _layer("llm_url", from_env, given)
    for key in ("llm_model", "llm_vision", "llm_auth_env"):
        if _layer(key, from_env, given) < url_layer:
            merged[key] = getattr(_DEFAULTS, key)
    return Settings.from_dict(merged, source="overrides")


def _layer(key: str, env: Mapping[str, object], given: Mapping[str, object]) -> int:
    """0: settings file, 1: environment, 2: explicit override."""
    return 2 if key in given else (1 if key in env else 0)


_DEFAULTS = Settings()


def _as_dict(settings: Settings) -> dict[str, SettingValue]:
    return {f.name: getattr(settings, f.name) for f in fields(Settings)}
