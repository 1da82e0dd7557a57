"""Speed of the three recognisers: training throughput, share of matmul peak, clip latency.

For each model at its paper-default size (``skelutils.models.build_model(name)``) and
float32 input ``(16, 2, 64, 25, 3)``:

* **training throughput**: samples per second of full training steps (forward,
  cross-entropy, backward, Adam step), batch 16, T=64, after warm-up;
* **share of matmul peak**: FLOPs of one forward+backward step, counted with
  ``torch.utils.flop_counter.FlopCounterMode`` (on the CPU, where ``nn.LSTM`` is
  decomposed into counted matrix products), times steps per second, divided by the
  throughput of a large float32 matrix multiply measured in the same run on the same
  device and thread count;
* **inference latency**: one clip (batch 1, 64 frames) in eval mode under
  ``torch.inference_mode``; p50 and p95 over ``--runs`` calls after warm-up.

Targets printed as PASS/MISS (measured, not asserted in tests): on 2 CPU cores
``cnn3d_lstm`` answers one clip in under 33 ms (30 clips per second) and its training
step reaches at least 30 % of the measured matmul throughput.

Usage::

    python benchmarks/bench_models.py                         # all models, CPU, current threads
    python benchmarks/bench_models.py --models cnn3d_lstm --threads 2 --json out.json
    python benchmarks/bench_models.py --device cuda
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from skelutils.models import build_model

MODELS = ("cnn3d_lstm", "li2017_cnn", "rrn_lstm")
LATENCY_TARGET_MS = 33.0
PEAK_SHARE_TARGET = 0.30


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak(device: torch.device, sizes: tuple[int, ...] | None = None, seconds: float = 2.0) -> float:
    """Best float32 FLOP/s of ``n x n @ n x n`` products over several sizes (1024, 2048 and 4096
    on CPU, 8192 on CUDA), ``seconds`` per size: one size alone can miss the library's best
    kernel, which would make the training step's share look larger than it is."""
    sizes = sizes or ((8192,) if device.type == "cuda" else (1024, 2048, 4096))
    best = 0.0
    for n in sizes:
        a = torch.randn(n, n, device=device)
        b = torch.randn(n, n, device=device)
        for _ in range(2):
            a @ b
        _sync(device)
        t_end = time.perf_counter() + seconds
        while time.perf_counter() < t_end:
            t0 = time.perf_counter()
            a @ b
            _sync(device)
            best = max(best, 2.0 * n ** 3 / (time.perf_counter() - t0))
    return best


def step_flops(name: str, batch: int, frames: int) -> int:
    """FLOPs of one forward+backward step of ``name`` on the CPU (batch ``batch``, ``frames`` frames)."""
    model = build_model(name, seed=0)
    x = torch.randn(batch, 2, frames, 25, 3)
    y = torch.randint(0, 7, (batch,))
    counter = FlopCounterMode(display=False)
    with counter:
        F.cross_entropy(model(x), y).backward()
    return int(counter.get_total_flops())


def train_throughput(name: str, device: torch.device, batch: int, frames: int, seconds: float) -> tuple[float, float]:
    """(samples per second, seconds per step) of Adam training steps after 3 warm-up steps."""
    model = build_model(name, seed=0).to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 2, frames, 25, 3, device=device)
    y = torch.randint(0, 7, (batch,), device=device)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(3):
        step()
    _sync(device)
    steps, t0 = 0, time.perf_counter()
    while True:
        step()
        steps += 1
        _sync(device)
        dt = time.perf_counter() - t0
        if dt >= seconds and steps >= 3:
            break
    return batch * steps / dt, dt / steps


def latency(name: str, device: torch.device, frames: int, runs: int, warmup: int = 10) -> tuple[float, float]:
    """(p50, p95) milliseconds of one clip (batch 1) in eval mode under ``torch.inference_mode``."""
    model = build_model(name, seed=0).to(device).eval()
    x = torch.randn(1, 2, frames, 25, 3, device=device)
    times = []
    with torch.inference_mode():
        for i in range(warmup + runs):
            t0 = time.perf_counter()
            model(x)
            _sync(device)
            if i >= warmup:
                times.append((time.perf_counter() - t0) * 1e3)
    q = statistics.quantiles(times, n=20, method="inclusive")
    return statistics.median(times), q[18]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's current setting)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--frames", type=int, default=64)
    p.add_argument("--runs", type=int, default=50, help="latency calls per model (default 50)")
    p.add_argument("--seconds", type=float, default=5.0, help="time spent measuring training steps per model")
    p.add_argument("--json", default=None, help="write the figures to this JSON file")
    a = p.parse_args(argv)

    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: torch sees no GPU")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    threads = torch.get_num_threads()
    dev_name = torch.cuda.get_device_name(device) if device.type == "cuda" else (platform.processor() or platform.machine())
    print(f"torch {torch.__version__}, device {device} ({dev_name}), {threads} threads, "
          f"batch {a.batch}, T={a.frames}")
    peak = matmul_peak(device)
    print(f"measured fp32 matmul peak: {peak / 1e9:.1f} GFLOP/s")

    rows = []
    for name in a.models:
        flops = step_flops(name, a.batch, a.frames)
        sps, sec_step = train_throughput(name, device, a.batch, a.frames, a.seconds)
        achieved = flops / sec_step
        p50, p95 = latency(name, device, a.frames, a.runs)
        row = {"model": name, "train_samples_per_s": sps, "step_seconds": sec_step, "step_gflop": flops / 1e9,
               "achieved_gflop_per_s": achieved / 1e9, "share_of_matmul_peak": achieved / peak,
               "latency_ms_p50": p50, "latency_ms_p95": p95}
        rows.append(row)
        print(f"{name:11s} train {sps:8.1f} samples/s ({sec_step * 1e3:7.1f} ms/step, {flops / 1e9:6.2f} GFLOP/step, "
              f"{achieved / 1e9:6.1f} GFLOP/s = {100 * achieved / peak:5.1f} % of matmul peak) | "
              f"latency p50 {p50:6.2f} ms, p95 {p95:6.2f} ms", flush=True)

    targets = []
    ours = next((r for r in rows if r["model"] == "cnn3d_lstm"), None)
    if ours is not None:
        targets = [
            {"target": f"cnn3d_lstm one clip under {LATENCY_TARGET_MS:.0f} ms (p50)",
             "value": ours["latency_ms_p50"], "pass": ours["latency_ms_p50"] < LATENCY_TARGET_MS},
            {"target": f"cnn3d_lstm training step at least {100 * PEAK_SHARE_TARGET:.0f} % of matmul peak",
             "value": ours["share_of_matmul_peak"], "pass": ours["share_of_matmul_peak"] >= PEAK_SHARE_TARGET},
        ]
        note = "" if (device.type == "cpu" and threads == 2) else \
            f" (targets are stated for 2 CPU cores; this run: {device.type}, {threads} threads)"
        print(f"\nsummary{note}:")
        for t in targets:
            v = f"{t['value']:.2f} ms" if "ms" in t["target"] else f"{100 * t['value']:.1f} %"
            print(f"  {'PASS' if t['pass'] else 'MISS'}  {t['target']}: measured {v}")
    if a.json:
        out = {"torch_version": torch.__version__, "device": str(device), "device_name": dev_name,
               "threads": threads, "batch": a.batch, "frames": a.frames, "matmul_peak_gflop_per_s": peak / 1e9,
               "models": rows, "targets": targets, "python": sys.version.split()[0], "cpu_count": os.cpu_count()}
        tmp = a.json + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(out, fh, indent=2)
        os.replace(tmp, a.json)
        print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
