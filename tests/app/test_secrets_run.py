"""app.secrets without a keyring backend: a key given during the run works for the run, the
failure is one plain sentence, the environment still comes first (issue #14 item 10)."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backends import fail

from app.secrets import (
    KeyringUnavailable,
    MissingKeyError,
    api_key,
    delete_key,
    forget_this_run_keys,
    saved_key,
    store_key,
)

KEY = "sk-proj-RUNONLY0123456789abcdefWXYZ"


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    forget_this_run_keys()
    yield
    forget_this_run_keys()
    keyring.set_keyring(previous)


def test_store_without_keyring_keeps_the_key_for_this_run(no_keyring) -> None:
    with pytest.raises(MissingKeyError):
        api_key("openai", env={})
    with pytest.raises(KeyringUnavailable) as caught:
        store_key("openai", KEY)
    said = str(caught.value)
    assert said.startswith("Your OpenAI key works until VoiceCam closes")
    assert "OPENAI_API_KEY" in said and KEY not in said and "Error" not in said
    assert api_key("openai", env={}) == KEY
    assert api_key("openai", env={"OPENAI_API_KEY": "sk-from-env"}) == "sk-from-env"
    with pytest.raises(KeyringUnavailable):
        saved_key("openai")
    delete_key("openai")
    with pytest.raises(MissingKeyError):
        api_key("openai", env={})
