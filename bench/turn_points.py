"""The (Smart Turn P, words' P) pairs at every semantic_vad checkpoint of the shared turn clips.

    .venv/bin/python bench/turn_points.py [--kinds paused,complete] [--eagerness auto]

The data ``dsp.end_of_turn``'s thresholds are chosen from. In-process and deterministic (turn
detection runs on audio time): each clip is fed to the server's ``InputBuffer`` in 20 ms appends
at 24 kHz, as the SDK tests send it, followed by 3 s of silence. At each checkpoint it prints
what the server's ``TurnJudge`` computes there: Smart Turn's P (mean over three end points),
the transcript (the semantic_vad speculation: ``JUDGE_OPTIONS``, no prefix, on the audio as the
silence began) and its P(finished) from SmolLM2, always, even where the server would skip the
transcript. Every checkpoint is answered "wait" so that both checkpoints of every silence are
measured; each line says where the silence is (``pause``: inside a paused clip's hesitation,
must not end the turn; ``end``: after the question; ``mid``: elsewhere) and what the current
policy would decide there.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dsp.end_of_turn import EndOfTurn, TextCue, policy_for  # noqa: E402
from dsp.pcm import read_wav  # noqa: E402
from dsp.resample import resample  # noqa: E402
from realtime.local.models import Models, load_all  # noqa: E402
from realtime.local.stt import transcribe  # noqa: E402
from realtime.local.stt_context import whisper_prompt  # noqa: E402
from realtime.local.text_turn import TextTurnScorer  # noqa: E402
from realtime.local.turn_judge import JUDGE_OPTIONS, TurnJudge  # noqa: E402
from realtime.local.turns import InputBuffer, JudgeTurn, ServerVadParams, SilenceBegan  # noqa: E402

TURNS = REPO.parent / "shared" / "media" / "turns"
STEP_BYTES_24K = 48 * 20


def where(entry: dict[str, Any], voice_end_ms: int) -> str:
    if entry["kind"] == "paused" and voice_end_ms < entry["pause_end_ms"] - 100:
        return "pause"
    return "end" if abs(voice_end_ms - entry["speech_end_ms"]) < 300 else "mid"


def points(models: Models, entry: dict[str, Any], eagerness: str) -> list[dict[str, Any]]:
    """Every checkpoint of one clip (see the module docstring)."""
    executor = concurrent.futures.ThreadPoolExecutor(1)
    judge, scorer = TurnJudge(models, executor), TextTurnScorer(models)
    pcm16, rate = read_wav(TURNS / entry["file"])
    assert rate == 16000
    pcm = resample(pcm16 + bytes(rate * 2 * 3), 16000, 24000)
    ids = itertools.count()
    params = ServerVadParams(eagerness=eagerness, silence_duration_ms=1300)
    buf = InputBuffer(lambda: f"item{next(ids)}", params, ask_caller=True)
    policy = policy_for(eagerness)
    spec = b""
    out: list[dict[str, Any]] = []
    checks = 0
    for i in range(0, len(pcm), STEP_BYTES_24K):
        pending = buf.append(pcm[i : i + STEP_BYTES_24K])
        while pending:
            ev, pending = pending[0], pending[1:]
            if isinstance(ev, SilenceBegan):
                spec, checks = ev.pcm16_16k, 0
            if not isinstance(ev, JudgeTurn):
                continue
            acoustic = judge._acoustic_mean(ev.pcm16_16k)
            text = transcribe(models, spec, JUDGE_OPTIONS, prompt=whisper_prompt([]))
            p = scorer.complete_p([], text) if text.strip() else None
            voice_end_ms = (ev.start_sample + len(ev.pcm16_16k) // 2) // 16 - ev.silence_ms
            # What the policy would say at this checkpoint (first or re-check of the silence).
            eot = EndOfTurn(policy)
            for n in range(checks + 1):  # the earlier checks of this silence said "wait"
                at = policy.checkpoint_ms + n * policy.recheck_ms
                eot.silence(at)
                if n < checks:
                    eot.judged(at, 0.0, None)
                else:
                    decision = eot.judged(at, acoustic, TextCue.of(text, p))
            checks += 1
            out.append(
                {
                    "file": entry["file"],
                    "where": where(entry, voice_end_ms),
                    "voice_end_ms": voice_end_ms,
                    "silence_ms": ev.silence_ms,
                    "acoustic": round(acoustic, 3),
                    "text_p": None if p is None else round(p, 4),
                    "transcript": text,
                    "decision": decision.reason.name,
                }
            )
            pending = [*buf.judged(ev.ask_id, 0.0, None), *pending]
    executor.shutdown()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kinds", default="paused,complete")
    ap.add_argument("--eagerness", default="auto")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    args = ap.parse_args()
    kinds = args.kinds.split(",")
    entries = [e for e in json.loads((TURNS / "turns.json").read_text()) if e["kind"] in kinds]
    models = load_all(lambda what: print(f"loading {what}", file=sys.stderr))
    for entry in entries:
        for pt in points(models, entry, args.eagerness):
            if args.json:
                print(json.dumps(pt), flush=True)
                continue
            p = "-" if pt["text_p"] is None else f"{pt['text_p']:.4f}"
            print(
                f"{pt['file']:<22} {pt['where']:<5} {pt['voice_end_ms']:>5} ms"
                f" +{pt['silence_ms']:>3}  P {pt['acoustic']:.3f}  words {p:>6}"
                f"  {pt['decision']:<19} {pt['transcript']!r}",
                flush=True,
            )


if __name__ == "__main__":
    main()
