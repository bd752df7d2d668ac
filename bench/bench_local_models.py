"""The window's local-model discovery: what the GUI thread pays, and how long until the list.

    .venv/bin/python bench/bench_local_models.py              # ~10 s, starts llama_cpp.server
    .venv/bin/python bench/bench_local_models.py --trials 50

Figures (p50/p95 in ms, no pass/fail):

- ``call``: ``app.local_models.discover_local_models(on_done, ports=…)`` returning to the caller
  (what the window's GUI thread waits at start-up). Baseline: starting and joining a no-op
  ``threading.Thread``, same run.
- ``list (nothing)``: until ``on_done`` when nothing listens on the probed ports.
- ``list (llama.cpp)``: until ``on_done`` with a REAL ``llama_cpp.server`` (SmolLM2) on one port
  and a closed port beside it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.local_models import LocalModel, discover_local_models  # noqa: E402
from tests.realtime.local.llm_server import free_port, start_llama_server  # noqa: E402


def _pct(xs: list[float]) -> str:
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]
    return f"p50 {statistics.median(xs):7.2f} ms   p95 {p95:7.2f} ms"


def _run(ports: list[tuple[int, str]], trials: int) -> tuple[list[float], list[float]]:
    calls: list[float] = []
    lists: list[float] = []
    for _ in range(trials):
        done = threading.Event()
        end: list[float] = []

        def on_done(
            _models: tuple[LocalModel, ...], end: list[float] = end, done: threading.Event = done
        ) -> None:
            end.append(time.perf_counter())
            done.set()

        t0 = time.perf_counter()
        discover_local_models(on_done, ports=ports, timeout_s=2.0)
        calls.append((time.perf_counter() - t0) * 1000)
        done.wait(30)
        lists.append((end[0] - t0) * 1000)
    return calls, lists


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=20)
    args = ap.parse_args()
    base: list[float] = []
    for _ in range(args.trials):
        t0 = time.perf_counter()
        th = threading.Thread(target=lambda: None)
        th.start()
        th.join()
        base.append((time.perf_counter() - t0) * 1000)
    closed = [(free_port(), "Ollama"), (free_port(), "vLLM")]
    calls, nothing = _run(closed, args.trials)
    server = start_llama_server()
    try:
        _calls2, found = _run([(free_port(), "Ollama"), (server.port, "llama.cpp")], args.trials)
    finally:
        server.proc.terminate()
        server.proc.wait(15)
    print(f"baseline thread start+join : {_pct(base)}")
    print(f"call (GUI thread)          : {_pct(calls + _calls2)}")
    print(f"list (nothing listening)   : {_pct(nothing)}")
    print(f"list (real llama.cpp)      : {_pct(found)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
