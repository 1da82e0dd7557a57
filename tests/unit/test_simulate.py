"""Tests of the NTU RGB+D simulator (skelutils.simulate) and the difficulty baselines."""
from __future__ import annotations

import time

import numpy as np
import pytest

from skelutils import simulate as sim
from skelutils.baseline import (dynamics_features, nearest_centroid_accuracy, position_features,
                                probe_accuracy)
from skelutils.ntu import ACTION_IDS, BONES, INFERRED, TRACKED, parse_sample_name

SEED = 3


def _bone_lengths(xyz):
    """(..., 25, 3) -> (..., 24)."""
    return np.stack([np.linalg.norm(xyz[..., c, :] - xyz[..., p, :], axis=-1) for c, p in BONES], -1)


def _pairwise(xyz):
    """(T, 2, 25, 3) -> (T, 50, 50) distances between all joints of both persons."""
    pts = xyz.reshape(xyz.shape[0], -1, 3).astype(np.float64)
    return np.linalg.norm(pts[:, :, None] - pts[:, None], axis=-1)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("sim")
    t0 = time.perf_counter()
    summary = sim.simulate_dataset(d, seed=SEED, performers=(1, 3), setups=(18,), actions=(50, 108),
                                   replications=(1,), progress=False)
    return d, summary, time.perf_counter() - t0


# --------------------------------------------------------------------------- files, determinism

def test_tiny_dataset_writes_quickly_with_correct_names(tiny_dir):
    d, summary, seconds = tiny_dir
    assert summary["n_files"] == 2 * 2 * 3 == len(summary["names"])
    assert seconds < 10
    files = sorted(p.name for p in d.glob("*.skeleton"))
    assert files == sorted(summary["names"])
    assert not list(d.glob("*.tmp*"))
    ids = {(n.setup, n.camera, n.performer, n.replication, n.action) for n in map(parse_sample_name, files)}
    assert ids == {(18, c, p, 1, a) for c in (1, 2, 3) for p in (1, 3) for a in (50, 108)}


def test_same_seed_same_bytes_different_seed_different(tiny_dir, tmp_path):
    d, summary, _ = tiny_dir
    again = sim.simulate_dataset(tmp_path / "a", seed=SEED, performers=(3,), setups=(18,), actions=(108,),
                                 replications=(1,), cameras=(2,), progress=False)
    name = again["names"][0]
    assert (tmp_path / "a" / name).read_bytes() == (d / name).read_bytes()
    other = sim.simulate_dataset(tmp_path / "b", seed=SEED + 1, performers=(3,), setups=(18,),
                                 actions=(108,), replications=(1,), cameras=(2,), progress=False)
    assert (tmp_path / "b" / name).read_bytes() != (d / name).read_bytes()


def test_single_sample_regenerates_independently(tiny_dir):
    d, _, _ = tiny_dir
    skel = sim.simulate_sample(50, 18, 2, 1, 1, seed=SEED)
    from skelutils.ntu import format_skeleton
    assert skel.path == "S018C002P001R001A050.skeleton"
    assert format_skeleton(skel) == (d / skel.path).read_text()


def test_parallel_writes_the_same_files(tmp_path):
    kw = dict(seed=SEED, performers=(2,), setups=(19,), actions=(51, 110), replications=(2,),
              cameras=(1, 3), progress=False)
    one = sim.simulate_dataset(tmp_path / "one", workers=1, **kw)
    two = sim.simulate_dataset(tmp_path / "two", workers=2, **kw)
    assert one["names"] == two["names"]
    for n in one["names"]:
        assert (tmp_path / "one" / n).read_bytes() == (tmp_path / "two" / n).read_bytes()


def test_read_back_through_the_reader(tiny_dir):
    from skelutils.ntu import read_skeleton
    d, summary, _ = tiny_dir
    path = d / summary["names"][0]
    try:
        back = read_skeleton(path)
    except NotImplementedError:
        pytest.skip("skelutils.ntu.read_skeleton is not implemented yet")
    skel = sim.simulate_sample(50, 18, 1, 1, 1, seed=SEED)
    assert back.body_ids == skel.body_ids
    np.testing.assert_array_equal(back.present, skel.present)
    np.testing.assert_array_equal(back.xyz, skel.xyz)
    for field in ("tracking", "depth_xy", "color_xy", "orientation", "body_info"):
        np.testing.assert_array_equal(getattr(back, field), getattr(skel, field), err_msg=field)


# --------------------------------------------------------------------------- geometry

@pytest.mark.parametrize("action", [50, 108])
def test_three_cameras_see_the_same_motion(action):
    clean = [sim.simulate_sample(action, 20, c, 5, 2, seed=SEED, sensor_noise=False) for c in (1, 2, 3)]
    assert len({s.n_frames for s in clean}) == 1
    d = [_pairwise(s.xyz[:, :2]) for s in clean]
    np.testing.assert_allclose(d[1], d[0], atol=2e-4)
    np.testing.assert_allclose(d[2], d[0], atol=2e-4)
    # ... but they are different views: coordinates differ by far more than noise
    assert np.abs(clean[0].xyz - clean[1].xyz).max() > 0.5
    noisy = [sim.simulate_sample(action, 20, c, 5, 2, seed=SEED) for c in (1, 2)]
    both = noisy[0].present[:, :2].all(1) & noisy[1].present[:, :2].all(1)
    err = np.abs(_pairwise(noisy[0].xyz[both, :2]) - _pairwise(noisy[1].xyz[both, :2]))
    assert np.median(err) < 0.03


def test_bone_lengths_stable_and_performers_differ():
    clean = sim.simulate_sample(106, 18, 1, 7, 1, seed=SEED, sensor_noise=False, partner=9)
    bones = _bone_lengths(clean.xyz)                                  # (T, 2, 24)
    assert bones.std(axis=0).max() < 1e-4
    # the same performer keeps its body in another action, setup and camera
    other = sim.simulate_sample(52, 25, 3, 7, 2, seed=SEED, sensor_noise=False)
    np.testing.assert_allclose(_bone_lengths(other.xyz[0, 0]), bones[0, 0], atol=1e-4)
    # the receiver (partner 9) has its own body, different from the actor's
    assert np.abs(bones[0, 1] - bones[0, 0]).max() > 0.01
    heights = {p: sim.performer_profile(p, SEED).height for p in range(1, 21)}
    assert np.std(list(heights.values())) > 0.03
    assert sim.performer_profile(7, SEED) == sim.performer_profile(7, SEED)
    # with sensor noise bone lengths jitter by about a centimetre, not more
    noisy = sim.simulate_sample(106, 18, 1, 7, 1, seed=SEED, partner=9)
    ok = noisy.present[:, 0] & (noisy.tracking[:, 0] == TRACKED).all(1)
    assert np.median(_bone_lengths(noisy.xyz[ok, 0]).std(0)) < 0.015


def test_kinect_geometry_and_fields():
    for action in ACTION_IDS:
        for cam in (1, 2, 3):
            s = sim.simulate_sample(action, 22, cam, 4, 1, seed=SEED, empty_fraction=0)
            assert sim.MIN_FRAMES <= s.n_frames <= sim.MAX_FRAMES
            pres = s.present
            assert pres[0, :2].all()                                # both persons in frame 0
            z = s.xyz[..., 2][pres]
            assert z.min() > 1.8 and z.max() < 6.0 and np.median(z) > 2.5
            d, c = s.depth_xy[pres], s.color_xy[pres]
            assert (d >= 0).all() and (d[..., 0] <= 511).all() and (d[..., 1] <= 423).all()
            assert (c >= 0).all() and (c[..., 0] <= 1919).all() and (c[..., 1] <= 1079).all()
            # pixels are the pinhole projection of xyz wherever nothing was clipped
            xyz = s.xyz[pres].astype(np.float64)
            u = 256 + 365 * xyz[..., 0] / xyz[..., 2]
            v = 212 - 365 * xyz[..., 1] / xyz[..., 2]
            inside = (u > 0) & (u < 511) & (v > 0) & (v < 423)
            assert inside.mean() > 0.98
            np.testing.assert_allclose(d[..., 0][inside], u[inside], atol=1e-2)
            np.testing.assert_allclose(d[..., 1][inside], v[inside], atol=1e-2)
            q = s.orientation[pres]
            np.testing.assert_allclose(np.linalg.norm(q, axis=-1), 1.0, atol=1e-5)
            assert set(np.unique(s.tracking[pres])) <= {INFERRED, TRACKED}
            info = s.body_info[pres]
            assert (info[:, 8] == 2).all() and (np.abs(info[:, 6:8]) <= 1).all()
            assert all(b > sim.BODY_ID_BASE for b in s.body_ids)
            assert len(set(s.body_ids)) == s.n_bodies


def test_the_actor_strikes():
    """The actor's wrist comes closest to the receiver around the first contact (punch)."""
    perf = sim.simulate_performance(50, 18, 1, 1, seed=SEED)
    wrists = perf.xyz[:, 0, [6, 10]]                                   # (T, 2, 3)
    head = perf.xyz[:, 1, 3]
    dist = np.linalg.norm(wrists - head[:, None], axis=-1).min(1)
    c = perf.contacts[0]
    assert dist[c] < 0.5 < dist[0]
    assert abs(int(np.argmin(dist)) - c) <= 12


# --------------------------------------------------------------------------- sensor events

def test_sensor_event_rates():
    n_emp = n_noise = n = 0
    for p in range(1, 5):
        for a in ACTION_IDS:
            for r in (1, 2):
                perf = sim.simulate_performance(a, 18, p, r, seed=SEED)
                for c in (1, 2, 3):
                    s = sim.simulate_sample(a, 18, c, p, r, seed=SEED, performance=perf, empty_fraction=0.2,
                                            noise_body_fraction=0.4, dropout_fraction=0.0)
                    n += 1
                    if s.n_bodies == 0:
                        n_emp += 1
                        assert s.n_frames >= sim.MIN_FRAMES
                    elif s.n_bodies == 3:
                        n_noise += 1
                        assert not s.present[:, 2].all()               # noise bodies come and go
                    else:
                        assert s.n_bodies == 2 and s.present.all()
    assert n == 168
    # binomial: 0.2 * 168 = 33.6 +- 5.2; non-empty files get a noise body at 0.4 (53.8 +- 6.3)
    assert 18 <= n_emp <= 50
    assert 30 <= n_noise <= 78


def test_dropouts_and_empty_files():
    s = sim.simulate_sample(52, 18, 1, 2, 1, seed=SEED, dropout_fraction=1.0, noise_body_fraction=0.0,
                            empty_fraction=0.0)
    per_frame = s.present.sum(1)
    assert (per_frame < 2).any() and per_frame[0] == 2
    e = sim.simulate_sample(52, 18, 1, 2, 1, seed=SEED, empty_fraction=1.0)
    assert e.n_bodies == 0 and e.n_frames >= sim.MIN_FRAMES
    from skelutils.ntu import format_skeleton
    lines = format_skeleton(e).split()
    assert lines[0] == str(e.n_frames) and set(lines[1:]) == {"0"}


def test_bad_input_is_reported():
    with pytest.raises(ValueError, match="action"):
        sim.simulate_sample(1, 18, 1, 1, 1, seed=0)
    with pytest.raises(ValueError, match="camera"):
        sim.simulate_sample(50, 18, 4, 1, 1, seed=0)
    with pytest.raises(ValueError, match="empty_fraction"):
        sim.simulate_sample(50, 18, 1, 1, 1, seed=0, empty_fraction=2)
    with pytest.raises(ValueError, match="size"):
        sim.preset_sessions("huge")


def test_presets():
    smoke = sim.preset_sessions("smoke")
    assert len(smoke) * 7 * 2 * 3 == 336
    full = sim.preset_sessions("full")
    assert 6400 <= len(full) * 7 * 2 * 3 <= 6800
    assert {p for _, p in full} == set(range(1, 107))
    assert {s for s, _ in full} <= set(sim.SETUPS_120)
    assert len(set(full)) == len(full)


# --------------------------------------------------------------------------- baselines

def _toy(n_per, rng, noise=0.05, t=8):
    """Three classes of (N, 2, T, 25, 3) data that differ by a template (easy)."""
    templates = rng.normal(0, 1, (3, 2, t, 25, 3))
    y = np.repeat(np.arange(3), n_per)
    x = templates[y] + rng.normal(0, noise, (len(y), 2, t, 25, 3)) + rng.normal(0, 5, (len(y), 1, 1, 1, 3))
    return x.astype(np.float32), y


def test_nearest_centroid_easy_and_chance():
    rng = np.random.default_rng(0)
    xtr, ytr = _toy(10, rng)
    xte, yte = _toy(6, np.random.default_rng(0))   # same templates, new noise below
    xte = xte + rng.normal(0, 0.05, xte.shape).astype(np.float32)
    acc, pc = nearest_centroid_accuracy(xtr, ytr, xte, yte, per_class=True)
    assert acc == 1.0 and pc == {0: 1.0, 1: 1.0, 2: 1.0}
    # labels unrelated to the data: no better than a coin with three sides, give or take
    yr = rng.permutation(ytr)
    xn = rng.normal(0, 1, xtr.shape).astype(np.float32)
    assert nearest_centroid_accuracy(xn, yr, xn[::-1].copy(), yr) < 0.8
    # the per-sample mean is removed: a global offset does not matter
    f = position_features(xtr[:2])
    np.testing.assert_allclose(f.reshape(2, -1, 3).mean(1), 0, atol=1e-6)


def test_baseline_input_errors():
    x = np.zeros((4, 2, 8, 25, 3), np.float32)
    with pytest.raises(ValueError, match="shape"):
        nearest_centroid_accuracy(x[0], np.zeros(4, int), x, np.zeros(4, int))
    with pytest.raises(ValueError, match="no training sample"):
        nearest_centroid_accuracy(x, np.zeros(4, int), x, np.ones(4, int))


def test_probe_learns_dynamics_the_centroid_misses():
    """Two classes with the same mean posture that differ only in speed."""
    rng = np.random.default_rng(1)
    t = np.linspace(0, 1, 16)

    def make(n, fast):
        x = np.zeros((n, 2, 16, 25, 3))
        for i in range(n):
            phase = rng.uniform(0, 2 * np.pi)
            freq = 6.0 if fast else 1.5
            x[i, :, :, :, 1] = 1 + 0.3 * np.sin(2 * np.pi * freq * t + phase)[None, :, None]
            x[i, :, :, :, 0] = rng.normal(0, 0.3, (2, 1, 25))
            x[i, 1, :, :, 2] = 1.0
        return x.astype(np.float32)

    x = np.concatenate([make(20, False), make(20, True)])
    y = np.repeat([0, 1], 20)
    xt = np.concatenate([make(10, False), make(10, True)])
    yt = np.repeat([0, 1], 10)
    assert dynamics_features(x).shape[0] == 40
    assert probe_accuracy(x, y, xt, yt, max_iter=50) >= 0.9
