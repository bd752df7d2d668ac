"""Validate wire messages against the official SDKs' pydantic types (for any test to reuse).

    from tests.realtime.sdk_validators import validate_openai_client, validate_gemini_server
    validate_openai_client({"type": "response.create"})        # raises pydantic.ValidationError

* OpenAI: a ``TypeAdapter`` over the members of ``openai.types.realtime.RealtimeClientEvent``
  / ``RealtimeServerEvent`` with ``Field(discriminator="type")`` (GA protocol only; the SDK
  has no types for the beta protocol). The SDK models allow extra fields.
* Gemini: ``google.genai.types.LiveClientMessage`` / ``LiveServerMessage`` ``model_validate``
  (camelCase or snake_case; unknown fields are rejected). One SDK gap: the SDK's own client
  sends ``setup.realtimeInputConfig`` (see ``_live_converters``) but ``LiveClientSetup`` has no
  such field, so that sub-object is validated separately against ``types.RealtimeInputConfig``.

Each function returns the validated SDK object, or raises ``pydantic.ValidationError``.
Messages may be given as a dict or as the raw JSON text/bytes.
"""

from __future__ import annotations

import json
import typing
from functools import cache
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter

__all__ = [
    "validate_gemini_client",
    "validate_gemini_server",
    "validate_openai_client",
    "validate_openai_server",
]


def _as_dict(msg: dict[str, Any] | str | bytes) -> dict[str, Any]:
    if isinstance(msg, str | bytes):
        msg = json.loads(msg)
    if not isinstance(msg, dict):
        raise TypeError(f"expected a JSON object, got {type(msg).__name__}")
    return msg


def _union_adapter(alias: Any) -> TypeAdapter[Any]:
    members = typing.get_args(typing.get_args(alias)[0])  # Annotated[Union[...], ...]
    return TypeAdapter(Annotated[Union[members], Field(discriminator="type")])  # noqa: UP007


@cache
def _openai_client() -> TypeAdapter[Any]:
    from openai.types.realtime import RealtimeClientEvent

    return _union_adapter(RealtimeClientEvent)


@cache
def _openai_server() -> TypeAdapter[Any]:
    from openai.types.realtime import RealtimeServerEvent

    return _union_adapter(RealtimeServerEvent)


def validate_openai_client(msg: dict[str, Any] | str | bytes) -> Any:
    """Validate one OpenAI Realtime GA client event."""
    return _openai_client().validate_python(_as_dict(msg))


def validate_openai_server(msg: dict[str, Any] | str | bytes) -> Any:
    """Validate one OpenAI Realtime GA server event."""
    return _openai_server().validate_python(_as_dict(msg))


def validate_gemini_client(msg: dict[str, Any] | str | bytes) -> Any:
    """Validate one Gemini Live client message (``LiveClientMessage``)."""
    from google.genai import types

    msg = _as_dict(msg)
    setup = msg.get("setup")
    if isinstance(setup, dict):
        for key in ("realtimeInputConfig", "realtime_input_config"):
            if key in setup:
                types.RealtimeInputConfig.model_validate_json(json.dumps(setup[key]))
        rest = {
            k: v
            for k, v in setup.items()
            if k not in ("realtimeInputConfig", "realtime_input_config")
        }
        msg = {**msg, "setup": rest}
    return types.LiveClientMessage.model_validate_json(json.dumps(msg))


def validate_gemini_server(msg: dict[str, Any] | str | bytes) -> Any:
    """Validate one Gemini Live server message (``LiveServerMessage``)."""
    from google.genai import types

    return types.LiveServerMessage.model_validate_json(json.dumps(_as_dict(msg)))
