"""Speed of the live monitor (skelutils.stream) on this machine, at the paper's model sizes.

For each recogniser (``models.build_model(name)`` with its default parameters, T = 64 frames,
batch 1, random weights: speed does not depend on them) and each precision, the script streams
a simulated clip through :class:`skelutils.stream.OnlineRecogniser` with a 96-frame window and
prints the per-window latency (preparation + forward, p50 / p95), the frames per second the
model sustains at stride 1, the stride needed for real time (p95 within stride x 33.3 ms), the
delay that stride costs, how many 30 fps streams the machine watches at once (at the stride,
with all cores), and how far the lower-precision probabilities stray from fp32. The RRN also runs
with its frame features kept between windows (``--reuse``: the precisions at which to try it;
its last column then compares whole clips, which do not reuse, so it is the precision's alone).

    python benchmarks/bench_stream.py [--threads 2] [--frames 64] [--windows 40]

Figures are measured in one run and printed; nothing is asserted.
"""
from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
import torch

from skelutils import models, ntu, simulate, stream


def clip_frames(n_clips: int = 3) -> list[stream.Frame]:
    frames = []
    for i, action in enumerate((50, 58, 52)[:n_clips]):
        skel = simulate.simulate_sample(action, 18, 1, 1 + i, 1, seed=0)
        frames += stream.frames_of_skeleton(skel)
    return frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--frames", type=int, default=64, help="T of the model input (the paper's 64)")
    ap.add_argument("--windows", type=int, default=40, help="windows timed per setting")
    ap.add_argument("--models", nargs="*", default=list(models.MODEL_NAMES))
    ap.add_argument("--precisions", nargs="*", default=list(stream.PRECISIONS))
    ap.add_argument("--reuse", nargs="*", default=["fp32", "mixed"],
                    help="precisions at which the RRN also runs with kept frame features (StreamConfig.reuse)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cores = os.cpu_count() or 1
    frames = clip_frames()
    prep = stream.Preparation(frames=a.frames)
    xs = np.stack([stream.prepare_window(frames[k - 96:k], prep) for k in range(96, len(frames), 11)])
    t0 = time.perf_counter()
    for k in range(96, 96 + a.windows):
        stream.prepare_window(frames[k - 96:k], prep)
    prep_ms = 1000 * (time.perf_counter() - t0) / a.windows
    print(f"torch {torch.__version__}, {a.threads} threads of {cores} cores; window 96 frames -> T={a.frames}; "
          f"preparation alone {prep_ms:.2f} ms per window")
    print(f"{'model':<11} {'precision':<12} {'p50 ms':>7} {'p95 ms':>7} {'fps':>6} {'stride':>6} "
          f"{'delay ms':>8} {'streams':>7} {'max |dp|':>8}")
    for name in a.models:
        base = models.build_model(name, seed=0).eval()
        ref = stream.clip_probabilities(base, xs)
        variants = [(p, False) for p in a.precisions] + [(p, True) for p in a.reuse if name == "rrn_lstm"]
        for precision, reuse in variants:
            try:
                run = stream.optimise_model(base, precision)
                low = stream.clip_probabilities(run, xs)
            except (RuntimeError, NotImplementedError) as e:          # a kernel this CPU lacks
                print(f"{name:<11} {precision:<12} not available here: {str(e)[:60]}")
                continue
            cfg = stream.StreamConfig(window=96, min_frames=96, stride=1, precision=precision, reuse=reuse)
            rec = stream.OnlineRecogniser(run, ntu.CLASS_NAMES, prep, cfg)
            for f in frames[:96 + 3]:              # warm-up windows
                rec.push(f)
            rec.latencies_ms.clear()
            for f in frames[96 + 3:96 + 3 + a.windows]:
                rec.push(f)
            lat = stream.latency_summary(rec.latencies_ms)
            stride = max(1, math.ceil(lat["p95_ms"] / stream.FRAME_BUDGET_MS))
            delay = (stride - 1) * stream.FRAME_BUDGET_MS
            # streams at that stride: the per-window work fits stride x 33 ms; the threads of one
            # stream use `threads` cores, so cores / threads streams run side by side
            streams = int((stride * stream.FRAME_BUDGET_MS) // lat["mean_ms"]) * max(1, cores // a.threads)
            label = precision + ("+reuse" if reuse else "")
            print(f"{name:<11} {label:<12} {lat['p50_ms']:7.1f} {lat['p95_ms']:7.1f} {1000 / lat['mean_ms']:6.1f} "
                  f"{stride:6d} {delay:8.0f} {streams:7d} {float(np.abs(low - ref).max()):8.4f}")


if __name__ == "__main__":
    main()
