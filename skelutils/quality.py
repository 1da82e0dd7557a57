"""How good are generated skeleton sequences? Distribution distances, recognisability,
physical plausibility and diversity.

All functions are pure and work on numpy arrays. Features come from a
``feature_fn(x) -> (N, D)`` callable, normally the penultimate layer of a
recogniser trained on real data only (``skelutils.models``), as Kinetic-GAN
computes FID and MMD with an ST-GCN trained on real NTU data.

A distance alone means little: each one is also computed between two random
halves of the real data (:func:`real_vs_real_baseline`), which is what a
perfect generator would score at that sample size.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from skelutils.ntu import CLASS_NAMES, JOINT_NAMES

__all__ = ["fid", "mmd", "median_bandwidth", "matched_counts", "real_vs_real_baseline", "recognisability",
           "bone_length_stats", "contact_distance_stats", "diversity", "extract_features",
           "nearest_distances", "memorisation", "quality_report", "ACTOR_CONTACT_JOINTS",
           "RECEIVER_TARGET_JOINTS", "COPY_PERCENTILE", "COPY_SHARE_FLAG"]

_J = {name: i for i, name in enumerate(JOINT_NAMES)}
#: Actor (person 0) joints that strike or push: hands, hand tips, feet.
ACTOR_CONTACT_JOINTS: tuple[int, ...] = tuple(_J[n] for n in (
    "HandLeft", "HandRight", "HandTipLeft", "HandTipRight", "FootLeft", "FootRight"))
#: Receiver (person 1) joints that are hit: torso and head.
RECEIVER_TARGET_JOINTS: tuple[int, ...] = tuple(_J[n] for n in (
    "SpineBase", "SpineMid", "SpineShoulder", "Neck", "Head"))


def _feat(a, name: str, min_rows: int = 2) -> np.ndarray:
    a = np.asarray(a, np.float64)
    if a.ndim != 2:
        raise ValueError(f"{name}: expected features of shape (N, D), got {a.shape}")
    if a.shape[0] < min_rows:
        raise ValueError(f"{name}: needs at least {min_rows} samples, got {a.shape[0]}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name}: features hold NaN or inf")
    return a


def _sqrtm_psd(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((s + s.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def fid(feat_a: np.ndarray, feat_b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets.

    ``||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a^{1/2} S_b S_a^{1/2})^{1/2})``,
    computed in float64 with symmetric eigendecompositions (negative
    eigenvalues from round-off are clipped to 0), which is stable also for
    singular covariances (N < D). Covariances use ``N - 1``.

    Args:
        feat_a, feat_b: (N_a, D) and (N_b, D), N >= 2 each.

    Returns:
        FID >= 0 (feature units squared).
    """
    a, b = _feat(feat_a, "fid feat_a"), _feat(feat_b, "fid feat_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"fid: feature sizes differ ({a.shape[1]} vs {b.shape[1]})")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a = np.atleast_2d(np.cov(a, rowvar=False))
    s_b = np.atleast_2d(np.cov(b, rowvar=False))
    r = _sqrtm_psd(s_a)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh((r @ s_b @ r + (r @ s_b @ r).T) / 2), 0, None)).sum()
    val = float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * cross)
    return max(val, 0.0)


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.clip(d, 0, None)


def mmd(feat_a: np.ndarray, feat_b: np.ndarray, kernel: str = "rbf",
        bandwidth: float | str = "median") -> float:
    """Unbiased squared maximum mean discrepancy (Gretton et al. 2012).

    ``MMD^2_u = mean_{i!=j} k(a_i,a_j) + mean_{i!=j} k(b_i,b_j) - 2 mean_{i,j} k(a_i,b_j)``;
    it can be slightly negative when the two distributions are equal.

    Args:
        feat_a, feat_b: (N_a, D), (N_b, D), N >= 2 each.
        kernel: ``"rbf"`` (``exp(-||u-v||^2 / (2 sigma^2))``) or ``"linear"`` (``u.v``).
        bandwidth: sigma of the RBF kernel, or ``"median"`` (default): the median
            pairwise distance of the pooled samples (the median heuristic).

    Returns:
        MMD^2 (unitless for RBF).
    """
    a, b = _feat(feat_a, "mmd feat_a"), _feat(feat_b, "mmd feat_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"mmd: feature sizes differ ({a.shape[1]} vs {b.shape[1]})")
    if kernel == "linear":
        kaa, kbb, kab = a @ a.T, b @ b.T, a @ b.T
    elif kernel == "rbf":
        daa, dbb, dab = _sq_dists(a, a), _sq_dists(b, b), _sq_dists(a, b)
        if bandwidth == "median":
            pooled = np.concatenate([daa[np.triu_indices(len(a), 1)], dbb[np.triu_indices(len(b), 1)],
                                     dab.ravel()])
            sigma2 = float(np.median(pooled))   # (median distance)^2
            if sigma2 <= 0:
                sigma2 = 1.0
        else:
            try:
                sigma = float(bandwidth)
            except (TypeError, ValueError):
                sigma = -1.0
            if not sigma > 0:
                raise ValueError(f"mmd: bandwidth={bandwidth!r}; expected a positive float or 'median'")
            sigma2 = sigma * sigma
        g = 1.0 / (2 * sigma2)
        kaa, kbb, kab = np.exp(-g * daa), np.exp(-g * dbb), np.exp(-g * dab)
    else:
        raise ValueError(f"mmd: kernel={kernel!r}; expected 'rbf' or 'linear'")
    n, m = len(a), len(b)
    saa = (kaa.sum() - np.trace(kaa)) / (n * (n - 1))
    sbb = (kbb.sum() - np.trace(kbb)) / (m * (m - 1))
    return float(saa + sbb - 2 * kab.mean())


def median_bandwidth(feat: np.ndarray) -> float:
    """The median heuristic: the median pairwise Euclidean distance of ``feat`` (N, D).

    :func:`quality_report` takes it from the real features alone and passes the one value to
    every MMD it computes, so that the real-vs-real and real-vs-generated values share a kernel.
    Returns 1.0 when all samples coincide.
    """
    f = _feat(feat, "median_bandwidth")
    d = _sq_dists(f, f)[np.triu_indices(len(f), 1)]
    sigma2 = float(np.median(d))
    return float(np.sqrt(sigma2)) if sigma2 > 0 else 1.0


def _halves(n: int, rng: np.random.Generator, y: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if y is None:
        p = rng.permutation(n)
        return p[: n // 2], p[n // 2: 2 * (n // 2)]
    a, b = [], []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(idx.size)]
        h = idx.size // 2
        a.append(idx[:h])
        b.append(idx[h:2 * h])
    return np.concatenate(a), np.concatenate(b)


def matched_counts(real_y: np.ndarray, *others: np.ndarray) -> dict[int, int]:
    """Samples per class of the equal-size, equal-composition subsets :func:`quality_report` compares.

    Class ``c`` contributes ``k_c = min(real_c // 2, other_c, ...)`` samples to each of the two
    real halves and to every other set, so every compared pair has the same size *and* the same
    classes in the same numbers; a class missing from any set is left out of all.

    Args:
        real_y: int labels of the real set (it supplies two disjoint halves).
        others: int labels of the generated set (and any further set compared the same way).

    Returns:
        ``{label: k_c}`` for the classes with ``k_c >= 1``.
    """
    real_y = np.asarray(real_y).astype(np.int64)
    out = {}
    for c in np.unique(real_y):
        k = int((real_y == c).sum()) // 2
        for o in others:
            k = min(k, int((np.asarray(o) == c).sum()))
        if k >= 1:
            out[int(c)] = k
    return out


def _draw(y: np.ndarray, counts: dict[int, int], rng: np.random.Generator, parts: int = 1) -> list[np.ndarray]:
    """``parts`` disjoint index sets holding ``counts[c]`` samples of each class ``c``."""
    out = [[] for _ in range(parts)]
    for c, k in counts.items():
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(idx.size)]
        for j in range(parts):
            out[j].append(idx[j * k:(j + 1) * k])
    return [np.concatenate(o) if o else np.zeros(0, np.int64) for o in out]


def real_vs_real_baseline(feat: np.ndarray, y: np.ndarray | None = None, seed: int = 0,
                          kernel: str = "rbf", bandwidth: float | str = "median") -> dict[str, float]:
    """FID and MMD between two random halves of the real features (class-stratified if ``y``).

    ``bandwidth="median"`` here is the median heuristic of all of ``feat``
    (:func:`median_bandwidth`), not of the two halves' pooled distances.

    Returns:
        ``{"fid": .., "mmd": .., "n_per_half": ..}``: what a generator
        indistinguishable from the real data would score at that sample size.
    """
    f = _feat(feat, "real_vs_real_baseline", min_rows=4)
    if kernel == "rbf" and bandwidth == "median":
        bandwidth = median_bandwidth(f)
    a, b = _halves(len(f), np.random.default_rng(seed), None if y is None else np.asarray(y))
    return {"fid": fid(f[a], f[b]), "mmd": mmd(f[a], f[b], kernel, bandwidth), "n_per_half": int(len(a))}


def _flat(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, np.float64).reshape(len(x), -1)


def nearest_distances(query: np.ndarray, reference: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Root-mean-square coordinate distance from each query sequence to its nearest reference sequence.

    ``sqrt(mean over persons, frames, joints and axes of (q - r)^2)``, minimised over the
    reference set: metres per coordinate; 0 for an exact copy.

    Args:
        query: (N, 2, T, 25, 3) metres.
        reference: (R, 2, T, 25, 3) metres, the same T.

    Returns:
        float64 (N,).
    """
    qf, rf = _flat(query), _flat(reference)
    if qf.shape[1] != rf.shape[1]:
        raise ValueError(f"nearest_distances: query samples have {qf.shape[1]} values and reference "
                         f"samples {rf.shape[1]}; resample both to the same number of frames first")
    if len(rf) == 0:
        raise ValueError("nearest_distances: the reference set is empty")
    out = np.empty(len(qf))
    for i in range(0, len(qf), chunk):
        out[i:i + chunk] = _sq_dists(qf[i:i + chunk], rf).min(1)
    return np.sqrt(out / qf.shape[1])


#: A generated sample nearer to the GAN's training set than this percentile of the held-out
#: real samples' nearest distances counts as a near copy.
COPY_PERCENTILE = 5.0
#: :func:`memorisation` flags a generator when more than this share of its samples are near copies
#: (five times the share a held-out real sample shows by construction).
COPY_SHARE_FLAG = 0.25


def memorisation(gen_x: np.ndarray, train_x: np.ndarray, heldout_x: np.ndarray) -> dict[str, Any]:
    """Does the generator reproduce its training sequences? Nearest-neighbour distances in coordinates.

    For every generated sample, the distance to its nearest GAN-training sample
    (:func:`nearest_distances`); the same for real samples the GAN did not see. A generator
    that learned the distribution makes samples about as far from its training set as new real
    samples are; one that copies makes many far nearer. A generated sample nearer than the
    :data:`COPY_PERCENTILE`-th percentile of the held-out distances is a *near copy*; by
    construction about 5% of held-out samples are, and the check is ``flagged`` when more than
    :data:`COPY_SHARE_FLAG` of the generated samples are.

    Args:
        gen_x: (N, 2, T, 25, 3) generated, metres.
        train_x: (R, 2, T, 25, 3) what the GAN learned from.
        heldout_x: (H, 2, T, 25, 3) real samples outside ``train_x``, H >= 2; ideally of the same
            performers and cameras.

    Returns:
        ``{"generated": summary, "heldout": summary, "ratio_of_medians", "threshold_m",
        "near_copy_share", "heldout_near_copy_share", "flagged", "n_train"}``; a summary has
        ``mean, median, p10, p90, n`` in metres.
    """
    if len(heldout_x) < 2:
        raise ValueError(f"memorisation: needs at least 2 held-out real samples, got {len(heldout_x)}")
    dg = nearest_distances(gen_x, train_x)
    dh = nearest_distances(heldout_x, train_x)
    thr = float(np.percentile(dh, COPY_PERCENTILE))
    share = float((dg < thr).mean()) if dg.size else float("nan")
    med_h = float(np.median(dh))
    return {"generated": _summary(dg), "heldout": _summary(dh),
            "ratio_of_medians": float(np.median(dg)) / med_h if med_h > 0 and dg.size else None,
            "threshold_m": thr, "near_copy_share": share,
            "heldout_near_copy_share": float((dh < thr).mean()),
            "flagged": bool(share > COPY_SHARE_FLAG), "n_train": int(len(train_x))}


def recognisability(pred_labels: np.ndarray, y: np.ndarray,
                    class_names: tuple[str, ...] = CLASS_NAMES) -> dict[str, Any]:
    """Accuracy of a real-trained classifier on generated samples of known class.

    Args:
        pred_labels: int (N,) predicted labels.
        y: int (N,) the classes the samples were generated for.
        class_names: names, in label order.

    Returns:
        ``{"accuracy", "per_class": {name: acc or None if no samples}, "chance", "n"}``.
    """
    p = np.asarray(pred_labels).astype(np.int64).ravel()
    t = np.asarray(y).astype(np.int64).ravel()
    if p.shape != t.shape:
        raise ValueError(f"recognisability: {p.size} predictions for {t.size} labels")
    per = {}
    for c, name in enumerate(class_names):
        m = t == c
        per[name] = float((p[m] == c).mean()) if m.any() else None
    return {"accuracy": float((p == t).mean()) if t.size else float("nan"), "per_class": per,
            "chance": 1.0 / len(class_names), "n": int(t.size)}


def _check_x(x, name: str) -> np.ndarray:
    x = np.asarray(x, np.float64)
    if x.ndim != 5 or x.shape[3] != len(JOINT_NAMES) or x.shape[4] != 3:
        raise ValueError(f"{name}: expected (N, M, T, 25, 3) coordinates in metres, got {x.shape}")
    return x


def _present(x: np.ndarray) -> np.ndarray:
    """bool (N, M, T): a person is present in a frame when any coordinate is non-zero."""
    return np.abs(x).sum(axis=(3, 4)) > 0


def bone_length_stats(x: np.ndarray, bones=None) -> np.ndarray:
    """Per-sample coefficient of variation of bone lengths over time.

    For each present person and each Kinect v2 bone (child, parent), the length
    over the frames where that person is present gives ``std / mean``; the
    result is the mean over bones and persons. A rigid body scores 0; real
    Kinect data score a few percent (tracking noise); a generator that lets
    limbs stretch scores more.

    Args:
        x: (N, M, T, 25, 3) metres.
        bones: (child, parent) pairs, default ``skelutils.ntu.BONES``.

    Returns:
        float64 (N,); NaN for a sample in which no person is present in 2+ frames.
    """
    from skelutils.ntu import BONES
    x = _check_x(x, "bone_length_stats")
    b = np.asarray(BONES if bones is None else bones)
    lengths = np.linalg.norm(x[..., b[:, 0], :] - x[..., b[:, 1], :], axis=-1)   # (N, M, T, B)
    pres = _present(x)[..., None]                                                # (N, M, T, 1)
    cnt = pres.sum(2)                                                            # (N, M, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(pres, lengths, 0).sum(2) / cnt
        var = np.where(pres, (lengths - mean[:, :, None]) ** 2, 0).sum(2) / cnt
        cv = np.sqrt(var) / mean                                                 # (N, M, B)
    ok = (cnt >= 2) & (mean > 0)
    cv = np.where(ok, cv, np.nan)
    out = np.full(x.shape[0], np.nan)
    has = np.isfinite(cv).any(axis=(1, 2))
    if has.any():
        out[has] = np.nanmean(cv[has].reshape(int(has.sum()), -1), axis=1)
    return out


def contact_distance_stats(x: np.ndarray, actor_joints=ACTOR_CONTACT_JOINTS,
                           receiver_joints=RECEIVER_TARGET_JOINTS) -> dict[str, np.ndarray]:
    """Distance between the actor's striking joints and the receiver's torso/head.

    Per frame where both people are present: the smallest distance between any
    actor joint (person 0: hands, hand tips, feet) and any receiver joint
    (person 1: spine base, spine mid, spine shoulder, neck, head). Per sample:
    the minimum and the mean of that over frames. Harmful interactions come
    close (a punch reaches ~0-0.2 m); a generator that ignores the second
    person does not.

    Args:
        x: (N, 2, T, 25, 3) metres, actor first.

    Returns:
        ``{"min": (N,), "mean": (N,)}`` metres, NaN where the two are never both present.
    """
    x = _check_x(x, "contact_distance_stats")
    if x.shape[1] < 2:
        raise ValueError(f"contact_distance_stats: needs two persons on axis 1, got M={x.shape[1]}")
    act = x[:, 0][:, :, list(actor_joints)]                  # (N, T, A, 3)
    rec = x[:, 1][:, :, list(receiver_joints)]               # (N, T, R, 3)
    d = np.linalg.norm(act[:, :, :, None] - rec[:, :, None], axis=-1).min(axis=(2, 3))   # (N, T)
    pres = _present(x)
    both = pres[:, 0] & pres[:, 1]
    dmin = np.where(both, d, np.inf).min(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        dmean = np.where(both, d, 0).sum(1) / both.sum(1)
    dmin = np.where(both.any(1), dmin, np.nan)
    return {"min": dmin, "mean": np.where(both.any(1), dmean, np.nan)}


def _mean_pairwise(f: np.ndarray) -> float:
    if len(f) < 2:
        return float("nan")
    d = np.sqrt(_sq_dists(f, f))
    n = len(f)
    return float(d[np.triu_indices(n, 1)].mean())


def diversity(feat: np.ndarray, y: np.ndarray, class_names: tuple[str, ...] = CLASS_NAMES,
              max_per_class: int | None = 1000, seed: int = 0) -> dict[str, Any]:
    """Mean pairwise Euclidean feature distance, within each class and overall.

    A generator that collapses to a few modes scores well below the real data.

    Args:
        feat: (N, D) features.
        y: int (N,) labels.
        max_per_class: random subsample per class (and ``7x`` that overall) to bound
            the O(N^2) cost; None uses everything.
        seed: seed of the subsample.

    Returns:
        ``{"overall": float, "per_class": {name: float or None}}``.
    """
    f = _feat(feat, "diversity", min_rows=1)
    y = np.asarray(y).astype(np.int64)
    if y.shape != (len(f),):
        raise ValueError(f"diversity: y has shape {y.shape}; expected ({len(f)},)")
    rng = np.random.default_rng(seed)

    def sub(idx, k):
        return idx if k is None or idx.size <= k else idx[rng.permutation(idx.size)[:k]]

    per = {}
    for c, name in enumerate(class_names):
        idx = sub(np.flatnonzero(y == c), max_per_class)
        per[name] = _mean_pairwise(f[idx]) if idx.size >= 2 else None
    overall = _mean_pairwise(f[sub(np.arange(len(f)), None if max_per_class is None
                                   else max_per_class * len(class_names))])
    return {"overall": overall, "per_class": per}


def extract_features(feature_fn: Callable, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Apply ``feature_fn`` batch by batch; torch tensors are converted to numpy.

    Args:
        feature_fn: takes float32 (B, 2, T, 25, 3) numpy, returns (B, D) array or tensor.
        x: (N, 2, T, 25, 3).

    Returns:
        float64 (N, D).
    """
    outs = []
    for i in range(0, len(x), batch_size):
        o = feature_fn(np.asarray(x[i:i + batch_size], np.float32))
        if hasattr(o, "detach"):
            o = o.detach().cpu().numpy()
        o = np.asarray(o, np.float64)
        if o.ndim != 2 or len(o) != len(x[i:i + batch_size]):
            raise ValueError(f"feature_fn returned shape {o.shape} for a batch of "
                             f"{len(x[i:i + batch_size])}; expected (B, D)")
        outs.append(o)
    return np.concatenate(outs) if outs else np.zeros((0, 0))


def _summary(v: np.ndarray) -> dict[str, float | int]:
    v = np.asarray(v, np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"mean": None, "median": None, "p10": None, "p90": None, "n": 0}
    return {"mean": float(v.mean()), "median": float(np.median(v)), "p10": float(np.percentile(v, 10)),
            "p90": float(np.percentile(v, 90)), "n": int(v.size)}


def _distances(fr: np.ndarray, real_y: np.ndarray, others: dict[str, tuple[np.ndarray, np.ndarray]],
               rng: np.random.Generator, repeats: int, bandwidth: float) -> dict[str, Any]:
    """FID and MMD of each set in ``others`` against real half A, next to real half B against A."""
    counts = matched_counts(real_y, *(y for _, y in others.values()))
    n = sum(counts.values())
    if n < 2:
        return {}
    vals = {m: {k: [] for k in ("real_vs_real", *others)} for m in ("fid", "mmd")}
    for _ in range(repeats):
        a, b = _draw(real_y, counts, rng, parts=2)
        sets = {"real_vs_real": fr[b]}
        for name, (f, y) in others.items():
            sets[name] = f[_draw(y, counts, rng)[0]]
        for name, f in sets.items():
            vals["fid"][name].append(fid(fr[a], f))
            vals["mmd"][name].append(mmd(fr[a], f, "rbf", bandwidth))
    out = {}
    for m, per in vals.items():
        rr = float(np.mean(per["real_vs_real"]))
        out[m] = {"real_vs_real": rr, "n": int(n), "repeats": int(repeats),
                  "per_class": {CLASS_NAMES[c] if c < len(CLASS_NAMES) else str(c): k for c, k in counts.items()}}
        for name in others:
            v = float(np.mean(per[name]))
            out[m][name] = v
            key = "ratio" if name == "real_vs_generated" else f"ratio_{name}"
            out[m][key] = (v / rr) if m == "fid" and rr > 0 else None
        if m == "mmd":
            out[m]["bandwidth"] = float(bandwidth)
    return out


def quality_report(real_x: np.ndarray, real_y: np.ndarray, gen_x: np.ndarray, gen_y: np.ndarray, *,
                   feature_fn: Callable | None = None, gen_pred: np.ndarray | None = None,
                   predict_fn: Callable | None = None, gan_train_x: np.ndarray | None = None,
                   gan_train_y: np.ndarray | None = None, heldout_x: np.ndarray | None = None,
                   repeats: int = 5, seed: int = 0, batch_size: int = 256,
                   class_names: tuple[str, ...] = CLASS_NAMES) -> dict[str, Any]:
    """All quality measures as a JSON-ready dict (notebook 02 writes it to
    ``artifacts/<profile>/gan/quality.json``).

    FID and MMD compare sets of equal size and equal class composition
    (:func:`matched_counts`): class ``c`` gives ``k_c`` samples to each of two disjoint real
    halves A and B and to the generated subset G. The baseline is A vs B, the generator's
    score A vs G; both are biased upward at small ``n`` by the same amount, so their ratio is
    what to read: a generator that draws from the real distribution scores a ratio near 1.
    Each value is the mean over ``repeats`` independent draws of A, B and G. One RBF
    bandwidth, the median heuristic of the real features (:func:`median_bandwidth`), serves
    every MMD. With ``gan_train_x`` the GAN's training samples are scored the same way
    (``real_vs_gan_train``, ``ratio_real_vs_gan_train``): what a generator that reproduced its
    training distribution exactly would score against this reference, which is above 1 when
    the reference differs from the training data (other performers or cameras).

    Args:
        real_x, real_y: real reference samples (N, 2, T, 25, 3) metres and labels. Use data
            the feature network was *not* trained on where possible (e.g. test data).
        gen_x, gen_y: generated samples and the classes they were generated for.
        feature_fn: ``(B, 2, T, 25, 3) -> (B, D)``; without it FID, MMD and
            diversity are omitted.
        gen_pred: predicted labels of the generated samples, or
        predict_fn: ``(B, 2, T, 25, 3) -> (B,)`` labels or ``(B, 7)`` scores.
            Without either, recognisability is omitted.
        gan_train_x, gan_train_y: the samples the GAN learned from (same T as ``gen_x``);
            with them the report has ``memorisation`` (:func:`memorisation`) and the
            training-data row of FID and MMD.
        heldout_x: real samples the GAN did not learn from, for ``memorisation``; default
            ``real_x``.
        repeats: draws of the subsets averaged, >= 1.
        seed: seed of the subsets.
        batch_size: batch for ``feature_fn`` / ``predict_fn``.

    Returns:
        dict with ``n_real``, ``n_generated``, and where computable
        ``fid`` / ``mmd`` (``real_vs_generated``, ``real_vs_real``, ``ratio`` (FID only;
        ``None`` for MMD, whose unbiased estimate is near 0 and may be negative), ``n``,
        ``per_class``, ``repeats``, MMD's ``bandwidth``; with ``gan_train_x`` also
        ``real_vs_gan_train`` and ``ratio_real_vs_gan_train``), ``recognisability``,
        ``memorisation``, ``bone_length_cv`` / ``contact_min_m`` / ``contact_mean_m``
        (``real`` and ``generated`` summaries), ``diversity``.
    """
    real_x, gen_x = _check_x(real_x, "quality_report real_x"), _check_x(gen_x, "quality_report gen_x")
    real_y, gen_y = np.asarray(real_y).astype(np.int64), np.asarray(gen_y).astype(np.int64)
    if int(repeats) < 1:
        raise ValueError(f"quality_report: repeats={repeats!r}; expected >= 1")
    if (gan_train_x is None) != (gan_train_y is None):
        raise ValueError("quality_report: give both gan_train_x and gan_train_y, or neither")
    if gan_train_x is not None:
        gan_train_x = _check_x(gan_train_x, "quality_report gan_train_x")
        gan_train_y = np.asarray(gan_train_y).astype(np.int64)
    rep: dict[str, Any] = {"n_real": int(len(real_x)), "n_generated": int(len(gen_x))}
    rng = np.random.default_rng(seed)
    if feature_fn is not None:
        fr = extract_features(feature_fn, real_x, batch_size)
        fg = extract_features(feature_fn, gen_x, batch_size)
        others = {"real_vs_generated": (fg, gen_y)}
        if gan_train_x is not None:
            others["real_vs_gan_train"] = (extract_features(feature_fn, gan_train_x, batch_size), gan_train_y)
        if len(fr) >= 2:
            rep.update(_distances(fr, real_y, others, rng, int(repeats), median_bandwidth(fr)))
        rep["diversity"] = {"real": diversity(fr, real_y, class_names, seed=seed),
                            "generated": diversity(fg, gen_y, class_names, seed=seed)}
    if gan_train_x is not None:
        rep["memorisation"] = memorisation(gen_x, gan_train_x, real_x if heldout_x is None
                                           else _check_x(heldout_x, "quality_report heldout_x"))
    if gen_pred is None and predict_fn is not None:
        preds = []
        for i in range(0, len(gen_x), batch_size):
            o = predict_fn(gen_x[i:i + batch_size].astype(np.float32))
            o = np.asarray(o.detach().cpu().numpy() if hasattr(o, "detach") else o)
            preds.append(o.argmax(1) if o.ndim == 2 else o)
        gen_pred = np.concatenate(preds) if preds else np.zeros(0, np.int64)
    if gen_pred is not None:
        rep["recognisability"] = recognisability(gen_pred, gen_y, class_names)
    rep["bone_length_cv"] = {"real": _summary(bone_length_stats(real_x)),
                             "generated": _summary(bone_length_stats(gen_x))}
    if real_x.shape[1] >= 2 and gen_x.shape[1] >= 2:
        cr, cg = contact_distance_stats(real_x), contact_distance_stats(gen_x)
        rep["contact_min_m"] = {"real": _summary(cr["min"]), "generated": _summary(cg["min"])}
        rep["contact_mean_m"] = {"real": _summary(cr["mean"]), "generated": _summary(cg["mean"])}
    return rep
