"""Hybrid real + generated data sets, and the file format of generated samples.

The paper (section 4.4) generates 500 sequences per class with Kinetic-GAN and
splits them 80/10/10 into its training, validation and test sets. That
protocol (``"paper"``) puts generated samples into the test set, so the test
accuracy partly measures how well a recogniser recognises the generator's
output. The ``"clean"`` protocol adds generated samples to training only and
keeps validation and test purely real; the book reports both.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from skelutils.config import atomic_write_bytes, write_json
from skelutils.ntu import CLASS_NAMES

__all__ = ["PROTOCOLS", "PAPER_SPLIT", "make_hybrid", "resample_frames", "dataset_fingerprint",
           "save_synthetic", "load_synthetic"]

#: Allowed values of ``make_hybrid(protocol=...)``.
PROTOCOLS = ("paper", "clean")
#: Train/val/test shares of the generated samples under the paper protocol.
PAPER_SPLIT = (0.8, 0.1, 0.1)
_PARTS = ("train", "val", "test")
_MADE_BY = "notebooks/02_gan.ipynb"


def resample_frames(x: np.ndarray, t_out: int) -> np.ndarray:
    """Resample sequences to ``t_out`` frames by linear interpolation in time.

    Frame ``i`` of the output sits at time ``i * (T - 1) / (t_out - 1)`` of the
    input (first and last frames are kept). A person who is absent (zeros) in
    one of two neighbouring frames is blended with zeros, as the data layer does
    no better for the real data.

    Args:
        x: (N, M, T, V, C) array, frames on axis 2.
        t_out: frames wanted, >= 1.

    Returns:
        float32 (N, M, t_out, V, C); ``x`` itself (as float32) when T == t_out.
    """
    x = np.asarray(x)
    if x.ndim != 5:
        raise ValueError(f"resample_frames: expected (N, M, T, V, C), got shape {x.shape}")
    t_in = x.shape[2]
    if t_out < 1 or t_in < 1:
        raise ValueError(f"resample_frames: cannot resample {t_in} frames to {t_out}")
    if t_in == t_out:
        return x.astype(np.float32, copy=False)
    pos = np.linspace(0.0, t_in - 1, t_out) if t_out > 1 else np.zeros(1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, t_in - 1)
    w = (pos - lo).astype(np.float32)[None, None, :, None, None]
    xf = x.astype(np.float32, copy=False)
    return (xf[:, :, lo] * (1 - w) + xf[:, :, hi] * w).astype(np.float32)


def dataset_fingerprint(x: np.ndarray, y: np.ndarray | None = None) -> str:
    """A short sha256 of the array bytes (float32 ``x``, int64 ``y``) and shape, to tie
    artifacts to the data they were made from."""
    h = hashlib.sha256()
    xa = np.ascontiguousarray(x, np.float32)
    h.update(str(xa.shape).encode())
    h.update(xa.tobytes())
    if y is not None:
        h.update(np.ascontiguousarray(y, np.int64).tobytes())
    return h.hexdigest()[:16]


def _check_xy(x, y, what: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 5:
        raise ValueError(f"{what}: x has shape {x.shape}; expected (N, M=2, T, V=25, C=3)")
    if y.shape != (x.shape[0],):
        raise ValueError(f"{what}: y has shape {y.shape}; expected ({x.shape[0]},), one label per sample")
    return x, y.astype(np.int64, copy=False)


def make_hybrid(real: dict[str, np.ndarray], synth_x: np.ndarray, synth_y: np.ndarray, *,
                protocol: str = "paper", fraction: float = 1.0, per_class: int = 500,
                seed: int = 0, n_classes: int = len(CLASS_NAMES)) -> dict[str, Any]:
    """Append generated samples to a real train/val/test split.

    For each class, ``round(fraction * per_class)`` generated samples are drawn
    without replacement (a seeded permutation, so the same call gives the same
    set; a smaller fraction gives a subset of a larger one's samples). Under
    ``"paper"`` each class's draw is split 80/10/10 (train ``round(0.8 n)``,
    val ``round(0.1 n)``, test the rest) and appended to the real parts; under
    ``"clean"`` all of it goes to training and val/test stay real. Generated
    samples are appended after the real ones (training loaders shuffle).

    If the generated sequences have a different number of frames than the real
    ones, they are resampled linearly in time (:func:`resample_frames`).

    Args:
        real: dict with ``x_train, y_train, x_val, y_val, x_test, y_test``; x float32
            (N, 2, T, 25, 3) metres, y int labels 0..6. Other keys are not copied.
        synth_x: float32 (S, 2, T', 25, 3), metres, as returned by ``skelutils.gan.sample``.
        synth_y: int (S,) labels.
        protocol: ``"paper"`` (default, 80/10/10 into all parts) or ``"clean"`` (train only).
        fraction: share of ``per_class`` used, in [0, 1]; 0 gives the real data only.
        per_class: generated samples per class at ``fraction=1`` (paper: 500).
        seed: seed of the per-class draw.
        n_classes: number of classes (7).

    Returns:
        dict with the six real keys (x float32, y int64, real first then generated),
        ``is_synthetic_train/val/test`` bool arrays, and ``provenance``:
        protocol, fraction, per_class, seed, n_per_class, frames, and
        ``n_synthetic`` / ``n_real`` per part.

    Raises:
        ValueError: unknown protocol, fraction outside [0, 1], missing keys,
            mismatched shapes, or fewer generated samples of a class than asked.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"make_hybrid: protocol={protocol!r}; expected one of {PROTOCOLS}")
    if not (0.0 <= float(fraction) <= 1.0):
        raise ValueError(f"make_hybrid: fraction={fraction!r}; expected a share in [0, 1]")
    if int(per_class) < 0:
        raise ValueError(f"make_hybrid: per_class={per_class!r}; expected >= 0")
    missing = [f"{a}_{p}" for p in _PARTS for a in ("x", "y") if f"{a}_{p}" not in real]
    if missing:
        raise ValueError(f"make_hybrid: real data lacks {missing}; expected x_/y_ train, val and test")
    parts = {p: _check_xy(real[f"x_{p}"], real[f"y_{p}"], f"make_hybrid real {p}") for p in _PARTS}
    shape = parts["train"][0].shape[1:]
    for p in _PARTS:
        if parts[p][0].shape[1:] != shape:
            raise ValueError(f"make_hybrid: x_{p} has sample shape {parts[p][0].shape[1:]} but x_train "
                             f"has {shape}; all parts must share (M, T, V, C)")
    sx, sy = _check_xy(synth_x, synth_y, "make_hybrid synthetic")
    if sx.shape[0] and (sx.shape[1], sx.shape[3], sx.shape[4]) != (shape[0], shape[2], shape[3]):
        raise ValueError(f"make_hybrid: generated samples have (M, V, C) = "
                         f"{(sx.shape[1], sx.shape[3], sx.shape[4])} but the real data "
                         f"{(shape[0], shape[2], shape[3])}")

    n_use = int(round(float(fraction) * int(per_class)))
    have = np.bincount(sy[(sy >= 0) & (sy < n_classes)], minlength=n_classes) if sy.size else \
        np.zeros(n_classes, int)
    short = [f"{CLASS_NAMES[c] if c < len(CLASS_NAMES) else c} (label {c}): {have[c]}"
             for c in range(n_classes) if have[c] < n_use]
    if short:
        raise ValueError(f"make_hybrid: {n_use} generated samples per class needed (fraction={fraction} "
                         f"x per_class={per_class}) but there are fewer for {'; '.join(short)}. "
                         f"Generate more in {_MADE_BY} or lower fraction/per_class.")

    rng = np.random.default_rng(seed)
    take = {p: [] for p in _PARTS}
    n_tr, n_va = int(round(PAPER_SPLIT[0] * n_use)), int(round(PAPER_SPLIT[1] * n_use))
    for c in range(n_classes):
        idx = np.flatnonzero(sy == c)
        idx = idx[rng.permutation(idx.size)][:n_use]
        if protocol == "paper":
            take["train"].append(idx[:n_tr])
            take["val"].append(idx[n_tr:n_tr + n_va])
            take["test"].append(idx[n_tr + n_va:])
        else:
            take["train"].append(idx)
    t_real = shape[1]
    t_syn = sx.shape[2]
    out: dict[str, Any] = {}
    prov: dict[str, Any] = {"protocol": protocol, "fraction": float(fraction), "per_class": int(per_class),
                            "seed": int(seed), "n_per_class": n_use,
                            "split": list(PAPER_SPLIT) if protocol == "paper" else [1.0, 0.0, 0.0],
                            "frames": {"real": int(t_real), "synthetic": int(t_syn),
                                       "resampled": bool(t_syn != t_real and n_use > 0)},
                            "n_synthetic": {}, "n_real": {}}
    for p in _PARTS:
        xr, yr = parts[p]
        idx = np.concatenate(take[p]) if take[p] else np.zeros(0, int)
        xs = resample_frames(sx[idx], t_real) if idx.size else np.zeros((0, *shape), np.float32)
        out[f"x_{p}"] = np.concatenate([xr.astype(np.float32, copy=False), xs])
        out[f"y_{p}"] = np.concatenate([yr, sy[idx]]).astype(np.int64)
        out[f"is_synthetic_{p}"] = np.concatenate([np.zeros(len(yr), bool), np.ones(idx.size, bool)])
        prov["n_synthetic"][p] = int(idx.size)
        prov["n_real"][p] = int(len(yr))
    out["provenance"] = prov
    return out


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def save_synthetic(path: str | os.PathLike, x: np.ndarray, y: np.ndarray,
                   meta: dict[str, Any] | None = None) -> Path:
    """Write generated samples as ``.npz`` plus a JSON provenance sidecar, atomically.

    The npz holds ``x`` float32 (N, 2, T, 25, 3) metres, ``y`` int64 (N,),
    ``synthetic`` bool (N,) all True, and ``class_names``. The sidecar
    ``<path>.json`` holds ``meta`` (expected keys: ``gan_config``, ``seed``,
    ``iterations``, ``data_source``, ``dataset_fingerprint``; any JSON-ready
    extras are kept) plus counts, shape, the file's own fingerprint and a UTC
    timestamp.

    Args:
        path: destination, ``.npz`` suffix added if missing.
        x, y: the samples.
        meta: provenance dict.

    Returns:
        The npz path.
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    x, y = _check_xy(x, y, "save_synthetic")
    meta = dict(meta or {})
    try:
        json.dumps(meta, default=lambda o: o.item() if isinstance(o, np.generic) else str(o))
    except (TypeError, ValueError) as e:
        raise ValueError(f"save_synthetic: meta is not JSON-ready ({e})") from e
    expected = ("gan_config", "seed", "iterations", "data_source", "dataset_fingerprint")
    absent = [k for k in expected if k not in meta]
    if absent:
        warnings.warn(f"save_synthetic({path.name}): meta lacks {absent}; provenance will be incomplete",
                      stacklevel=2)
    buf = io.BytesIO()
    np.savez(buf, x=x.astype(np.float32, copy=False), y=y, synthetic=np.ones(len(y), bool),
             class_names=np.array(CLASS_NAMES))
    side = {**meta, "n": int(len(y)), "shape": list(x.shape),
            "counts": np.bincount(y, minlength=len(CLASS_NAMES)).tolist() if y.size else [],
            "class_names": list(CLASS_NAMES), "file_fingerprint": dataset_fingerprint(x, y),
            "written_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    atomic_write_bytes(path, buf.getvalue())
    write_json(_sidecar(path), side)
    return path


def load_synthetic(path: str | os.PathLike) -> dict[str, Any]:
    """Read what :func:`save_synthetic` wrote.

    Returns:
        dict with ``x`` float32 (N, 2, T, 25, 3), ``y`` int64 (N,), ``synthetic``
        bool (N,), ``class_names`` tuple, ``meta`` (the sidecar; ``{}`` with a
        warning if it is missing).

    Raises:
        FileNotFoundError: no such file; it is made by notebooks/02_gan.ipynb.
        ValueError: the file's class names differ from ``skelutils.ntu.CLASS_NAMES``.
    """
    path = Path(path)
    if not path.is_file() and path.suffix != ".npz" and path.with_name(path.name + ".npz").is_file():
        path = path.with_name(path.name + ".npz")
    if not path.is_file():
        raise FileNotFoundError(f"generated samples not found at {path}; run {_MADE_BY} (it trains the "
                                "GAN and writes them) first")
    with np.load(path, allow_pickle=False) as f:
        missing = [k for k in ("x", "y", "synthetic", "class_names") if k not in f.files]
        if missing:
            raise ValueError(f"{path}: lacks arrays {missing}; re-create it with save_synthetic "
                             f"({_MADE_BY})")
        out = {"x": f["x"].astype(np.float32, copy=False), "y": f["y"].astype(np.int64),
               "synthetic": f["synthetic"].astype(bool), "class_names": tuple(str(s) for s in f["class_names"])}
    if out["class_names"] != tuple(CLASS_NAMES):
        raise ValueError(f"{path}: class names {out['class_names']} differ from skelutils.ntu.CLASS_NAMES "
                         f"{tuple(CLASS_NAMES)}; labels would be misread. Re-generate with {_MADE_BY}.")
    side = _sidecar(path)
    if side.is_file():
        out["meta"] = json.loads(side.read_text())
    else:
        warnings.warn(f"{side} missing: provenance of {path.name} unknown", stacklevel=2)
        out["meta"] = {}
    return out
