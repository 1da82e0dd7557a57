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

#: Colours of person 0 (actor) and person 1 (receiver).
PERSON_COLOURS = ("tab:red", "tab:blue")


def _limits(sample: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pts = sample.reshape(-1, 3)
    pts = pts[np.abs(pts).sum(1) > 0]
    if len(pts) == 0:
        return np.full(3, -1.0), np.full(3, 1.0)
    lo, hi = pts.min(0), pts.max(0)
    mid, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2, 0.5)
    return mid - half, mid + half


def draw_frame(ax, frame: np.ndarray, limits=None, title: str | None = None) -> list:
    """Draw one frame of both persons on a 3D axis.

    Args:
        ax: a matplotlib 3D axis (``projection="3d"``).
        frame: (M, V=25, 3) joint positions in metres; an all-zero person is skipped.
        limits: (lo, hi) arrays of 3 for a fixed box (from the whole sequence), or None.
        title: axis title.

    Returns:
        The line artists drawn.
    """
    artists = []
    for m, person in enumerate(frame):
        if not np.any(person):
            continue
        colour = PERSON_COLOURS[m % len(PERSON_COLOURS)]
        for child, parent in BONES:
            a, b = person[child], person[parent]
            artists += ax.plot([a[0], b[0]], [a[2], b[2]], [a[1], b[1]], color=colour, lw=2)
        artists.append(ax.scatter(person[:, 0], person[:, 2], person[:, 1], color=colour, s=6))
    if limits is not None:
        lo, hi = limits
        ax.set_xlim(lo[0], hi[0]); ax.set_ylim(lo[2], hi[2]); ax.set_zlim(lo[1], hi[1])
    ax.set_xlabel("x (m)"); ax.set_ylabel("z, depth (m)"); ax.set_zlabel("y, up (m)")
    ax.view_init(elev=15, azim=-60)
    if title:
        ax.set_title(title, fontsize=9)
    return artists


def plot_sequence_frames(sample: np.ndarray, frames: Sequence[int] | None = None,
                         title: str | None = None, fig=None):
    """Start, middle and end frame (or the given ones) of one sample side by side.

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
    fig = fig or plt.figure(figsize=(3.2 * len(frames), 3.4))
    limits = _limits(sample)
    for i, f in enumerate(frames):
        ax = fig.add_subplot(1, len(frames), i + 1, projection="3d")
        draw_frame(ax, sample[:, f], limits, title=f"frame {f + 1}/{t}")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_class_gallery(x: np.ndarray, y: np.ndarray, class_names: Sequence[str],
                       frame: str | int = "middle", title: str | None = None):
    """One sample per class (the first of each), one frame each, in a grid.

    Args:
        x: (N, M, T, V, 3) samples.
        y: (N,) labels.
        class_names: names in label order.
        frame: ``"middle"`` or a frame index.
    """
    n = len(class_names)
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig = plt.figure(figsize=(3.2 * cols, 3.2 * rows))
    for c, name in enumerate(class_names):
        ax = fig.add_subplot(rows, cols, c + 1, projection="3d")
        idx = np.flatnonzero(y == c)
        if len(idx) == 0:
            ax.set_title(f"{name}: no sample", fontsize=9)
            continue
        s = x[idx[0]]
        f = s.shape[1] // 2 if frame == "middle" else int(frame)
        draw_frame(ax, s[:, f], _limits(s), title=name)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
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
    fig = plt.figure(figsize=(4, 4))
    ax = fig.add_subplot(1, 1, 1, projection="3d")
    limits = _limits(sample)

    def update(f):
        ax.cla()
        draw_frame(ax, sample[:, f], limits, title=f"{title + ': ' if title else ''}frame {f + 1}")
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
