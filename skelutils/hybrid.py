"""Hybrid real + generated data sets, and the file format of generated samples.

The paper (section 4.4) generates 500 sequences per class with Kinetic-GAN and
splits them 80/10/10 into its training, validation and test sets. That
protocol (``"paper"``) puts generated samples into the test set, so the test
accuracy partly measures how well a recogniser recognises the generator's
output. The ``"clean"`` protocol adds the same generated training samples and
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

from skelutils.config import atomic_write_bytes, file_sha256, write_json
from skelutils.ntu import CLASS_NAMES

__all__ = ["PROTOCOLS", "PAPER_SPLIT", "make_hybrid", "resample_frames", "arrays_fingerprint",
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


def arrays_fingerprint(x: np.ndarray, y: np.ndarray | None = None) -> str:
    """A short sha256 of the array bytes (float32 ``x``, int64 ``y``) and shape, to tie
    artifacts to the arrays they were made from (a generator to its training arrays, a file of
    generated samples to its contents). The id of a whole data set is ``Dataset.fingerprint``;
    ``skelutils.train.dataset_fingerprint`` reads it from the training data."""
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


def _class_rng(seed: int, label: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(label)]))


def make_hybrid(real: dict[str, np.ndarray], synth_x: np.ndarray, synth_y: np.ndarray, *,
                protocol: str = "paper", fraction: float = 1.0, per_class: int = 500,
                seed: int = 0, holdout_seed: int = 0, n_classes: int = len(CLASS_NAMES)) -> dict[str, Any]:
    """Append generated samples to a real train/val/test split.

    Per class, ``n = round(fraction * per_class)`` generated samples are used, split
    80/10/10 as the paper does: ``round(0.8 n)`` for training, ``round(0.1 n)`` for
    validation, the rest for testing. The validation and test draws come from a permutation
    seeded by ``holdout_seed`` and the class alone, so they are the same whatever the training
    ``seed``; the training draw is taken from the remaining samples with a permutation seeded
    by ``seed`` and the class. Under ``"paper"`` all three draws are appended to the real parts;
    under ``"clean"`` only the training draw is, so at one fraction and seed both protocols
    train on the same generated samples and differ only in what they validate and test on.
    Generated samples are appended after the real ones (training loaders shuffle).

    If the generated sequences have a different number of frames than the real
    ones, they are resampled linearly in time (:func:`resample_frames`).

    Args:
        real: dict with ``x_train, y_train, x_val, y_val, x_test, y_test``; x float32
            (N, 2, T, 25, 3) metres, y int labels 0..6. Other keys are not copied.
        synth_x: float32 (S, 2, T', 25, 3), metres, as returned by ``skelutils.gan.sample``.
        synth_y: int (S,) labels.
        protocol: ``"paper"`` (default, 80/10/10 into all parts) or ``"clean"`` (the 80% into
            training only; validation and test stay real).
        fraction: share of ``per_class`` used, in [0, 1]; 0 gives the real data only.
        per_class: generated samples per class at ``fraction=1`` (paper: 500).
        seed: seed of the per-class training draw (the recogniser's training seed).
        holdout_seed: seed of the per-class validation and test draws (default 0).
        n_classes: number of classes (7).

    Returns:
        dict with the six real keys (x float32, y int64, real first then generated),
        ``is_synthetic_train/val/test`` bool arrays, and ``provenance``:
        protocol, fraction, per_class, seed, holdout_seed, n_per_class, frames, and
        ``n_synthetic`` / ``n_real`` per part.

    Raises:
        ValueError: unknown protocol, fraction outside [0, 1], missing keys,
            mismatched shapes, or fewer generated samples of a class than ``n``.
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

    take = {p: [] for p in _PARTS}
    n_tr, n_va = int(round(PAPER_SPLIT[0] * n_use)), int(round(PAPER_SPLIT[1] * n_use))
    n_te = n_use - n_tr - n_va
    for c in range(n_classes):
        idx = np.flatnonzero(sy == c)
        idx = idx[_class_rng(holdout_seed, c).permutation(idx.size)]
        held_test, held_val, pool = idx[:n_te], idx[n_te:n_te + n_va], idx[n_te + n_va:]
        take["train"].append(pool[_class_rng(seed, c).permutation(pool.size)][:n_tr])
        if protocol == "paper":
            take["val"].append(held_val)
            take["test"].append(held_test)
    t_real = shape[1]
    t_syn = sx.shape[2]
    out: dict[str, Any] = {}
    prov: dict[str, Any] = {"protocol": protocol, "fraction": float(fraction), "per_class": int(per_class),
                            "seed": int(seed), "holdout_seed": int(holdout_seed), "n_per_class": n_use,
                            "split": list(PAPER_SPLIT) if protocol == "paper" else [PAPER_SPLIT[0], 0.0, 0.0],
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
    """Write generated samples as ``.npz`` plus a JSON provenance sidecar, each atomically.

    The npz holds ``x`` float32 (N, 2, T, 25, 3) metres, ``y`` int64 (N,),
    ``synthetic`` bool (N,) all True, and ``class_names``. The sidecar
    ``<path>.json`` holds ``meta`` (expected keys: ``gan_config``, ``seed``,
    ``iterations``, ``data_source``, ``dataset_fingerprint``; any JSON-ready
    extras are kept) plus counts, shape, the arrays' fingerprint, ``npz_sha256`` (the
    sha256 of the npz file's bytes, which :func:`load_synthetic` checks, so that a sidecar
    never describes another array file) and a UTC timestamp.

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
    data = buf.getvalue()
    side = {**meta, "n": int(len(y)), "shape": list(x.shape),
            "counts": np.bincount(y, minlength=len(CLASS_NAMES)).tolist() if y.size else [],
            "class_names": list(CLASS_NAMES), "file_fingerprint": arrays_fingerprint(x, y),
            "npz_file": path.name, "npz_sha256": hashlib.sha256(data).hexdigest(),
            "written_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    atomic_write_bytes(path, data)
    write_json(_sidecar(path), side)
    return path


def load_synthetic(path: str | os.PathLike, *, dataset_fingerprint: str | None = None,
                   data_source: str | None = None) -> dict[str, Any]:
    """Read what :func:`save_synthetic` wrote, and check that the two files belong together.

    Args:
        path: the npz (``.npz`` may be left out).
        dataset_fingerprint, data_source: when given, the data set the samples are about to be
            mixed with (``Dataset.fingerprint`` and ``Dataset.source``); the sidecar's
            ``dataset_fingerprint`` and ``data_source`` (the data the GAN learned from) must
            equal them.

    Returns:
        dict with ``x`` float32 (N, 2, T, 25, 3), ``y`` int64 (N,), ``synthetic``
        bool (N,), ``class_names`` tuple, ``meta`` (the sidecar; ``{}`` with a
        warning if it is missing and no expectation was given).

    Raises:
        FileNotFoundError: no such file; it is made by notebooks/02_gan.ipynb.
        ValueError: the file's class names differ from ``skelutils.ntu.CLASS_NAMES``; the
            sidecar records another npz (its ``npz_sha256`` differs from the file's); or the
            samples come from a GAN trained on another data set than the one expected (or
            the sidecar that would say so is missing).
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
    checking = dataset_fingerprint is not None or data_source is not None
    if not side.is_file():
        if checking:
            raise ValueError(f"{side} is missing, so nothing says which data the GAN behind {path.name} "
                             f"learned from; re-run {_MADE_BY} for this profile to write both files")
        warnings.warn(f"{side} missing: provenance of {path.name} unknown", stacklevel=2)
        out["meta"] = {}
        return out
    try:
        meta = json.loads(side.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{side}: not valid JSON ({e}); re-run {_MADE_BY} to write it again") from e
    recorded = meta.get("npz_sha256")
    if recorded is None:
        raise ValueError(f"{side} records no npz_sha256, so it cannot be tied to {path.name} (it was "
                         f"written by older code); re-run {_MADE_BY} to write the pair again")
    actual = file_sha256(path)
    if recorded != actual:
        raise ValueError(f"{side} and {path.name} do not belong together: the sidecar describes an npz "
                         f"with sha256 {recorded[:16]}..., the file has {actual[:16]}... (one of the "
                         f"two was replaced or a write was interrupted); re-run {_MADE_BY} to write "
                         "the pair again")
    if checking:
        got = {"data_source": meta.get("data_source"), "dataset_fingerprint": meta.get("dataset_fingerprint")}
        want = {"data_source": data_source, "dataset_fingerprint": dataset_fingerprint}
        diff = [k for k in want if want[k] is not None and got[k] != want[k]]
        if diff:
            raise ValueError(
                f"{path} was generated by a GAN trained on {got['data_source']} data (dataset fingerprint "
                f"{got['dataset_fingerprint']}), but the current data set is {want['data_source'] or '?'} "
                f"(fingerprint {want['dataset_fingerprint'] or '?'}); mixing them would add samples of "
                f"another data set. Re-run {_MADE_BY} with this profile so that the GAN learns from "
                "the current data set.")
    out["meta"] = meta
    return out
