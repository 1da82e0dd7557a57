"""Paths, profiles and seeding: the one place that says where things live.

A *profile* is a YAML file under ``profiles/`` at the repository root
(``smoke`` for a laptop CPU and CI, ``cpu30`` for a GAN worth measuring in about 30 minutes
on a CPU, ``full`` for the paper's sizes on a GPU box, ``full-dry`` for ``full`` with every
amount shrunk, which CI runs on a CPU); the same files ship inside the
package (``skelutils/profiles/``), so an installed copy finds them outside a checkout.
A profile may derive from another with ``extends: <name>``: the other profile is read first
and the file's fields are merged over it (mappings field by field; lists and values replace).
Every notebook takes ``PROFILE`` as a papermill parameter and reads its sizes and
hyperparameters from that file; artifacts go to ``artifacts/<profile>/``.
:func:`load_profile` checks the file and the notebook's overrides against
:data:`PROFILE_SCHEMA` (unknown fields, types, allowed values) before anything runs.
"""
from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import importlib
import json
import math
import numbers
import os
import random
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import yaml

#: The profiles committed under ``profiles/`` (and shipped with the package).
PROFILES = ("smoke", "cpu30", "full", "full-dry")


def _is_checkout(d: Path) -> bool:
    return (d / "profiles").is_dir() and (d / "skelutils").is_dir()


def repo_root() -> Path:
    """The repository root, or the folder that stands for it.

    ``$SKELUTILS_ROOT`` if set; else the first folder upwards from the working
    directory holding ``profiles/`` and ``skelutils/``; else the folder above
    this package when that is a checkout (an editable install); else (an installed
    package run outside a checkout) the working directory, so that artifacts go to
    ``./artifacts``.
    """
    env = os.environ.get("SKELUTILS_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for d in (here, *here.parents):
        if _is_checkout(d):
            return d
    above = Path(__file__).resolve().parent.parent
    return above if _is_checkout(above) else here


#: The profiles shipped inside the package (a copy of ``profiles/`` made when it is built).
PACKAGED_PROFILES = Path(__file__).resolve().parent / "profiles"


def profiles_dir() -> Path:
    """``profiles/`` of the checkout (:func:`repo_root`), else the package's own copy."""
    d = repo_root() / "profiles"
    return d if d.is_dir() else PACKAGED_PROFILES


def profile_path(name: str) -> Path:
    """The YAML file of profile ``name`` (a name such as ``smoke`` or a path to a YAML file)."""
    p = Path(name)
    if p.suffix in (".yaml", ".yml"):
        return p
    return profiles_dir() / f"{name}.yaml"


# ----------------------------------------------------------------------------- profile schema

def _allowed(module: str, attr: str, extra: tuple = ()) -> Callable[[tuple], tuple]:
    """The allowed values of a field, read at check time from the module that defines them."""
    def values(parts: tuple) -> tuple:
        v = getattr(importlib.import_module(f"skelutils.{module}"), attr)
        return tuple(v) + extra
    return values


def _model_param_names(parts: tuple) -> tuple:
    from skelutils.models import model_params
    return tuple(k for k in model_params(parts[1]) if k != "num_classes")


def _gan_config_fields(parts: tuple) -> tuple:
    from skelutils.gan import GANConfig
    return tuple(f.name for f in dataclasses.fields(GANConfig))


@dataclasses.dataclass(frozen=True)
class Field:
    """One field of :data:`PROFILE_SCHEMA`.

    Attributes:
        kind: ``section`` (a mapping of the fields listed under it), ``map`` (a mapping whose
            keys are ``choices``; ``*`` stands for a key in the paths below it), ``int``,
            ``number``, ``str``, ``bool`` or ``list`` (of ``item``).
        required: the file must set it.
        null: ``null`` (None) is allowed.
        choices: allowed values (of the items, of the keys of a ``map``): a tuple or a function
            of the field's path parts that returns one.
        lo, hi: inclusive bounds of numbers (``hi_open``: ``hi`` itself is excluded).
        item: kind of the items of a ``list``.
        nonempty: a ``list`` must hold at least one item.
        param: the notebook parameter that sets the field through ``overrides``.
    """

    kind: str
    required: bool = False
    null: bool = False
    choices: tuple | Callable[[tuple], tuple] | None = None
    lo: float | None = None
    hi: float | None = None
    hi_open: bool = False
    item: str | None = None
    nonempty: bool = False
    param: str | None = None


_F = Field
#: What a profile may hold: dotted field -> :class:`Field`. Allowed values come from the
#: modules that use them (``prepare.ACTOR_METHODS``, ``models.MODEL_NAMES``, ...).
PROFILE_SCHEMA: dict[str, Field] = {
    "name": _F("str"),
    "extends": _F("str"),
    "seed": _F("int", True, lo=0, param="SEED"),
    "seeds": _F("list", item="int", lo=0, nonempty=True, param="SEEDS"),
    "data": _F("section", True),
    "data.source": _F("str", True, choices=_allowed("dataset", "SOURCES"), param="DATA_SOURCE"),
    "data.ntu_dir": _F("str", null=True, param="NTU_DIR"),
    "data.simulator_size": _F("str", choices=_allowed("simulate", "PRESETS")),
    "data.frames": _F("int", True, lo=1),
    "data.resample": _F("str", True, choices=_allowed("prepare", "RESAMPLE_METHODS")),
    "data.center": _F("str", True, choices=_allowed("prepare", "CENTER_MODES")),
    "data.align": _F("bool", True),
    "data.actor_method": _F("str", True, choices=_allowed("prepare", "ACTOR_METHODS")),
    "data.workers": _F("int", True, lo=1),
    "data.val_fraction": _F("number", True, lo=0, hi=1, hi_open=True),
    "data.class_set": _F("str", choices=_allowed("ntu", "CLASS_SETS"), param="CLASS_SET"),
    "train": _F("section", True),
    "train.epochs": _F("int", True, lo=1),
    "train.batch_size": _F("int", True, lo=1),
    "train.weight_decay_fc": _F("number", True, lo=0),
    "train.plateau_patience": _F("int", True, lo=0),
    "train.device": _F("str", choices=_allowed("train", "DEVICES", ("cuda:<index>",))),
    "train.checkpoint_every": _F("int", lo=1),
    "train.max_steps_per_epoch": _F("int", null=True, lo=1),
    "gan": _F("section"),
    "gan.preset": _F("str", choices=_allowed("gan", "GAN_PRESETS"), param="GAN_PRESET"),
    "gan.iterations": _F("int", null=True, lo=1, param="ITERATIONS"),
    "gan.n_per_class": _F("int", lo=1, param="N_PER_CLASS"),
    "gan.feature_model": _F("str", choices=_allowed("models", "MODEL_NAMES")),
    "gan.config": _F("map", choices=_gan_config_fields),
    "gan.train_splits": _F("list", item="str", choices=_allowed("splits", "SPLITS"), nonempty=True),
    "hybrid": _F("section"),
    "hybrid.protocol": _F("str", choices=_allowed("experiments", "TRAINING_DATA"), param="HYBRID_PROTOCOL"),
    "hybrid.fraction": _F("number", lo=0, hi=1, param="GAN_FRACTION"),
    "ablation": _F("section"),
    "ablation.models": _F("list", item="str", choices=_allowed("models", "MODEL_NAMES")),
    "ablation.splits": _F("list", item="str", choices=_allowed("splits", "SPLITS")),
    "ablation.protocols": _F("list", item="str", choices=_allowed("hybrid", "PROTOCOLS")),
    "ablation.fractions": _F("list", item="number", lo=0, hi=1),
    "ablation.epochs": _F("int", lo=1),
    "ablation.seeds": _F("list", item="int", lo=0, nonempty=True),
    "stream": _F("section"),
    "stream.window": _F("int", lo=1),
    "stream.stride": _F("int", lo=1),
    "stream.min_frames": _F("int", lo=1),
    "stream.raise_at": _F("number", lo=0, hi=1),
    "stream.clear_below": _F("number", lo=0, hi=1),
    "stream.k_on": _F("int", lo=1),
    "stream.precision": _F("str", choices=_allowed("stream", "PRECISIONS")),
    "stream.reuse": _F("bool"),
    "realtime": _F("section"),
    "realtime.epochs": _F("int", lo=1, param="EPOCHS"),
    "realtime.stream_s": _F("number", lo=1, param="STREAM_S"),
    "realtime.early_clips": _F("int", lo=1, param="EARLY_CLIPS"),
    "realtime.models": _F("list", item="str", choices=_allowed("models", "MODEL_NAMES")),
    "models": _F("map", True, choices=_allowed("models", "MODEL_NAMES")),
    "models.*": _F("section"),
    "models.*.optimizer": _F("str", True, choices=_allowed("train", "OPTIMIZERS")),
    "models.*.lr": _F("number", True, lo=0),
    "models.*.params": _F("map", null=True, choices=_model_param_names),
}

_KIND_TEXT = {"int": "an integer", "number": "a number", "str": "a string", "bool": "true or false",
              "section": "a mapping", "map": "a mapping", "list": "a list"}
#: YAML 1.1 (PyYAML) reads ``1e-3`` (no dot) as a string; such strings are taken as numbers.
_FLOAT_TEXT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


class ProfileError(ValueError):
    """A profile (or an override of it) breaks :data:`PROFILE_SCHEMA`; the message names the
    file or the overrides, the dotted field, what is allowed and what to do."""


def _choices(field: Field, parts: tuple) -> tuple | None:
    c = field.choices
    return c(parts) if callable(c) else c


def _expected(field: Field, parts: tuple, kind: str | None = None) -> str:
    kind = kind or field.kind
    text = _KIND_TEXT[kind]
    if kind == "list":
        item = _expected(field, parts, field.item)
        text = f"a {'non-empty ' if field.nonempty else ''}list whose items are each {item}"
        if field.item == "int" and field.lo is not None and field.hi is None:
            text += f", for example [{int(field.lo)}, {int(field.lo) + 1}]"
        return text + (" or null" if field.null else "")
    if kind in ("int", "number"):
        if field.lo is not None and field.hi is not None:
            text += f" from {field.lo:g} to {field.hi:g}" + (" (excluded)" if field.hi_open else "")
        elif field.lo is not None:
            text += f" >= {field.lo:g}"
    choices = _choices(field, parts) if kind == "str" else None
    if choices:
        text = f"one of {list(choices)}"
    return text + (" or null" if field.null and kind == field.kind else "")


def _lookup(parts: tuple) -> tuple[str, Field] | None:
    """The schema entry of a concrete path (keys of a ``map`` match ``*``)."""
    pattern: list[str] = []
    for part in parts:
        parent = PROFILE_SCHEMA.get(".".join(pattern)) if pattern else None
        pattern.append("*" if parent is not None and parent.kind == "map"
                       and ".".join(pattern + ["*"]) in PROFILE_SCHEMA else part)
    key = ".".join(pattern)
    return (key, PROFILE_SCHEMA[key]) if key in PROFILE_SCHEMA else None


def _children(pattern: str) -> list[str]:
    depth = pattern.count(".") + 1 if pattern else 0
    return sorted(k.split(".")[-1] for k in PROFILE_SCHEMA
                  if k.count(".") == depth and (not pattern or k.startswith(pattern + ".")))


def _dotted(parts: tuple) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _type_name(v: Any) -> str:
    return {str: "a string", bool: "a boolean", int: "an integer", float: "a number", list: "a list",
            dict: "a mapping", type(None): "null"}.get(type(v), type(v).__name__)


def _check_value(v: Any, field: Field, kind: str, parts: tuple, problems: list) -> Any:
    """Check one value of ``kind``; return it normalised (numpy and YAML-1.1 numbers to Python)."""
    def bad():
        problems.append((parts, f"is {v!r:.60} ({_type_name(v)}); expected {_expected(field, parts, kind)}"))
        return v
    if v is None:
        return v if field.null and kind == field.kind else bad()
    if kind == "bool":
        return v if isinstance(v, bool) else bad()
    if kind == "str":
        if not isinstance(v, str):
            return bad()
        choices = _choices(field, parts)
        if choices and v not in choices and not ("cuda:<index>" in choices and re.fullmatch(r"cuda:\d+", v)):
            return bad()
        return v
    if kind in ("int", "number"):
        if isinstance(v, bool):
            return bad()
        if kind == "int":
            if not isinstance(v, numbers.Integral):
                return bad()
            v = int(v)
        else:
            if isinstance(v, str) and _FLOAT_TEXT.fullmatch(v.strip()):
                v = float(v)
            if not isinstance(v, numbers.Real) or not math.isfinite(float(v)):
                return bad()
            v = float(v) if not isinstance(v, numbers.Integral) else int(v)
        if field.lo is not None and v < field.lo or field.hi is not None and (
                v > field.hi or field.hi_open and v == field.hi):
            return bad()
        return v
    return bad()


def _walk(value: Any, parts: tuple, problems: list) -> Any:
    key, field = _lookup(parts) if parts else ("", Field("section"))
    if field.kind in ("section", "map"):
        if value is None and field.null:
            return value
        if not isinstance(value, dict):
            problems.append((parts, f"is {value!r:.60} ({_type_name(value)}); expected a mapping"
                                    + (f" of the fields {_children(key)}" if field.kind == "section" else "")))
            return value
        known = _children(key) if field.kind == "section" else list(_choices(field, parts) or ())
        typos = {}
        for k in value:
            if k not in known:
                near = difflib.get_close_matches(str(k), [str(x) for x in known], n=1)
                typos[k] = near[0] if near else None
        if field.kind == "section":
            for req in known:
                entry = PROFILE_SCHEMA[f"{key}.{req}" if key else req]
                if entry.required and req not in value and req not in typos.values():
                    problems.append((parts + (req,), f"is missing; expected {_expected(entry, parts + (req,))}"))
        here = f"the fields of {_dotted(parts)} are" if parts else "a profile's sections are"
        if field.kind == "map":
            here = f"{_dotted(parts)} takes the keys"
        for k in list(value):
            if k in typos:
                hint = f" (did you mean {typos[k]!r}?)" if typos[k] else ""
                problems.append((parts + (k,), f"is not a known {'field' if field.kind == 'section' else 'key'}"
                                               f"{hint}; {here} {list(known)}"))
            elif f"{key}.*" in PROFILE_SCHEMA or field.kind == "section":
                value[k] = _walk(value[k], parts + (k,), problems)
        return value
    if field.kind == "list":
        if value is None and field.null:
            return value
        if not isinstance(value, (list, tuple)) or (field.nonempty and not value):
            problems.append((parts, f"is {value!r:.60} ({_type_name(value)}); expected {_expected(field, parts)}"))
            return value
        return [_check_value(v, field, field.item, parts + (i,), problems) for i, v in enumerate(value)]
    return _check_value(value, field, field.kind, parts, problems)


def _set_by(overrides: dict | None, parts: tuple) -> bool:
    """Whether ``overrides`` sets the field at ``parts`` (or a section above it wholesale)."""
    node: Any = overrides or {}
    for p in parts:
        if isinstance(p, int):
            return True
        if not isinstance(node, dict) or p not in node:
            return False
        node = node[p]
        if not isinstance(node, dict):
            return True
    return True


def _param_of(parts: tuple) -> str | None:
    for n in range(len(parts), 0, -1):
        hit = _lookup(tuple(p for p in parts[:n] if not isinstance(p, int)))
        if hit and hit[1].param:
            return hit[1].param
    return None


def check_profile(cfg: dict, path: str | os.PathLike = "<profile>", overrides: dict | None = None) -> dict:
    """Check a profile (after ``overrides`` were merged in) against :data:`PROFILE_SCHEMA`.

    Numbers written as YAML 1.1 reads them as text (``1e-3``) become floats; a ``gan.config``
    must also make a valid ``GANConfig`` with the preset.

    Args:
        cfg: the merged profile (changed in place: numbers normalised).
        path: the profile's file, for the messages.
        overrides: what was merged over the file, so that a message says whether a bad value
            comes from the file or from the overrides (papermill parameters).

    Returns:
        ``cfg``.

    Raises:
        ProfileError: one sentence per problem, naming the file or the overrides, the dotted
            field, what is allowed and what to do.
    """
    problems: list[tuple[tuple, str]] = []
    _walk(cfg, (), problems)
    gcfg = cfg.get("gan") if isinstance(cfg.get("gan"), dict) else {}
    if not problems and gcfg.get("config"):
        from skelutils.gan import GANConfig, gan_preset
        base, _ = gan_preset(gcfg.get("preset", "smoke"))
        try:
            GANConfig.from_dict({**base.to_dict(), **gcfg["config"]})
        except (TypeError, ValueError) as e:
            problems.append((("gan", "config"), f"does not make a valid GANConfig with preset "
                                                 f"{gcfg.get('preset', 'smoke')!r} ({e})"))
    if not problems:
        return cfg
    lines = []
    for parts, what in problems:
        if _set_by(overrides, parts):
            param = _param_of(parts)
            origin = (f"profile {cfg.get('name') or Path(path).stem!r}, overrides"
                      + (f" (notebook parameter {param})" if param else ""))
            todo = f"change {param} or the overrides passed to load_profile" if param else \
                "change the overrides passed to load_profile"
        else:
            origin, todo = f"profile {path}", f"edit {Path(path).name}"
        lines.append(f"{origin}: {_dotted(parts)} {what}; {todo}.")
    if len(lines) == 1:
        raise ProfileError(lines[0])
    raise ProfileError(f"{len(lines)} problems with profile {path}:\n  " + "\n  ".join(lines))


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _read_profile(name: str, path: Path, chain: tuple = ()) -> dict:
    """The mapping of a profile file, with the profile it ``extends`` merged under it."""
    if not path.is_file():
        have = sorted(p.stem for p in profiles_dir().glob("*.yaml"))
        raise FileNotFoundError(f"profile {name!r}: no file {path}; profiles available: {have} "
                                "(or pass the path of a YAML file)")
    try:
        cfg = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not valid YAML ({e}); fix the file or pick another profile") from e
    if not isinstance(cfg, dict):
        raise ValueError(f"{path}: a profile must be a YAML mapping of sections, got {type(cfg).__name__}")
    base = cfg.get("extends")
    if base is None:
        return cfg
    if not isinstance(base, str) or not base:
        raise ProfileError(f"profile {path}: extends is {base!r:.60}; expected the name of another profile "
                           f"(for example 'full') or the path of its YAML file; edit {path.name}.")
    base_path = profile_path(base)
    if not base_path.is_absolute() and base_path.suffix in (".yaml", ".yml"):
        base_path = path.parent / base_path
    here = path.resolve()
    if here in chain or base_path.resolve() in (*chain, here):
        names = " -> ".join(str(p) for p in (*chain, here, base_path.resolve()))
        raise ProfileError(f"profile {path}: extends {base!r} makes a cycle ({names}); edit {path.name}.")
    parent = _read_profile(base, base_path, (*chain, here))
    parent.pop("name", None)
    return _merge(parent, cfg)


def load_profile(name: str = "smoke", overrides: dict | None = None) -> dict[str, Any]:
    """Load a profile as a nested dict, with optional overrides merged in.

    Args:
        name: ``"smoke"``, ``"full"``, or a path to a YAML file of the same shape. A file
            with ``extends: <profile>`` is merged over that profile (its ``name`` is the
            file's own; ``extends`` is kept as the record of what it derives from).
        overrides: nested dict merged over the file (e.g. ``{"seed": 1}``).

    Raises:
        FileNotFoundError: no such profile; the message lists the ones there are.
        ValueError: the file is not a YAML mapping.
        ProfileError: a field of the file or of ``overrides`` breaks :data:`PROFILE_SCHEMA`
            (unknown, missing, wrong type or value; see :func:`check_profile`).
    """
    path = profile_path(name)
    cfg = _read_profile(name, path)
    if overrides is not None and not isinstance(overrides, dict):
        raise ProfileError(f"profile {path}: overrides must be a mapping of profile sections such as "
                           f"{{'seed': 1}}, got {overrides!r:.60}; change the overrides passed to load_profile.")
    cfg = _merge(cfg, overrides or {})
    cfg.setdefault("name", path.stem)
    return check_profile(cfg, path, overrides)


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

    Also asks torch for deterministic algorithms where it has them. On the CPU a run is then
    bit-identical on the same machine with the same kernels (another processor, or another
    ``ATEN_CPU_CAPABILITY``, changes floating-point details, so numbers differ slightly). On
    CUDA it also sets ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` (unless already set), which cuBLAS
    needs for deterministic matrix products; kernels without a deterministic version
    (some scatter/index backward passes, and ``torch.backends.cudnn.benchmark`` when asked) warn
    instead of failing (``warn_only=True``), so a GPU re-run may differ in the last digits.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
        torch.manual_seed(seed)
        if torch.cuda.is_available():
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return np.random.default_rng(seed)


def git_commit() -> str:
    """The current commit of the repository (``"unknown"`` outside a git checkout); ``+dirty`` if modified."""
    try:
        root = repo_root()
        if not _is_checkout(root):
            return "unknown"
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=10).stdout.strip()
        if not sha:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes (hex), read in blocks: ties an array file to its JSON sidecar."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    The file is flushed to disk before the rename, so ``path`` holds either its old content or
    all of ``data``, never a part, even if the process is killed or the machine stops.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would make artifacts private
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
    and reused afterwards (``simulate.cached_dataset``); a ``simulated.json`` marker records what wrote it,
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
    return simulate.cached_dataset(artifacts_dir(cfg, "raw"), size=data.get("simulator_size", "smoke"),
                                   seed=int(cfg.get("seed", 0)), workers=int(data.get("workers", 1)))
