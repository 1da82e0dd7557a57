"""skelutils: the companion's library for harmful two-person action recognition from 3D skeletons.

Modules, named by what they hold:

- ``ntu``: NTU RGB+D constants, sample names, the ``.skeleton`` reader and writer.
- ``simulate``: the simulator that writes NTU-format files (the embedded default data).
- ``dataset``, ``prepare``, ``splits``: folder scan and cache, standard preparation, CS/CV/CSet splits.
- ``baseline``: the nearest-centroid difficulty baseline.
- ``models``, ``train``: the three recognisers and one training engine.
- ``gan``, ``quality``, ``hybrid``: two-person GAN synthesis, its quality measures, hybrid datasets.
- ``plots``: 3D skeleton figures and animations.
- ``paper``: the paper's reported numbers (one cited data file).
- ``config``: paths, profiles, seeding, atomic writes.
"""
from importlib import import_module

from .config import artifacts_dir, load_profile, repo_root, seed_everything
from .ntu import (CLASS_NAMES, CLASSES, Skeleton, SkeletonFormatError, parse_sample_name,
                  read_skeleton, write_skeleton)

__version__ = "0.1.0"

# Heavier modules (torch models, training, GAN) load on first use.
_LAZY = {
    "build_model": "models",
    "fit": "train",
    "load_dataset": "dataset",
    "build_dataset": "dataset",
    "make_split": "splits",
    "simulate_dataset": "simulate",
    "paper_results": "paper",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'skelutils' has no attribute {name!r}")


__all__ = ["CLASSES", "CLASS_NAMES", "Skeleton", "SkeletonFormatError", "artifacts_dir",
           "load_profile", "parse_sample_name", "read_skeleton", "repo_root", "seed_everything",
           "write_skeleton", *_LAZY]
