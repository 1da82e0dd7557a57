"""Skeleton figures (skelutils.plots): the viewpoint shows the two persons side by side, actor on
the left, with one scale on every axis."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from mpl_toolkits.mplot3d import proj3d  # noqa: E402

from skelutils import plots  # noqa: E402


def _pair(angle_deg: float, gap: float = 0.8, frames: int = 4) -> np.ndarray:
    """Two standing stick people ``gap`` metres apart, the receiver at ``angle_deg`` from the actor on the floor."""
    rng = np.random.default_rng(0)
    body = np.zeros((25, 3))
    body[:, 1] = np.linspace(-0.9, 0.7, 25)  # joints stacked up the y axis
    body[:, 0] = 0.1 * rng.standard_normal(25)
    a = np.radians(angle_deg)
    offset = gap * np.array([np.cos(a), 0.0, np.sin(a)])
    actor, receiver = body + [0, 0, 3.0], body + [0, 0, 3.0] + offset
    return np.stack([np.repeat(actor[None], frames, 0), np.repeat(receiver[None], frames, 0)])


def _screen_x(ax, pts: np.ndarray) -> float:
    x, _, _ = proj3d.proj_transform(pts[:, 0], pts[:, 2], pts[:, 1], ax.get_proj())
    return float(np.mean(x))


@pytest.mark.parametrize("angle", [0, 35, 90, 150, 200, 270, 330])
def test_actor_is_drawn_left_of_the_receiver_whatever_their_placement(angle):
    sample = _pair(angle)
    fig = plots.plot_sequence_frames(sample, frames=[0])
    ax = fig.axes[0]
    fig.canvas.draw()
    left, right = _screen_x(ax, sample[0, 0]), _screen_x(ax, sample[1, 0])
    assert right - left > 0.05, f"receiver at {angle} degrees: actor at screen x {left:.3f}, receiver {right:.3f}"
    plt.close(fig)


def test_one_metre_is_one_metre_on_every_axis_and_the_box_is_tight():
    sample = _pair(0, gap=1.2)
    lo, hi = plots._limits(sample)
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    plots.draw_frame(ax, sample[:, 0], (lo, hi))
    aspect = np.asarray(ax.get_box_aspect())
    ranges = np.array([hi[0] - lo[0], hi[2] - lo[2], hi[1] - lo[1]])
    assert np.allclose(aspect / aspect.max(), ranges / ranges.max(), atol=1e-6)
    pts = sample.reshape(-1, 3)
    assert np.all(pts.min(0) - lo <= plots.MARGIN + 0.2 + 1e-9)  # no more than the margin (or the minimum size) around
    assert np.all(hi - pts.max(0) <= plots.MARGIN + 0.2 + 1e-9)
    plt.close(fig)


def test_one_person_is_seen_from_the_camera_and_absent_joints_draw_no_bone():
    sample = _pair(0)
    sample[1] = 0
    assert plots.view_azimuth(sample) == -90.0
    sample[0, :, 5] = 0  # one joint of the actor not tracked
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    artists = plots.draw_frame(ax, sample[:, 0])
    lines = [a for a in artists if isinstance(a, matplotlib.lines.Line2D)]
    assert len(lines) == 24 - 2  # the joint's two bones are left out
    plt.close(fig)


def test_training_curves_draw_every_model_of_the_split():
    def run(model, seed):
        return {"model": model, "split": "xsub", "seed": seed,
                "history": [{"train_loss": 2.0 / e, "val_acc": 0.1 * e} for e in range(1, 6)]}
    runs = [run(m, s) for m in ("cnn3d_lstm", "li2017_cnn", "rrn_lstm") for s in (0, 1)]
    runs.append({**run("rrn_lstm", 0), "split": "xview"})
    fig = plots.plot_training_curves(runs, "xsub")
    loss, acc = fig.axes
    assert len(loss.lines) == 3 and len(acc.lines) == 3
    assert "Fig. 6" in loss.get_title() and "Fig. 7" in acc.get_title()
    assert np.allclose(acc.lines[0].get_ydata(), 100 * 0.1 * np.arange(1, 6))
    plt.close(fig)
