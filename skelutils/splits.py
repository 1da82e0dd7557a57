"""Evaluation protocols of NTU RGB+D: cross-subject, cross-view, cross-setup, plus validation.

Split names follow pyskl: ``xsub_train``, ``xsub_val``, ``xsub_test``, ``xview_train``, ...
Every split is a dict of sorted int64 index arrays ``train``, ``val``, ``test`` into the
samples of a dataset; the three are disjoint and together cover every sample. Validation
is always carved out of the training side, never out of test, and always by whole
performances: NTU films each performance (setup, performer, replication, action) with three
cameras at once, so a clip drawn alone would leave its twins from the other cameras in
training and make validation accuracy a measure of recall, not of generalisation.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

#: NTU RGB+D 120 cross-subject ("CSub") training performers (Liu et al. 2019); all others test.
#: The first 20 are NTU RGB+D 60's cross-subject training set.
XSUB_TRAIN_PERFORMERS: tuple[int, ...] = (
    1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38, 45, 46, 47, 49, 50,
    52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86, 89, 91, 92, 93, 94, 95,
    97, 98, 100, 103,
)
#: Cross-view: cameras 2 and 3 train, camera 1 test.
XVIEW_TRAIN_CAMERAS: tuple[int, ...] = (2, 3)
#: The splits (NTU RGB+D's evaluation protocols): allowed values of ``protocol``.
SPLITS: tuple[str, ...] = ("xsub", "xview", "xset")
#: The parts of a split.
PARTS: tuple[str, ...] = ("train", "val", "test")

_NEEDS = {"xsub": "performer", "xview": "camera", "xset": "setup"}
#: The fields that name one performance; its clips differ only in ``camera``.
PERFORMANCE_FIELDS: tuple[str, ...] = ("setup", "performer", "replication", "action")


def _field(meta, name: str) -> np.ndarray:
    if hasattr(meta, "meta") and not isinstance(meta, Mapping):
        meta = meta.meta
    if not isinstance(meta, Mapping) or name not in meta:
        have = sorted(meta) if isinstance(meta, Mapping) else type(meta).__name__
        raise KeyError(f"split: the sample metadata has no {name!r} field (have: {have}); pass "
                       "Dataset.meta or a dict of per-sample int arrays")
    return np.asarray(meta[name]).astype(np.int64).reshape(-1)


def _strata(meta, n: int) -> np.ndarray:
    """Per-sample class for stratification: ``label`` or ``action`` when present, else one class."""
    src = _mapping(meta)
    for key in ("label", "action"):
        if isinstance(src, Mapping) and key in src:
            return np.asarray(src[key]).astype(np.int64).reshape(-1)
    return np.zeros(n, np.int64)


def _mapping(meta):
    return meta.meta if hasattr(meta, "meta") and not isinstance(meta, Mapping) else meta


def performance_ids(meta, n: int | None = None) -> np.ndarray:
    """int64 (N,): one id per performance, shared by the clips of the cameras that filmed it.

    Samples with equal :data:`PERFORMANCE_FIELDS` (setup, performer, replication, action) get
    the same id; ids are 0, 1, ... in the order of first appearance. A field the metadata lacks
    is left out of the key; with none of them each sample is a performance of its own.

    Args:
        meta: mapping of per-sample int arrays (``Dataset.meta``) or a ``Dataset``.
        n: number of samples, needed only when ``meta`` holds none of the fields.
    """
    src = _mapping(meta)
    cols = [np.asarray(src[f]).astype(np.int64).reshape(-1)
            for f in PERFORMANCE_FIELDS if isinstance(src, Mapping) and f in src]
    if not cols:
        if n is None:
            raise ValueError("performance_ids: the metadata has none of "
                             f"{list(PERFORMANCE_FIELDS)}; pass n to treat each sample as one")
        return np.arange(n, dtype=np.int64)
    _, first, inverse = np.unique(np.stack(cols, axis=1), axis=0, return_index=True,
                                  return_inverse=True)
    order = np.argsort(np.argsort(first, kind="stable"), kind="stable")
    return order[inverse.reshape(-1)].astype(np.int64)


def is_train(meta, protocol: str) -> np.ndarray:
    """bool (N,): whether each sample is on the training side of ``protocol``.

    Args:
        meta: mapping with per-sample int arrays ``performer`` (xsub), ``camera`` (xview)
            or ``setup`` (xset), e.g. ``Dataset.meta``; a ``Dataset`` itself is accepted.
        protocol: ``"xsub"``, ``"xview"`` or ``"xset"``.
    """
    if protocol not in SPLITS:
        raise ValueError(f"protocol={protocol!r} is not supported; allowed: {', '.join(SPLITS)}")
    values = _field(meta, _NEEDS[protocol])
    if protocol == "xsub":
        return np.isin(values, XSUB_TRAIN_PERFORMERS)
    if protocol == "xview":
        return np.isin(values, XVIEW_TRAIN_CAMERAS)
    return values % 2 == 0


def make_split(meta, protocol: str, val_fraction: float = 0.1, seed: int = 0) -> dict[str, np.ndarray]:
    """Train / validation / test indices for one protocol.

    Protocols (Shahroudy et al. 2016; Liu et al. 2019):

    - ``"xsub"``: performers in :data:`XSUB_TRAIN_PERFORMERS` train, all others test.
      Validation holds out whole training performers (no person is in both train and
      val): ``round(val_fraction * P)`` of the P training performers present, at least
      one and at most P - 1, drawn with ``seed``.
    - ``"xview"``: cameras 2 and 3 train, camera 1 test. Validation holds out whole
      performances (:func:`performance_ids`), both training cameras' clips of each together,
      drawn per action class: ``round(val_fraction * P_c)`` of the P_c training performances
      of class c, at most P_c - 1. The test clips of the validation performances are still
      in test: the protocol itself tests on other views of the training performances.
    - ``"xset"``: even setup ids train, odd test (NTU 120 CSet). Validation as for xview
      (three cameras' clips per performance); no performance spans train and test.

    Args:
        meta: mapping of per-sample int arrays (``Dataset.meta``; needs ``performer``,
            ``camera`` or ``setup``; ``label`` or ``action`` is used to stratify, the fields
            of :data:`PERFORMANCE_FIELDS` to keep each performance on one side); a
            ``Dataset`` is accepted too.
        protocol: ``"xsub"``, ``"xview"`` or ``"xset"``.
        val_fraction: share of the training performers (xsub) or performances (xview,
            xset) moved to validation, in [0, 1); 0 gives an empty validation set. Default 0.1.
        seed: seed of the validation draw (the same seed always gives the same split).

    Returns:
        ``{"train": idx, "val": idx, "test": idx}``, sorted int64 arrays, disjoint,
        covering ``range(N)``.

    Raises:
        ValueError: unknown protocol (the allowed ones are listed) or ``val_fraction``
            outside [0, 1).
        KeyError: the metadata lacks the field the protocol needs.
    """
    if not 0.0 <= float(val_fraction) < 1.0:
        raise ValueError(f"val_fraction={val_fraction!r}: expected a fraction in [0, 1)")
    train_mask = is_train(meta, protocol)
    n = len(train_mask)
    train = np.flatnonzero(train_mask)
    test = np.flatnonzero(~train_mask)
    rng = np.random.default_rng([int(seed), SPLITS.index(protocol)])
    val = np.zeros(0, np.int64)
    if val_fraction > 0 and len(train):
        if protocol == "xsub":
            performers = _field(meta, "performer")
            pool = np.unique(performers[train])
            if len(pool) >= 2:
                k = int(min(max(1, round(val_fraction * len(pool))), len(pool) - 1))
                held = rng.choice(pool, size=k, replace=False)
                val = train[np.isin(performers[train], held)]
        else:
            groups = performance_ids(meta, n)[train]
            strata = _strata(meta, n)[train]
            picks = []
            for c in np.unique(strata):
                pool = np.unique(groups[strata == c])
                k = min(int(round(val_fraction * len(pool))), len(pool) - 1)
                if k > 0:
                    picks.append(rng.choice(pool, size=k, replace=False))
            if picks:
                val = train[np.isin(groups, np.concatenate(picks))]
    val = np.sort(val.astype(np.int64))
    train = np.setdiff1d(train, val).astype(np.int64)
    return {"train": train, "val": val, "test": test.astype(np.int64)}


def split_name(protocol: str, part: str) -> str:
    """pyskl-style name of one part, e.g. ``split_name("xsub", "val") == "xsub_val"``."""
    if protocol not in SPLITS:
        raise ValueError(f"protocol={protocol!r} is not supported; allowed: {', '.join(SPLITS)}")
    if part not in PARTS:
        raise ValueError(f"part={part!r} is not supported; allowed: {', '.join(PARTS)}")
    return f"{protocol}_{part}"


def named_splits(meta, protocols=SPLITS, val_fraction: float = 0.1, seed: int = 0) -> dict[str, np.ndarray]:
    """All parts of several protocols under pyskl names (``xsub_train``, ``xsub_val``, ``xsub_test``, ...).

    Args:
        meta, val_fraction, seed: as in :func:`make_split`.
        protocols: iterable of protocol names (default all three).

    Returns:
        dict of name -> sorted int64 index array.
    """
    out: dict[str, np.ndarray] = {}
    for protocol in protocols:
        for part, idx in make_split(meta, protocol, val_fraction, seed).items():
            out[split_name(protocol, part)] = idx
    return out


def parse_split_name(name: str) -> tuple[str, str]:
    """Inverse of :func:`split_name`: ``"xview_train" -> ("xview", "train")``."""
    protocol, _, part = name.partition("_")
    if protocol not in SPLITS or part not in PARTS:
        allowed = [split_name(p, q) for p in SPLITS for q in PARTS]
        raise ValueError(f"split name {name!r} is not known; allowed: {', '.join(allowed)}")
    return protocol, part
