"""Build realistic session files for tests and benches, through the real ``SessionRecorder``
and the real ``OpenAICore``: OpenAI GA server messages shaped like the golden streams, real
speech from the shared media as microphone and reply audio, real JPEG frames. Turns, latency and
usage are written the way the app writes them: the provider events and the player's reports go
through a real ``app.core.ConversationCore`` and its ``Record…`` effects into the recorder.

Timestamps are synthetic (no sleeping): the recorder's clock is pinned to ``T0`` so offsets are
exact and tests can compare them.
"""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from app.core import Backend, ConversationCore
from app.effects import Connecting, Ended, Input, PlayerReport, Record, Tick, TypeText
from app.modes import ConversationOptions
from app.pricing import CostMeter, PriceTable
from app.recording import perform_record
from realtime.events import AppendAudio, AppendImage, Event
from realtime.openai import OpenAICore
from realtime.recording.reader import resample
from realtime.recording.writer import SessionRecorder

REPO = Path(__file__).resolve().parents[3]
MEDIA = REPO.parent / "shared" / "media"
T0 = 10_000_000_000  # monotonic ns of the session start
MS = 1_000_000

QUESTIONS = [
    ("q01_piper.wav", "What color is the mug on my desk?"),
    ("q02_piper.wav", "How many fingers am I holding up?"),
    ("q03_piper.wav", "Can you read the text on this sign?"),
]
REPLIES = ["q04_espeak.wav", "q05_espeak.wav", "q06_espeak.wav"]


def read_wav16(name: str) -> np.ndarray:
    from dsp.pcm import read_wav

    pcm, rate = read_wav(MEDIA / "speech" / name)
    x = np.frombuffer(pcm, dtype="<i2").astype(np.int16)
    return resample(x, rate, 16000)


def jpeg_frames(n: int, max_side: int = 320) -> list[bytes]:
    img = cv2.imread(str(MEDIA / "video" / "desk.png"))
    h, w = img.shape[:2]
    scale = max_side / max(h, w)
    img = cv2.resize(img, (int(w * scale) // 2 * 2, int(h * scale) // 2 * 2))
    out = []
    for i in range(n):
        shifted = np.roll(img, i * 7, axis=1)
        ok, buf = cv2.imencode(".jpg", shifted, [cv2.IMWRITE_JPEG_QUALITY, 80])
        assert ok
        out.append(buf.tobytes())
    return out


@dataclass
class SynthResult:
    path: Path
    #: (role, text) in speaking order
    turns: list[tuple[str, str]] = field(default_factory=list)
    #: events the core produced while recording (for replay comparison)
    events: list[tuple[float, Event]] = field(default_factory=list)
    duration_ms: float = 0.0
    #: offsets (ms) at which each assistant item started playing
    play_start_ms: dict[str, float] = field(default_factory=dict)
    mic_ms: float = 0.0


def _oa(type_: str, **fields: object) -> str:
    return json.dumps({"type": type_, **fields}, separators=(",", ":"))


class CoreFeed:
    """The conversation core as the synthetic session's front end: ``feed`` an input at a time;
    its recording effects go into the recorder (everything else has no device to act on)."""

    def __init__(self, rec: SessionRecorder, backend: str, model: str) -> None:
        spec = Backend(name=backend, provider="openai", model=model, input_rate_hz=24000)
        cost = CostMeter(PriceTable.load(), model)
        self.core = ConversationCore(spec, ConversationOptions(), cost, has_player=True)
        self.rec = rec
        self.player = PlayerReport(playing=False)

    def feed(self, item: Input, t_ns: int) -> None:
        for effect in [*self.core.handle(self.player, t_ns), *self.core.handle(item, t_ns)]:
            if isinstance(effect, Record):
                perform_record(self.rec, effect)


def write_session(
    path: Path,
    *,
    turns: int = 2,
    secrets: tuple[str, ...] = (),
    leak: str | None = None,
    max_question_ms: int | None = None,
    max_reply_ms: int | None = None,
    frames: bool = True,
    model: str = "gpt-realtime",
    backend: str = "openai",
    raw_mic: bool = False,
    frame_side: int = 320,
) -> SynthResult:
    """Record a synthetic ``turns``-turn conversation into ``path``.

    ``leak``: a secret to smuggle into places a careless client might put it (an error message
    from the server, an outgoing message, metadata, a typed text) — scrubbing must remove it.
    """
    clock_now = [T0]
    rec = SessionRecorder(
        path,
        metadata={
            "backend": backend,
            "model": model,
            "voice": "marin",
            "mic_rate_hz": 16000,
            "input_rate_hz": 24000,
            "output_rate_hz": 24000,
        },
        secrets=secrets,
        clock=lambda: clock_now[0],
    )
    ids = (f"evt_{i}" for i in itertools.count())
    core = OpenAICore(id_factory=lambda: next(ids))
    from realtime.events import SessionConfig

    core.start(SessionConfig(model=model, voice="marin"))
    front = CoreFeed(rec, backend, model)
    front.feed(Connecting(), T0)
    audible: dict[str, int] = {}
    result = SynthResult(path)
    jpegs = jpeg_frames(4, frame_side) if frames else []

    def out(t: int) -> None:
        for m in core.messages():
            rec.on_wire("out", m, t)

    def inp(t: int, msg: str) -> None:
        rec.on_wire("in", msg, t)
        core.receive(msg)
        for e in core.events():
            result.events.append(((t - T0) / 1e6, e))
            front.feed(e, t)

    out(T0)
    sess = {"type": "realtime", "id": "sess_1", "model": model}
    inp(T0 + 30 * MS, _oa("session.created", event_id="s1", session=sess))
    if leak:
        rec.set_metadata(note=f"Authorization: Bearer {leak}")
        rec.on_wire("out", json.dumps({"type": "x", "api_key": leak}), T0 + 31 * MS)
        inp(
            T0 + 32 * MS,
            _oa(
                "error",
                event_id="s2",
                error={
                    "type": "invalid_request_error",
                    "code": "bad",
                    "message": f"bad key {leak}",
                },
            ),
        )
        front.feed(TypeText(f"my key is {leak}"), T0 + 33 * MS)
    t = T0 + 100 * MS
    for n in range(turns):
        qfile, qtext = QUESTIONS[n % len(QUESTIONS)]
        q = read_wav16(qfile)
        if max_question_ms:
            q = q[: max_question_ms * 16]
        reply = read_wav16(REPLIES[n % len(REPLIES)])
        reply24 = resample(reply, 16000, 24000)
        if max_reply_ms:
            reply24 = reply24[: max_reply_ms * 24]
        turn_start = t
        # microphone: 20 ms chunks of the question, then silence while the reply plays
        mic = np.concatenate([q, np.zeros(16 * (len(reply24) // 24 + 600), np.int16)])
        if jpegs:
            rec.record_frame(jpegs[n % len(jpegs)], turn_start, True, "speech_start")
            core.send(AppendImage(jpegs[n % len(jpegs)]))
            out(turn_start)
        chunk = 320
        q_ms = len(q) / 16
        speech_end = turn_start + int(q_ms * MS)
        events_at = {
            turn_start + 200 * MS: [
                _oa(
                    "input_audio_buffer.speech_started",
                    event_id="e",
                    audio_start_ms=200,
                    item_id=f"item_U{n}",
                )
            ],
            speech_end: [
                _oa(
                    "input_audio_buffer.speech_stopped",
                    event_id="e",
                    audio_end_ms=int(q_ms),
                    item_id=f"item_U{n}",
                ),
                _oa(
                    "input_audio_buffer.committed",
                    event_id="e",
                    previous_item_id=None,
                    item_id=f"item_U{n}",
                ),
            ],
        }
        first_audio = speech_end + 300 * MS
        a_id = f"item_A{n}"
        r_id = f"resp_R{n}"
        transcript = f"Answer number {n + 1}." if qtext else ""
        msgs = [
            (
                first_audio - 20 * MS,
                _oa(
                    "response.created", event_id="e", response={"id": r_id, "status": "in_progress"}
                ),
            ),
            (
                first_audio - 10 * MS,
                _oa(
                    "conversation.item.input_audio_transcription.completed",
                    event_id="e",
                    item_id=f"item_U{n}",
                    content_index=0,
                    transcript=qtext,
                ),
            ),
        ]
        step = 2400  # 100 ms at 24 kHz, sent 2x faster than real time
        for k, off in enumerate(range(0, len(reply24), step)):
            piece = reply24[off : off + step].tobytes()
            msgs.append(
                (
                    first_audio + k * 50 * MS,
                    _oa(
                        "response.output_audio.delta",
                        event_id="e",
                        response_id=r_id,
                        item_id=a_id,
                        output_index=0,
                        content_index=0,
                        delta=base64.b64encode(piece).decode(),
                    ),
                )
            )
            if k == 0 and transcript:
                msgs.append(
                    (
                        first_audio + 1,
                        _oa(
                            "response.output_audio_transcript.delta",
                            event_id="e",
                            response_id=r_id,
                            item_id=a_id,
                            output_index=0,
                            content_index=0,
                            delta=transcript,
                        ),
                    )
                )
        t_done = first_audio + (len(reply24) // step + 1) * 50 * MS
        msgs += [
            (
                t_done,
                _oa(
                    "response.output_audio.done",
                    event_id="e",
                    response_id=r_id,
                    item_id=a_id,
                    output_index=0,
                    content_index=0,
                ),
            ),
            (
                t_done + 1,
                _oa(
                    "response.output_audio_transcript.done",
                    event_id="e",
                    response_id=r_id,
                    item_id=a_id,
                    output_index=0,
                    content_index=0,
                    transcript=transcript,
                ),
            ),
            (
                t_done + 2,
                _oa(
                    "response.done",
                    event_id="e",
                    response={
                        "id": r_id,
                        "status": "completed",
                        "output": [],
                        "usage": {
                            "total_tokens": 300,
                            "input_tokens": 200,
                            "output_tokens": 100,
                            "input_token_details": {
                                "text_tokens": 20,
                                "audio_tokens": 180,
                                "image_tokens": 0,
                                "cached_tokens": 0,
                            },
                            "output_token_details": {"text_tokens": 10, "audio_tokens": 90},
                        },
                    },
                ),
            ),
        ]
        for when, m in msgs:
            events_at.setdefault(when, []).append(m)
        # playback: 20 ms chunks in real time from first audio + 60 ms
        play_t0 = first_audio + 60 * MS
        result.play_start_ms[a_id] = (play_t0 - T0) / 1e6
        play = [
            (play_t0 + (off // 24) * MS, reply24[off : off + 480].tobytes(), off // 24)
            for off in range(0, len(reply24), 480)
        ]
        play_end = play_t0 + (len(reply24) // 24) * MS
        mic_items = [
            (turn_start + (off // 16) * MS, mic[off : off + chunk].tobytes())
            for off in range(0, len(mic), chunk)
        ]
        timeline: list[tuple[int, int, object]] = []
        timeline += [(w, 0, ("mic", p)) for w, p in mic_items]
        timeline += [(w, 1, ("play", p, pos)) for w, p, pos in play]
        timeline += [(w, 2, ("in", m)) for w, ms in events_at.items() for m in ms]
        if jpegs:
            timeline += [
                (turn_start + k * 1000 * MS, 3, ("preview", jpegs[k % len(jpegs)]))
                for k in range(1, int(len(mic) / 16 / 1000))
            ]
        timeline.sort(key=lambda x: (x[0], x[1]))
        for when, _, what in timeline:
            clock_now[0] = when
            kind = what[0]  # type: ignore[index]
            if kind == "mic":
                pcm = what[1]  # type: ignore[index]
                rec.record_mic(pcm, 16000, when)
                if raw_mic:
                    rec.record_mic(pcm, 16000, when, raw=True)
                core.send(
                    AppendAudio(
                        resample(np.frombuffer(pcm, np.int16), 16000, 24000).tobytes(), 24000
                    )
                )
                out(when)
            elif kind == "play":
                rec.record_playback(a_id, what[1], 24000, what[2], when)  # type: ignore[index]
            elif kind == "in":
                inp(when, what[1])  # type: ignore[index]
            else:
                rec.record_frame(what[1], when, False, "preview")  # type: ignore[index]
            # the player's report and the front end's tick, as the engine thread sends them
            if play_t0 <= when:
                audible[a_id] = play_t0
            front.player = PlayerReport(play_t0 <= when < play_end, dict(audible))
            front.feed(Tick(), when)
        if qtext:
            result.turns.append(("user", qtext))
        if transcript:
            result.turns.append(("assistant", transcript))
        t = turn_start + int(len(mic) / 16 * MS)
    front.feed(Ended(), t)
    rec.record_mark("session_end", "", t)
    clock_now[0] = t
    result.mic_ms = (t - T0 - 100 * MS) / 1e6
    result.duration_ms = (t - T0) / 1e6
    status = rec.close()
    assert status.state == "closed", status
    return result
