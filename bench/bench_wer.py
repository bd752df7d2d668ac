"""Word error rate of the offline server's speech to text, per voice, clean and with noise.

    .venv/bin/python bench/bench_wer.py                 # every option set (~10-20 min, 2 cores)
    .venv/bin/python bench/bench_wer.py --sets greedy,default
    .venv/bin/python bench/bench_wer.py --snr-db 5 --seed 7

Figures, not a test. Every shared clip whose text is known (``speech/utterances.json`` and
``turns/turns.json``; ``silence_3s``/``noise_3s`` are counted separately: words heard there are
insertions) is decoded with each option set in the same run, in the same order:

- ``clean``: the clip as it is (the shared ``*_noise10db`` piper files are left out here);
- ``noise``: the clean clip plus pink noise at ``--snr-db`` over the clip's RMS (fixed
  ``--seed``, the same noise for every option set).

Option sets (``realtime.local.stt``): ``greedy`` is the decode before #11 (``GREEDY_OPTIONS``);
``greedy+prompt`` adds the conversation/camera prompt; ``beam`` is beam 5 with temperature
fallback and the no-speech gate, without prompt; ``beam+prompt`` adds the prompt; ``default``
is ``DEFAULT_OPTIONS`` as the server uses them (all that, plus ``compact_pauses``: pauses
inside the speech shortened before decoding, and no decode without voice); ``default-prompt``
and ``default+beam`` are the default without the prompt and with beam 5.

The prompt is built by ``stt_context.whisper_prompt`` as in the server: the camera shows the
shared desk scene (OCR "EXIT", QR "VOICECAM-TEST-42", from ``video/truth.json``) and the
conversation so far is what was heard (this option set's transcript) of the previous clip of the
same voice, so the prompt never holds the clip's own reference text.

WER normalisation: lower case, punctuation dropped, number words as digits, British spellings
and "ok" unified (Whisper writes "color" and "12"; the scripts say "colour" and "twelve").
Printed per option set: WER per voice and condition, over both voices, the shared noisy files,
words inserted on silence/noise, and the decode time per utterance p50/p95 (same process).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dsp.pcm import read_wav  # noqa: E402
from realtime.local.conversation import Item, Part  # noqa: E402
from realtime.local.models import Models, load_whisper  # noqa: E402
from realtime.local.stt import (  # noqa: E402
    DEFAULT_OPTIONS,
    GREEDY_OPTIONS,
    DecodeOptions,
    transcribe,
)
from realtime.local.stt_context import whisper_prompt  # noqa: E402
from realtime.local.vision import SceneFacts  # noqa: E402

MEDIA = (ROOT.parent / "shared" / "media").resolve()
if not MEDIA.is_dir():
    MEDIA = Path("/work/shared/media")

SETS: dict[str, DecodeOptions] = {
    "greedy": GREEDY_OPTIONS,
    "greedy+prompt": DecodeOptions(use_prompt=True),
    "beam": DecodeOptions(
        beam_size=DEFAULT_OPTIONS.beam_size,
        temperatures=DEFAULT_OPTIONS.temperatures,
        compression_ratio_threshold=DEFAULT_OPTIONS.compression_ratio_threshold,
        log_prob_threshold=DEFAULT_OPTIONS.log_prob_threshold,
        no_speech_threshold=DEFAULT_OPTIONS.no_speech_threshold,
    ),
    "beam+prompt": DecodeOptions(
        beam_size=DEFAULT_OPTIONS.beam_size,
        temperatures=DEFAULT_OPTIONS.temperatures,
        compression_ratio_threshold=DEFAULT_OPTIONS.compression_ratio_threshold,
        log_prob_threshold=DEFAULT_OPTIONS.log_prob_threshold,
        no_speech_threshold=DEFAULT_OPTIONS.no_speech_threshold,
        use_prompt=True,
    ),
    "default": DEFAULT_OPTIONS,
    "default-prompt": dataclasses.replace(DEFAULT_OPTIONS, use_prompt=False),
    "default+beam": dataclasses.replace(DEFAULT_OPTIONS, beam_size=5),
}

_UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
_UNITS += "fifteen sixteen seventeen eighteen nineteen"
_NUMBERS = {w: str(i) for i, w in enumerate(_UNITS.split(" "))}
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety"
for _i, _w in enumerate(_TENS.split(" ")):
    _NUMBERS[_w] = str(20 + 10 * _i)
_SPELLING = {"colour": "color", "colours": "colors", "grey": "gray", "ok": "okay"}


def words(text: str) -> list[str]:
    """Normalised words (see module docstring)."""
    out: list[str] = []
    for w in re.findall(r"[a-z0-9']+", text.lower().replace("-", " ")):
        out.append(_NUMBERS.get(w, _SPELLING.get(w, w)))
    return out


def word_errors(ref: str, hyp: str) -> tuple[int, int]:
    """(word edit distance, reference words)."""
    r, h = words(ref), words(hyp)
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(h)], len(r)


@dataclass(frozen=True)
class Clip:
    name: str
    text: str
    voice: str
    pcm: bytes
    shared_noise: bool = False


def load_clips() -> list[Clip]:
    clips: list[Clip] = []
    for folder, index in (("speech", "utterances.json"), ("turns", "turns.json")):
        for e in json.loads((MEDIA / folder / index).read_text()):
            pcm, rate = read_wav(MEDIA / folder / e["file"])
            assert rate == 16000, e["file"]
            voice = e.get("voice", "none")
            clips.append(Clip(e["file"], e["text"], voice, pcm, "noise" in e and voice != "none"))
    return clips


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Pink (1/f) noise, unit RMS, by shaping white noise in the frequency domain."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n)
    f[0] = f[1]
    noise: np.ndarray = np.fft.irfft(spec / np.sqrt(f), n)
    scaled: np.ndarray = noise / np.sqrt(np.mean(noise**2))
    return scaled


def add_noise(pcm: bytes, snr_db: float, rng: np.random.Generator) -> bytes:
    audio = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    voiced = audio[np.abs(audio) > 0.02 * np.max(np.abs(audio))]
    rms = np.sqrt(np.mean(voiced**2)) if voiced.size else 1000.0
    noisy = audio + pink_noise(audio.size, rng) * rms / 10 ** (snr_db / 20)
    return np.clip(noisy, -32768, 32767).astype("<i2").tobytes()


def _scene_item() -> Item:
    truth = json.loads((MEDIA / "video" / "truth.json").read_text())["desk.png"]
    loop = asyncio.new_event_loop()
    fut: asyncio.Future[SceneFacts] = loop.create_future()
    fut.set_result(SceneFacts(1280, 720, texts=(truth["sign_text"],), qr_codes=(truth["qr_text"],)))
    loop.close()
    return Item(id="img", role="user", parts=[Part(type="input_image")], scene_task=fut)


def _pct(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    return statistics.median(xs), xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


def run_set(
    models: Models, options: DecodeOptions, cases: list[tuple[str, Clip, bytes]], verbose: bool
) -> dict[str, tuple[int, int]]:
    """Decode every case; returns {bucket: (errors, words)} and prints per-clip lines if asked."""
    scene = _scene_item()
    heard_before: dict[tuple[str, str], str] = {}
    totals: dict[str, tuple[int, int]] = {}
    times: list[float] = []
    for condition, clip, pcm in cases:
        key = (condition, clip.voice)
        items = [scene]
        if key in heard_before:
            items.append(
                Item(
                    id="prev",
                    role="user",
                    parts=[Part(type="input_audio", transcript=heard_before[key])],
                )
            )
        t0 = time.perf_counter()
        hyp = transcribe(models, pcm, options, prompt=whisper_prompt(items))
        times.append((time.perf_counter() - t0) * 1000)
        if clip.voice == "none":
            bucket = "inserted on silence/noise"
            e, n = len(words(hyp)), 0
        else:
            heard_before[key] = hyp
            bucket = "shared noisy" if clip.shared_noise else f"{clip.voice} {condition}"
            e, n = word_errors(clip.text, hyp)
        te, tn = totals.get(bucket, (0, 0))
        totals[bucket] = (te + e, tn + n)
        if verbose and e:
            print(f"    {condition:5} {clip.name:24} {e}/{n}  {hyp!r}")
    p50, p95 = _pct(times)
    totals["_time"] = (round(p50), round(p95))
    return totals


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated: " + ", ".join(SETS))
    ap.add_argument("--snr-db", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--verbose", action="store_true", help="print every clip with errors")
    args = ap.parse_args()
    names = [s for s in args.sets.split(",") if s]
    unknown = [s for s in names if s not in SETS]
    if unknown:
        ap.error(f"unknown option set(s): {', '.join(unknown)}")

    models = Models(whisper=load_whisper(), piper=None, ocr=lambda image: [], llm=None)
    clips = load_clips()
    rng = np.random.default_rng(args.seed)
    cases: list[tuple[str, Clip, bytes]] = []
    for clip in clips:
        if not clip.shared_noise:
            cases.append(("clean", clip, clip.pcm))
        else:
            cases.append(("noise", clip, clip.pcm))  # counted as "shared noisy"
    for clip in clips:
        if not clip.shared_noise and clip.voice != "none":
            cases.append(("noise", clip, add_noise(clip.pcm, args.snr_db, rng)))
    transcribe(models, clips[0].pcm, GREEDY_OPTIONS)  # warm-up
    noise = f"pink {args.snr_db:g} dB SNR, seed {args.seed}"
    print(f"{len(cases)} decodes per option set; noise: {noise}")
    results: dict[str, dict[str, tuple[int, int]]] = {}
    for name in names:
        print(f"  running {name} …", flush=True)
        results[name] = run_set(models, SETS[name], cases, args.verbose)

    cols = [
        "piper clean",
        "espeak clean",
        "both clean",
        "piper noise",
        "espeak noise",
        "both noise",
        "shared noisy",
    ]
    print()
    print("WER (errors/words); decode time per utterance; words heard on the silence/noise clips")
    print(f"{'option set':14}" + "".join(f"{c:>15}" for c in cols) + "   p50 ms  p95 ms  extra")
    for name, totals in results.items():
        for cond in ("clean", "noise"):
            e = sum(totals.get(f"{v} {cond}", (0, 0))[0] for v in ("piper", "espeak"))
            n = sum(totals.get(f"{v} {cond}", (0, 0))[1] for v in ("piper", "espeak"))
            totals[f"both {cond}"] = (e, n)
        cells = []
        for c in cols:
            e, n = totals.get(c, (0, 0))
            cells.append(f"{e / n:.1%} {e}/{n}" if n else "-")
        p50, p95 = totals["_time"]
        ins = totals.get("inserted on silence/noise", (0, 0))[0]
        print(f"{name:14}" + "".join(f"{c:>15}" for c in cells) + f"  {p50:7} {p95:7}  {ins:5}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
