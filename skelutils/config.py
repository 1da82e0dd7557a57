"""Paths, profiles and seeding: the one place that says where things live.

A *profile* is a YAML file under ``profiles/`` at the repository root
(``smoke`` for a laptop CPU and CI, ``full`` for the paper's sizes on a GPU box).
Every notebook takes ``PROFILE`` as a papermill parameter and reads its sizes and
hyperparameters from that file; artifacts go to ``artifacts/<profile>/``.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import random
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml

PROFILES = ("smoke", "full")


def repo_root() -> Path:
    """The repository root.

    ``$SKELUTILS_ROOT`` if set; else the first folder upwards from the working
    directory holding ``profiles/`` and ``skelutils/``; else the folder above
    this package (an editable install).
    """
    env = os.environ.get("SKELUTILS_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for d in (here, *here.parents):
        if (d / "profiles").is_dir() and (d / "skelutils").is_dir():
            return d
    return Path(__file__).resolve().parent.parent


def profile_path(name: str) -> Path:
    """The YAML file of profile ``name`` (a name such as ``smoke`` or a path to a YAML file)."""
    p = Path(name)
    if p.suffix in (".yaml", ".yml"):
        return p
    return repo_root() / "profiles" / f"{name}.yaml"


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load_profile(name: str = "smoke", overrides: dict | None = None) -> dict[str, Any]:
    """Load a profile as a nested dict, with optional overrides merged in.

    Args:
        name: ``"smoke"``, ``"full"``, or a path to a YAML file of the same shape.
        overrides: nested dict merged over the file (e.g. ``{"seed": 1}``).

    Raises:
        FileNotFoundError: no such profile; the message lists the ones there are.
        ValueError: the file is not a YAML mapping.
    """
    path = profile_path(name)
    if not path.is_file():
        have = sorted(p.stem for p in (repo_root() / "profiles").glob("*.yaml"))
        raise FileNotFoundError(f"profile {name!r}: no file {path}; profiles available: {have}")
    try:
        cfg = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not valid YAML ({e}); fix the file or pick another profile") from e
    if not isinstance(cfg, dict):
        raise ValueError(f"{path}: a profile must be a YAML mapping of sections, got {type(cfg).__name__}")
    cfg = _merge(cfg, overrides or {})
    cfg.setdefault("name", path.stem)
    return cfg


def artifacts_dir(profile: str | dict, *parts: str, create: bool = True) -> Path:
    """``artifacts/<profile>/<parts...>`` under the repository root (``$SKELUTILS_ARTIFACTS`` overrides the base)."""
    name = profile["name"] if isinstance(profile, dict) else str(profile)
    base = Path(os.environ.get("SKELUTILS_ARTIFACTS", repo_root() / "artifacts"))
    d = base.joinpath(name, *parts)
    if create:
        d.mkdir(parents=True, exist_ok=True)
    return d


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, numpy and torch from one integer; return a numpy Generator for explicit use.

    Also asks torch for deterministic algorithms where it has them (CPU runs
    are then bit-reproducible; on CUDA a few kernels stay nondeterministic).
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True, warn_only=True)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return np.random.default_rng(seed)


def git_commit() -> str:
    """The current commit of the repository (``"unknown"`` outside a git checkout); ``+dirty`` if modified."""
    try:
        root = repo_root()
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=10).stdout.strip()
        if not sha:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON, atomically (numpy scalars and arrays are converted)."""
    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, Path):
            return str(o)
        raise TypeError(f"not JSON serialisable: {type(o).__name__}")
    return atomic_write_bytes(path, (json.dumps(obj, indent=2, default=default) + "\n").encode())


def read_json(path: str | os.PathLike, what: str = "file", made_by: str | None = None) -> Any:
    """Read a JSON artifact with an error that says which notebook makes it when it is missing."""
    path = Path(path)
    if not path.is_file():
        hint = f"; run {made_by} first" if made_by else ""
        raise FileNotFoundError(f"{what} not found at {path}{hint}")
    return json.loads(path.read_text())


def raw_folder(cfg: dict) -> Path:
    """The folder of raw ``.skeleton`` files a profile reads.

    ``data.source: simulated`` (the default): ``artifacts/<profile>/raw``, written
    by the simulator on first use (size ``data.simulator_size``, seed ``seed``)
    and reused afterwards; a ``simulated.json`` marker records what wrote it,
    so a changed seed, size or simulator (a hash of ``simulate.py``) writes the folder anew.
    ``data.source: ntu``: ``data.ntu_dir``, a user's NTU RGB+D download.

    Raises:
        ValueError: an unknown source, or ``ntu`` without ``data.ntu_dir``.
        FileNotFoundError: ``data.ntu_dir`` is not a folder.
    """
    data = cfg.get("data", {})
    source = data.get("source", "simulated")
    if source == "ntu":
        d = data.get("ntu_dir")
        if not d:
            raise ValueError("data.source is 'ntu' but data.ntu_dir is not set: pass NTU_DIR (the folder "
                             "holding the nturgbd_skeletons .skeleton files) or set it in the profile")
        d = Path(d).expanduser()
        if not d.is_dir():
            raise FileNotFoundError(f"data.ntu_dir {d} is not a folder; check the path "
                                    "(python -m skelutils check <folder> inspects a download)")
        return d
    if source != "simulated":
        raise ValueError(f"data.source {source!r}: allowed values are 'simulated' and 'ntu'")
    from . import simulate  # lazy: only simulated data needs it
    d = artifacts_dir(cfg, "raw")
    code = hashlib.sha256(Path(simulate.__file__).read_bytes()).hexdigest()[:16]
    want = {"size": data.get("simulator_size", "smoke"), "seed": int(cfg.get("seed", 0)), "simulator": code}
    marker = d / "simulated.json"
    if not (marker.is_file() and json.loads(marker.read_text()) == want):
        for old in d.glob("*.skeleton"):
            old.unlink()
        simulate.simulate_dataset_preset(d, size=want["size"], seed=want["seed"], progress=False,
                                workers=int(data.get("workers", 1)))
        write_json(marker, want)
    return d
