"""The glue between a profile, the dataset artifact and the training engine.

One call trains one recogniser on one split exactly as the training notebooks
(03-05) and ``torchrun -m skelutils.train`` do, writing
``artifacts/<profile>/results/<model>_<split>.json``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import config
from .ntu import CLASS_NAMES


def split_arrays(ds, protocol: str, cfg: dict) -> dict[str, Any]:
    """Training data for ``fit``: ``x_train, y_train, x_val, y_val, x_test, y_test`` of one split.

    Args:
        ds: a ``skelutils.dataset.Dataset`` (notebook 01's artifact).
        protocol: ``"xsub"``, ``"xview"`` or ``"xset"``.
        cfg: the profile (``data.val_fraction`` and ``seed`` are used).
    """
    from .splits import make_split
    parts = make_split(ds.meta, protocol, val_fraction=cfg["data"]["val_fraction"], seed=cfg["seed"])
    out: dict[str, Any] = {"class_names": list(CLASS_NAMES), "indices": parts}
    for part, idx in parts.items():
        out[f"x_{part}"] = ds.x[idx]
        out[f"y_{part}"] = ds.y[idx].astype(np.int64)
    return out


def train_recogniser(cfg: dict, model: str, protocol: str, ds, *, progress: bool = False,
                     meta: dict | None = None, tag: str = "") -> dict[str, Any]:
    """Train ``model`` on split ``protocol`` with the profile's settings; return the results dict.

    Checkpoints go to ``artifacts/<profile>/runs/<model>_<split><tag>/`` (an interrupted run
    resumes there), results to ``artifacts/<profile>/results/<model>_<split><tag>.json``.
    """
    from .train import fit
    mcfg = cfg["models"][model]
    tcfg = cfg["train"]
    data = split_arrays(ds, protocol, cfg)
    data.pop("indices")
    run = f"{model}_{protocol}{tag}"
    info = {"profile": cfg["name"], "split": protocol, "data_source": ds.source,
            "raw_fingerprint": ds.fingerprint, "protocol": "real-only", "gan_fraction": 0.0}
    info.update(meta or {})
    return fit(model, data, model_params=dict(mcfg.get("params") or {}), epochs=int(tcfg["epochs"]),
               batch_size=int(tcfg["batch_size"]), optimizer=mcfg["optimizer"], lr=float(mcfg["lr"]),
               weight_decay_fc=float(tcfg["weight_decay_fc"]),
               plateau_patience=int(tcfg["plateau_patience"]), seed=int(cfg["seed"]),
               device=tcfg.get("device", "auto"), run_dir=config.artifacts_dir(cfg, "runs", run),
               results_path=config.artifacts_dir(cfg, "results") / f"{run}.json",
               meta=info, progress=progress)
