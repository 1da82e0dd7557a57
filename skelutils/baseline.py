"""How hard is the task? Two reference classifiers without deep learning.

- :func:`nearest_centroid_accuracy`: each sample's mean position subtracted, flattened, and
  assigned to the class whose mean training sample is nearest (Euclidean). It sees only where
  the joints are on average at each resampled frame, so it measures how far the classes can be
  told apart by posture templates alone. On the simulated data it should stay well below what a
  trained temporal model reaches (the simulator is tuned for at most about 70 % cross-subject).
- :func:`probe_accuracy`: a linear softmax classifier (multinomial logistic regression, trained
  with full-batch L-BFGS in torch) on view-invariant summaries of the dynamics
  (:func:`dynamics_features`). It confirms that the classes are learnable from how the people
  move.

:func:`simulated_difficulty` runs both on the simulator, in memory, for the cross-subject and
cross-view splits (``python -m skelutils.baseline --size smoke``).
"""
from __future__ import annotations

import argparse
import json

import numpy as np

def _check_xy(x, y, what: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 5 or x.shape[-1] != 3:
        raise ValueError(f"{what}: expected x of shape (N, M, T, V, 3) (samples, persons, frames, "
                         f"joints, xyz), got {x.shape}")
    if y.shape != (x.shape[0],):
        raise ValueError(f"{what}: expected y of shape ({x.shape[0]},) (one label per sample), "
                         f"got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer) or (len(y) and y.min() < 0):
        raise ValueError(f"{what}: labels must be non-negative integers (0..6 for the seven classes)")
    return x.astype(np.float64), y.astype(int)


def position_features(x: np.ndarray) -> np.ndarray:
    """(N, M, T, V, 3) -> (N, M*T*V*3): each sample minus its mean position, flattened.

    The mean is taken over the present entries (a person or frame stored as exact zeros is
    absent and stays zero).
    """
    x = np.asarray(x, np.float64)
    present = np.any(x != 0, axis=-1, keepdims=True)                   # (N, M, T, V, 1)
    cnt = np.maximum(present.sum(axis=(1, 2, 3)), 1)                   # (N, 1)
    mean = (x * present).sum(axis=(1, 2, 3)) / cnt                     # (N, 3)
    return ((x - mean[:, None, None, None]) * present).reshape(len(x), -1)


def nearest_centroid_accuracy(x_train, y_train, x_test, y_test, *, per_class: bool = False):
    """Accuracy of the nearest class centroid on position templates.

    Args:
        x_train, x_test: float (N, M, T, V, 3), metres (the model layout, e.g. M=2, V=25).
        y_train, y_test: int (N,), labels 0..K-1.
        per_class: also return the recall of every class present in ``y_test``.

    Returns:
        Accuracy in [0, 1]; with ``per_class`` a tuple (accuracy, dict label -> recall).

    Raises:
        ValueError: wrong shapes, or a test label never seen in training.
    """
    x_train, y_train = _check_xy(x_train, y_train, "training set")
    x_test, y_test = _check_xy(x_test, y_test, "test set")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise ValueError(f"training samples {x_train.shape[1:]} and test samples {x_test.shape[1:]} "
                         "differ in shape; resample both to the same T")
    missing = sorted(set(y_test.tolist()) - set(y_train.tolist()))
    if missing:
        raise ValueError(f"test labels {missing} have no training sample; a centroid needs at least one")
    ftr, fte = position_features(x_train), position_features(x_test)
    labels = np.unique(y_train)
    cent = np.stack([ftr[y_train == k].mean(0) for k in labels])
    d = (fte ** 2).sum(1)[:, None] - 2 * fte @ cent.T + (cent ** 2).sum(1)[None]
    pred = labels[np.argmin(d, axis=1)]
    return _result(pred, y_test, per_class)


def _result(pred, y, per_class):
    acc = float(np.mean(pred == y)) if len(y) else float("nan")
    if not per_class:
        return acc
    return acc, {int(k): float(np.mean(pred[y == k] == k)) for k in np.unique(y)}


# indices of the joints summarised by dynamics_features: SpineBase, SpineMid, Head, wrists,
# hands, knees, ankles (0-based Kinect v2)
_KEY_JOINTS = (0, 1, 3, 6, 7, 10, 11, 13, 14, 17, 18)


def dynamics_features(x: np.ndarray) -> np.ndarray:
    """View-invariant summaries of two-person dynamics, (N, M, T, V, 3) -> (N, F) float32.

    Per sample, from key joints (pelvis, spine, head, wrists, hands, knees, ankles) of both
    persons: joint speeds (frame-to-frame displacement, m/frame), heights above the lowest
    ankle (``y`` is up in the Kinect frame), distances of every key joint of one person to every
    key joint of the other, and distances of each person's key joints to its own pelvis; each
    time series summarised by its mean, standard deviation, minimum, maximum and the frame of
    its maximum (as a fraction of T).
    """
    x = np.asarray(x, np.float64)
    n, m, t = x.shape[:3]
    k = x[:, :, :, list(_KEY_JOINTS)]                                    # (N, M, T, K, 3)
    speed = np.linalg.norm(np.diff(k, axis=2), axis=-1)                  # (N, M, T-1, K)
    speed = np.concatenate([speed, speed[:, :, -1:]], axis=2)
    floor = k[..., 1].min(axis=(1, 2, 3), keepdims=True)
    height = k[..., 1] - floor                                           # (N, M, T, K)
    series = [speed.transpose(0, 2, 1, 3).reshape(n, t, -1),
              height.transpose(0, 2, 1, 3).reshape(n, t, -1)]
    if m >= 2:
        cross = np.linalg.norm(k[:, 0, :, :, None] - k[:, 1, :, None], axis=-1)
        series.append(cross.reshape(n, t, -1))
    own = np.linalg.norm(k - k[:, :, :, :1], axis=-1)[..., 1:]          # (N, M, T, K-1)
    series.append(own.transpose(0, 2, 1, 3).reshape(n, t, -1))
    s = np.concatenate(series, axis=-1)                                  # (N, T, F0)
    feats = [s.mean(1), s.std(1), s.min(1), s.max(1), np.argmax(s, axis=1) / max(t - 1, 1)]
    return np.concatenate(feats, axis=1).astype(np.float32)


def probe_accuracy(x_train, y_train, x_test, y_test, *, l2: float = 1e-3, max_iter: int = 200,
                   per_class: bool = False, seed: int = 0):
    """Accuracy of a linear softmax classifier on :func:`dynamics_features`.

    Features are standardised with the training mean and standard deviation; the classifier is
    trained with full-batch L-BFGS (torch, CPU) on cross-entropy plus ``l2`` times the squared
    weights.

    Args:
        x_train, x_test: float (N, M, T, V, 3), metres.
        y_train, y_test: int (N,), labels 0..K-1.
        l2: weight decay strength (default 1e-3).
        max_iter: L-BFGS iterations (default 200).
        per_class: also return per-class recall (see :func:`nearest_centroid_accuracy`).
        seed: torch seed for the initialisation.

    Returns:
        Accuracy in [0, 1] (and the per-class dict with ``per_class``).
    """
    import torch

    x_train, y_train = _check_xy(x_train, y_train, "training set")
    x_test, y_test = _check_xy(x_test, y_test, "test set")
    ftr, fte = dynamics_features(x_train), dynamics_features(x_test)
    mu, sd = ftr.mean(0), ftr.std(0) + 1e-6
    ftr, fte = (ftr - mu) / sd, (fte - mu) / sd
    g = torch.Generator().manual_seed(int(seed))
    n_cls = int(max(y_train.max(), y_test.max() if len(y_test) else 0)) + 1
    w = (torch.randn(ftr.shape[1], n_cls, generator=g, dtype=torch.float64) * 0.01).requires_grad_()
    b = torch.zeros(n_cls, dtype=torch.float64, requires_grad=True)
    xt = torch.from_numpy(ftr.astype(np.float64))
    yt = torch.from_numpy(y_train)
    opt = torch.optim.LBFGS([w, b], max_iter=int(max_iter), line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(xt @ w + b, yt) + l2 * (w ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        pred = (torch.from_numpy(fte.astype(np.float64)) @ w + b).argmax(1).numpy()
    return _result(pred, y_test, per_class)


def simulated_difficulty(size: str = "smoke", seed: int = 0, frames: int = 64) -> dict:
    """Both baselines on the simulator, in memory, for the cross-subject and cross-view splits.

    Samples come from :func:`skelutils.simulate.simulate_sample` over the sessions of
    :func:`skelutils.simulate.preset_sessions` (``"smoke"``, ``"moderate"``: 40
    performers, 1,680 samples, or ``"full"``); each goes through the standard preparation
    (:func:`skelutils.prepare.select_actors`, then :func:`skelutils.prepare.prepare_sequences`
    with uniform resampling to ``frames`` and centring on person 0's hip in frame 0). Files
    without a skeleton are left out, as a data pipeline would.

    Returns:
        dict: ``n``, and for ``"cs"`` and ``"cv"``: ``n_train``, ``n_test``, ``centroid``,
        ``centroid_per_class`` and ``probe`` accuracies.
    """
    from skelutils.ntu import ACTION_IDS, ACTION_TO_LABEL
    from skelutils.prepare import prepare_sequences, select_actors
    from skelutils.simulate import preset_sessions, simulate_performance, simulate_sample
    from skelutils.splits import XSUB_TRAIN_PERFORMERS, XVIEW_TRAIN_CAMERAS

    sessions = preset_sessions(size)
    seqs, labels, perf_ids, cams = [], [], [], []
    for setup, p in sessions:
        for a in ACTION_IDS:
            for r in (1, 2):
                perf = simulate_performance(a, setup, p, r, seed=seed)
                for c in (1, 2, 3):
                    skel = simulate_sample(a, setup, c, p, r, seed=seed, performance=perf)
                    if skel.n_bodies == 0:
                        continue
                    seqs.append(select_actors(skel))
                    labels.append(ACTION_TO_LABEL[a])
                    perf_ids.append(p)
                    cams.append(c)
    x = prepare_sequences(seqs, frames=frames)
    y, perf_ids, cams = np.array(labels), np.array(perf_ids), np.array(cams)
    out: dict = {"size": size, "seed": seed, "frames": frames, "n": int(len(y))}
    splits = {"cs": np.isin(perf_ids, XSUB_TRAIN_PERFORMERS), "cv": np.isin(cams, XVIEW_TRAIN_CAMERAS)}
    for name, tr in splits.items():
        te = ~tr
        acc, pc = nearest_centroid_accuracy(x[tr], y[tr], x[te], y[te], per_class=True)
        out[name] = {"n_train": int(tr.sum()), "n_test": int(te.sum()), "centroid": round(acc, 4),
                     "centroid_per_class": {k: round(v, 3) for k, v in pc.items()},
                     "probe": round(probe_accuracy(x[tr], y[tr], x[te], y[te]), 4)}
    return out


def main(argv=None) -> None:
    """``python -m skelutils.baseline [--size smoke|moderate|full] [--seed 0]``: print JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="smoke", choices=("smoke", "moderate", "full"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--frames", type=int, default=64)
    args = ap.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    print(json.dumps(simulated_difficulty(args.size, args.seed, args.frames), indent=2))


if __name__ == "__main__":
    main()
