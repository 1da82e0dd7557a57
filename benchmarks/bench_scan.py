"""Time scanning an NTU-scale folder of the seven classes: ``scan_folder`` and the cache.

Writes about 6,600 realistic ``.skeleton`` files (the size of the seven-class subset of
NTU RGB+D 120: 60-150 frames, two random-walk bodies, one sample in ten with a short third
noise body, one in two hundred with no skeleton; 660 distinct files, the rest byte copies
under their own names) unless ``--dir`` points at an existing folder, then times
``scan_folder(workers=N)`` and a cache hit of ``load_or_scan``. Target: under 60 s for the
scan on 2 cores.

    .venv/bin/python benchmarks/bench_scan.py                  # generate in a temp dir, time, delete
    .venv/bin/python benchmarks/bench_scan.py --dir /data/nturgb+d_skeletons
    .venv/bin/python benchmarks/bench_scan.py --dir /tmp/bench --keep   # generate once, reuse later
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from skelutils.dataset import list_skeleton_files, load_or_scan, scan_folder
from skelutils.ntu import ACTION_IDS, NUM_JOINTS, Skeleton, write_skeleton

# A standing pose, metres, relative to SpineBase (x right, y up), Kinect v2 joint order.
_POSE = np.array([
    [0, 0, 0], [0, .30, 0], [0, .58, 0], [0, .72, 0], [-.18, .50, 0], [-.22, .25, 0], [-.24, .02, 0],
    [-.24, -.06, 0], [.18, .50, 0], [.22, .25, 0], [.24, .02, 0], [.24, -.06, 0], [-.09, -.02, 0],
    [-.10, -.45, 0], [-.10, -.85, 0], [-.10, -.90, .08], [.09, -.02, 0], [.10, -.45, 0], [.10, -.85, 0],
    [.10, -.90, .08], [0, .52, 0], [-.24, -.12, 0], [-.22, -.07, .03], [.24, -.12, 0], [.22, -.07, .03],
], np.float32)


def _body(rng: np.random.Generator, n: int, x0: float) -> np.ndarray:
    """A random-walk person: (n, 25, 3) metres, camera frame, about 3 m from the sensor."""
    root = np.array([x0, 0.1, 3.0], np.float32) + np.cumsum(rng.normal(0, 0.01, (n, 1, 3)), axis=0)
    wobble = np.cumsum(rng.normal(0, 0.008, (n, NUM_JOINTS, 3)), axis=0)
    return (_POSE[None] + root + wobble).astype(np.float32)


def make_sample(rng: np.random.Generator) -> Skeleton:
    """One realistic two-person sample (occasionally a short noise body or no skeleton)."""
    n = int(rng.integers(60, 151))
    r = rng.random()
    if r < 0.005:
        return Skeleton.empty_like(n, 0)
    noise = r < 0.1
    skel = Skeleton.empty_like(n, 3 if noise else 2)
    for b, x0 in enumerate((-0.5, 0.5)):
        skel.xyz[:, b] = _body(rng, n, x0)
        skel.present[:, b] = True
    if noise:
        s = int(rng.integers(0, n - 15))
        skel.xyz[s:s + 15, 2] = _body(rng, 15, 1.5)
        skel.present[s:s + 15, 2] = True
    b = skel.n_bodies
    xyz = skel.xyz
    skel.depth_xy[..., 0] = 256 + 365 * xyz[..., 0] / np.maximum(xyz[..., 2], 0.1)
    skel.depth_xy[..., 1] = 212 - 365 * xyz[..., 1] / np.maximum(xyz[..., 2], 0.1)
    skel.color_xy[..., 0] = 960 + 1060 * xyz[..., 0] / np.maximum(xyz[..., 2], 0.1)
    skel.color_xy[..., 1] = 540 - 1060 * xyz[..., 1] / np.maximum(xyz[..., 2], 0.1)
    q = rng.normal(size=(n, b, NUM_JOINTS, 4)).astype(np.float32)
    skel.orientation[:] = q / np.linalg.norm(q, axis=-1, keepdims=True)
    skel.body_info[..., 6:8] = rng.normal(0, 0.1, (n, b, 2))
    skel.body_info[..., 8] = 2
    skel.tracking[:] = np.where(rng.random((n, b, NUM_JOINTS)) < 0.05, 1, 2)
    skel.xyz[~skel.present] = 0
    return skel


def _names(n: int) -> list[str]:
    """``n`` distinct NTU 120 names of the seven classes (setups 1-32, cameras 1-3, replications 1-2)."""
    out = []
    i = 0
    while len(out) < n:
        action = ACTION_IDS[i % 7]
        k = i // 7
        setup = (k % 17) + 1 if action <= 60 else (k % 15) + 18
        if action <= 60 and (k // 17) % 2:
            setup = (k % 15) + 18          # A050-A052 exist in every setup
        cam, rep, perf = k % 3 + 1, (k // 3) % 2 + 1, (k // 6) % 106 + 1
        out.append(f"S{setup:03d}C{cam:03d}P{perf:03d}R{rep:03d}A{action:03d}")
        i += 1
    return sorted(set(out))[:n]


def _write_chunk(args) -> int:
    folder, names, seed = args
    rng = np.random.default_rng(seed)
    for name in names:
        write_skeleton(Path(folder) / f"{name}.skeleton", make_sample(rng))
    return len(names)


def generate(folder: Path, n: int, seed: int = 0, workers: int = 2, unique: int = 660) -> None:
    """Write ``n`` sample files into ``folder`` (deterministic for ``seed``).

    The first ``unique`` files are generated (writing full NTU text is slow in Python);
    the others are byte copies of them under their own names, which costs a reader
    exactly as much as fresh content.
    """
    names = _names(n)
    unique = max(1, min(unique, len(names)))
    first = names[:unique]
    chunks = [first[i:i + 50] for i in range(0, len(first), 50)]
    jobs = [(str(folder), c, [seed, i]) for i, c in enumerate(chunks)]
    with cf.ProcessPoolExecutor(max_workers=workers) as pool:
        done = sum(pool.map(_write_chunk, jobs))
    for i, name in enumerate(names[unique:]):
        shutil.copyfile(folder / f"{first[i % unique]}.skeleton", folder / f"{name}.skeleton")
        done += 1
    print(f"wrote {done} files to {folder} ({unique} generated, the rest copies)", file=sys.stderr)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", type=Path, help="folder to scan (files are generated into it when it holds none)")
    p.add_argument("--n", type=int, default=6600, help="files to generate (default 6600)")
    p.add_argument("--workers", type=int, default=2, help="scan processes (default 2)")
    p.add_argument("--unique", type=int, default=660, help="distinct generated files; the rest are copies")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", action="store_true", help="keep generated files in a temporary folder")
    args = p.parse_args(argv)

    tmp = None
    folder = args.dir
    if folder is None:
        tmp = Path(tempfile.mkdtemp(prefix="bench_scan_"))
        folder = tmp
    if not folder.is_dir() or not list_skeleton_files(folder):
        folder.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        generate(folder, args.n, args.seed, args.workers, args.unique)
        print(f"generation: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    try:
        listing = list_skeleton_files(folder)
        mb = sum(s for _, s, _ in listing) / 1e6
        t = time.perf_counter()
        scan = scan_folder(folder, workers=args.workers, progress=False)
        t_scan = time.perf_counter() - t
        frames = int(np.sum(scan.n_frames))
        print(f"scan_folder(workers={args.workers}): {len(listing)} files, {mb:.0f} MB, "
              f"{len(scan)} usable, {len(scan.empty)} empty, {len(scan.malformed)} malformed, {frames} frames")
        print(f"  total {t_scan:.1f} s, {len(listing) / t_scan:.0f} files/s, {mb / t_scan:.0f} MB/s "
              f"(target: under 60 s for ~6,600 files)")
        with tempfile.TemporaryDirectory(prefix="bench_cache_") as cache:
            t = time.perf_counter()
            load_or_scan(folder, cache, workers=args.workers, progress=False)
            t_miss = time.perf_counter() - t
            t = time.perf_counter()
            hit = load_or_scan(folder, cache, workers=args.workers, progress=False)
            t_hit = time.perf_counter() - t
            assert hit.from_cache
        print(f"load_or_scan: miss (scan + write cache) {t_miss:.1f} s, hit {t_hit:.2f} s; "
              f"cache hit is {t_scan / t_hit:.0f}x faster than a scan")
    finally:
        if tmp is not None and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp is not None:
            print(f"files kept in {tmp}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
