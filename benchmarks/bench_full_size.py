"""The simulator's ``full`` size end to end, and a download-sized folder of every NTU action.

1. Writes the simulator's ``full`` preset (6,678 files, about NTU RGB+D 120's count for the seven
   harmful classes; ``skelutils.simulate.simulate_dataset_preset``), then times
   ``scan_folder`` (target: under 60 s on 2 cores) and ``build_dataset`` (the profile's
   preparation at T = 64) on it.
2. Adds the other actions' names until the folder holds every name of an NTU RGB+D 120 download
   (114,480 files: 32 setups x 3 cameras x performers x replications x 120 actions, as the real
   archives hold them), each a hard link to one of the simulated files, so that they cost no
   disk, and times the scan again. Only the seven classes are parsed, as in a real download, so
   the second scan should take about as long as the first: the ratio is printed. A reader that
   parsed every file would take about 114,480 / 6,678 = 17 times longer.

    .venv/bin/python benchmarks/bench_full_size.py [--dir /tmp/full] [--workers 2] [--keep]

Needs about 3.5 GB of free disk. Figures are measured in one run and printed; nothing is
asserted.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from skelutils import ntu, simulate
from skelutils.dataset import build_dataset, list_skeleton_files, scan_folder

#: NTU RGB+D 120's sample count (Liu et al. 2019, Table 1): 114,480 sequences of 120 actions.
NTU120_SAMPLES = 114_480


def other_action_names(have: set[str], n_total: int = NTU120_SAMPLES) -> list[str]:
    """Names of actions outside the seven classes, in NTU's pattern, until ``have`` plus them make
    ``n_total`` (setups 1-32, cameras 1-3, performers 1-106, replications 1-2)."""
    seven = set(ntu.ACTION_IDS)
    out: list[str] = []
    need = n_total - len(have)
    for action in range(1, 121):
        if action in seven:
            continue
        for setup in range(1, 33):
            for cam in (1, 2, 3):
                for rep in (1, 2):
                    for perf in range(1 + (setup * 3 + rep) % 7, 107, 7):
                        name = f"S{setup:03d}C{cam:03d}P{perf:03d}R{rep:03d}A{action:03d}"
                        if name not in have:
                            out.append(name)
                            if len(out) == need:
                                return out
    return out


def timed(label: str, fn):
    t = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t
    print(f"{label}: {dt:.1f} s", flush=True)
    return out, dt


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", type=Path, help="work folder (default: a temporary one, deleted at the end)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", action="store_true", help="keep the files")
    a = p.parse_args(argv)
    work = a.dir or Path(tempfile.mkdtemp(prefix="bench_full_"))
    raw = work / "raw"
    print(f"{os.cpu_count()} cores, {a.workers} workers, folder {raw}")
    try:
        if not raw.is_dir() or not list_skeleton_files(raw):
            raw.mkdir(parents=True, exist_ok=True)
            timed("simulate full (write)",
                  lambda: simulate.simulate_dataset_preset(raw, "full", seed=a.seed, workers=a.workers, progress=False))
        files = list_skeleton_files(raw)
        gb = sum(s for _, s, _ in files) / 1e9
        print(f"  {len(files)} files, {gb:.2f} GB")
        scan, t_scan = timed("scan_folder, seven-class folder",
                             lambda: scan_folder(raw, workers=a.workers, progress=False))
        print(f"  {len(scan)} usable samples; {len(files) / t_scan:.0f} files/s; target under 60 s: "
              f"{'met' if t_scan < 60 else 'MISSED'}")
        ds, _ = timed("build_dataset (T = 64, the full profile's preparation)",
                      lambda: build_dataset(raw, None, source="simulated", frames=64, center="spinemid0",
                                            workers=a.workers, progress=False))
        print(f"  x {tuple(ds.x.shape)}, {ds.x.nbytes / 1e9:.2f} GB")

        have = {Path(f).stem for f, _, _ in files}
        others = other_action_names(have)
        extra = raw / "other_actions"
        extra.mkdir(exist_ok=True)

        def link_all():
            # round robin over the simulated files: a file system allows a bounded number of
            # links per file (65,000 on ext4)
            for i, name in enumerate(others):
                target = extra / f"{name}.skeleton"
                if not target.exists():
                    os.link(raw / files[i % len(files)][0], target)
        timed(f"hard links for {len(others)} names of the other actions", link_all)
        n_all = len(list_skeleton_files(raw))
        scan2, t_all = timed(f"scan_folder, {n_all} names (a whole NTU RGB+D 120 download)",
                             lambda: scan_folder(raw, workers=a.workers, progress=False))
        print(f"  {len(scan2)} usable samples (the same {len(scan)}: only the seven classes are parsed); "
              f"time ratio against the seven-class folder: {t_all / t_scan:.2f} "
              f"(a reader that parsed every file: about {n_all / len(files):.0f})")
    finally:
        if a.keep:
            print(f"files kept in {work}", file=sys.stderr)
        elif a.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
