"""The glue between a profile, the dataset artifact, the generated samples and the training engine.

One call trains one recogniser on one split exactly as the training notebooks
(03-05), the ablation (07) and the command line (``skelutils.run``, also under torchrun) do, writing
``artifacts/<profile>/results/<run>.json`` where ``<run>`` is :func:`run_name`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from . import config
from .ntu import CLASS_NAMES

#: Values of a profile's ``hybrid.protocol``: real data only, or one of ``skelutils.hybrid.PROTOCOLS``.
TRAINING_DATA = ("real-only", "paper", "clean")


def split_indices(ds, protocol: str, cfg: dict) -> dict[str, np.ndarray]:
    """``{"train", "val", "test"}`` sample indices of one split (``data.val_fraction``, ``seed``)."""
    from .splits import make_split
    return make_split(ds.meta, protocol, val_fraction=cfg["data"]["val_fraction"], seed=cfg["seed"])


def split_arrays(ds, protocol: str, cfg: dict) -> dict[str, Any]:
    """Training data for ``fit``: ``x_train, y_train, x_val, y_val, x_test, y_test`` of one split.

    Args:
        ds: a ``skelutils.dataset.Dataset`` (notebook 01's artifact).
        protocol: ``"xsub"``, ``"xview"`` or ``"xset"``.
        cfg: the profile (``data.val_fraction`` and ``seed`` are used).

    ``class_names`` follows the data set's class set (``ds.class_names``: seven harmful classes,
    or eight with "harmless interaction"), so a recogniser trained on it gets that many outputs.
    """
    parts = split_indices(ds, protocol, cfg)
    out: dict[str, Any] = {"class_names": list(getattr(ds, "class_names", CLASS_NAMES)), "indices": parts}
    for part, idx in parts.items():
        out[f"x_{part}"] = ds.x[idx]
        out[f"y_{part}"] = ds.y[idx].astype(np.int64)
    return out


def gan_training_indices(ds, cfg: dict) -> np.ndarray:
    """Indices of the samples the GAN may learn from: training (not validation) samples of
    *every* split in the profile's ``gan.train_splits`` (default ``[xsub, xview]``).

    A generator fitted to the cross-subject training set would have seen cross-view test
    samples (and the other way round), and its output is later mixed into either split's
    training data; the intersection is never test or validation data for any split listed.
    :func:`hybrid_arrays` refuses hybrid data for a split whose validation or test part the
    GAN learned from (``xset`` unless it is listed).
    """
    from .splits import SPLITS
    names = list((cfg.get("gan") or {}).get("train_splits") or ["xsub", "xview"])
    bad = [n for n in names if n not in SPLITS]
    if bad:
        raise ValueError(f"profile {cfg.get('name')!r}: gan.train_splits holds {bad}; expected a list of "
                         f"{list(SPLITS)}")
    idx = split_indices(ds, names[0], cfg)["train"]
    for name in names[1:]:
        idx = np.intersect1d(idx, split_indices(ds, name, cfg)["train"])
    return np.asarray(idx, np.int64)


def synthetic_path(cfg: dict) -> Path:
    """Where notebook 02 saves the generated samples: ``artifacts/<profile>/gan/synthetic.npz``."""
    return config.artifacts_dir(cfg, "gan") / "synthetic.npz"


def _check_training_data(protocol: str, fraction: float) -> tuple[str, float]:
    if protocol not in TRAINING_DATA:
        raise ValueError(f"training data protocol {protocol!r} unknown; choose one of {TRAINING_DATA} "
                         "(profile key hybrid.protocol or the notebook parameter HYBRID_PROTOCOL)")
    fraction = float(fraction)
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"generated fraction {fraction!r} must lie in [0, 1] (profile key hybrid.fraction "
                         "or the notebook parameter GAN_FRACTION)")
    if protocol == "real-only":
        fraction = 0.0
    return protocol, fraction


def run_name(model: str, split: str, *, protocol: str = "real-only", fraction: float = 0.0,
             seed: int | None = None, cfg: dict | None = None) -> str:
    """``<model>_<split>[_<protocol>-f<percent>][_seed<k>]``; the seed part is left out for the
    profile's first seed (``cfg["seeds"][0]``, else ``cfg["seed"]``)."""
    name = f"{model}_{split}"
    if protocol != "real-only":
        name += f"_{protocol}-f{int(round(100 * float(fraction))):03d}"
    if seed is not None and cfg is not None and int(seed) != profile_seeds(cfg)[0]:
        name += f"_seed{int(seed)}"
    return name


def run_dir(cfg: dict, run: str, results_dir: str = "results") -> Path:
    """Checkpoint folder of a run: ``artifacts/<profile>/runs/<run>`` (``runs/<results_dir>/<run>``
    for results kept outside ``results``, such as the ablation's)."""
    if results_dir == "results":
        return config.artifacts_dir(cfg, "runs", run)
    return config.artifacts_dir(cfg, "runs", results_dir, run)


def profile_seeds(cfg: dict) -> list[int]:
    """The profile's training seeds (``seeds``, default ``[seed]``)."""
    seeds = cfg.get("seeds") or [cfg.get("seed", 0)]
    return [int(s) for s in seeds]


def hybrid_arrays(ds, split: str, cfg: dict, protocol: str, fraction: float, seed: int) -> dict[str, Any]:
    """The real split arrays, with generated samples added under ``protocol`` when ``fraction`` > 0.

    The generated file must come from a GAN trained on this data set (its sidecar's
    ``dataset_fingerprint`` and ``data_source`` equal ``ds``'s) and on none of ``split``'s
    validation or test samples (its ``gan_train_indices``); otherwise a ValueError says what
    to re-run. ``seed`` draws the generated training samples; the generated validation and
    test samples of the ``paper`` protocol do not depend on it (``skelutils.hybrid.make_hybrid``).

    Returns the arrays of :func:`split_arrays` plus ``is_synthetic_test`` and a ``provenance``
    dict (protocol, fraction, per-part counts, the generated file's fingerprint).
    """
    from . import hybrid
    protocol, fraction = _check_training_data(protocol, fraction)
    data = split_arrays(ds, split, cfg)
    parts = data.pop("indices")
    if protocol == "real-only" or fraction == 0.0:
        data["is_synthetic_test"] = np.zeros(len(data["y_test"]), bool)
        data["provenance"] = {"protocol": protocol, "fraction": 0.0, "n_synthetic": {"train": 0, "val": 0, "test": 0}}
        return data
    path = synthetic_path(cfg)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: hybrid training ({protocol}, fraction {fraction}) needs "
                                f"the generated samples; run notebooks/02_gan.ipynb with PROFILE={cfg['name']} first")
    syn = hybrid.load_synthetic(path, dataset_fingerprint=ds.fingerprint, data_source=ds.source)
    gan_idx = syn["meta"].get("gan_train_indices")
    if gan_idx is None:
        raise ValueError(f"{path.with_suffix('.json')} does not record which samples the GAN learned from "
                         f"(gan_train_indices), so nothing shows that the {split} validation and test parts "
                         f"were kept from it; re-run notebooks/02_gan.ipynb with PROFILE={cfg['name']}")
    gan_idx = np.asarray(gan_idx, np.int64)
    seen = {p: int(np.isin(parts[p], gan_idx).sum()) for p in ("val", "test")}
    if any(seen.values()):
        raise ValueError(
            f"the GAN behind {path} learned from {seen['test']} samples of the {split} test part and "
            f"{seen['val']} of its validation part (it learned from the training part of "
            f"{syn['meta'].get('gan_train_splits')} only), so hybrid training on {split} would validate and "
            f"test on sequences its generator imitates. Add {split} to gan.train_splits in profile "
            f"{cfg['name']!r} (e.g. train_splits: [xsub, xview, {split}]) and re-run notebooks/02_gan.ipynb, "
            "or train with hybrid.protocol real-only on this split.")
    per_class = int(cfg.get("gan", {}).get("n_per_class", 500))
    mixed = hybrid.make_hybrid(data, syn["x"], syn["y"], protocol=protocol, fraction=fraction,
                               per_class=per_class, seed=int(seed))
    prov = dict(mixed.pop("provenance"))
    prov["synthetic_file"] = str(path.relative_to(config.repo_root())) if path.is_relative_to(config.repo_root()) \
        else str(path)
    prov["synthetic_fingerprint"] = syn["meta"].get("file_fingerprint")
    out = {k: mixed[k] for k in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test",
                                 "is_synthetic_test")}
    out["class_names"] = data["class_names"]
    out["provenance"] = prov
    return out


def train_recogniser(cfg: dict, model: str, split: str, ds, *, seed: int | None = None,
                     protocol: str | None = None, fraction: float | None = None, epochs: int | None = None,
                     results_dir: str = "results", progress: bool = False, resume: bool = True,
                     meta: dict | None = None, tag: str = "") -> dict[str, Any]:
    """Train ``model`` on ``split`` with the profile's settings; return the results dict.

    Args:
        cfg: the profile.
        model: ``cnn3d_lstm``, ``li2017_cnn`` or ``rrn_lstm``.
        split: ``xsub``, ``xview`` or ``xset``.
        ds: the dataset artifact of notebook 01.
        seed: training seed (default: the profile's first seed).
        protocol: ``real-only``, ``paper`` or ``clean`` (default: the profile's ``hybrid.protocol``).
        fraction: generated share, 0 to 1 (default: the profile's ``hybrid.fraction``).
        epochs: default the profile's ``train.epochs``.
        results_dir: folder under ``artifacts/<profile>/`` for the results JSON (the
            ablation writes to ``ablation``).
        tag: appended to the run name.

    Checkpoints go to :func:`run_dir` (an interrupted run resumes
    there; a finished one is only re-tested), results to ``artifacts/<profile>/<results_dir>/<run>.json``.
    Besides the engine's fields the results hold ``protocol``, ``gan_fraction``, ``hybrid``
    (per-part generated counts) and ``test_accuracy_real`` (accuracy on the real test samples
    alone, which differs from ``test_accuracy`` under the paper protocol).
    """
    from .train import fit
    hcfg = cfg.get("hybrid") or {}
    protocol, fraction = _check_training_data(protocol if protocol is not None else hcfg.get("protocol", "real-only"),
                                              fraction if fraction is not None else hcfg.get("fraction", 0.0))
    seed = profile_seeds(cfg)[0] if seed is None else int(seed)
    mcfg = cfg["models"][model]
    tcfg = cfg["train"]
    data = hybrid_arrays(ds, split, cfg, protocol, fraction, seed)
    is_syn_test = data.pop("is_synthetic_test")
    prov = data.pop("provenance")
    run = run_name(model, split, protocol=protocol, fraction=fraction, seed=seed, cfg=cfg) + tag
    info = {"profile": cfg["name"], "split": split, "data_source": ds.source,
            "raw_fingerprint": ds.fingerprint, "protocol": protocol, "gan_fraction": fraction,
            "hybrid": prov, "results_set": results_dir}
    info.update(meta or {})
    results_path = config.artifacts_dir(cfg, results_dir) / f"{run}.json"
    res = fit(model, data, model_params=dict(mcfg.get("params") or {}),
              epochs=int(epochs if epochs is not None else tcfg["epochs"]),
              batch_size=int(tcfg["batch_size"]), optimizer=mcfg["optimizer"], lr=float(mcfg["lr"]),
              weight_decay_fc=float(tcfg["weight_decay_fc"]),
              plateau_patience=int(tcfg["plateau_patience"]), seed=seed,
              device=tcfg.get("device", "auto"), checkpoint_every=int(tcfg.get("checkpoint_every", 1)),
              max_steps_per_epoch=tcfg.get("max_steps_per_epoch"), run_dir=run_dir(cfg, run, results_dir),
              results_path=None, meta=info, progress=progress, resume=resume)
    pred = np.asarray(res["test_predictions"])
    real = ~is_syn_test
    res["test_accuracy_real"] = float((pred[real] == data["y_test"][real]).mean()) if real.any() else None
    res["n_test_synthetic"] = int(is_syn_test.sum())
    if int(os.environ.get("RANK", "0")) == 0:
        config.write_json(results_path, res)  # once, complete, atomically
    return res


# ----------------------------------------------------------------------------- GAN (notebook 02)

def profile_gan_config(cfg: dict):
    """The profile's ``(GANConfig, {"iterations", "batch_size"})``: the preset ``gan.preset``
    with the fields given in ``gan.config`` replaced (for example ``{aux_weight: 0}`` or
    ``{output: joints}`` to train the Kinetic-GAN form at the cpu30 sizes)."""
    from . import gan
    gcfg = cfg.get("gan") or {}
    gan_cfg, run = gan.gan_preset(gcfg.get("preset", "smoke"))
    over = gcfg.get("config") or {}
    if not isinstance(over, dict):
        raise ValueError(f"profile {cfg.get('name')!r}: gan.config must be a mapping of GANConfig fields, "
                         f"got {over!r}")
    if over:
        try:
            gan_cfg = gan.GANConfig.from_dict({**gan_cfg.to_dict(), **over})
        except (TypeError, ValueError) as e:
            raise ValueError(f"profile {cfg.get('name')!r}, gan.config: {e}") from e
    return gan_cfg, run


def train_profile_gan(cfg: dict, ds, *, progress: bool = False) -> dict[str, Any]:
    """Train (or resume) the profile's GAN on :func:`gan_training_indices` of ``ds``.

    The preset comes from ``gan.preset`` (``skelutils.gan.GAN_PRESETS``), with ``gan.config``
    fields replaced (:func:`profile_gan_config`); ``gan.iterations`` overrides its length.
    Checkpoints go to ``artifacts/<profile>/gan/run/``.

    Returns:
        dict with ``history`` (see ``skelutils.gan.train_gan``), ``run_dir``, ``preset``,
        ``config`` (the GANConfig as a dict), ``iterations`` (the generator updates the
        checkpoint holds), ``iterations_requested``, ``batch_size``, ``n_train``,
        ``train_counts`` (samples per class), ``train_indices`` (into ``ds``) and
        ``train_splits``.
    """
    from . import gan
    gcfg = cfg.get("gan") or {}
    preset = gcfg.get("preset", "smoke")
    gan_cfg, run = profile_gan_config(cfg)
    idx = gan_training_indices(ds, cfg)
    splits_used = list(gcfg.get("train_splits") or ["xsub", "xview"])
    if idx.size == 0:
        raise ValueError(f"profile {cfg['name']!r}: no sample is in the training part of every split of "
                         f"gan.train_splits {splits_used}, so the GAN has nothing to learn from; check the "
                         "dataset of notebook 01 or shorten gan.train_splits")
    x, y = ds.x[idx], ds.y[idx].astype(np.int64)
    batch = min(int(run["batch_size"]), len(y))
    if gcfg.get("iterations") is not None:
        iterations = int(gcfg["iterations"])
    elif "epochs" in run:                      # a preset whose length is in epochs (kinetic_gan)
        iterations = gan.epochs_to_iterations(run["epochs"], len(y), batch, gan_cfg.n_critic)
    else:
        iterations = int(run["iterations"])
    gdir = config.artifacts_dir(cfg, "gan", "run")
    if (gdir / gan.CHECKPOINT_NAME).is_file():
        have = int(gan.load_generator(gdir).meta["iteration"])
        if have > iterations:
            raise ValueError(f"{gdir / gan.CHECKPOINT_NAME} holds a GAN run of {have} generator updates, more "
                             f"than the {iterations} requested (profile key gan.iterations, notebook parameter "
                             f"ITERATIONS); request at least {have} to use or extend that run, or delete {gdir} "
                             "to train afresh")
    hist = gan.train_gan(x, y, gan_cfg, run_dir=gdir, iterations=iterations, batch_size=batch,
                         seed=int(cfg.get("seed", 0)), device=cfg.get("train", {}).get("device", "auto"),
                         progress=progress)
    done = int(gan.load_generator(gdir).meta["iteration"])
    return {"history": hist, "run_dir": gdir, "preset": preset, "config": gan_cfg.to_dict(),
            "iterations": done, "iterations_requested": iterations, "batch_size": batch,
            "n_train": int(len(y)), "train_counts": np.bincount(y, minlength=len(CLASS_NAMES)).tolist(),
            "train_indices": idx, "train_splits": splits_used}


def generate_synthetic(cfg: dict, ds, gan_info: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``gan.n_per_class`` sequences per class from the trained generator, at the
    dataset's frame count, and save them with their provenance to :func:`synthetic_path`.

    The provenance records the generator updates the checkpoint holds (``iterations``), the
    data set (``data_source``, ``dataset_fingerprint``) and the samples the GAN learned from
    (``gan_train_indices``, ``gan_train_splits``), which :func:`hybrid_arrays` checks."""
    from . import gan, hybrid
    n = int((cfg.get("gan") or {}).get("n_per_class", 500))
    seed = int(cfg.get("seed", 0))
    gen = gan.load_generator(gan_info["run_dir"])
    x, y = gan.sample(gen, n, seed=seed, frames=int(ds.x.shape[2]))
    hist = gan_info["history"]
    hybrid.save_synthetic(synthetic_path(cfg), x, y, meta={
        "gan_config": gan_info["config"], "preset": gan_info["preset"], "seed": seed,
        "iterations": int(gen.meta["iteration"]), "batch_size": gan_info["batch_size"],
        "train_seconds": float(gen.meta["seconds"]),
        "n_gan_train": gan_info["n_train"], "data_source": ds.source, "profile": cfg["name"],
        "dataset_fingerprint": ds.fingerprint,
        "gan_train_indices": np.asarray(gan_info["train_indices"]).astype(int).tolist(),
        "gan_train_splits": list(gan_info["train_splits"])})
    return x, y


def measure_gan_quality(cfg: dict, ds, gen_x: np.ndarray, gen_y: np.ndarray,
                        gan_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """FID, MMD, recognisability, memorisation, plausibility and diversity of generated samples,
    written to ``artifacts/<profile>/gan/quality.json``.

    The feature network is the profile's ``gan.feature_model`` trained on the real
    cross-subject training data (the same run notebook 03 reports, so it is trained once).
    The real reference of FID and MMD is the cross-subject *test* set, which neither it nor
    the GAN saw; its performers (and camera 1) differ from the GAN's training data, so the
    report also scores the GAN's training samples against it (``real_vs_gan_train``): what a
    generator that reproduced its training distribution would score. The memorisation check
    compares generated samples with the GAN's training samples, next to the real samples of
    the same performers and cameras that the GAN did not see (the validation samples of
    ``gan.train_splits``); with fewer than 2 of them, next to the reference.
    """
    import torch

    from . import gan, quality
    from .splits import is_train
    from .train import load_checkpoint_model
    model_name = (cfg.get("gan") or {}).get("feature_model", "cnn3d_lstm")
    res = train_recogniser(cfg, model_name, "xsub", ds, protocol="real-only", fraction=0.0)
    run = run_name(model_name, "xsub", cfg=cfg)
    net = load_checkpoint_model(run_dir(cfg, run) / "best.pt")

    @torch.no_grad()
    def feature_fn(b):
        return net.features(torch.from_numpy(b))

    @torch.no_grad()
    def predict_fn(b):
        return net(torch.from_numpy(b))

    real = split_arrays(ds, "xsub", cfg)
    gidx = np.asarray(gan_info["train_indices"] if gan_info and "train_indices" in gan_info
                      else gan_training_indices(ds, cfg), np.int64)
    splits_used = list((cfg.get("gan") or {}).get("train_splits") or ["xsub", "xview"])
    same = np.ones(len(ds.y), bool)
    for name in splits_used:
        same &= is_train(ds.meta, name)
    same[gidx] = False
    held = np.flatnonzero(same)
    heldout_name = f"validation samples of the GAN's performers and cameras ({', '.join(splits_used)})"
    if held.size < 2:
        held, heldout_name = real["indices"]["test"], "xsub test set"
    rep = quality.quality_report(real["x_test"], real["y_test"], gen_x, gen_y, feature_fn=feature_fn,
                                 predict_fn=predict_fn, gan_train_x=ds.x[gidx],
                                 gan_train_y=ds.y[gidx].astype(np.int64), heldout_x=ds.x[held],
                                 seed=int(cfg.get("seed", 0)))
    rep["memorisation"]["heldout_set"] = heldout_name
    rep["memorisation"]["n_heldout"] = int(held.size)
    rep["provenance"] = {
        "profile": cfg["name"], "data_source": ds.source, "dataset_fingerprint": ds.fingerprint,
        "real_reference": "xsub test set", "feature_model": model_name,
        "feature_model_results": f"artifacts/{cfg['name']}/results/{run}.json",
        "feature_model_test_accuracy": res["test_accuracy"],
        "gan_preset": (gan_info or {}).get("preset"), "gan_iterations": (gan_info or {}).get("iterations"),
        "gan_train_seconds": (float(gan_info["history"]["seconds"][-1])
                              if gan_info and gan_info["history"].get("seconds") else None),
        "gan_n_train": int(gidx.size), "gan_train_splits": splits_used,
        # contact measures need two persons: a one-person generator's have no generated sample
        "gan_persons": (gan.generated_persons(gan.GANConfig.from_dict(gan_info["config"]))
                        if gan_info and "config" in gan_info else None),
        "synthetic_file": str(synthetic_path(cfg).name), "git_commit": config.git_commit()}
    config.write_json(config.artifacts_dir(cfg, "gan") / "quality.json", rep)
    return rep


# ----------------------------------------------------------------------------- ablation (notebook 07)

def ablation_seeds(cfg: dict) -> list[int]:
    """The ablation's training seeds: ``ablation.seeds``, default the profile's first seed."""
    seeds = (cfg.get("ablation") or {}).get("seeds") or profile_seeds(cfg)[:1]
    return [int(s) for s in seeds]


def ablation_plan(cfg: dict) -> list[dict[str, Any]]:
    """The runs of the profile's ``ablation`` section: for each model, split and seed
    (:func:`ablation_seeds`), real-only training (fraction 0) and every protocol at every
    positive fraction."""
    a = cfg.get("ablation") or {}
    fractions = sorted({float(f) for f in a.get("fractions", [0.0, 1.0])})
    plan = []
    for model in a.get("models", list(cfg["models"])):
        for split in a.get("splits", ["xsub", "xview"]):
            for seed in ablation_seeds(cfg):
                plan.append({"model": model, "split": split, "protocol": "real-only", "fraction": 0.0, "seed": seed})
                for protocol in a.get("protocols", ["paper", "clean"]):
                    for f in fractions:
                        if f > 0:
                            _check_training_data(protocol, f)
                            plan.append({"model": model, "split": split, "protocol": protocol, "fraction": f,
                                         "seed": seed})
    return plan


def run_ablation(cfg: dict, ds, *, progress: bool = False) -> list[dict[str, Any]]:
    """Train every run of :func:`ablation_plan` (``ablation.epochs`` epochs) into
    ``artifacts/<profile>/ablation/``; finished runs are only re-tested.

    Returns one row per run: model, split, protocol, fraction, seed, ``test_accuracy`` (on the
    run's test set, which under the paper protocol holds generated samples),
    ``test_accuracy_real`` (real test samples only), the counts and the results file. The
    summary file also holds :func:`ablation_cells` (mean and spread over seeds).
    """
    epochs = int((cfg.get("ablation") or {}).get("epochs", cfg["train"]["epochs"]))
    rows = []
    for p in ablation_plan(cfg):
        r = train_recogniser(cfg, p["model"], p["split"], ds, protocol=p["protocol"], fraction=p["fraction"],
                             seed=p["seed"], epochs=epochs, results_dir="ablation", progress=progress)
        name = run_name(p["model"], p["split"], protocol=p["protocol"], fraction=p["fraction"], seed=p["seed"],
                        cfg=cfg)
        rows.append({**p, "test_accuracy": r["test_accuracy"], "test_accuracy_real": r["test_accuracy_real"],
                     "n_train": r["n_train"], "n_test": r["n_test"], "n_test_synthetic": r["n_test_synthetic"],
                     "best_epoch": r["best_epoch"], "epochs": r["epochs"], "seed": r["seed"],
                     "train_seconds": r["train_seconds"],
                     "file": f"artifacts/{cfg['name']}/ablation/{name}.json"})
    config.write_json(config.artifacts_dir(cfg, "ablation") / "summary.json",
                      {"profile": cfg["name"], "data_source": ds.source, "epochs": epochs,
                       "seeds": ablation_seeds(cfg), "runs": rows, "cells": ablation_cells(rows),
                       "gains": ablation_gains(rows), "git_commit": config.git_commit()})
    return rows


def ablation_cells(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ablation's runs grouped over seeds: per model, split, protocol and fraction the mean
    and sample standard deviation (``None`` with one seed) of both accuracies, and the seeds."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["model"], r["split"], r["protocol"], float(r["fraction"])), []).append(r)
    out = []
    for (model, split, protocol, fraction), rs in groups.items():
        cell = {"model": model, "split": split, "protocol": protocol, "fraction": fraction,
                "seeds": [int(r["seed"]) for r in rs], "n": len(rs)}
        for key in ("test_accuracy", "test_accuracy_real"):
            v = np.array([r[key] for r in rs], float)
            cell[f"{key}_mean"] = float(v.mean())
            cell[f"{key}_std"] = float(v.std(ddof=1)) if len(v) > 1 else None
        out.append(cell)
    return out


def ablation_gains(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy points each hybrid protocol adds over real-only training of the same model, split
    and seed, averaged over every run of that protocol: ``{protocol: {"real": .., "own": ..}}``
    (``real``: on the real test samples; ``own``: on the run's own test set), NaN without runs."""
    base = {(r["model"], r["split"], r["seed"]): r for r in rows if r["protocol"] == "real-only"}
    out: dict[str, Any] = {}
    for protocol in sorted({r["protocol"] for r in rows} - {"real-only"}):
        d_real, d_own = [], []
        for r in rows:
            b = base.get((r["model"], r["split"], r["seed"]))
            if r["protocol"] == protocol and b is not None:
                d_real.append(100 * (r["test_accuracy_real"] - b["test_accuracy_real"]))
                d_own.append(100 * (r["test_accuracy"] - b["test_accuracy"]))
        out[protocol] = {"real": float(np.mean(d_real)) if d_real else float("nan"),
                         "own": float(np.mean(d_own)) if d_own else float("nan"), "n": len(d_real)}
    return out


def ablation_answer(cells: list[dict[str, Any]], gains: dict[str, Any]) -> str:
    """The ablation's answer to the paper's hypothesis in one sentence: whether the clean
    protocol's gain on real test data exceeds the spread between seeds of real-only training
    (the mean over real-only cells of the standard deviation of ``test_accuracy_real``)."""
    stds = [100 * c["test_accuracy_real_std"] for c in cells
            if c["protocol"] == "real-only" and c["test_accuracy_real_std"] is not None]
    clean = gains.get("clean", {}).get("real", float("nan"))
    if not stds or not np.isfinite(clean):
        return "With one seed (or no clean runs) the spread is unknown, so the run cannot answer it."
    spread = float(np.mean(stds))
    verb = ("improves" if clean > spread else "lowers" if clean < -spread else
            "does not change, beyond the spread between seeds,")
    text = (f"adding generated sequences to the training data only (clean protocol) {verb} the accuracy on "
            f"real test data ({clean:+.1f} points on average, against a spread of {spread:.1f} points "
            f"between seeds of real-only training)")
    paper = gains.get("paper", {})
    if np.isfinite(paper.get("own", float("nan"))) and np.isfinite(paper.get("real", float("nan"))):
        text += (f"; testing on generated samples as the paper did moves the reported accuracy by "
                 f"{paper['own']:+.1f} points, against {paper['real']:+.1f} on the real test samples alone")
    return text[0].upper() + text[1:] + "."
