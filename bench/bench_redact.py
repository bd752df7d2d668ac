"""Face redaction: recall and CPU per 768 px frame on the synthetic face set.

    PYTHONPATH=$PWD python bench/bench_redact.py [--step 4] [--detect-width 320] [--profile]
        [--breakdown] [--clips [--desk]] [--no-change-gate]
        [--detector model|haar] [--model-width 416] [--model-threshold 0.1]
        [--model-region-threshold 0.05] [--model-stretch 0.08] [--model-interp area|halve|linear]
        [--model-threads 1] [--pad-x 0.3] [--pad-y 0.4]

The set (tests/fixtures/faces.py): the 100 LFW faces and the astronaut shipped with
scikit-image, pasted into 768×432 scene photos at 48–260 px wide, upright and tilted ±20°
(``--step N`` keeps every Nth face). Prints, per size × angle, the share of faces whose core
was blurred (recall); how many blurred faces a more eager detector still finds (must be 0:
"readable", listed by face, size and angle); and the CPU time (process time, one OpenCV
thread) of ``Redactor.apply`` p50/p95 against a baseline in the same process: JPEG-encoding the
same frame. ``--pad-x`` / ``--pad-y``: the blur margin (``RedactConfig.pad_x`` / ``pad_y``).

``--breakdown`` also prints where the time goes (shrink to grey, each cascade pass, blur).
Every frame of the set is a new scene, so the change gate (``video/redact_change.py``) searches
each one whole: these figures are the cost of a scene change. ``--clips`` measures camera-like
clips instead (``tests/video/redact_clips.py``: empty scene, face appears, moves, holds still;
1 frame/s with sensor noise; ``--desk``: faces walking into ``/work/shared/media``'s desk video at
2 frames/s): recall on every frame with a face, CPU p50/p95 over all frames and over the frames
where the face appears, and how often the gated redactor missed a face that a whole-frame search
of the same frame (``FaceDetector.detect``, no hold) blurs (must be 0).

``--detector`` picks the redactor's detector: ``model`` (the default: CenterFace,
:mod:`video.face_model`; fetch it first with ``python scripts/fetch_face_model.py``, the bench
stops if it is missing) or ``haar`` (the cascades, :mod:`video.face_haar`; ``--breakdown`` is
Haar-only). Both report the boxes a whole-frame search finds in the face-free frames
(``tests.video.redact_clips.face_free_frames``: scene photos, the desk video, scikit-image's
face-free samples): false positives.

Target (issue 15): ≤ 15 ms per frame, no face left readable.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.fixtures.faces import covered, face_frames
from video.encode import encode_frame
from video.redact import (
    Box,
    FaceDetector,
    FaceFinder,
    FaceModelConfig,
    RedactConfig,
    Redactor,
    blur_boxes,
    load_cascade,
    load_detector,
)

CASCADES: list[cv2.CascadeClassifier] = []


def eager_faces(image: np.ndarray, around: Box) -> list[Box]:
    """Faces an eager search (full resolution, scale step 1.05, two cascades) finds near
    ``around`` (the box grown by half its size each way), in frame pixels."""
    if not CASCADES:
        for name in ("haarcascade_frontalface_default.xml", "haarcascade_frontalface_alt2.xml"):
            CASCADES.append(load_cascade(name))
    h, w = image.shape[:2]
    area = around.padded(0.5, 0.5).clipped(w, h)
    assert area is not None
    gray = cv2.cvtColor(
        image[area.y : area.y + area.h, area.x : area.x + area.w], cv2.COLOR_BGR2GRAY
    )
    found: list[Box] = []
    for cascade in CASCADES:
        rects = cascade.detectMultiScale(gray, 1.05, 3, minSize=(20, 20))
        found += [Box(int(x) + area.x, int(y) + area.y, int(bw), int(bh)) for x, y, bw, bh in rects]
    return found


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1000.0, q))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--step", type=int, default=4)
    ap.add_argument("--detect-width", type=int, default=320)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument(
        "--tilts", type=float, nargs="*", default=[-20.0, 20.0], help="'--tilts' alone: none"
    )
    ap.add_argument("--cascade", default="haarcascade_frontalface_alt2.xml")
    ap.add_argument("--breakdown", action="store_true", help="time each stage too")
    ap.add_argument("--clips", action="store_true", help="camera-like clips (change gate)")
    ap.add_argument("--desk", action="store_true", help="with --clips: faces in the desk video")
    ap.add_argument("--no-change-gate", action="store_true", help="search every frame whole")
    ap.add_argument("--detector", choices=("model", "haar"), default="model")
    default = FaceModelConfig()
    ap.add_argument("--model-width", type=int, default=default.width, help="px fed to the model")
    ap.add_argument("--model-threshold", type=float, default=default.threshold)
    ap.add_argument("--model-region-threshold", type=float, default=None)
    ap.add_argument("--model-stretch", type=float, default=default.stretch)
    interps = ("area", "halve", "linear")
    ap.add_argument("--model-interp", choices=interps, default=default.interpolation)
    ap.add_argument("--model-threads", type=int, default=default.threads)
    base = RedactConfig()
    ap.add_argument("--pad-x", type=float, default=base.pad_x, help="blur box margin, of width")
    ap.add_argument("--pad-y", type=float, default=base.pad_y, help="blur box margin, of height")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    model = None
    if args.detector == "model":
        region = args.model_region_threshold
        model = FaceModelConfig(
            width=args.model_width,
            threshold=args.model_threshold,
            region_threshold=min(default.region_threshold, args.model_threshold)
            if region is None
            else region,
            stretch=args.model_stretch,
            interpolation=args.model_interp,
            threads=args.model_threads,
        )
    cfg = RedactConfig(
        cascade=args.cascade,
        detect_width=args.detect_width,
        profile=args.profile,
        tilts_deg=tuple(args.tilts),
        hold_s=0,
        pad_x=args.pad_x,
        pad_y=args.pad_y,
        model=model,
    )
    if args.no_change_gate:
        cfg = replace(cfg, change=None)
    whole = whole_detector(cfg)
    if args.clips:
        clips(cfg, whole, args.step, args.desk)
        return
    redactor = Redactor(cfg)
    frames = list(face_frames(step=args.step))
    hits: dict[tuple[int, float], list[bool]] = {}
    t_red: list[float] = []
    t_enc: list[float] = []
    readable: list[str] = []
    for f in frames:
        redactor.reset()  # every frame of the set is a new scene: a whole-frame search
        t0 = time.process_time()
        out = redactor.apply(f.image, 0)
        t1 = time.process_time()
        encode_frame(f.image)
        t2 = time.process_time()
        t_red.append(t1 - t0)
        t_enc.append(t2 - t1)
        ok = covered(f.face, out.faces)
        hits.setdefault((f.size_px, f.angle_deg), []).append(ok)
        if ok and any(b.overlap(f.face) > 0.3 for b in eager_faces(out.image, f.face)):
            readable.append(f"{f.face_id} {f.size_px} px {f.angle_deg:+.0f}°")
    print(f"faces: {len(frames)} frames 768x432, {describe(cfg)}")
    report(hits, len(readable), t_red, t_enc)
    if readable:
        print(f"still detectable: {', '.join(readable)}")
    print(f"false positives: {false_positives(whole.detect)}")
    if args.breakdown and model is None:
        breakdown(cfg, [f.image for f in frames])


def whole_detector(cfg: RedactConfig) -> FaceFinder:
    """The detector ``cfg`` asks for (whole-frame searches); exits if the model is missing."""
    detector, fallback = load_detector(replace(cfg, change=None))
    if fallback is not None:
        raise SystemExit(fallback)
    return detector


def describe(cfg: RedactConfig) -> str:
    m = cfg.model
    if m is None:
        return f"Haar, detect_width={cfg.detect_width}, profile={cfg.profile}"
    return (
        f"CenterFace, width={m.width}, threshold={m.threshold}/{m.region_threshold}, "
        f"stretch={m.stretch}, {m.interpolation}, threads={m.threads}, "
        f"pad={cfg.pad_x}/{cfg.pad_y}"
    )


def false_positives(detect: Callable[[np.ndarray], list[Box]]) -> str:
    """Boxes ``detect`` finds in the face-free frames (``face_free_frames``)."""
    from tests.video.redact_clips import face_free_frames

    images = [image for _, image in face_free_frames()]
    found = [len(detect(image)) for image in images]
    return f"{sum(found)} boxes in {sum(n > 0 for n in found)} of {len(images)} face-free frames"


def report(
    hits: dict[tuple[int, float], list[bool]], readable: int, t_red: list[float], t_enc: list[float]
) -> None:
    sizes = sorted({k[0] for k in hits})
    angles = sorted({k[1] for k in hits})
    print("recall (face core blurred)   " + "  ".join(f"{a:+5.0f}°" for a in angles))
    for s in sizes:
        row = "  ".join(f"{np.mean(hits[(s, a)]):6.2f}" for a in angles)
        print(f"  {s:4d} px                     {row}")
    total = np.mean([x for v in hits.values() for x in v])
    missed = sum(not x for v in hits.values() for x in v)
    print(
        f"recall overall {total:.3f}; missed (left readable) {missed}; "
        f"blurred but still detectable {readable}"
    )
    print(
        f"redact CPU ms p50 {pct(t_red, 50):.1f} p95 {pct(t_red, 95):.1f}  |  baseline "
        f"JPEG encode p50 {pct(t_enc, 50):.1f} p95 {pct(t_enc, 95):.1f}  |  ratio p50 "
        f"{pct(t_red, 50) / max(1e-6, pct(t_enc, 50)):.1f}x"
    )


def breakdown(cfg: RedactConfig, images: list[np.ndarray]) -> None:
    """CPU ms p50/p95 of each stage of a whole-frame search and of the blur."""
    passes = {"upright": replace(cfg, tilts_deg=(), profile=False)}
    for angle in cfg.tilts_deg:
        passes[f"tilt {angle:+.0f}°"] = replace(cfg, tilts_deg=(angle,), profile=False)
    stages: dict[str, list[float]] = {"shrink to grey": []}
    detectors = {name: FaceDetector(c) for name, c in passes.items()}
    for name in passes:
        stages[name] = []
    stages["blur faces"] = []
    upright = detectors["upright"]
    for image in images:
        t0 = time.process_time()
        gray = upright.shrink(image)
        stages["shrink to grey"].append(time.process_time() - t0)
        boxes: list[Box] = []
        for name, det in detectors.items():
            t0 = time.process_time()
            found = det.detect_gray(gray, image.shape[1])
            stages[name].append(time.process_time() - t0)
            if name == "upright":
                boxes = found
            elif det.config.tilts_deg:  # turned pass: count only the turned search
                stages[name][-1] -= stages["upright"][-1]
        t0 = time.process_time()
        blur_boxes(image, [b.padded(cfg.pad_x, cfg.pad_y) for b in boxes])
        stages["blur faces"].append(time.process_time() - t0)
    print("where the time goes (CPU ms p50 / p95 per frame):")
    for name, ts in stages.items():
        print(f"  {name:16s} {pct(ts, 50):6.1f} {pct(ts, 95):6.1f}")


def clips(cfg: RedactConfig, whole: FaceFinder, step: int, desk: bool) -> None:
    from tests.video.redact_clips import desk_clips, face_clips

    gated = Redactor(cfg)
    t_all: list[float] = []
    t_first: list[float] = []
    t_later: list[float] = []  # after each clip's first frame (a whole search after reset)
    shares: list[float] = []
    hits: dict[int, list[bool]] = {}
    worse = better = 0
    whole_hits: list[bool] = []
    n = 0
    source = desk_clips(step=max(1, step * 5 // 2)) if desk else face_clips(step=step)
    for clip in source:
        gated.reset()
        for i, f in enumerate(clip):
            t0 = time.process_time()
            out = gated.apply(f.image, f.t_ns)
            dt = time.process_time() - t0
            n += 1
            t_all.append(dt)
            if i > 0:
                t_later.append(dt)
            shares.append(out.searched)
            if f.face is None:
                continue
            if f.first:
                t_first.append(dt)
            ok = covered(f.face, out.faces)
            hits.setdefault(f.size_px, []).append(ok)
            blurred = [b.padded(cfg.pad_x, cfg.pad_y) for b in whole.detect(f.image)]
            whole_ok = covered(f.face, blurred)
            whole_hits.append(whole_ok)
            worse += whole_ok and not ok
            better += ok and not whole_ok
    kind = "desk.mp4 at 2 frames/s" if desk else "1 frame/s, noise σ 2"
    print(f"clips: {n} frames 768x432 ({kind}), {describe(cfg)}")
    print("recall per size (every frame with a face):")
    for s, v in sorted(hits.items()):
        print(f"  {s:4d} px  {np.mean(v):.2f}")
    total = np.mean([x for v in hits.values() for x in v])
    print(
        f"recall overall {total:.3f} (whole-frame search of the same frames "
        f"{np.mean(whole_hits):.3f}); faces only the whole-frame search blurred: {worse}, "
        f"only the gated one: {better}"
    )
    print(
        f"searched share of frame: mean {np.mean(shares):.2f}  |  redact CPU ms all frames "
        f"p50 {pct(t_all, 50):.1f} p95 {pct(t_all, 95):.1f}  |  frames where a face appears "
        f"p50 {pct(t_first, 50):.1f} p95 {pct(t_first, 95):.1f}"
    )
    print(
        f"after each clip's first frame (incl. the periodic whole search): p50 "
        f"{pct(t_later, 50):.1f} p95 {pct(t_later, 95):.1f}"
    )


if __name__ == "__main__":
    main()
