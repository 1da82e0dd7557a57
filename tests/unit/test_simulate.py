"""Tests of the NTU RGB+D simulator (skelutils.simulate) and the difficulty baselines."""
from __future__ import annotations

import re

import numpy as np
import pytest

from skelutils import simulate as sim
from skelutils.__main__ import build_parser
from skelutils.__main__ import main as cli_main
from skelutils.baseline import (dynamics_features, nearest_centroid_accuracy, position_features,
                                probe_accuracy)
from skelutils.ntu import (ACTION_IDS, BONES, INFERRED, TRACKED, Skeleton, format_skeleton, parse_sample_name,
                           read_skeleton, write_skeleton)

SEED = 3


def _bone_lengths(xyz):
    """(..., 25, 3) -> (..., 24)."""
    return np.stack([np.linalg.norm(xyz[..., c, :] - xyz[..., p, :], axis=-1) for c, p in BONES], -1)


def _rotation(q):
    """Unit quaternions (..., 4) (w, x, y, z) -> rotation matrices (..., 3, 3)."""
    w, x, y, z = np.moveaxis(np.asarray(q, np.float64), -1, 0)
    return np.stack([np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
                     np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
                     np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1)], -2)


def _pairwise(xyz):
    """(T, 2, 25, 3) -> (T, 50, 50) distances between all joints of both persons."""
    pts = xyz.reshape(xyz.shape[0], -1, 3).astype(np.float64)
    return np.linalg.norm(pts[:, :, None] - pts[:, None], axis=-1)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("sim")
    summary = sim.simulate_dataset(d, seed=SEED, performers=(1, 3), setups=(18,), actions=(50, 108),
                                   replications=(1,), progress=False)
    return d, summary


# --------------------------------------------------------------------------- files, determinism

def test_tiny_dataset_has_correct_names(tiny_dir):
    d, summary = tiny_dir
    assert summary["n_files"] == 2 * 2 * 3 == len(summary["names"])
    files = sorted(p.name for p in d.glob("*.skeleton"))
    assert files == sorted(summary["names"])
    assert not list(d.glob("*.tmp*"))
    ids = {(n.setup, n.camera, n.performer, n.replication, n.action) for n in map(parse_sample_name, files)}
    assert ids == {(18, c, p, 1, a) for c in (1, 2, 3) for p in (1, 3) for a in (50, 108)}


def test_same_seed_same_bytes_different_seed_different(tiny_dir, tmp_path):
    d, summary = tiny_dir
    again = sim.simulate_dataset(tmp_path / "a", seed=SEED, performers=(3,), setups=(18,), actions=(108,),
                                 replications=(1,), cameras=(2,), progress=False)
    name = again["names"][0]
    assert (tmp_path / "a" / name).read_bytes() == (d / name).read_bytes()
    other = sim.simulate_dataset(tmp_path / "b", seed=SEED + 1, performers=(3,), setups=(18,),
                                 actions=(108,), replications=(1,), cameras=(2,), progress=False)
    assert (tmp_path / "b" / name).read_bytes() != (d / name).read_bytes()


def test_single_sample_regenerates_independently(tiny_dir):
    d, _ = tiny_dir
    skel = sim.simulate_sample(50, 18, 2, 1, 1, seed=SEED)
    assert skel.path == "S018C002P001R001A050.skeleton"
    text = format_skeleton(skel, sim.FILE_DIGITS, sim.FILE_NEWLINE)
    assert text.encode() == (d / skel.path).read_bytes()


def test_files_use_the_datasets_layout(tiny_dir):
    """7 significant digits and CRLF line ends, as the Kinect SDK tool wrote NTU RGB+D."""
    d, summary = tiny_dir
    data = (d / summary["names"][0]).read_bytes()
    assert data.endswith(b"\r\n") and data.count(b"\n") == data.count(b"\r\n") == data.count(b"\r") > 100
    floats = [t for t in data.decode().split() if "." in t]
    digits = [len(re.sub(r"e.*|[-.]", "", t).lstrip("0")) for t in floats]
    assert max(digits) == 7 and np.mean(np.equal(digits, 7)) > 0.5


def test_rounding_matches_the_file(tmp_path):
    """The values simulate_sample returns are what the reader gets back from the file, bit for bit,
    across magnitudes (the rounding to 7 digits is a fixed point of writing and reading)."""
    rng = np.random.default_rng(0)
    s = Skeleton.empty_like(40, 2)
    s.present[:] = True
    for field in ("xyz", "depth_xy", "color_xy", "orientation"):
        a = getattr(s, field)
        a[:] = sim._as_written(rng.normal(0, 1, a.shape) * 10.0 ** rng.integers(-6, 4, a.shape))
    s.body_info[..., 6:8] = sim._as_written(rng.uniform(-1, 1, (40, 2, 2)))
    assert (sim._as_written(s.xyz) == s.xyz).all()                 # idempotent
    back = read_skeleton(write_skeleton(tmp_path / "S001C001P001R001A050.skeleton", s, sim.FILE_DIGITS,
                                        sim.FILE_NEWLINE))
    for field in ("xyz", "depth_xy", "color_xy", "orientation", "body_info"):
        np.testing.assert_array_equal(getattr(back, field).view(np.uint32), getattr(s, field).view(np.uint32),
                                      err_msg=field)
    np.testing.assert_allclose(sim._as_written([0.21811534, -3.7855471, 1036.2334, 0.0]),
                               [0.2181153, -3.785547, 1036.233, 0.0], rtol=1e-7)


def test_parallel_writes_the_same_files(tmp_path):
    kw = dict(seed=SEED, performers=(2,), setups=(19,), actions=(51, 110), replications=(2,),
              cameras=(1, 3), progress=False)
    one = sim.simulate_dataset(tmp_path / "one", workers=1, **kw)
    two = sim.simulate_dataset(tmp_path / "two", workers=2, **kw)
    assert one["names"] == two["names"]
    for n in one["names"]:
        assert (tmp_path / "one" / n).read_bytes() == (tmp_path / "two" / n).read_bytes()


def test_read_back_through_the_reader(tiny_dir):
    d, summary = tiny_dir
    path = d / summary["names"][0]
    back = read_skeleton(path)
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
            # colour pixels: the colour camera sees x + 0.052 (as a fit of real NTU joints gives)
            cu = 960 + 1060 * (xyz[..., 0] + 0.052) / xyz[..., 2]
            cv = 540 - 1060 * xyz[..., 1] / xyz[..., 2]
            cin = (cu > 0) & (cu < 1919) & (cv > 0) & (cv < 1079)
            assert cin.mean() > 0.95
            np.testing.assert_allclose(c[..., 0][cin], cu[cin], atol=0.05)
            np.testing.assert_allclose(c[..., 1][cin], cv[cin], atol=0.05)
            q = s.orientation[pres]
            np.testing.assert_allclose(np.linalg.norm(q, axis=-1), 1.0, atol=1e-5)
            assert set(np.unique(s.tracking[pres])) <= {INFERRED, TRACKED}
            info = s.body_info[pres]
            assert (info[:, 8] == 2).all() and (np.abs(info[:, 6:8]) <= 1).all()
            assert all(b > sim.BODY_ID_BASE for b in s.body_ids)
            assert len(set(s.body_ids)) == s.n_bodies


def test_pixel_mapping_fits_a_real_joint():
    """SpineBase in frame 1 of the NTU RGB+D file S001C001P001R001A001.skeleton:
    ``0.2181153 0.1725972 3.785547 277.419 191.8218 1036.233 519.1677 ...``."""
    xyz = np.array([0.2181153, 0.1725972, 3.785547])
    color = sim._project(xyz, sim.COLOR_INTRINSICS, sim.COLOR_SIZE, sim.COLOR_BASELINE_M)
    depth = sim._project(xyz, sim.DEPTH_INTRINSICS, sim.DEPTH_SIZE)
    assert abs(color[0] - 1036.233) < 1.0                        # a baseline of the wrong sign is 29 px off
    assert abs(depth[0] - 277.419) < 1.0 and abs(depth[1] - 191.8218) < 5.0
    assert abs(color[1] - 519.1677) < 35.0                       # the principal point varies between Kinects


def test_joint_orientations_are_kinect_bone_frames():
    clean = sim.simulate_sample(51, 21, 2, 6, 1, seed=SEED, sensor_noise=False)
    xyz = clean.xyz.astype(np.float64)
    r = _rotation(clean.orientation)                                  # (T, 2, 25, 3, 3)
    np.testing.assert_allclose(np.linalg.det(r), 1.0, atol=1e-5)
    # local y runs along the bone from the joint to its child (from the parent for a leaf)
    bone = xyz[..., sim._BONE_TO, :] - xyz[..., sim._BONE_FROM, :]
    bone /= np.linalg.norm(bone, axis=-1, keepdims=True)
    np.testing.assert_allclose(r[..., :, 1], bone, atol=1e-4)
    assert sim._BONE_TO[0] == 1 and sim._BONE_TO[4] == 5 and sim._BONE_FROM[3] == 2  # SpineBase->SpineMid, ...
    # sign variety, as in real files: w of either sign, y components far from 0
    q = np.concatenate([sim.simulate_sample(a, 18, c, 2, 1, seed=SEED).orientation[..., :2, :, :].reshape(-1, 4)
                        for a in (50, 52) for c in (1, 2, 3)])
    assert 0.1 < np.mean(q[:, 0] < 0) < 0.9
    assert np.mean(np.abs(q[:, 2]) > 0.3) > 0.2
    # a person facing the camera: trunk near a half turn about y, q = +-(0, 0, 1, 0)
    body = sim._Body(sim.performer_profile(1, SEED)).pose(np.arange(3.0))     # local: x left, y up, z forward
    facing = body @ np.diag([-1.0, 1.0, -1.0]) + [0.0, 0.0, 3.0]            # turned to face the camera
    qf = sim._orientations(facing)
    assert (np.abs(qf[:, [0, 1, 20], 2]) > 0.97).all()
    side = body @ np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]) + [0.0, 0.0, 3.0]
    qs = sim._orientations(side)                                              # a quarter turn: w and y near 0.71
    np.testing.assert_allclose(np.abs(qs[:, 0, [0, 2]]), np.sqrt(0.5), atol=0.05)


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
    lines = format_skeleton(e).split()
    assert lines[0] == str(e.n_frames) and set(lines[1:]) == {"0"} and len(lines) == e.n_frames + 1


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
    moderate = sim.preset_sessions("moderate")
    assert len(moderate) * 7 * 2 * 3 == 1680 and set(smoke) < set(moderate)
    full = sim.preset_sessions("full")
    assert 6400 <= len(full) * 7 * 2 * 3 <= 6800
    assert {p for _, p in full} == set(range(1, 107))
    assert {s for s, _ in full} <= set(sim.SETUPS_120)
    assert len(set(full)) == len(full)


def test_cli_offers_every_preset(tmp_path, monkeypatch, capsys):
    assert "moderate" in sim.PRESETS
    # the choices come from the simulator's table: a preset added there is offered at once
    monkeypatch.setattr(sim, "PRESETS", sim.PRESETS + ("tiny",))
    assert build_parser().parse_args(["simulate", str(tmp_path), "--size", "tiny"]).size == "tiny"
    monkeypatch.undo()
    calls = []

    def fake_preset(out_dir, size, seed, workers, progress):
        calls.append((str(out_dir), size, seed, workers, progress))
        return dict(n_files=len(sim.preset_sessions(size)) * 42, n_empty=3)

    monkeypatch.setattr(sim, "simulate_dataset_preset", fake_preset)
    for size in sim.PRESETS:
        assert cli_main(["simulate", str(tmp_path), "--size", size, "--seed", "4", "--quiet"]) == 0
        assert calls[-1] == (str(tmp_path), size, 4, 2, False)
        assert f"({size}, seed 4): {len(sim.preset_sessions(size)) * 42} files" in capsys.readouterr().out
    with pytest.raises(SystemExit) as ei:
        cli_main(["simulate", str(tmp_path), "--size", "huge"])
    assert ei.value.code == 2
    err = capsys.readouterr().err
    assert "huge" in err and all(k in err for k in sim.PRESETS)


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
