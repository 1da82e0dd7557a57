"""One training engine for the three recognisers: fit, evaluate, checkpoints, results.

The engine is shared by ``cnn3d_lstm`` (ours), ``li2017_cnn`` and ``rrn_lstm``
(``skelutils.models.build_model``) and by any ``nn.Module`` mapping float32
``(N, M=2, T, V=25, C=3)`` skeletons to logits ``(N, num_classes)``.

What it does, and the choices it makes where the paper is silent:

* **Data on the device.** The train/val/test arrays are moved to the device once as
  tensors; every epoch draws one permutation of the training set on the device from a
  seeded ``torch.Generator`` and slices batches from it (no ``DataLoader``, no
  host-to-device copy per step). The last, smaller batch of an epoch is kept.
* **Loss and optimisers.** Cross-entropy (mean over the batch). ``adam`` (ours, Li 2017;
  paper Sec. 5.3, Experiment 1) or ``sgd`` with momentum (RRN, Zheng 2019). With ``sgd`` the learning rate is
  divided by 10 when validation accuracy plateaus
  (``ReduceLROnPlateau(mode="max", factor=plateau_factor, patience=plateau_patience)``);
  ``lr_plateau`` switches that on or off for either optimiser.
* **L2 on the FC layers only.** Two parameter groups: ``model.l2_params()`` with
  ``weight_decay=weight_decay_fc``, everything else with 0. A model without
  ``l2_params`` falls back to the weights (not the biases) of all its ``nn.Linear``
  layers. Torch's ``weight_decay`` adds ``wd * w`` to the gradient (coupled L2, also for
  Adam), which equals a loss term ``wd / 2 * ||w||^2``; a Keras-style
  ``l2(lam)`` regulariser corresponds to ``weight_decay_fc = 2 * lam``.
* **Model selection.** Validation after every epoch; the epoch with the highest
  validation accuracy (ties: the lower validation loss; later epochs must be strictly
  better) is saved as ``best.pt`` and evaluated on the test set once, at the end.
* **Mixed precision** on CUDA only: ``torch.autocast`` in bfloat16 where the GPU
  supports it, else float16 with a ``GradScaler``. The loss is computed in float32.
  No autocast on CPU. ``torch.backends.cudnn.benchmark`` stays off unless asked.
* **Several GPUs** through ``DistributedDataParallel`` under ``torchrun`` (the
  ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` environment variables; NCCL on CUDA, gloo on
  CPU). ``batch_size`` is the **global** batch: every rank draws the same permutation
  (same seed) and takes its own contiguous share of each global batch
  (``torch.tensor_split`` into ``world_size`` parts, so per-rank batch is about
  ``batch_size / world_size``). Each rank's loss is its sum of per-sample losses times
  ``world_size / global_batch``, so DDP's gradient average is exactly the gradient of
  the mean loss over the global batch, as in one process (also for the uneven last
  batch; a final batch with fewer samples than ranks is dropped). Validation and test
  are sharded over the ranks and all-reduced. Only rank 0 writes files. Models with
  BatchNorm see per-rank batch statistics (converted to ``SyncBatchNorm`` on CUDA).
  Dropout masks of epoch ``e`` on rank ``r`` come from a torch seed derived from
  ``(seed, e, r)``, so they differ between ranks and survive a resume.
* **Checkpoints**, each written atomically (``torch.save`` into memory, a temporary file, a
  rename). ``run_dir/last.pt`` is written every ``checkpoint_every`` epochs and after the
  last one; it holds the model, optimiser, scheduler and scaler states, the best weights so
  far (``best_model``), the epoch, the run length (``epochs``), history, best metric, the
  ``segments`` of epochs with the device, world size and training parameters each was
  trained with, and the random states (torch CPU/CUDA, the permutation generator, numpy,
  Python) as tensors and plain values, so they load with ``torch.load(..., weights_only=True)``.
  ``run_dir/best.pt`` is written when validation improves and holds the weights and the
  run's identity only (no optimiser state: a third of ``last.pt`` for Adam).
  ``fit(..., resume=True)`` continues an interrupted run from ``last.pt`` (losing at most
  ``checkpoint_every - 1`` epochs) and gives exactly the result of an uninterrupted run on
  CPU. A finished run asked for again with the same ``epochs`` is only re-tested; more
  epochs extend it; fewer are refused (start afresh with ``resume=False``). ``best.pt`` must
  hold the epoch ``last.pt`` records as the best: a run killed between the two writes is
  repaired on resume (``last.pt`` is then the best epoch), and so is a ``best.pt`` of an epoch
  after ``last.pt`` (written before the kill; ``last.pt``'s ``best_model`` restores it); any
  other mismatch is an error.
* **A dry run** (``max_steps_per_epoch``) stops each epoch after that many optimiser steps:
  the full profile's models, batch and sequence length, in seconds a run on a CPU (the
  ``full-dry`` profile).
* **Results** go to ``results_path`` as JSON, written once (see :func:`fit`). They describe
  the run in the checkpoint: a re-test reports where the epochs were trained, not where it
  ran.

The command line is :mod:`skelutils.run`, above this engine (it reads a profile and the
dataset artifact of notebook 01 and goes through ``skelutils.experiments``)::

    python -m skelutils train --model cnn3d_lstm --split xsub --profile smoke
    torchrun --nproc_per_node=8 -m skelutils train --model cnn3d_lstm --split xsub --profile full

(``python -m skelutils.train ...`` still runs it.) This module imports nothing from
``skelutils.experiments``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import math
import os
import random
import sys
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from skelutils.config import atomic_write_bytes, git_commit, seed_everything, write_json
from skelutils.ntu import CLASS_NAMES

#: Version tag stored in every checkpoint. Version 2 added the run length (``epochs``) and the
#: ``segments`` that record where each stretch of epochs was trained.
CHECKPOINT_FORMAT = "skelutils.train/2"
#: Formats :func:`load_checkpoint` reads (weights of older checkpoints still load; only the
#: current format can be resumed).
READABLE_FORMATS = ("skelutils.train/1", CHECKPOINT_FORMAT)
OPTIMIZERS = ("adam", "sgd")
#: Device names :func:`resolve_device` takes (besides ``cuda:<index>`` and a ``torch.device``).
DEVICES = ("auto", "cpu", "cuda")
#: Keys of ``train_params`` that must match for a checkpoint to be resumed.
_RESUME_KEYS = ("optimizer", "lr", "momentum", "weight_decay_fc", "batch_size", "lr_plateau",
                "plateau_patience", "plateau_factor", "seed", "amp", "max_steps_per_epoch")


# ----------------------------------------------------------------------------- data

@dataclasses.dataclass
class TrainData:
    """The arrays one run trains, validates and tests on.

    Attributes:
        x_train, x_val, x_test: float32 ``(N, M=2, T, V=25, C=3)`` skeletons in metres.
        y_train, y_val, y_test: int64 ``(N,)`` labels in ``0..len(class_names)-1``.
        class_names: names of the classes in label order (default
            ``skelutils.ntu.CLASS_NAMES``, 7 classes).
        fingerprint: an id of the data set stored in checkpoints and results; computed
            from the arrays (SHA-256, 16 hex digits) when ``None``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: Sequence[str] = CLASS_NAMES
    fingerprint: str | None = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


_SPLITS = ("train", "val", "test")


def as_train_data(data: TrainData | Mapping[str, Any]) -> TrainData:
    """Check and convert ``data`` (a :class:`TrainData` or a dict with the same keys).

    Raises:
        KeyError: a required key is missing (named in the message).
        ValueError: an array has the wrong rank, length or label range.
    """
    if isinstance(data, TrainData):
        fields = dataclasses.asdict(data)
    elif isinstance(data, Mapping):
        missing = [f"{p}_{s}" for s in _SPLITS for p in ("x", "y") if f"{p}_{s}" not in data]
        if missing:
            raise KeyError(f"training data is missing {missing}; expected keys x_train, y_train, "
                           "x_val, y_val, x_test, y_test (and optionally class_names)")
        fields = {f.name: data[f.name] for f in dataclasses.fields(TrainData) if f.name in data}
    else:
        raise TypeError(f"data must be a TrainData or a dict of arrays, got {type(data).__name__}")
    names = tuple(str(c) for c in (fields.get("class_names") or CLASS_NAMES))
    out = {}
    for s in _SPLITS:
        x = np.ascontiguousarray(np.asarray(fields[f"x_{s}"], dtype=np.float32))
        y = np.ascontiguousarray(np.asarray(fields[f"y_{s}"]))
        if x.ndim != 5:
            raise ValueError(f"x_{s} has shape {x.shape}; expected (N, M=2, T, V=25, C=3) float32")
        if y.ndim != 1 or len(y) != len(x):
            raise ValueError(f"y_{s} has shape {y.shape}; expected ({len(x)},) labels, one per sample of x_{s}")
        if y.size and not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"y_{s} has dtype {y.dtype}; expected integer labels 0..{len(names) - 1}")
        y = y.astype(np.int64)
        if y.size and (y.min() < 0 or y.max() >= len(names)):
            raise ValueError(f"y_{s} holds labels {int(y.min())}..{int(y.max())}; expected 0..{len(names) - 1} "
                             f"({len(names)} class names)")
        out[f"x_{s}"], out[f"y_{s}"] = x, y
    if len(out["x_train"]) == 0 or len(out["x_val"]) == 0:
        raise ValueError(f"training needs samples in train and val; got n_train={len(out['x_train'])}, "
                         f"n_val={len(out['x_val'])}")
    return TrainData(**out, class_names=names, fingerprint=fields.get("fingerprint"))


def dataset_fingerprint(data: TrainData) -> str:
    """SHA-256 (first 16 hex digits) over the shapes and bytes of the six arrays and the class names."""
    if data.fingerprint:
        return str(data.fingerprint)
    h = hashlib.sha256()
    h.update(repr(tuple(data.class_names)).encode())
    for s in _SPLITS:
        for a in (getattr(data, f"x_{s}"), getattr(data, f"y_{s}")):
            h.update(repr(a.shape).encode())
            h.update(memoryview(np.ascontiguousarray(a)).cast("B"))
    return h.hexdigest()[:16]


# ----------------------------------------------------------------------------- devices, DDP

@dataclasses.dataclass
class _Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    created: bool = False

    @property
    def active(self) -> bool:
        return self.world > 1


def _init_distributed(device_arg: str) -> _Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _Dist()
    import torch.distributed as dist
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", str(rank)))
    created = False
    if not dist.is_initialized():
        use_cuda = torch.cuda.is_available() and device_arg in ("auto", "cuda")
        dist.init_process_group(backend="nccl" if use_cuda else "gloo", rank=rank, world_size=world)
        created = True
    return _Dist(rank=dist.get_rank(), world=dist.get_world_size(), local_rank=local, created=created)


def resolve_device(device: str | torch.device = "auto", local_rank: int = 0) -> torch.device:
    """``"auto"``: ``cuda:<LOCAL_RANK>`` when a GPU is visible, else ``cpu``; ``"cuda"`` gets the local rank too."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("device='cuda' asked but torch sees no GPU; pass device='cpu' or 'auto'")
        return torch.device("cuda", local_rank % max(torch.cuda.device_count(), 1))
    return torch.device(device)


def _all_reduce(t: torch.Tensor, dist_info: _Dist) -> torch.Tensor:
    if dist_info.active:
        import torch.distributed as dist
        dist.all_reduce(t)
    return t


def _amp_dtype(amp: bool | str, device: torch.device) -> torch.dtype | None:
    if device.type != "cuda" or amp in (False, None, "none", "off"):
        return None
    if amp in (True, "auto"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    table = {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16}
    if amp not in table:
        raise ValueError(f"amp={amp!r}; expected True, False, 'bf16' or 'fp16'")
    return table[amp]


def _autocast(device: torch.device, dtype: torch.dtype | None):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def _torch_seed(seed: int, epoch: int, rank: int) -> int:
    return (int(seed) * 1_000_003 + epoch * 7_919 + rank * 104_729) % (2**63 - 1)


# ----------------------------------------------------------------------------- model, optimiser

def l2_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters that get L2 (weight decay): ``model.l2_params()``, else every ``nn.Linear`` weight.

    Raises:
        ValueError: ``l2_params()`` returned a tensor that is not a parameter of ``model``.
    """
    if hasattr(model, "l2_params"):
        params = list(model.l2_params())
        own = {id(p) for p in model.parameters()}
        if any(id(p) not in own for p in params):
            raise ValueError(f"{type(model).__name__}.l2_params() returned a tensor that is not one of the "
                             "model's parameters; return parameters of the model's FC layers")
        return params
    return [m.weight for m in model.modules() if isinstance(m, nn.Linear)]


def make_optimizer(model: nn.Module, optimizer: str = "adam", lr: float = 1e-3, momentum: float = 0.9,
                   weight_decay_fc: float = 1e-4) -> torch.optim.Optimizer:
    """Adam or SGD with two parameter groups: L2 on the FC layers, none elsewhere.

    Args:
        model: the model (unwrapped, not the DDP wrapper).
        optimizer: ``"adam"`` (default) or ``"sgd"`` (with ``momentum``).
        lr: learning rate (default 1e-3, paper Sec. 5.3).
        momentum: SGD momentum (default 0.9; ignored by Adam).
        weight_decay_fc: ``weight_decay`` of group 0, :func:`l2_parameters` (default 1e-4).

    Returns:
        The optimiser; ``param_groups[0]`` is the L2 group, ``param_groups[1]`` the rest.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer={optimizer!r}; expected one of {OPTIMIZERS}")
    decay = l2_parameters(model)
    ids = {id(p) for p in decay}
    rest = [p for p in model.parameters() if id(p) not in ids]
    decay = [p for p in decay if p.requires_grad]
    rest = [p for p in rest if p.requires_grad]
    groups = [{"params": decay, "weight_decay": float(weight_decay_fc)},
              {"params": rest, "weight_decay": 0.0}]
    if optimizer == "adam":
        return torch.optim.Adam(groups, lr=lr)
    return torch.optim.SGD(groups, lr=lr, momentum=momentum)


def _build(model: nn.Module | str, model_name: str | None, model_params: dict | None,
           num_classes: int) -> tuple[nn.Module, str, dict]:
    if isinstance(model, str):
        from skelutils.models import build_model
        params = {k: v for k, v in (model_params or {}).items() if k not in ("name", "num_classes")}
        return build_model(model, num_classes=num_classes, **params), model_name or model, params
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a model name or an nn.Module, got {type(model).__name__}")
    name = model_name or getattr(model, "name", None) or type(model).__name__
    params = dict(model_params) if model_params is not None else dict(getattr(model, "config", {}) or {})
    return model, str(name), params


# ----------------------------------------------------------------------------- evaluation

def _predict(module: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int, amp_dtype,
             dist_info: _Dist) -> tuple[torch.Tensor, float]:
    """Predicted labels for all of ``x`` (sharded over ranks, all-reduced) and the summed CE loss."""
    n = x.shape[0]
    preds = torch.zeros(n, dtype=torch.long, device=x.device)
    loss = torch.zeros((), dtype=torch.float64, device=x.device)
    bounds = torch.linspace(0, n, dist_info.world + 1).round().long().tolist()
    lo, hi = bounds[dist_info.rank], bounds[dist_info.rank + 1]
    was_training = module.training
    module.eval()
    with torch.no_grad():
        for s in range(lo, hi, batch_size):
            e = min(s + batch_size, hi)
            with _autocast(x.device, amp_dtype):
                logits = module(x[s:e])
            logits = logits.float()
            loss += F.cross_entropy(logits, y[s:e], reduction="sum").double()
            preds[s:e] = logits.argmax(1)
    module.train(was_training)
    _all_reduce(preds, dist_info)
    _all_reduce(loss, dist_info)
    return preds, float(loss.item())


def metrics_from_predictions(y_true, y_pred, class_names: Sequence[str]) -> dict[str, Any]:
    """Accuracy, per-class accuracy and confusion matrix.

    Args:
        y_true, y_pred: int ``(N,)`` labels.
        class_names: names in label order; ``C = len(class_names)``.

    Returns:
        ``accuracy`` (float in [0, 1]; ``None`` when N is 0), ``per_class_accuracy``
        (name -> recall of that class, ``None`` for a class absent from ``y_true``),
        ``confusion_matrix`` (C x C list of lists, rows true, columns predicted),
        ``predictions`` (list of int), ``n``.
    """
    yt = np.asarray(torch.as_tensor(y_true).cpu(), dtype=np.int64)
    yp = np.asarray(torch.as_tensor(y_pred).cpu(), dtype=np.int64)
    c = len(class_names)
    cm = np.bincount(yt * c + yp, minlength=c * c).reshape(c, c) if len(yt) else np.zeros((c, c), np.int64)
    rows = cm.sum(1)
    per = {name: (float(cm[i, i] / rows[i]) if rows[i] else None) for i, name in enumerate(class_names)}
    return {"accuracy": float(np.trace(cm) / len(yt)) if len(yt) else None,
            "per_class_accuracy": per, "confusion_matrix": cm.tolist(),
            "predictions": yp.tolist(), "n": int(len(yt))}


def evaluate(model: nn.Module, x, y, batch_size: int = 256, device: str | torch.device = "auto",
             class_names: Sequence[str] = CLASS_NAMES, amp: bool | str = False) -> dict[str, Any]:
    """Evaluate ``model`` on one set, in eval mode, without gradients.

    Args:
        model: maps float32 ``(N, 2, T, 25, 3)`` to logits ``(N, C)``; moved to ``device``.
        x: float32 ``(N, 2, T, 25, 3)`` (numpy or tensor).
        y: int ``(N,)`` labels in ``0..C-1``.
        batch_size: samples per forward pass (default 256).
        device: ``"auto"`` (GPU when present), ``"cpu"``, ``"cuda"`` or a ``torch.device``.
        class_names: label order, ``C = len(class_names)`` (default the seven classes).
        amp: autocast on CUDA (default off).

    Returns:
        :func:`metrics_from_predictions` plus ``loss`` (mean cross-entropy).
    """
    dev = resolve_device(device)
    model = model.to(dev)
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32) if not torch.is_tensor(x) else x).to(dev, torch.float32)
    yt = torch.as_tensor(np.asarray(y) if not torch.is_tensor(y) else y).to(dev, torch.long)
    preds, loss = _predict(model, xt, yt, batch_size, _amp_dtype(amp, dev), _Dist())
    out = metrics_from_predictions(yt, preds, class_names)
    out["loss"] = loss / max(len(yt), 1)
    return out


# ----------------------------------------------------------------------------- checkpoints

def _rng_state(perm_gen: torch.Generator) -> dict[str, Any]:
    np_state = np.random.get_state()
    py_state = random.getstate()
    state = {
        "torch_cpu": torch.get_rng_state(),
        "perm": perm_gen.get_state(),
        "numpy": {"name": np_state[0], "keys": torch.from_numpy(np_state[1].astype(np.int64)),
                  "pos": int(np_state[2]), "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
        "python": {"version": py_state[0], "state": torch.tensor(py_state[1], dtype=torch.int64),
                   "gauss_next": py_state[2]},
    }
    if torch.cuda.is_available():
        state["torch_cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any], perm_gen: torch.Generator) -> None:
    torch.set_rng_state(state["torch_cpu"])
    perm_gen.set_state(state["perm"])
    n = state["numpy"]
    np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    p = state["python"]
    random.setstate((p["version"], tuple(int(v) for v in p["state"].tolist()), p["gauss_next"]))
    if "torch_cuda" in state and torch.cuda.is_available():
        cuda = state["torch_cuda"]
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write a checkpoint dict with ``torch.save`` atomically (temporary file + rename)."""
    buf = io.BytesIO()
    torch.save(state, buf)
    return atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by :func:`fit` (``weights_only=True``, onto the CPU).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not a checkpoint of this engine (message says what to do).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; train the model first (skelutils.train.fit)")
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for corrupt or foreign files
        raise ValueError(f"{path}: cannot be read as a checkpoint ({type(e).__name__}: {e}); "
                         "delete it (or the run folder) and train again") from e
    if not isinstance(ck, dict) or ck.get("format") not in READABLE_FORMATS:
        raise ValueError(f"{path}: not a {CHECKPOINT_FORMAT} checkpoint; delete it (or the run folder) "
                         "and train again")
    return ck


def _check_run_length(path: Path, ck: dict, epochs: int) -> None:
    """A resumed run may be extended (``epochs`` above the checkpoint's run length), never shortened."""
    if ck.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"cannot resume from {path}: it was written by an older version of the engine "
                         f"({ck.get('format')}) that did not record the run length; delete the run folder "
                         f"{path.parent} or pass resume=False to train afresh")
    have = int(ck["epochs"])
    if epochs < have:
        raise ValueError(
            f"cannot resume from {path}: it holds a run of {have} epochs ({ck['epoch']} trained, best epoch "
            f"{ck['best']['epoch']}) and this call asks for epochs={epochs}; a run can be extended but not "
            f"shortened: ask for epochs={have} (or more) to re-test (or continue) it, or delete the run folder "
            f"{path.parent} (or pass resume=False) to train {epochs} epochs afresh")


def _best_matches(best_ck: dict | None, last: dict) -> bool:
    return (best_ck is not None and best_ck.get("best") == last["best"]
            and int(best_ck.get("epoch", -1)) == int(last["best"]["epoch"])
            and all(best_ck.get(k) == last.get(k) for k in ("model_name", "num_classes", "dataset_fingerprint")))


#: What ``best.pt`` holds (:func:`fit`): the run's identity and the weights, no optimiser state.
_BEST_KEYS = ("format", "model_name", "num_classes", "class_names", "model_config", "dataset_fingerprint",
              "train_params", "model_params", "epoch", "model", "best", "epochs")


def _best_only(ck: dict, weights: dict, epoch: int | None = None) -> dict:
    out = {k: ck[k] for k in _BEST_KEYS if k in ck}
    out["model"] = weights
    if epoch is not None:
        out["epoch"] = epoch
    return out


def _check_best(best_path: Path, last_path: Path, last: dict, repair: bool) -> None:
    """Check that ``best.pt`` holds the epoch ``last.pt`` records as the best.

    ``last.pt`` is written before ``best.pt``, so a run killed between the two writes leaves a
    ``last.pt`` that is itself the best epoch; ``repair`` then writes its weights to ``best.pt``.
    With ``checkpoint_every > 1`` a kill can also leave a ``best.pt`` of an epoch after
    ``last.pt``; ``repair`` then writes the best weights ``last.pt`` carries (``best_model``).

    Raises:
        ValueError: ``best.pt`` is missing or holds another epoch and cannot be restored.
    """
    best_ck = load_checkpoint(best_path) if best_path.is_file() else None
    if _best_matches(best_ck, last):
        return
    if int(last["best"]["epoch"]) == int(last["epoch"]):
        if repair:
            save_checkpoint(best_path, _best_only(last, last["model"]))
        return
    ahead = (best_ck is not None and int(best_ck.get("epoch", -1)) > int(last["epoch"])
             and all(best_ck.get(k) == last.get(k) for k in ("model_name", "num_classes", "dataset_fingerprint")))
    if ahead and last.get("best_model") is not None:
        # best.pt of an epoch trained after the last write of last.pt (checkpoint_every > 1): the
        # resumed run trains that epoch again; until then the best is the one last.pt carries
        if repair:
            save_checkpoint(best_path, _best_only(last, last["best_model"], int(last["best"]["epoch"])))
        return
    found = f"holds epoch {best_ck.get('epoch')}" if best_ck is not None else "is missing"
    raise ValueError(f"{best_path} {found} but {last_path} records epoch {last['best']['epoch']} as the best; "
                     f"the run folder is inconsistent (files copied from another run?): delete the run folder "
                     f"{best_path.parent} or pass resume=False to train afresh")


def _check_resumable(path: Path, ck: dict, expected: dict[str, Any]) -> None:
    diffs = [f"{k}: checkpoint has {ck.get(k)!r}, this run asks for {v!r}"
             for k, v in expected.items() if k != "train_params" and ck.get(k) != v]
    tp_ck, tp = ck.get("train_params", {}), expected.get("train_params", {})
    diffs += [f"train_params.{k}: checkpoint has {tp_ck.get(k)!r}, this run asks for {tp.get(k)!r}"
              for k in _RESUME_KEYS if tp_ck.get(k) != tp.get(k)]
    if diffs:
        raise ValueError(
            f"cannot resume from {path}: it holds model {ck.get('model_name')!r} with "
            f"{ck.get('num_classes')} classes (epoch {ck.get('epoch')}), which does not match this run:\n  "
            + "\n  ".join(diffs)
            + f"\nDelete the run folder {path.parent} or pass resume=False to start over, "
              "or choose another run_dir.")


def _rebuild_params(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` without ``name``/``num_classes`` and, when the model is known, without keys
    ``build_model`` does not take (``model.config`` also records derived values)."""
    out = {k: v for k, v in params.items() if k not in ("name", "num_classes")}
    try:
        from skelutils.models import model_params
        allowed = set(model_params(name))
    except (ImportError, ValueError):
        return out
    return {k: v for k, v in out.items() if k in allowed}


def load_checkpoint_model(path: str | os.PathLike, device: str | torch.device = "cpu",
                          model: nn.Module | None = None) -> nn.Module:
    """Rebuild the model stored in a checkpoint (usually ``run_dir/best.pt``), in eval mode.

    Args:
        path: a checkpoint written by :func:`fit`.
        device: where to put the model (default ``"cpu"``).
        model: an already built model of the same architecture to load the weights into;
            ``None`` rebuilds it with ``skelutils.models.build_model(model_name,
            num_classes, **model_params)`` from what the checkpoint stores.

    Raises:
        ValueError: the checkpoint's weights do not fit ``model`` or the model cannot be rebuilt.
    """
    ck = load_checkpoint(path)
    if model is None:
        from skelutils.models import build_model
        params = _rebuild_params(ck["model_name"], ck.get("model_params") or {})
        try:
            model = build_model(ck["model_name"], num_classes=ck["num_classes"], **params)
        except (TypeError, ValueError, KeyError) as e:
            raise ValueError(f"{path}: cannot rebuild model {ck['model_name']!r} with params {params} "
                             f"({e}); build it yourself and pass it as model=") from e
    try:
        model.load_state_dict(ck["model"])
    except RuntimeError as e:
        raise ValueError(f"{path}: holds weights of {ck['model_name']!r} ({ck['num_classes']} classes) that do "
                         f"not fit the given {type(model).__name__}: {e}") from e
    return model.to(resolve_device(device)).eval()


# ----------------------------------------------------------------------------- fit

def fit(model: nn.Module | str, data: TrainData | Mapping[str, Any], *, model_name: str | None = None,
        model_params: dict | None = None, epochs: int, batch_size: int = 16, optimizer: str = "adam",
        lr: float = 1e-3, momentum: float = 0.9, weight_decay_fc: float = 1e-4,
        lr_plateau: bool | None = None, plateau_patience: int = 5, plateau_factor: float = 0.1,
        amp: bool | str = True, seed: int = 0, device: str | torch.device = "auto",
        cudnn_benchmark: bool = False, eval_batch_size: int = 256, checkpoint_every: int = 1,
        max_steps_per_epoch: int | None = None,
        run_dir: str | os.PathLike, results_path: str | os.PathLike | None,
        meta: Mapping[str, Any] | None = None, progress: bool = True, resume: bool = True) -> dict[str, Any]:
    """Train, select on validation, test once, write checkpoints and a results JSON.

    Args:
        model: a name for ``skelutils.models.build_model`` (``cnn3d_lstm``,
            ``li2017_cnn``, ``rrn_lstm``; built after seeding with ``model_params``) or a
            built ``nn.Module`` mapping float32 ``(N, 2, T, 25, 3)`` to logits ``(N, C)``.
        data: :class:`TrainData` or a dict with ``x_train, y_train, x_val, y_val, x_test,
            y_test`` (float32 ``(N, 2, T, 25, 3)`` / int64 ``(N,)``) and ``class_names``.
        model_name: the name stored in checkpoints and results (default: ``model`` when it
            is a name, else the module's ``name`` attribute or class name).
        model_params: keyword arguments of ``build_model`` (stored so that
            :func:`load_checkpoint_model` can rebuild the model); default ``model.config``.
        epochs: the run length, in epochs. A resumed run continues up to this number; a
            checkpoint of a longer run is refused (the message says how to start afresh).
        batch_size: global batch size over all ranks (default 16, paper Sec. 5.3).
        optimizer: ``"adam"`` (default; ours and Li 2017) or ``"sgd"`` (RRN).
        lr: initial learning rate (default 1e-3).
        momentum: SGD momentum (default 0.9).
        weight_decay_fc: L2 strength on the FC layers (default 1e-4; the paper gives none).
        lr_plateau: divide the LR by ``1 / plateau_factor`` when validation accuracy has
            not improved for ``plateau_patience`` epochs; ``None`` (default) means on for
            SGD, off for Adam.
        plateau_patience: epochs without improvement before a decay (default 5).
        plateau_factor: LR multiplier at a plateau (default 0.1, "divided by 10").
        amp: mixed precision on CUDA: ``True`` (bf16 if supported, else fp16 with a
            GradScaler), ``"bf16"``, ``"fp16"`` or ``False``; ignored on CPU.
        seed: one seed for Python, numpy, torch, the model's initialisation, the batch
            order and dropout (default 0).
        device: ``"auto"`` (default), ``"cpu"``, ``"cuda"`` or a ``torch.device``.
        cudnn_benchmark: let cuDNN pick the fastest kernels (nondeterministic; default off).
        eval_batch_size: batch size of validation and test passes (default 256).
        checkpoint_every: epochs between writes of ``last.pt`` (default 1; it is also written
            after the last epoch). A resume restarts from the last write.
        max_steps_per_epoch: stop each epoch after this many optimiser steps (``None``,
            default: the whole training set); for dry runs.
        run_dir: folder for ``last.pt`` and ``best.pt`` (weights only).
        results_path: the results JSON (normally
            ``artifacts/<profile>/results/<model>_<split>.json``); ``None`` writes none.
        meta: extra fields copied into the results (``split``, ``profile``,
            ``data_source``, ``protocol``, ``gan_fraction``, ...); keys the engine
            computes cannot be overridden.
        progress: show a tqdm bar over epochs (rank 0 only).
        resume: continue from ``run_dir/last.pt`` if it exists (default); ``False`` starts
            over and overwrites the checkpoints.

    Returns:
        The results dict written to ``results_path``: ``model, split, profile, data_source,
        seed, test_accuracy, test_loss, per_class_accuracy`` (class name -> accuracy,
        ``None`` for an absent class), ``confusion_matrix`` (rows true, columns predicted),
        ``test_predictions`` (labels in test order), ``history`` (per epoch ``epoch,
        train_loss, train_acc, val_loss, val_acc, lr, seconds``), ``best_epoch`` (1-based),
        ``best_val_acc``, ``n_train, n_val, n_test``, ``epochs`` (the run length, one history
        entry each), ``params``, ``train_params``, ``device`` and ``world_size`` (those the
        last trained epoch ran with, also when this call only re-tests), ``training_segments``
        (``first_epoch, last_epoch, device, world_size, train_params`` of each stretch of
        epochs trained in one setting), ``test_device`` (where this call tested),
        ``wall_seconds`` (this call, from start to results: a resumed run counts only
        its own part), ``train_seconds`` (the epochs' time summed over every call that trained
        this run), ``git_commit, dataset_fingerprint, class_names, run_dir, torch_version`` and
        the ``meta`` fields.

    Raises:
        ValueError: bad arguments or data; a checkpoint in ``run_dir`` from another model,
            class count, data set or training setup, of a longer run, or a ``best.pt`` that is
            not the best epoch ``last.pt`` records (the message says what to do).
    """
    t_start = time.perf_counter()
    meta = dict(meta or {})
    data = as_train_data(data)
    if epochs < 1 or batch_size < 1 or checkpoint_every < 1:
        raise ValueError(f"epochs={epochs}, batch_size={batch_size}, checkpoint_every={checkpoint_every}; "
                         "each must be at least 1")
    if max_steps_per_epoch is not None and max_steps_per_epoch < 1:
        raise ValueError(f"max_steps_per_epoch={max_steps_per_epoch}; expected None (whole epochs) or >= 1")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer={optimizer!r}; expected one of {OPTIMIZERS}")
    dist_info = _init_distributed(str(device))
    try:
        return _fit(model, data, dist_info, t_start, model_name=model_name, model_params=model_params,
                    epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr, momentum=momentum,
                    weight_decay_fc=weight_decay_fc, lr_plateau=lr_plateau, plateau_patience=plateau_patience,
                    plateau_factor=plateau_factor, amp=amp, seed=seed, device=device,
                    cudnn_benchmark=cudnn_benchmark, eval_batch_size=eval_batch_size,
                    checkpoint_every=int(checkpoint_every), max_steps_per_epoch=max_steps_per_epoch,
                    run_dir=Path(run_dir),
                    results_path=results_path, meta=meta, progress=progress, resume=resume)
    finally:
        if dist_info.created:
            import torch.distributed as dist
            dist.destroy_process_group()


@dataclasses.dataclass
class _Run:
    """What one call of :func:`fit` works with: built once by :func:`_start_run`, then updated
    by :func:`_resume_run` and each :func:`_train_epoch` / :func:`_end_epoch`."""

    model: nn.Module         # unwrapped, for evaluation and state dicts
    net: nn.Module           # the model, or its DDP wrapper, for training steps
    model_name: str
    model_params: dict
    identity: dict           # what a checkpoint must match to be resumed
    facts: dict              # where this call trains (device, world size, train params)
    opt: torch.optim.Optimizer
    sched: Any
    scaler: Any
    perm_gen: torch.Generator
    dev: torch.device
    dev_name: str
    amp_dtype: torch.dtype | None
    dist: _Dist
    run_dir: Path
    epochs: int
    history: list = dataclasses.field(default_factory=list)
    segments: list = dataclasses.field(default_factory=list)
    best: dict = dataclasses.field(default_factory=lambda: {"epoch": 0, "val_acc": -math.inf, "val_loss": math.inf})
    best_weights: dict | None = None   # on the CPU; carried in last.pt
    start_epoch: int = 0

    @property
    def is_main(self) -> bool:
        return self.dist.rank == 0

    @property
    def last_path(self) -> Path:
        return self.run_dir / "last.pt"

    @property
    def best_path(self) -> Path:
        return self.run_dir / "best.pt"

    def best_state(self, epoch: int) -> dict[str, Any]:
        """What best.pt holds: the weights and the run's identity, no optimiser state."""
        return {"format": CHECKPOINT_FORMAT, **self.identity, "model_params": self.model_params, "epoch": epoch,
                "model": self.model.state_dict(), "best": self.best, "epochs": int(self.epochs)}

    def checkpoint_state(self, epoch: int) -> dict[str, Any]:
        """What last.pt holds: best.pt's fields, the optimiser, scheduler, scaler and RNG state,
        the history, and the best weights (the current ones when this epoch is the best)."""
        weights = self.model.state_dict()
        return {**self.best_state(epoch), "optimizer": self.opt.state_dict(),
                "scheduler": self.sched.state_dict() if self.sched is not None else None,
                "scaler": self.scaler.state_dict() if self.scaler is not None else None,
                "best_model": weights if self.best["epoch"] == epoch else self.best_weights,
                "model": weights, "history": self.history, "segments": self.segments,
                "rng": _rng_state(self.perm_gen)}


def _fit(model, data: TrainData, dist_info: _Dist, t_start: float, *, model_name, model_params, epochs,
         batch_size, optimizer, lr, momentum, weight_decay_fc, lr_plateau, plateau_patience, plateau_factor,
         amp, seed, device, cudnn_benchmark, eval_batch_size, checkpoint_every, max_steps_per_epoch,
         run_dir: Path, results_path, meta, progress, resume) -> dict[str, Any]:
    """:func:`fit` after its argument checks, in four steps: start, resume, train, test."""
    from tqdm.auto import tqdm

    run = _start_run(model, data, dist_info, model_name=model_name, model_params=model_params, epochs=epochs,
                     batch_size=batch_size, optimizer=optimizer, lr=lr, momentum=momentum,
                     weight_decay_fc=weight_decay_fc, lr_plateau=lr_plateau, plateau_patience=plateau_patience,
                     plateau_factor=plateau_factor, amp=amp, seed=seed, device=device,
                     cudnn_benchmark=cudnn_benchmark, max_steps_per_epoch=max_steps_per_epoch, run_dir=run_dir)
    if resume and run.last_path.is_file():
        _resume_run(run)
    if run.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
    _wrap_ddp(run)

    x_tr, y_tr = torch.from_numpy(data.x_train).to(run.dev), torch.from_numpy(data.y_train).to(run.dev)
    x_va, y_va = torch.from_numpy(data.x_val).to(run.dev), torch.from_numpy(data.y_val).to(run.dev)
    bar = tqdm(total=epochs, initial=min(run.start_epoch, epochs), desc=run.model_name, unit="epoch",
               disable=not (progress and run.is_main), dynamic_ncols=True)
    for epoch in range(run.start_epoch, epochs):
        t0 = time.perf_counter()
        lr_now = float(run.opt.param_groups[0]["lr"])
        train_loss, train_acc = _train_epoch(run, x_tr, y_tr, epoch, seed=seed, batch_size=batch_size,
                                             max_steps=max_steps_per_epoch, class_names=data.class_names)
        val_pred, val_loss_sum = _predict(run.model, x_va, y_va, eval_batch_size, run.amp_dtype, run.dist)
        val_acc = float((val_pred == y_va).double().mean().item())
        entry = {"epoch": epoch + 1, "train_loss": train_loss, "train_acc": train_acc,
                 "val_loss": val_loss_sum / len(y_va), "val_acc": val_acc, "lr": lr_now}
        _end_epoch(run, entry, t0, checkpoint_every)
        bar.update(1)
        bar.set_postfix(loss=f"{train_loss:.3f}", acc=f"{train_acc:.3f}", val_acc=f"{val_acc:.3f}", lr=f"{lr_now:.1e}")
    bar.close()
    if run.dist.active:
        import torch.distributed as dist
        dist.barrier()
    return _test_and_report(run, data, t_start, seed=seed, eval_batch_size=eval_batch_size,
                            results_path=results_path, meta=meta)


def _start_run(model, data: TrainData, dist_info: _Dist, *, model_name, model_params, epochs, batch_size,
               optimizer, lr, momentum, weight_decay_fc, lr_plateau, plateau_patience, plateau_factor, amp,
               seed, device, cudnn_benchmark, max_steps_per_epoch, run_dir: Path) -> _Run:
    """Device, seeded model, optimiser, scheduler, scaler, batch-order generator and the run's identity."""
    world = dist_info.world
    dev = resolve_device(device, dist_info.local_rank)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
        torch.backends.cudnn.benchmark = bool(cudnn_benchmark)
    amp_dtype = _amp_dtype(amp, dev)
    num_classes = data.num_classes

    seed_everything(seed)
    model, model_name, model_params = _build(model, model_name, model_params, num_classes)
    model = model.to(dev)
    model_config = dict(getattr(model, "config", None) or model_params)
    if lr_plateau is None:
        lr_plateau = optimizer == "sgd"
    train_params = {"optimizer": optimizer, "lr": float(lr), "momentum": float(momentum) if optimizer == "sgd" else None,
                    "weight_decay_fc": float(weight_decay_fc), "batch_size": int(batch_size),
                    "per_rank_batch_size": math.ceil(batch_size / world), "lr_plateau": bool(lr_plateau),
                    "plateau_patience": int(plateau_patience), "plateau_factor": float(plateau_factor),
                    "loss": "cross_entropy", "seed": int(seed),
                    "amp": str(amp_dtype).replace("torch.", "") if amp_dtype else None,
                    "cudnn_benchmark": bool(cudnn_benchmark), "world_size": world,
                    "max_steps_per_epoch": int(max_steps_per_epoch) if max_steps_per_epoch else None,
                    "l2_on": "model.l2_params()" if hasattr(model, "l2_params") else "all nn.Linear weights"}

    opt = make_optimizer(model, optimizer, lr, momentum, weight_decay_fc)
    sched = (torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=plateau_factor,
                                                        patience=plateau_patience) if lr_plateau else None)
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16) if dev.type == "cuda" else None
    perm_gen = torch.Generator(device=dev)
    perm_gen.manual_seed(int(seed))
    dev_name = str(dev) + (f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else "")
    identity = {"model_name": model_name, "num_classes": num_classes, "class_names": list(data.class_names),
                "model_config": model_config, "dataset_fingerprint": dataset_fingerprint(data),
                "train_params": train_params}
    # where this call trains: recorded per stretch of epochs, so that a re-test or a resume on
    # another machine reports where the epochs were trained, not where they were re-tested
    facts = {"device": dev_name, "world_size": world, "train_params": train_params}
    return _Run(model=model, net=model, model_name=model_name, model_params=model_params, identity=identity,
                facts=facts, opt=opt, sched=sched, scaler=scaler, perm_gen=perm_gen, dev=dev, dev_name=dev_name,
                amp_dtype=amp_dtype, dist=dist_info, run_dir=run_dir, epochs=int(epochs))


def _resume_run(run: _Run) -> None:
    """Continue from ``last.pt``: refused if it is another run or a longer one; restores the weights,
    the optimiser, scheduler, scaler and RNG state, the history, and ``best.pt`` if it disagrees."""
    path = run.last_path
    ck = load_checkpoint(path)
    _check_run_length(path, ck, run.epochs)
    _check_resumable(path, ck, run.identity)
    try:
        run.model.load_state_dict(ck["model"])
    except RuntimeError as e:
        raise ValueError(f"cannot resume from {path}: its weights do not fit the model ({e}); delete "
                         f"the run folder {run.run_dir} or pass resume=False") from e
    run.opt.load_state_dict(ck["optimizer"])
    if run.sched is not None and ck.get("scheduler") is not None:
        run.sched.load_state_dict(ck["scheduler"])
    if run.scaler is not None and ck.get("scaler") is not None:
        run.scaler.load_state_dict(ck["scaler"])
    _set_rng_state(ck["rng"], run.perm_gen)
    run.history, run.best, run.start_epoch = list(ck["history"]), dict(ck["best"]), int(ck["epoch"])
    run.segments = [dict(seg) for seg in ck["segments"]]
    run.best_weights = ck.get("best_model")
    _check_best(run.best_path, path, ck, repair=run.is_main)


def _wrap_ddp(run: _Run) -> None:
    """Under torchrun: train through ``DistributedDataParallel`` (``SyncBatchNorm`` on CUDA)."""
    if not run.dist.active:
        return
    from torch.nn.parallel import DistributedDataParallel as DDP
    if run.dev.type == "cuda":
        run.model = nn.SyncBatchNorm.convert_sync_batchnorm(run.model)
        run.net = DDP(run.model, device_ids=[run.dev.index], output_device=run.dev.index)
    else:
        run.net = DDP(run.model)


def _train_epoch(run: _Run, x_tr: torch.Tensor, y_tr: torch.Tensor, epoch: int, *, seed: int, batch_size: int,
                 max_steps: int | None, class_names: Sequence[str]) -> tuple[float, float]:
    """One pass over a fresh permutation of the training set (this rank's share of each global batch).

    Returns:
        (mean training loss, training accuracy) over all ranks.
    """
    rank, world = run.dist.rank, run.dist.world
    torch.manual_seed(_torch_seed(seed, epoch, rank))
    run.net.train()
    n_tr = len(y_tr)
    perm = torch.randperm(n_tr, generator=run.perm_gen, device=run.dev)
    loss_sum = torch.zeros((), dtype=torch.float64, device=run.dev)
    correct = torch.zeros((), dtype=torch.long, device=run.dev)
    seen = torch.zeros((), dtype=torch.long, device=run.dev)
    for step, s in enumerate(range(0, n_tr, batch_size)):
        if max_steps is not None and step >= max_steps:
            break
        gidx = perm[s:s + batch_size]
        n_global = gidx.numel()
        if n_global < world:
            break
        idx = gidx.tensor_split(world)[rank] if world > 1 else gidx
        xb, yb = x_tr.index_select(0, idx), y_tr.index_select(0, idx)
        with _autocast(run.dev, run.amp_dtype):
            logits = run.net(xb)
        if epoch == run.start_epoch and step == 0 and (logits.ndim != 2 or logits.shape[1] != len(class_names)):
            raise ValueError(f"model {run.model_name!r} returns logits of shape {tuple(logits.shape)}; expected "
                             f"(N, {len(class_names)}) for classes {list(class_names)}; build it with "
                             f"num_classes={len(class_names)}")
        logits = logits.float()
        per_sample = F.cross_entropy(logits, yb, reduction="sum")
        loss = per_sample * (world / n_global)
        run.opt.zero_grad(set_to_none=True)
        if run.scaler is not None and run.scaler.is_enabled():
            run.scaler.scale(loss).backward()
            run.scaler.step(run.opt)
            run.scaler.update()
        else:
            loss.backward()
            run.opt.step()
        loss_sum += per_sample.detach().double()
        correct += (logits.detach().argmax(1) == yb).sum()
        seen += yb.numel()
    for t in (loss_sum, correct, seen):
        _all_reduce(t, run.dist)
    n_seen = max(int(seen.item()), 1)
    return float(loss_sum.item()) / n_seen, int(correct.item()) / n_seen


def _end_epoch(run: _Run, entry: dict[str, Any], t0: float, checkpoint_every: int) -> None:
    """Step the scheduler, record the epoch (history, training segments, best) and write
    ``last.pt`` (every ``checkpoint_every`` epochs and after the last) and ``best.pt`` (when improved)."""
    epoch, val_acc, val_loss = entry["epoch"], entry["val_acc"], entry["val_loss"]
    if run.sched is not None:
        run.sched.step(val_acc)
    if run.dev.type == "cuda":
        torch.cuda.synchronize(run.dev)
    run.history.append({**entry, "seconds": time.perf_counter() - t0})
    best = run.best
    improved = val_acc > best["val_acc"] or (val_acc == best["val_acc"] and val_loss < best["val_loss"])
    if improved:
        run.best = {"epoch": epoch, "val_acc": val_acc, "val_loss": val_loss}
        run.best_weights = {k: v.detach().to("cpu", copy=True) for k, v in run.model.state_dict().items()}
    seg = run.segments[-1] if run.segments else None
    if seg and seg["last_epoch"] == epoch - 1 and all(seg[k] == v for k, v in run.facts.items()):
        seg["last_epoch"] = epoch
    else:
        run.segments.append({"first_epoch": epoch, "last_epoch": epoch, **run.facts})
    if run.is_main:
        # last.pt first: a kill before best.pt is written leaves a last.pt that is itself the
        # best epoch, from which a resume restores best.pt (_check_best)
        if epoch % checkpoint_every == 0 or epoch == run.epochs:
            save_checkpoint(run.last_path, run.checkpoint_state(epoch))
        if improved:
            save_checkpoint(run.best_path, run.best_state(epoch))


def _test_and_report(run: _Run, data: TrainData, t_start: float, *, seed: int, eval_batch_size: int,
                     results_path, meta: dict) -> dict[str, Any]:
    """Evaluate the best-on-validation weights on test once; build and write the results."""
    ck_best = load_checkpoint(run.best_path)
    ident = run.identity
    if not _best_matches(ck_best, {"best": run.best, "model_name": run.model_name,
                                   "num_classes": ident["num_classes"],
                                   "dataset_fingerprint": ident["dataset_fingerprint"]}):
        raise ValueError(f"{run.best_path} holds epoch {ck_best.get('epoch')} but the run's best epoch is "
                         f"{run.best['epoch']}; another process wrote to the run folder {run.run_dir}: delete it "
                         "or pass resume=False to train afresh")
    run.model.load_state_dict(ck_best["model"])
    x_te = torch.from_numpy(data.x_test).to(run.dev)
    y_te = torch.from_numpy(data.y_test).to(run.dev)
    if len(y_te):
        test_pred, test_loss_sum = _predict(run.model, x_te, y_te, eval_batch_size, run.amp_dtype, run.dist)
    else:
        test_pred, test_loss_sum = y_te.clone(), 0.0
    m = metrics_from_predictions(y_te, test_pred, data.class_names)

    trained = run.segments[-1]
    results: dict[str, Any] = {"model": run.model_name, "split": meta.get("split"), "profile": meta.get("profile"),
                               "data_source": meta.get("data_source")}
    results.update({
        "seed": int(seed), "test_accuracy": m["accuracy"],
        "test_loss": test_loss_sum / len(y_te) if len(y_te) else None,
        "per_class_accuracy": m["per_class_accuracy"], "confusion_matrix": m["confusion_matrix"],
        "test_predictions": m["predictions"], "class_names": list(data.class_names),
        "history": run.history, "best_epoch": int(run.best["epoch"]), "best_val_acc": float(run.best["val_acc"]),
        "n_train": int(len(data.y_train)), "n_val": int(len(data.y_val)), "n_test": int(len(y_te)),
        "epochs": int(run.epochs), "params": ident["model_config"], "model_params": run.model_params,
        "train_params": trained["train_params"], "device": trained["device"], "world_size": trained["world_size"],
        "training_segments": run.segments, "test_device": run.dev_name, "torch_version": torch.__version__,
        "wall_seconds": time.perf_counter() - t_start,
        "train_seconds": float(sum(h.get("seconds", 0.0) for h in run.history)), "git_commit": git_commit(),
        "dataset_fingerprint": ident["dataset_fingerprint"], "run_dir": str(run.run_dir),
    })
    clash = sorted(k for k in meta if k in results and k not in ("split", "profile", "data_source"))
    if clash:
        raise ValueError(f"meta keys {clash} clash with fields the engine computes; rename them")
    results.update(meta)
    if run.is_main and results_path is not None:
        write_json(results_path, results)
    return results


# ----------------------------------------------------------------------------- entry point

if __name__ == "__main__":  # the command lives above the engine, in skelutils.run
    from skelutils.run import main
    sys.exit(main(prog="python -m skelutils.train"))
