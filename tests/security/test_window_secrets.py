"""Issue 17, item 6 (the window): every text the window receives through the bridge is
scrubbed of the secrets the process holds — state messages (errors, close reasons), notices,
recording errors and transcript text — whatever the secret's shape."""

from __future__ import annotations

from typing import Any

import pytest

from realtime.recording.scrub import hold_secret

pytestmark = pytest.mark.gui
SECRET = "windowHeldToken" + "w4" * 8


class _Model:
    def add_listener(self, listener: Any) -> None:
        pass

    def remove_listener(self, listener: Any) -> None:
        pass


def test_the_bridge_scrubs_held_secrets_from_everything_shown(qtbot: Any) -> None:
    from app.gui.bridge import AssistantBridge
    from app.gui.model import State, StateInfo, Turn

    hold_secret(SECRET)
    bridge = AssistantBridge(_Model())  # type: ignore[arg-type]
    seen: list[str] = []
    bridge.state_changed.connect(lambda info: seen.append(info.message))
    bridge.notice.connect(seen.append)
    bridge.recording_changed.connect(lambda on, path, error: seen.append(str(error)))
    bridge.turn_updated.connect(lambda turn: seen.append(turn.text + "|" + turn.unheard))
    bridge.on_state(StateInfo(State.ERROR, f"closed (1008: token {SECRET} revoked)"))
    bridge.on_notice(f"Server: bad token {SECRET}")
    bridge.on_recording(False, None, f"Recording stopped: {SECRET}")
    bridge.on_turn(Turn("t1", "assistant", f"your token is {SECRET}", unheard=SECRET))
    qtbot.waitUntil(lambda: len(seen) == 4, timeout=5000)
    assert all(SECRET not in s for s in seen), seen
    assert seen[0] == "closed (1008: token [REDACTED] revoked)"
    assert seen[3] == "your token is [REDACTED]|[REDACTED]"
