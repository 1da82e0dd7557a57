"""The three training chapters: what is specific to each recogniser, for one shared notebook.

``notebooks/03_train.ipynb`` trains one recogniser, chosen by its ``MODEL`` parameter; the build
executes it once per model into the chapters of :data:`CHAPTERS` (``book/executed/<name>.ipynb``).
Everything that makes a chapter its own - its title, the paper's description of the model with
its section, the choices made where that paper is silent, the layer table (the paper's Fig. 5) -
comes from here, so the notebook holds only what the three chapters share.

Run one model's training in JupyterLab by setting ``MODEL`` in the parameters cell, or::

    papermill notebooks/03_train.ipynb out.ipynb -p MODEL li2017_cnn --cwd notebooks
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from . import config, experiments, models
from .results import markdown_table

__all__ = ["Chapter", "CHAPTERS", "TRAINING_NOTEBOOK", "chapter", "training_profile", "setup_line",
           "intro_markdown", "choices_markdown", "layer_rows", "layer_table_markdown", "train_runs",
           "glue_summary", "per_class_markdown", "misclassified", "fmt_int"]

#: The one notebook every training chapter is executed from (path from the repository root).
TRAINING_NOTEBOOK = "notebooks/03_train.ipynb"


@dataclass(frozen=True)
class Chapter:
    """One training chapter.

    Attributes:
        model: name in :data:`skelutils.models.MODEL_NAMES`.
        name: the executed copy's file stem (``book/executed/<name>.ipynb``) and the page's name.
        title: the chapter's title.
        experiment: the paper's experiment number (section 5.3).
        cites: the work the model comes from, as the paper cites it.
        paper_says: the paper's own description of the model, with its section.
    """

    model: str
    name: str
    title: str
    experiment: int
    cites: str
    paper_says: str


#: One entry per recogniser, in the book's order (chapters 03, 04, 05).
CHAPTERS: dict[str, Chapter] = {c.model: c for c in (
    Chapter(
        model="cnn3d_lstm", name="03_cnn3d_lstm",
        title="03 - 3D CNN + BiLSTM (the paper's model, Experiment 1)", experiment=1,
        cites="the authors' own model, after the small CNN of their reference [25]",
        paper_says=(
            "Sections 5.1 and 5.3 (Experiment 1): the input is a sequence of *skeleton motion "
            "coordinate changes* of shape (sequence_length, num_joints, 3, 1). Four 3D convolutions "
            "(3 x 3 x 3 kernels) with 64-128-256-512 filters in Fig. 5 and 32-64-128-256 in the "
            "text (which \"show better results\"), each followed by max pooling (the first with "
            "stride 1, the others with stride 2); then a bidirectional LSTM of 512 units per "
            "direction \"with the output 256\", an FC layer 256 -> 128 with ReLU and dropout 0.5, "
            "and a softmax over the seven classes. Section 5.1 describes a smaller head instead "
            "(one LSTM of 256 units, FC of 64). Adam, learning rate 0.001, batch 16, L2 on the "
            "FC layers, 70 epochs.")),
    Chapter(
        model="li2017_cnn", name="04_li2017_cnn",
        title="04 - Skeleton-transformer CNN of Li et al. 2017 (Experiment 2)", experiment=2,
        cites="Li et al. 2017, the paper's reference [28]",
        paper_says=(
            "Section 5.3 (Experiment 2): a CNN over the skeleton as a T x N x 3 image. A skeleton "
            "transformer, a bias-free FC layer before the convolutions, learns M new joints "
            "S' = (S^T W)^T from the N given ones, so the network chooses their order itself; "
            "the persons of a sample pass through the same layers and their feature maps are "
            "combined by an element-wise maximum (Maxout) after the last convolution. Layer "
            "sizes are those of the cited paper, which the text does not repeat.")),
    Chapter(
        model="rrn_lstm", name="05_rrn_lstm",
        title="05 - Relational-network LSTM of Zheng et al. 2019 (Experiment 3)", experiment=3,
        cites="Zheng et al. 2019, the paper's reference [30]",
        paper_says=(
            "Section 5.3 (Experiment 3): the joints are centred on the mean of the five joints "
            "next to the hip; sequences are brought to T = 100 frames (zero padding or random "
            "sampling); an FC embedding of size 50; a recurrent relational network of 5 "
            "iterations per frame with a GRU node function and a message function of three FC "
            "layers; an attention module (a trainable mask and an FC layer down to 256); a "
            "3-layer LSTM with 256 inputs and 512 outputs; classification from the last output "
            "q_T. SGD, learning rate 0.001, divided by 10 when the accuracy plateaus.")),
)}


def chapter(model: str) -> Chapter:
    """The :class:`Chapter` of ``model``; a ValueError names the allowed models."""
    if model not in CHAPTERS:
        raise ValueError(f"MODEL={model!r} has no training chapter; choose one of {list(CHAPTERS)}")
    return CHAPTERS[model]


def fmt_int(n: int) -> str:
    """``805399`` -> ``"805,399"``."""
    return f"{int(n):,}"


# ----------------------------------------------------------------------------- set-up

def training_profile(profile: str, seeds: Sequence[int] | None = None, protocol: str | None = None,
                     fraction: float | None = None) -> dict:
    """The profile with the notebook's overrides; ``None`` keeps the profile's value.

    Args:
        profile: profile name (``smoke``, ``cpu30``, ``full``).
        seeds: the training seeds (the profile's ``seeds``).
        protocol: ``"real-only"``, ``"paper"`` or ``"clean"`` (the profile's ``hybrid.protocol``).
        fraction: share of ``gan.n_per_class`` generated samples per class, 0 to 1
            (the profile's ``hybrid.fraction``).
    """
    overrides: dict[str, Any] = {"hybrid": {}}
    if seeds is not None:
        overrides["seeds"] = list(seeds)
    if protocol is not None:
        overrides["hybrid"]["protocol"] = protocol
    if fraction is not None:
        overrides["hybrid"]["fraction"] = fraction
    return config.load_profile(profile, overrides)


def setup_line(cfg: Mapping, ds, model: str) -> str:
    """One line: profile, seeds, data, versions, device, model parameters, training data."""
    import platform

    import torch
    hy = cfg["hybrid"]
    data = hy["protocol"] if hy["protocol"] == "real-only" else f"{hy['protocol']}, generated fraction {hy['fraction']}"
    return (f"profile={cfg['name']} seeds={experiments.profile_seeds(cfg)} data={ds.source} n={len(ds.y)} "
            f"python={platform.python_version()} torch={torch.__version__} "
            f"device={'cuda' if torch.cuda.is_available() else 'cpu'}\n"
            f"{model} parameters: {cfg['models'][model]['params'] or 'paper defaults'}\n"
            f"training data: {data}")


# ----------------------------------------------------------------------------- what the paper says

def intro_markdown(model: str) -> str:
    """The chapter's opening: which experiment, what the paper says about the model, where the
    choices are written."""
    c = chapter(model)
    cls = type(models.build_model(model, seed=0)).__name__
    return (f"**Experiment {c.experiment} of the paper**: {c.cites}. Built by "
            f"`skelutils.models.build_model(\"{model}\")` (class `{cls}`, whose docstring gives every "
            f"size and default).\n\n"
            f"*What the paper says.* {c.paper_says}")


def choices_markdown(model: str) -> str:
    """The rows of :data:`skelutils.models.AMBIGUITIES` of ``model`` as a table: what the paper
    (or the paper it cites) leaves open, and the choice made here."""
    rows = [{"topic": r["topic"], "paper": r["paper_says"], "ours": r["we_chose"],
             "parameter": f"`{r['parameter']}`" if r["parameter"] else "-"}
            for r in models.AMBIGUITIES if r["model"] == model]
    return markdown_table(rows, {"topic": "topic", "paper": "the paper (or its source) says",
                                 "ours": "our choice", "parameter": "parameter"})


# ----------------------------------------------------------------------------- Fig. 5: the layers

def _shape(size) -> str:
    if not size:
        return "-"
    if isinstance(size[0], (list, tuple)):  # several outputs: the first
        size = size[0]
    return " × ".join(str(int(s)) for s in size)


def layer_rows(model_obj, frames: int, depth: int = 2) -> list[dict[str, Any]]:
    """The layers of a built model with their output shapes and parameter counts (torchinfo).

    One forward pass of a fixed input ``(1, 2, frames, 25, 3)`` in eval mode; neither the
    global random state nor the model's mode changes. A layer called several times (the
    relational network's message and node functions, once per iteration) is listed once.

    Args:
        model_obj: a model from :func:`skelutils.models.build_model`.
        frames: T of the input (the profile's ``data.frames``).
        depth: how deep into nested modules to list (1: the model's direct children).

    Returns:
        Dicts ``{"depth", "layer", "type", "output", "params", "leaf"}``; ``layer`` is the module's
        path in the model (``backbone.0``); ``output`` is the shape
        as ``"1 × 4 × 128"`` (batch first; the relational network folds frames into the batch),
        ``params`` the parameters the layer holds, its children's included.
    """
    import torch
    import torchinfo

    n = 2 * frames * models.NUM_JOINTS * 3
    x = torch.linspace(-0.5, 0.5, n).reshape(1, 2, frames, models.NUM_JOINTS, 3)
    was_training = model_obj.training
    try:
        info = torchinfo.summary(model_obj, input_data=x, depth=depth, verbose=0, mode="eval",
                                 device="cpu", col_names=("output_size", "num_params"))
    finally:
        model_obj.train(was_training)
    rows = []
    for layer in info.summary_list:
        if layer.depth == 0 or layer.depth > depth or layer.is_recursive:
            continue
        path, up = [layer.var_name], layer.parent_info
        while up is not None and up.depth > 0:
            path.insert(0, up.var_name)
            up = up.parent_info
        rows.append({"depth": layer.depth, "layer": ".".join(path), "type": layer.class_name,
                     "output": _shape(layer.output_size), "params": int(layer.num_params),
                     "leaf": layer.depth == depth or not layer.children})
    for i, r in enumerate(rows):  # a block run child by child has no output of its own: its last child's
        if r["output"] == "-":
            inner = [x["output"] for x in rows[i + 1:] if x["layer"].startswith(r["layer"] + ".")]
            r["output"] = inner[-1] if inner else "-"
    own = [(name, p) for name, p in model_obj.named_parameters(recurse=False)]
    if own:  # parameters of the model itself, in no layer (the RRN's attention mask)
        rows.append({"depth": 1, "layer": ", ".join(name for name, _ in own), "type": "Parameter",
                     "output": " × ".join(str(s) for s in own[0][1].shape), "params": sum(p.numel() for _, p in own),
                     "leaf": True})
    return rows


def layer_table_markdown(model_obj, frames: int, depth: int = 2) -> str:
    """:func:`layer_rows` as a table (nested layers named by their path, ``backbone.0``), with the
    total in the last row."""
    rows = layer_rows(model_obj, frames, depth)
    table = [{"layer": f"`{r['layer']}`", "type": r["type"], "output": r["output"],
              "params": fmt_int(r["params"]) if r["params"] else "-"} for r in rows]
    total = sum(p.numel() for p in model_obj.parameters())
    table.append({"layer": "**total**", "type": "", "output": "", "params": f"**{fmt_int(total)}**"})
    return markdown_table(table, {"layer": "layer", "type": "type", "output": "output shape",
                                  "params": "parameters"})


# ----------------------------------------------------------------------------- training

def train_runs(cfg: dict, model: str, splits: Sequence[str], ds) -> dict[str, list[dict]]:
    """Train ``model`` on each split with each of the profile's seeds and print one line per split.

    Returns:
        ``{split: [results of seed 0, results of seed 1, ...]}`` (results dicts of
        :func:`skelutils.experiments.train_recogniser`; finished runs are read back, not retrained).
    """
    seeds = experiments.profile_seeds(cfg)
    out = {}
    for split in splits:
        runs = out[split] = [experiments.train_recogniser(cfg, model, split, ds, seed=s) for s in seeds]
        r, accs = runs[0], [100 * x["test_accuracy"] for x in runs]
        std = np.std(accs, ddof=1) if len(accs) > 1 else 0.0
        print(f"{split}: test accuracy {accs[0]:.1f}% (seed {seeds[0]}, best epoch {r['best_epoch']}, "
              f"{fmt_int(r['n_train'])} train / {fmt_int(r['n_val'])} val / {fmt_int(r['n_test'])} test, "
              f"{r['train_seconds']:.0f} s of training on {r['device']})\n"
              f"    over seeds {seeds}: mean {np.mean(accs):.1f}%, std {std:.1f}")
    return out


def glue_summary(runs: Mapping[str, list[dict]], cfg: Mapping, ds, model: str) -> None:
    """Glue what the chapter's prose quotes: the title, the accuracies of the first seed and
    their means (``acc_<split>``, ``acc_<split>_mean``), ``n_seeds``, ``training_data``,
    ``data_source``, ``n_params`` (as ``805,399``) and ``model_name``."""
    from myst_nb import glue
    c = chapter(model)
    glue("chapter_title", c.title, display=False)
    glue("model_name", model, display=False)
    r = None
    for split, rs in runs.items():
        accs = [100 * x["test_accuracy"] for x in rs]
        r = rs[0]
        glue(f"acc_{split}", accs[0], display=False)
        glue(f"acc_{split}_mean", float(np.mean(accs)), display=False)
    glue("n_seeds", len(experiments.profile_seeds(cfg)), display=False)
    if r is not None:
        glue("training_data", r["protocol"] + ("" if r["protocol"] == "real-only"
                                               else f", {100 * r['gan_fraction']:.0f}% generated"), display=False)
    glue("data_source", ds.source, display=False)
    net = models.build_model(model, seed=0, **cfg["models"][model]["params"])
    glue("n_params", fmt_int(models.describe(net)["params"]), display=False)


def per_class_markdown(first: Mapping[str, Mapping], ds, cfg: Mapping) -> str:
    """Per-class test accuracy (%) of the first seed per split, with the simulated-data banner."""
    from .ntu import CLASS_NAMES
    from .results import simulated_banner
    names = [n for n in CLASS_NAMES if all(n in r["per_class_accuracy"] for r in first.values())]
    rows = [{"class": n, **{s: f"{100 * r['per_class_accuracy'][n]:.1f}" for s, r in first.items()}} for n in names]
    banner = simulated_banner("the accuracies in this table") + "\n\n" if ds.source == "simulated" else ""
    return (banner + f"**Per-class test accuracy, % ({ds.source} data, profile `{cfg['name']}`)**\n\n"
            + markdown_table(rows, ["class", *first]))


def misclassified(results: Mapping, ds, split: str, cfg: dict, n: int = 3):
    """Draw up to ``n`` misclassified test samples of ``split`` (start, middle, end frame each).

    Returns:
        ``(shown, wrong, total)``: the indices drawn, how many test samples are wrong, how many
        there are.
    """
    import matplotlib.pyplot as plt

    from . import plots
    from .ntu import CLASS_NAMES
    data = experiments.split_arrays(ds, split, cfg)
    pred = np.asarray(results["test_predictions"])
    wrong = np.flatnonzero(pred != data["y_test"])
    for i in wrong[:n]:
        plots.plot_sequence_frames(data["x_test"][i], title=f"true: {CLASS_NAMES[data['y_test'][i]]}, "
                                   f"predicted: {CLASS_NAMES[pred[i]]} ({ds.source} data)")
        plt.show()
    return wrong[:n], len(wrong), len(pred)
