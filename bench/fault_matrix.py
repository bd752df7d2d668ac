"""Fault bench of issue 17: recording failures and the offline server's lifecycle, one line
per case with ``held`` or ``failed`` (and a figure where there is one), so the next round can
be compared with this one.

    .venv/bin/python bench/fault_matrix.py                 # everything (~2 min; loads models)
    .venv/bin/python bench/fault_matrix.py --only recording
    .venv/bin/python bench/fault_matrix.py --only server --pairs 500

Recording cases need a mountable tmpfs (root); they are reported ``skipped`` otherwise. Each
case is the matching test of tests/reliability or tests/security run as a plain function (same
code, same assertions); the server cases that have a figure measure it here: exit status and
seconds from SIGTERM (or stdin EOF) to exit, and how many of N ``response.create`` +
``response.cancel`` pairs got ``response.created`` and a cancelled ``response.done``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MEDIA = ROOT.parent / "shared" / "media"

import pytest  # noqa: E402

from tests.reliability import test_offline_server_faults as server_faults  # noqa: E402
from tests.reliability import test_recording_failures as recording  # noqa: E402
from tests.reliability import test_server_stop as stop  # noqa: E402
from tests.reliability.helpers import FakeThread  # noqa: E402

Row = tuple[str, str, str, str]


def run_case(item: str, name: str, fn: Callable[[], str | None]) -> Row:
    try:
        detail = fn() or ""
        return item, name, "held", detail
    except pytest.skip.Exception as exc:
        return item, name, "skipped", str(exc.msg if hasattr(exc, "msg") else exc)[:90]
    except AssertionError as exc:
        first = (str(exc).strip().splitlines() or ["assertion failed"])[0]
        return item, name, "failed", first[:90]
    except Exception as exc:
        return item, name, "failed", f"{type(exc).__name__}: {exc}"[:90]


@contextlib.contextmanager
def fake() -> Iterator[Any]:
    ft = FakeThread(recording.TOKEN, chunk_delay_s=0.05)
    try:
        yield ft
    finally:
        ft.close()


def with_fake(test: Callable[..., None], **kw: Any) -> Callable[[], None]:
    def run() -> None:
        with fake() as ft, tempfile.TemporaryDirectory() as tmp:
            test(ft, Path(tmp), **kw)

    return run


def with_tmp(test: Callable[..., None], **kw: Any) -> Callable[[], None]:
    def run() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            test(Path(tmp), **kw)

    return run


def recording_cases() -> list[Row]:
    r = recording
    return [
        run_case("1,2", "--record: read-only folder / parent, under a file",
                 with_fake(r.test_record_folders_that_cannot_be_written_are_said_and_the_conversation_goes_on)),
        run_case("3", "full disk while recording (said, file readable)",
                 with_fake(r.test_full_disk_while_recording_is_said_the_file_stays_readable,
                           media_dir=MEDIA)),
        run_case("3", "0 bytes free at start (said)",
                 with_fake(r.test_zero_bytes_free_is_said_at_start)),
        run_case("3", "recording resumes into a new file",
                 with_tmp(r.test_recording_resumes_into_a_new_file_when_space_returns)),
        run_case("3", "CLI told (cannot start, resumed)",
                 with_tmp(r.test_the_cli_says_when_recording_resumes)),
        run_case("1-3", "window told (cannot start, resumed)",
                 with_tmp(r.test_the_window_is_told_when_recording_cannot_start_and_when_it_resumes)),
        run_case("4", "--audio-out: folder, /dev/full, full disk",
                 with_fake(r.test_audio_out_failures_are_said_and_leave_nothing)),
        run_case("5", "export --to x.md on a full disk leaves nothing",
                 with_tmp(r.test_a_failed_markdown_export_leaves_nothing)),
        run_case("7", "--record folder and new parents 0700",
                 with_fake(r.test_the_record_folder_and_its_new_parents_are_private)),
    ]  # fmt: skip


# ---------------------------------------------------------------------- server lifecycle


def create_cancel_pairs(server: Any, pairs: int) -> str:
    from tests.realtime.local.peer import connect

    async def run() -> int:
        ok = 0
        async with connect(server) as peer:
            await peer.update(output_modalities=["text"])
            for _ in range(pairs):
                await peer.send_raw(json.dumps({"type": "response.create"}))
                await peer.send_raw(json.dumps({"type": "response.cancel"}))
                got = await peer.until("response.done", timeout=30)
                done = got[-1]["response"]
                ok += got[0]["type"] == "response.created" and done["status"] == "cancelled"
        return ok

    ok = asyncio.run(run())
    assert ok == pairs, f"{ok}/{pairs} pairs complete"
    return f"{ok}/{pairs} pairs: created + done(cancelled)"


def stop_direct(close_stdin: bool) -> str:
    from websockets.sync.client import connect

    proc, url, token = stop.start_like_the_app()
    try:
        with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            ws.recv(timeout=30)
            if close_stdin:
                assert proc.stdin is not None
                proc.stdin.close()
            else:
                proc.send_signal(signal.SIGTERM)
            code, took, err = stop.wait_exit(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0 and "Fatal Python error" not in err, f"rc {code} after {took:.2f} s"
    assert took < stop.EXIT_LIMIT_S, f"rc 0 after {took:.2f} s"
    return f"rc 0 after {took:.2f} s"


def stop_via_app() -> str:
    from websockets.sync.client import connect

    from app.local_server import LocalServer

    server = LocalServer(ready_timeout_s=300, max_restarts=0)
    try:
        server.start()
        proc = server._proc
        assert proc is not None and server.url is not None
        headers = {"Authorization": f"Bearer {server.token}"}
        with connect(server.url, additional_headers=headers) as ws:
            ws.recv(timeout=30)
            t0 = time.monotonic()
            server.stop()
            took = time.monotonic() - t0
    finally:
        server.stop()
    assert proc.returncode == 0, f"rc {proc.returncode} after {took:.2f} s"
    return f"rc 0 after {took:.2f} s"


def sigterm_during_transcription() -> str:
    t: list[float] = []
    original = stop.wait_exit

    def timed(proc: Any) -> tuple[int, float, str]:
        code, took, err = original(proc)
        t.append(took)
        return code, took, err

    stop.wait_exit = timed
    try:
        stop.test_sigterm_during_a_long_transcription_exits_0_at_once(MEDIA)
    finally:
        stop.wait_exit = original
    return f"rc 0 after {t[0]:.2f} s (10-minute input)"


def server_cases(pairs: int) -> list[Row]:
    from tests.realtime.local.conftest import start_server

    rows: list[Row] = []
    shared = start_server()
    try:
        rows.append(
            run_case(
                "9",
                "response.create + immediate cancel",
                lambda: create_cancel_pairs(shared, pairs),
            )
        )
        rows.append(
            run_case(
                "13",
                "failed handshakes print nothing",
                lambda: server_faults.test_failed_handshakes_print_nothing(shared),
            )
        )
        rows.append(
            run_case(
                "14",
                "5,000-digit integer → invalid_value + field",
                lambda: server_faults.test_a_huge_integer_is_invalid_value_naming_the_field(shared),
            )
        )
    finally:
        shared.stop()
    rows += [
        run_case("10", "stop through the app (client connected)", stop_via_app),
        run_case("10", "--exit-with-stdin + SIGTERM (client connected)",
                 lambda: stop_direct(close_stdin=False)),
        run_case("10", "--exit-with-stdin, stdin closed", lambda: stop_direct(close_stdin=True)),
        run_case("11", "SIGTERM during a long transcription", sigterm_during_transcription),
        run_case("12", "client that stops reading is dropped",
                 server_faults.test_a_client_that_stops_reading_is_dropped_and_its_buffer_freed),
        run_case("15", "out-of-range flags exit 2 with a sentence", flags_exit_2),
    ]  # fmt: skip
    return rows


def flags_exit_2() -> str:
    cases = [
        ("--port", "70000", "65535"), ("--port", "-1", "65535"),
        ("--max-message-mb", "nan", "above 0"), ("--max-message-mb", "0", "above 0"),
        ("--max-message-mb", "-5", "above 0"),
    ]  # fmt: skip
    for flag, value, words in cases:
        server_faults.test_out_of_range_server_flags_exit_2_with_a_sentence(flag, value, words)
    return f"{len(cases)} flag values"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=["recording", "server"], default=None)
    ap.add_argument("--pairs", type=int, default=500, help="create+cancel pairs for item 9")
    args = ap.parse_args()
    rows: list[Row] = []
    t0 = time.monotonic()
    if args.only in (None, "recording"):
        rows += recording_cases()
    if args.only in (None, "server"):
        rows += server_cases(args.pairs)
    width = max(len(r[1]) for r in rows)
    print(f"{'item':<5} {'case':<{width}}  {'result':<7} detail")
    for item, name, result, detail in rows:
        print(f"{item:<5} {name:<{width}}  {result:<7} {detail}")
    held = sum(r[2] == "held" for r in rows)
    failed = sum(r[2] == "failed" for r in rows)
    print(f"\n{held} held, {failed} failed, {len(rows) - held - failed} skipped "
          f"of {len(rows)} cases in {time.monotonic() - t0:.0f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        traceback.print_exc()
        sys.exit(130)
