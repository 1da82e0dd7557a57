"""Speed of :func:`skelutils.ntu.read_skeleton` against the dataset authors' way of reading.

The peer is :func:`read_official_style`, a line-by-line reader structured like
``Python/txt2npy.py`` in the NTU RGB+D authors' repository (shahroudy/NTURGB-D):
read all lines, walk a cursor over frames and bodies, split every joint line
and convert it with ``float()`` value by value into preallocated per-body
arrays. It differs in one respect only: a body goes to the slot of its bodyID
(first appearance), as the companion's pipeline needs, instead of to its index
within the frame; that costs one dict look-up per body and line.

The script writes ``--files`` realistic samples (60-200 frames, two actors,
sometimes a noise body, sometimes a missing actor) with
:func:`skelutils.ntu.write_skeleton` into a temporary folder, in the layout of
the NTU RGB+D download (7 significant digits, CRLF line ends; ``--layout exact``
writes 9 digits and LF instead), reads each with both readers in one process,
alternating which goes first, checks that they agree, and prints the totals and
the ratio measured in this run::

    .venv/bin/python benchmarks/bench_reader.py [--files N] [--seed S] [--layout ntu|exact]

Two pairs are timed: the fields the pipeline uses (xyz, presence, body ids;
``read_skeleton(fields="xyz")`` against the peer storing only xyz) and every
field (``read_skeleton()`` against the peer storing xyz, depth and colour
pixels, the defaults of ``txt2npy.py``). Times are wall-clock; the CPU time of
the process is shown beside them because on a shared machine it is the steadier
of the two. The exit status is 1 when the readers disagree on any file.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from skelutils.ntu import (INFERRED, NTU_DIGITS, NTU_NEWLINE, NUM_JOINTS, TRACKED, Skeleton, read_skeleton,
                           write_skeleton)

#: ``--layout`` -> (significant digits, line end) of the written files.
LAYOUTS = {"ntu": (NTU_DIGITS, NTU_NEWLINE), "exact": (9, "\n")}


def read_official_style(file_path, save_skelxyz=True, save_rgbxy=True, save_depthxy=True):
    """Read a ``.skeleton`` file line by line, the way the dataset authors' reader does.

    Args:
        file_path: the ``.skeleton`` file.
        save_skelxyz, save_rgbxy, save_depthxy: which per-joint values to keep
            (every value of a joint line is converted regardless, as in the original).

    Returns:
        dict with ``xyz`` float64 (F, B, 25, 3), ``present`` bool (F, B),
        ``body_ids`` tuple (B,), and ``depth_xy`` / ``color_xy`` float64
        (F, B, 25, 2) when saved; B body slots in order of first appearance.
    """
    with open(file_path, "r") as f:
        datas = f.readlines()
    njoints = 25
    nframe = int(datas[0])
    slot_of = {}
    bodymat = {}
    present = []
    cursor = 0
    for frame in range(nframe):
        cursor += 1
        bodycount = int(datas[cursor])
        for _ in range(bodycount):
            cursor += 1
            bodyinfo = datas[cursor].rstrip("\r\n").split(" ")
            body_id = int(bodyinfo[0])
            if body_id not in slot_of:
                slot = slot_of[body_id] = len(slot_of)
                present.append(np.zeros(nframe, bool))
                if save_skelxyz:
                    bodymat["skel_body{}".format(slot)] = np.zeros(shape=(nframe, njoints, 3))
                if save_rgbxy:
                    bodymat["rgb_body{}".format(slot)] = np.zeros(shape=(nframe, njoints, 2))
                if save_depthxy:
                    bodymat["depth_body{}".format(slot)] = np.zeros(shape=(nframe, njoints, 2))
            slot = slot_of[body_id]
            present[slot][frame] = True
            skel_body = "skel_body{}".format(slot)
            rgb_body = "rgb_body{}".format(slot)
            depth_body = "depth_body{}".format(slot)
            cursor += 1
            njoints = int(datas[cursor])
            for joint in range(njoints):
                cursor += 1
                jointinfo = datas[cursor].rstrip("\r\n").split(" ")
                jointinfo = np.array(list(map(float, jointinfo)))
                if save_skelxyz:
                    bodymat[skel_body][frame, joint] = jointinfo[:3]
                if save_depthxy:
                    bodymat[depth_body][frame, joint] = jointinfo[3:5]
                if save_rgbxy:
                    bodymat[rgb_body][frame, joint] = jointinfo[5:7]
    n = len(slot_of)
    out = {"body_ids": tuple(slot_of), "present": np.stack(present, 1) if n else np.zeros((nframe, 0), bool)}
    for key, name, c in (("xyz", "skel_body", 3), ("depth_xy", "depth_body", 2), ("color_xy", "rgb_body", 2)):
        if f"{name}0" in bodymat or (n == 0 and key == "xyz"):
            arrs = [bodymat[f"{name}{s}"] for s in range(n)]
            out[key] = np.stack(arrs, 1) if n else np.zeros((nframe, 0, njoints, c))
    return out


def make_sample(rng: np.random.Generator, n_frames: int) -> Skeleton:
    """A plausible two-person Kinect v2 recording (values, not motion, are what matter here).

    Two actors facing each other about 3 m from the camera; in about a third of
    the samples a noise body shows up for a stretch of frames, and in some the
    second actor is lost for a few frames.
    """
    n_bodies = 3 if rng.random() < 0.3 else 2
    s = Skeleton.empty_like(n_frames, n_bodies)
    s.body_ids = tuple(int(72057594037927936 + rng.integers(0, 10**5)) + i for i in range(n_bodies))
    s.present[:, :2] = True
    if rng.random() < 0.3:
        a = rng.integers(0, n_frames - 10)
        s.present[a:a + rng.integers(1, 10), 1] = False
    if n_bodies == 3:
        a = rng.integers(0, n_frames - 20)
        s.present[a:a + rng.integers(5, 20), 2] = True
    t = np.linspace(0, 2 * np.pi, n_frames)[:, None, None, None]
    base = np.array([0.0, 0.1, 3.2]) + rng.normal(0, [0.5, 0.05, 0.3], (n_bodies, 1, 3))
    bone = rng.normal(0, 0.3, (1, n_bodies, NUM_JOINTS, 3))
    s.xyz[:] = base[None] + bone + 0.1 * np.sin(t + rng.uniform(0, 6, (1, n_bodies, NUM_JOINTS, 3)))
    s.depth_xy[:] = 256 + 300 * s.xyz[..., :2] / s.xyz[..., 2:] * [1, -1]
    s.color_xy[:] = 960 + 1060 * (s.xyz[..., :2] + [0.052, 0.0]) / s.xyz[..., 2:] * [1, -1]
    q = rng.normal(0, 1, s.orientation.shape)
    s.orientation[:] = q / np.linalg.norm(q, axis=-1, keepdims=True)
    s.orientation[..., [3, 15, 19, 21, 22, 23, 24], :] = 0  # Kinect writes 0 0 0 0 for the leaf joints
    s.tracking[:] = np.where(rng.random(s.tracking.shape) < 0.1, INFERRED, TRACKED)
    s.body_info[..., 1:5] = rng.integers(0, 2, (n_frames, n_bodies, 4))
    s.body_info[..., 6:8] = rng.normal(0, 0.1, (n_frames, n_bodies, 2))
    s.body_info[..., 8] = TRACKED
    s.xyz[~s.present] = 0
    return s


def agree(fast: Skeleton, ref: dict, fields: tuple[str, ...]) -> str | None:
    """None when both readers give the same result, else what differs."""
    if fast.body_ids != ref["body_ids"]:
        return f"body ids {fast.body_ids} != {ref['body_ids']}"
    if not np.array_equal(fast.present, ref["present"]):
        return "presence differs"
    for key in fields:
        if not np.array_equal(getattr(fast, key), ref[key].astype(np.float32)):
            return f"{key} differs"
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=200, help="number of sample files (default 200)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the generated samples (default 0)")
    ap.add_argument("--layout", choices=tuple(LAYOUTS), default="ntu",
                    help="ntu: 7 significant digits and CRLF, as the dataset (default); exact: 9 digits and LF")
    args = ap.parse_args(argv)
    digits, newline = LAYOUTS[args.layout]
    rng = np.random.default_rng(args.seed)
    pairs = {
        "xyz, presence, body ids": (lambda p: read_official_style(p, True, False, False),
                                    lambda p: read_skeleton(p, fields="xyz"), ("xyz",)),
        "every field": (read_official_style, read_skeleton, ("xyz", "depth_xy", "color_xy")),
    }
    with tempfile.TemporaryDirectory(prefix="bench_reader_") as tmp:
        t0 = time.perf_counter()
        paths = []
        for i in range(args.files):
            path = Path(tmp) / f"S001C001P{i // 100 + 1:03d}R001A{50 + i % 100:03d}.skeleton"
            paths.append(write_skeleton(path, make_sample(rng, int(rng.integers(60, 201))), digits, newline))
        n_frames = sum(int(p.read_bytes().split(b"\n", 1)[0]) for p in paths)
        ending = "CRLF" if newline == "\r\n" else "LF"
        print(f"wrote {len(paths)} files ({args.layout} layout: {digits} significant digits, {ending}), "
              f"{n_frames} frames, in {time.perf_counter() - t0:.1f} s")

        totals = {name: [0.0, 0.0] for name in pairs}   # wall-clock seconds: official-style, skelutils
        cpu = {name: [0.0, 0.0] for name in pairs}      # CPU seconds of this process
        bad = 0
        for i, path in enumerate(paths):
            for name, (ref_read, fast_read, fields) in pairs.items():
                order = (0, 1) if i % 2 == 0 else (1, 0)  # alternate who goes first
                out = [None, None]
                for k in order:
                    t, c = time.perf_counter(), time.process_time()
                    out[k] = (ref_read, fast_read)[k](path)
                    totals[name][k] += time.perf_counter() - t
                    cpu[name][k] += time.process_time() - c
                why = agree(out[1], out[0], fields)
                if why:
                    bad += 1
                    print(f"DISAGREE {path.name} ({name}): {why}", file=sys.stderr)

    print(f"{'fields':<26}{'official-style':>16}{'skelutils':>12}{'ratio':>8}{'CPU-time ratio':>16}")
    for name, (t_ref, t_fast) in totals.items():
        c_ref, c_fast = cpu[name]
        print(f"{name:<26}{t_ref:>14.2f} s{t_fast:>10.2f} s{t_ref / t_fast:>7.1f}x"
              f"{c_ref / max(c_fast, 1e-9):>15.1f}x")
    t_ref, t_fast = totals["xyz, presence, body ids"]
    print(f"ratio (official-style / skelutils): {t_ref / t_fast:.1f}x  "
          f"(xyz, presence, body ids; {len(paths)} files, {args.layout} layout, one process)")
    if bad:
        print(f"readers disagree on {bad} file(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
