"""Train one recogniser from the command line, as the training notebooks do (one or several GPUs).

The entry point above the engine: it reads a profile and notebook 01's dataset artifact and
calls :func:`skelutils.experiments.train_recogniser`, which calls :func:`skelutils.train.fit`::

    python -m skelutils train --model cnn3d_lstm --split xsub --profile smoke
    torchrun --nproc_per_node=8 -m skelutils train --model cnn3d_lstm --split xsub --profile full

(``python -m skelutils.run ...`` is the same command.) Under ``torchrun`` every process runs
it and ``fit`` joins them into one distributed run; only rank 0 writes files and prints.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence


def run_from_config(model: str, split: str = "xsub", profile: str = "smoke", *, epochs: int | None = None,
                    seed: int | None = None, dataset_path: str | os.PathLike | None = None,
                    device: str = "auto", progress: bool = True, resume: bool = True,
                    protocol: str | None = None, fraction: float | None = None,
                    overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Train ``model`` on one split of the profile's data set artifact and write its results.

    The same path as the training notebooks: ``skelutils.experiments.train_recogniser``
    with the profile (``overrides`` merged over it and checked with it), reading
    ``artifacts/<profile>/data/dataset.npz`` (notebook 01's output; ``dataset_path``
    overrides). Run folder ``artifacts/<profile>/runs/<run>``, results
    ``artifacts/<profile>/results/<run>.json`` (``experiments.run_name``).

    Args:
        model: ``cnn3d_lstm``, ``li2017_cnn`` or ``rrn_lstm``.
        split: ``xsub``, ``xview`` or ``xset``.
        profile: a profile name (``smoke``, ``cpu30``, ``full``) or the path of a YAML profile.
        epochs: default the profile's ``train.epochs``.
        seed: default the profile's first seed.
        dataset_path: default ``artifacts/<profile>/data/dataset.npz``.
        device: ``auto`` (the profile's ``train.device``), ``cpu``, ``cuda`` or ``cuda:<index>``.
        progress: show a progress bar (rank 0).
        resume: continue or re-test the run in its run folder (default); ``False`` starts over.
        protocol, fraction: training data (default the profile's ``hybrid`` section).
        overrides: merged over the profile before it is checked (as the notebooks' parameters).

    Raises:
        FileNotFoundError: no dataset artifact (the message names notebook 01).
        skelutils.config.ProfileError: the profile or an override breaks the schema.
    """
    from skelutils.config import _merge, artifacts_dir, load_profile
    from skelutils.dataset import load_dataset
    from skelutils.experiments import train_recogniser

    over = dict(overrides or {})
    if device != "auto":
        over = _merge(over, {"train": {"device": device}})
    cfg = load_profile(profile, over or None)
    path = Path(dataset_path) if dataset_path else artifacts_dir(cfg, "data", create=False) / "dataset.npz"
    if not path.exists():
        raise FileNotFoundError(f"dataset artifact not found at {path}; run notebooks/01_data.ipynb with "
                                f"PROFILE={cfg['name']!r} first (or pass --dataset)")
    ds = load_dataset(path)
    return train_recogniser(cfg, model, split, ds, seed=seed, protocol=protocol, fraction=fraction, epochs=epochs,
                            progress=progress, resume=resume, meta={"dataset_path": str(path)})


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of the ``train`` command (for ``python -m skelutils train`` and this module)."""
    p.add_argument("--model", required=True, help="cnn3d_lstm | li2017_cnn | rrn_lstm")
    p.add_argument("--split", default="xsub", help="xsub | xview | xset (default xsub)")
    p.add_argument("--profile", default="smoke", help="smoke | cpu30 | full | path to a YAML profile")
    p.add_argument("--epochs", type=int, default=None, help="run length (default: the profile's train.epochs)")
    p.add_argument("--seed", type=int, default=None, help="training seed (default: the profile's first seed)")
    p.add_argument("--dataset", default=None, help="dataset artifact (default artifacts/<profile>/data/dataset.npz)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:<index> (default auto)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint and start over")
    p.add_argument("--protocol", default=None, help="real-only | paper | clean (default: the profile's hybrid.protocol)")
    p.add_argument("--fraction", type=float, default=None, help="generated share 0..1 (default: the profile's)")
    return p


def run_args(a: argparse.Namespace) -> int:
    """Run the parsed ``train`` command; print the outcome on rank 0."""
    res = run_from_config(a.model, a.split, a.profile, epochs=a.epochs, seed=a.seed, dataset_path=a.dataset,
                          device=a.device, progress=not a.no_progress, resume=not a.fresh,
                          protocol=a.protocol, fraction=a.fraction)
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"{res['model']} {res['split']}: test accuracy {res['test_accuracy']:.4f} "
              f"(best epoch {res['best_epoch']} of {res['epochs']}, {res['wall_seconds']:.1f} s)")
    return 0


def main(argv: Sequence[str] | None = None, prog: str = "python -m skelutils train") -> int:
    p = add_arguments(argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0]))
    return run_args(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main(prog="python -m skelutils.run"))
