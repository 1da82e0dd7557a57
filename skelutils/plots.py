"""3D skeleton figures and animations (matplotlib) for the notebooks and the book.

Samples are in the companion's layout ``(M=2, T, V=25, C=3)``: metres, Kinect
camera frame (x right, y up, z away from the camera). Plots put the camera's
depth axis (z) into the page and its vertical axis (y) up; person 0 (the actor)
is drawn in one colour, person 1 (the receiver) in another.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import animation

from .ntu import BONES

#: Colours of person 0 (actor) and person 1 (receiver): red and blue, dark enough on white.
PERSON_COLOURS = ("#c0392b", "#1f5fa8")
#: Labels of the two persons in legends.
PERSON_LABELS = ("actor (person 0)", "receiver (person 1)")
#: Elevation of the viewpoint, degrees above the floor: low enough to see a gap between the two.
VIEW_ELEVATION = 12.0
#: Font size of panel titles and axis labels in the skeleton figures (points).
FONT_SIZE = 11
#: How much of its panel a skeleton box fills (matplotlib's ``set_box_aspect`` zoom; 1 leaves wide margins).
BOX_ZOOM = 1.15
#: Margin around the two persons, metres.
MARGIN = 0.08


def _present_points(sample: np.ndarray) -> np.ndarray:
    pts = np.asarray(sample, dtype=float).reshape(-1, 3)
    return pts[np.abs(pts).sum(1) > 0]


def _limits(sample: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis (lo, hi) of the joints present anywhere in ``sample`` (any shape ending in 3),
    plus :data:`MARGIN`; each axis at least 0.4 m, so that one still person is not a sliver."""
    pts = _present_points(sample)
    if len(pts) == 0:
        return np.full(3, -1.0), np.full(3, 1.0)
    lo, hi = pts.min(0) - MARGIN, pts.max(0) + MARGIN
    mid, half = (lo + hi) / 2, np.maximum((hi - lo) / 2, 0.2)
    return mid - half, mid + half


def view_azimuth(sample: np.ndarray) -> float:
    """The azimuth (degrees) that looks at the two persons from the side, actor on the left.

    The line between the persons' mean positions on the floor (x, z) over the whole sequence is
    turned to run across the picture, so the gap between them, and the contact, is seen edge-on.
    With one person present (or none) the Kinect camera's own view, from the front.

    Args:
        sample: ``(M, T, V, 3)`` or ``(M, V, 3)``, metres.
    """
    s = np.asarray(sample, dtype=float)
    s = s.reshape(s.shape[0], -1, 3)
    centres = []
    for person in s[:2]:
        pts = person[np.abs(person).sum(1) > 0]
        if len(pts):
            centres.append(pts.mean(0))
    if len(centres) < 2:
        return -90.0  # plot axes (x, z, y): looking along +z, as the camera does
    d = centres[1] - centres[0]
    dx, dz = float(d[0]), float(d[2])
    if abs(dx) + abs(dz) < 1e-6:
        return -90.0
    # matplotlib's screen "right" at azimuth a is (-sin a, cos a) in the plot's (X=x, Y=z) plane;
    # we want it along the actor -> receiver line.
    return float(np.degrees(np.arctan2(-dx, dz)))


def _style_axis(ax, limits, azim: float, labels: bool) -> None:
    lo, hi = limits
    ax.set_xlim(lo[0], hi[0]); ax.set_ylim(lo[2], hi[2]); ax.set_zlim(lo[1], hi[1])
    # One metre is one metre on every axis; zoom in on the box, which matplotlib draws with wide margins.
    ax.set_box_aspect((hi[0] - lo[0], hi[2] - lo[2], hi[1] - lo[1]), zoom=BOX_ZOOM)
    ax.view_init(elev=VIEW_ELEVATION, azim=azim)
    ax.tick_params(labelsize=FONT_SIZE - 3, pad=0)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.pane.set_alpha(0.15)
        axis.set_major_locator(plt.MaxNLocator(3))
    if labels:
        ax.set_xlabel("x (m)", fontsize=FONT_SIZE - 2, labelpad=-6)
        ax.set_ylabel("z, depth (m)", fontsize=FONT_SIZE - 2, labelpad=-6)
        ax.set_zlabel("y, up (m)", fontsize=FONT_SIZE - 2, labelpad=-6)
    else:
        ax.set_xticklabels([]); ax.set_yticklabels([]); ax.set_zticklabels([])


def draw_frame(ax, frame: np.ndarray, limits=None, title: str | None = None,
               azim: float | None = None, labels: bool = True) -> list:
    """Draw one frame of both persons on a 3D axis.

    Args:
        ax: a matplotlib 3D axis (``projection="3d"``).
        frame: (M, V=25, 3) joint positions in metres; an all-zero person is skipped.
        limits: (lo, hi) arrays of 3 for a fixed box (from the whole sequence: :func:`_limits`),
            or None for the frame's own.
        title: axis title.
        azim: viewing azimuth in degrees; default :func:`view_azimuth` of the frame.
        labels: axis labels and tick labels (off in galleries).

    Returns:
        The artists drawn.
    """
    frame = np.asarray(frame)
    artists = []
    for m, person in enumerate(frame):
        if not np.any(person):
            continue
        colour = PERSON_COLOURS[m % len(PERSON_COLOURS)]
        for child, parent in BONES:
            a, b = person[child], person[parent]
            if not (np.any(a) and np.any(b)):
                continue
            artists += ax.plot([a[0], b[0]], [a[2], b[2]], [a[1], b[1]], color=colour, lw=2.6,
                               solid_capstyle="round")
        artists.append(ax.scatter(person[:, 0], person[:, 2], person[:, 1], color=colour, s=9,
                                  depthshade=False))
        head = person[3]
        artists.append(ax.scatter([head[0]], [head[2]], [head[1]], color=colour, s=60, depthshade=False))
    _style_axis(ax, limits if limits is not None else _limits(frame),
                view_azimuth(frame) if azim is None else azim, labels)
    if title:
        ax.set_title(title, fontsize=FONT_SIZE, pad=0)
    return artists


def _legend(fig, right: bool = False) -> None:
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], color=c, lw=2.6, marker="o", label=l) for c, l in zip(PERSON_COLOURS, PERSON_LABELS)]
    fig.legend(handles=handles, loc="lower right" if right else "lower center", ncol=2, frameon=False,
               fontsize=FONT_SIZE - 1, bbox_to_anchor=(1.0, 0.0) if right else (0.5, 0.0))


def plot_sequence_frames(sample: np.ndarray, frames: Sequence[int] | None = None,
                         title: str | None = None, fig=None):
    """Start, middle and end frame (or the given ones) of one sample side by side.

    One box and one viewpoint for the whole sequence (:func:`view_azimuth`: from the side,
    actor on the left), equal scales on all axes, the persons filling the box.

    Args:
        sample: (M, T, V, 3) one sample, metres.
        frames: frame indices; default start, middle and end (as the paper's Fig. 2-4).
        title: figure title.

    Returns:
        The matplotlib Figure.
    """
    sample = np.asarray(sample)
    t = sample.shape[1]
    frames = list(frames) if frames is not None else [0, t // 2, t - 1]
    fig = fig or plt.figure(figsize=(2.6 * len(frames), 3.1))  # about the book's text width for three frames
    limits, azim = _limits(sample), view_azimuth(sample)
    for i, f in enumerate(frames):
        ax = fig.add_subplot(1, len(frames), i + 1, projection="3d")
        draw_frame(ax, sample[:, f], limits, title=f"frame {f + 1} of {t}", azim=azim, labels=i == 0)
    if title:
        fig.suptitle(title, fontsize=FONT_SIZE + 1)
    _legend(fig, right=True)  # clear of the first panel's axis labels
    fig.subplots_adjust(left=0.02, right=1.0, bottom=0.12, top=0.85, wspace=0.0)
    return fig


def plot_class_gallery(x: np.ndarray, y: np.ndarray, class_names: Sequence[str],
                       frame: str | int = "middle", title: str | None = None):
    """One sample per class (the first of each), one frame each, in a grid.

    Each panel is seen from the side of its two persons (:func:`view_azimuth`), so every class
    is drawn by the same rule.

    Args:
        x: (N, M, T, V, 3) samples.
        y: (N,) labels.
        class_names: names in label order.
        frame: ``"middle"`` or a frame index.
    """
    n = len(class_names)
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig = plt.figure(figsize=(2.0 * cols, 2.2 * rows + 0.6))  # the book's text width
    for c, name in enumerate(class_names):
        ax = fig.add_subplot(rows, cols, c + 1, projection="3d")
        idx = np.flatnonzero(y == c)
        if len(idx) == 0:
            ax.set_title(f"{name}: no sample", fontsize=FONT_SIZE)
            ax.set_axis_off()
            continue
        s = x[idx[0]]
        f = s.shape[1] // 2 if frame == "middle" else int(frame)
        draw_frame(ax, s[:, f], _limits(s), title=name, azim=view_azimuth(s), labels=False)
    if title:
        fig.suptitle(title, fontsize=FONT_SIZE + 1)
    _legend(fig)
    fig.subplots_adjust(left=0.0, right=1.0, bottom=0.06, top=0.9, wspace=0.0, hspace=0.08)
    return fig


def animate_sample(sample: np.ndarray, title: str | None = None, interval_ms: int = 66):
    """An animation of one sample that plays in a notebook and in the built book.

    Args:
        sample: (M, T, V, 3) metres.
        title: figure title.
        interval_ms: delay between frames.

    Returns:
        ``matplotlib.animation.FuncAnimation``; show it with ``IPython.display.HTML(anim.to_jshtml())``.
    """
    sample = np.asarray(sample)
    fig = plt.figure(figsize=(5, 4.4))
    ax = fig.add_subplot(1, 1, 1, projection="3d")
    limits, azim = _limits(sample), view_azimuth(sample)
    fig.subplots_adjust(left=0.0, right=1.0, bottom=0.06, top=0.94)
    _legend(fig)

    def update(f):
        ax.cla()
        draw_frame(ax, sample[:, f], limits, title=f"{title + ': ' if title else ''}frame {f + 1}", azim=azim)
        return []

    anim = animation.FuncAnimation(fig, update, frames=sample.shape[1], interval=interval_ms)
    plt.close(fig)
    return anim


def plot_history(results: dict, ax_pair=None):
    """Loss and accuracy per epoch (train and validation) of one results file, with seaborn.

    Args:
        results: a results dict written by ``skelutils.train.fit``.
    """
    import seaborn as sns
    hist = results["history"]
    epochs = list(range(1, len(hist) + 1))
    if ax_pair is None:
        fig, ax_pair = plt.subplots(1, 2, figsize=(9, 3))
    for key, ax, label in (("loss", ax_pair[0], "loss"), ("acc", ax_pair[1], "accuracy")):
        for part, style in (("train", "-"), ("val", "--")):
            sns.lineplot(x=epochs, y=[h[f"{part}_{key}"] for h in hist], ax=ax, label=part, linestyle=style)
        ax.set_xlabel("epoch"); ax.set_ylabel(label)
    ax_pair[0].set_title(f"{results['model']} {results['split']}: loss")
    ax_pair[1].set_title(f"{results['model']} {results['split']}: accuracy ({results['data_source']} data)")
    ax_pair[0].figure.tight_layout()
    return ax_pair[0].figure


def plot_confusion(results: dict, ax=None):
    """Row-normalised confusion matrix with class names (rows true, columns predicted)."""
    import seaborn as sns
    cm = np.asarray(results["confusion_matrix"], dtype=float)
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    names = list(results["per_class_accuracy"])
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    sns.heatmap(norm, annot=cm.astype(int), fmt="d", cmap="Blues", vmin=0, vmax=1,
                xticklabels=names, yticklabels=names, ax=ax, cbar=False)
    ax.set_xlabel("predicted"); ax.set_ylabel("true")
    ax.set_title(f"{results['model']} {results['split']} ({results['data_source']} data)")
    ax.figure.tight_layout()
    return ax.figure


def plot_training_curves(runs: Sequence[dict], split: str, models: Sequence[str] | None = None,
                         title: str | None = None):
    """The paper's Figs. 6 and 7 for one split: training loss (left) and validation accuracy
    (right) per epoch, one line per model, the mean over the seeds given with their range shaded.

    Args:
        runs: results dicts (``skelutils.train.fit``) of one setting; those of ``split`` are drawn.
        split: ``"xsub"``, ``"xview"``, ...
        models: the models in legend order; default the order in which they appear in ``runs``.
        title: figure title.

    Returns:
        The matplotlib Figure (two panels).
    """
    sel = [r for r in runs if r["split"] == split]
    models = list(models) if models is not None else list(dict.fromkeys(r["model"] for r in sel))
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(8.5, 3.6))
    palette = plt.get_cmap("tab10")
    for k, model in enumerate(models):
        hist = [r["history"] for r in sel if r["model"] == model]
        if not hist:
            continue
        n = min(len(h) for h in hist)
        epochs = np.arange(1, n + 1)
        for ax, key, scale in ((ax_loss, "train_loss", 1.0), (ax_acc, "val_acc", 100.0)):
            v = scale * np.array([[e[key] for e in h[:n]] for h in hist])
            ax.plot(epochs, v.mean(0), color=palette(k), lw=2,
                    label=f"{model} ({len(hist)} seed{'s' if len(hist) > 1 else ''})")
            if len(hist) > 1:
                ax.fill_between(epochs, v.min(0), v.max(0), color=palette(k), alpha=0.18, lw=0)
    ax_loss.set_title(f"Fig. 6: training loss ({split})", fontsize=11)
    ax_loss.set_xlabel("epoch"); ax_loss.set_ylabel("cross-entropy")
    ax_acc.set_title(f"Fig. 7: validation accuracy ({split})", fontsize=11)
    ax_acc.set_xlabel("epoch"); ax_acc.set_ylabel("validation accuracy, %")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    handles, labels = ax_loss.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=max(len(labels), 1), frameon=False, fontsize=10)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def plot_ablation(cells: Sequence[dict], title: str = ""):
    """Notebook 07's figure: test accuracy against the generated share, one panel per split and
    model, one line per protocol and measure (own test set, real test samples only), the mean over
    seeds with error bars of one standard deviation. ``cells`` as
    :func:`skelutils.experiments.ablation_cells` returns them; fraction 0 (real-only training)
    starts the line of both protocols."""
    models_ = list(dict.fromkeys(c["model"] for c in cells))
    splits_ = list(dict.fromkeys(c["split"] for c in cells))
    protocols = [p for p in dict.fromkeys(c["protocol"] for c in cells) if p != "real-only"]
    fig, axes = plt.subplots(len(splits_), len(models_), figsize=(3.8 * len(models_), 3.2 * len(splits_)),
                             squeeze=False, sharey=True)
    styles = {"own": "-", "real": "--"}
    colours = dict(zip(protocols, ("#c0392b", "#1f5fa8", "#2e8b57")))
    for i, split in enumerate(splits_):
        for j, model in enumerate(models_):
            ax = axes[i][j]
            sub = [c for c in cells if c["model"] == model and c["split"] == split]
            base = [c for c in sub if c["protocol"] == "real-only"]
            for proto in protocols:
                line = sorted(base + [c for c in sub if c["protocol"] == proto], key=lambda c: c["fraction"])
                for measure, key in (("own", "test_accuracy"), ("real", "test_accuracy_real")):
                    x = [100 * c["fraction"] for c in line]
                    y = [100 * c[f"{key}_mean"] for c in line]
                    err = [100 * (c[f"{key}_std"] or 0.0) for c in line]
                    ax.errorbar(x, y, yerr=err, marker="o", capsize=3, linestyle=styles[measure],
                                color=colours[proto], label=f"{proto}, {'own test set' if measure == 'own' else 'real test only'}")
            ax.set_title(f"{model}, {split}")
            ax.set_xlabel("generated share, %")
            ax.set_ylabel("test accuracy, %")
            ax.grid(True, alpha=0.3)
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
