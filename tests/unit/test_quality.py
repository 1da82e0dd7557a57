"""Tests for skelutils.quality."""
from __future__ import annotations

import json

import numpy as np
import pytest

from skelutils import quality as q
from skelutils.ntu import BONES, CLASS_NAMES


def _gauss(n, d=8, shift=0.0, seed=0, scale=1.0):
    return np.random.default_rng(seed).normal(shift, scale, (n, d))


def test_fid_identical_and_shift():
    a = _gauss(2000, seed=0)
    assert q.fid(a, a) == pytest.approx(0.0, abs=1e-8)
    same = q.fid(a, _gauss(2000, seed=1))
    assert same < 0.1
    shifts = [q.fid(a, _gauss(2000, shift=s, seed=1)) for s in (0.5, 1.0, 2.0)]
    assert shifts[0] < shifts[1] < shifts[2]
    # mean term is ||mu_a - mu_b||^2 = d * s^2
    assert shifts[2] == pytest.approx(8 * 4.0, rel=0.05)


def test_fid_covariance_term_and_singular():
    a, b = _gauss(4000, d=3, seed=0), _gauss(4000, d=3, seed=1, scale=2.0)
    # Gaussians with S_a = I, S_b = 4I: tr(I + 4I - 2*2I) = d
    assert q.fid(a, b) == pytest.approx(3.0, rel=0.05)
    small = _gauss(5, d=20, seed=2)  # N < D: singular covariances must not break it
    val = q.fid(small, _gauss(5, d=20, seed=3))
    assert np.isfinite(val) and val >= 0


def test_fid_input_errors():
    with pytest.raises(ValueError, match="feature sizes differ"):
        q.fid(_gauss(10, d=3), _gauss(10, d=4))
    with pytest.raises(ValueError, match="at least 2"):
        q.fid(_gauss(1), _gauss(10))


def test_mmd_same_and_different():
    a, b = _gauss(300, seed=0), _gauss(300, seed=1)
    same = q.mmd(a, b)
    diff = q.mmd(a, _gauss(300, shift=1.0, seed=1))
    assert abs(same) < 0.01
    assert diff > 0.05 and diff > 10 * abs(same)
    assert q.mmd(a, a) == pytest.approx(0.0, abs=0.01)
    assert q.mmd(a, _gauss(300, shift=1.0, seed=1), kernel="linear") > 5
    assert q.mmd(a, _gauss(300, shift=1.0, seed=1), bandwidth=2.0) > 0
    with pytest.raises(ValueError, match="kernel"):
        q.mmd(a, b, kernel="poly")
    with pytest.raises(ValueError, match="bandwidth"):
        q.mmd(a, b, bandwidth=-1)


def test_real_vs_real_baseline_small_and_stratified():
    f = _gauss(400, seed=0)
    y = np.arange(400) % 7
    base = q.real_vs_real_baseline(f, y, seed=0)
    assert base["n_per_half"] <= 200 and base["fid"] < q.fid(f, f + 1.0)
    assert abs(base["mmd"]) < 0.02


def test_recognisability():
    y = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 0, 0])
    r = q.recognisability(pred, y)
    assert r["accuracy"] == pytest.approx(0.5)
    assert r["per_class"][CLASS_NAMES[0]] == 0.5 and r["per_class"][CLASS_NAMES[1]] == 1.0
    assert r["per_class"][CLASS_NAMES[2]] == 0.0 and r["per_class"][CLASS_NAMES[6]] is None
    assert r["chance"] == pytest.approx(1 / 7)


def _rigid_pair(n=3, t=10, seed=0):
    """Random skeletons that only translate and rotate over time."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 2, t, 25, 3))
    for i in range(n):
        for m in range(2):
            pose = rng.normal(0, 0.3, (25, 3))
            for f in range(t):
                th = 0.1 * f
                rot = np.array([[np.cos(th), -np.sin(th), 0], [np.sin(th), np.cos(th), 0], [0, 0, 1]])
                x[i, m, f] = pose @ rot.T + [0.05 * f + m, 0, 2]
    return x


def test_bone_length_cv_rigid_is_zero_and_stretch_is_not():
    x = _rigid_pair()
    cv = q.bone_length_stats(x)
    assert cv.shape == (3,)
    np.testing.assert_allclose(cv, 0.0, atol=1e-10)
    y = x.copy()
    y[:, 0, ::2, 7] += 0.2  # the hand jumps every other frame
    assert (q.bone_length_stats(y) > 1e-3).all()
    # an absent person (zeros) is ignored, a fully absent sample is NaN
    z = x.copy()
    z[0, 1] = 0
    assert q.bone_length_stats(z)[0] == pytest.approx(0.0, abs=1e-10)
    assert np.isnan(q.bone_length_stats(np.zeros((1, 2, 4, 25, 3))))[0]


def test_contact_distance():
    x = np.zeros((1, 2, 3, 25, 3))
    x[..., 2] = 3.0
    x[0, 1, :, :, 0] = 1.0            # receiver one metre to the side
    x[0, 0, :, 11, 0] = [0.0, 0.5, 0.9]  # actor's right hand approaches
    d = q.contact_distance_stats(x)
    assert d["min"][0] == pytest.approx(0.1)
    assert d["mean"][0] == pytest.approx((1.0 + 0.5 + 0.1) / 3)
    x[0, 1] = 0
    assert np.isnan(q.contact_distance_stats(x)["min"][0])


def test_diversity():
    f = np.array([[0.0, 0], [3, 4], [0, 0], [0, 1]])
    y = np.array([0, 0, 1, 1])
    d = q.diversity(f, y)
    assert d["per_class"][CLASS_NAMES[0]] == pytest.approx(5.0)
    assert d["per_class"][CLASS_NAMES[1]] == pytest.approx(1.0)
    assert d["per_class"][CLASS_NAMES[2]] is None
    pair = [5, 0, 1, 5, np.sqrt(18), 1]
    assert d["overall"] == pytest.approx(np.mean(pair))


def test_quality_report_json_ready_and_detects_bad_generator():
    rng = np.random.default_rng(0)
    real = _rigid_pair(n=40, t=8, seed=1).astype(np.float32)
    ry = np.arange(40) % 7
    good = _rigid_pair(n=20, t=8, seed=2).astype(np.float32)
    bad = good + rng.normal(0, 0.3, good.shape).astype(np.float32)
    gy = np.arange(20) % 7

    def feats(x):
        return np.concatenate([x.mean(axis=(1, 2)).reshape(len(x), -1)[:, :6],
                               x.std(axis=2).mean(axis=(1, 2))[:, :2]], axis=1)

    rep_good = q.quality_report(real, ry, good, gy, feature_fn=feats, predict_fn=lambda x: np.zeros(len(x)))
    rep_bad = q.quality_report(real, ry, bad, gy, feature_fn=feats, gen_pred=gy)
    json.dumps(rep_good)
    for key in ("fid", "mmd", "diversity", "recognisability", "bone_length_cv", "contact_min_m"):
        assert key in rep_good
    assert rep_good["fid"]["n"] == 19  # stratified halves of 40 over 7 classes
    assert rep_bad["fid"]["real_vs_generated"] > rep_good["fid"]["real_vs_generated"]
    assert rep_bad["bone_length_cv"]["generated"]["mean"] > 0.1
    assert rep_good["bone_length_cv"]["generated"]["mean"] < 1e-6
    assert rep_bad["recognisability"]["accuracy"] == 1.0
    assert rep_good["recognisability"]["per_class"][CLASS_NAMES[0]] == 1.0
    no_feat = q.quality_report(real, ry, good, gy)
    assert "fid" not in no_feat and "bone_length_cv" in no_feat


_D = 8
_CENTRES = np.random.default_rng(123).normal(0, 3.0, (7, _D))  # seven well-separated classes


def _class_data(n_per_class, seed, shift=0.0):
    """Sequences whose first ``_D`` coordinates are a class-dependent Gaussian; the rest are 0."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(7), n_per_class)
    x = np.zeros((len(y), 2, 2, 25, 3), np.float32)
    x.reshape(len(y), -1)[:, :_D] = _CENTRES[y] + shift + rng.normal(0, 1, (len(y), _D))
    return x, y


def _first_coords(b):
    return b.reshape(len(b), -1)[:, :_D]


@pytest.mark.parametrize("n_real, n_gen", [(60, 10), (40, 40), (100, 20), (30, 60)])
def test_perfect_generator_scores_a_ratio_near_one(n_real, n_gen):
    ratios, mmd_gap = [], []
    for s in range(4):
        rx, ry = _class_data(n_real, seed=10 + s)
        gx, gy = _class_data(n_gen, seed=100 + s)          # drawn from the real distribution
        rep = q.quality_report(rx, ry, gx, gy, feature_fn=_first_coords, seed=s)
        assert rep["fid"]["n"] == 7 * min(n_real // 2, n_gen)
        assert rep["fid"]["per_class"] == {name: min(n_real // 2, n_gen) for name in CLASS_NAMES}
        ratios.append(rep["fid"]["ratio"])
        mmd_gap.append(rep["mmd"]["real_vs_generated"] - rep["mmd"]["real_vs_real"])
    assert 0.5 < min(ratios) and max(ratios) < 2.0, ratios
    assert 0.75 < np.mean(ratios) < 1.33, ratios
    assert max(abs(g) for g in mmd_gap) < 0.01, mmd_gap
    # a generator off by one standard deviation per coordinate is told apart
    bx, by = _class_data(n_gen, seed=200, shift=1.0)
    bad = q.quality_report(*_class_data(n_real, seed=10), bx, by, feature_fn=_first_coords)
    assert bad["fid"]["ratio"] > 4 and bad["mmd"]["real_vs_generated"] > bad["mmd"]["real_vs_real"] + 0.02


def test_one_mmd_bandwidth_from_real_features_serves_both_comparisons(monkeypatch):
    rx, ry = _class_data(20, seed=1)
    gx, gy = _class_data(20, seed=2, shift=5.0)   # far away: pooled distances would be far larger
    seen = []
    real_mmd = q.mmd

    def spy(a, b, kernel="rbf", bandwidth="median"):
        seen.append(bandwidth)
        return real_mmd(a, b, kernel, bandwidth)

    monkeypatch.setattr(q, "mmd", spy)
    rep = q.quality_report(rx, ry, gx, gy, feature_fn=_first_coords, repeats=2)
    expect = q.median_bandwidth(_first_coords(rx).astype(np.float64))
    assert len(seen) == 4 and all(isinstance(b, float) for b in seen)
    np.testing.assert_allclose(seen, expect, rtol=1e-12)
    assert rep["mmd"]["bandwidth"] == pytest.approx(expect, rel=1e-12)
    assert rep["fid"]["ratio"] is not None and rep["mmd"]["ratio"] is None


def test_training_data_row_measures_the_reference_shift():
    rx, ry = _class_data(40, seed=1, shift=1.0)  # the reference: other performers, shifted
    tx, ty = _class_data(40, seed=2)             # what the GAN learned from
    gx, gy = _class_data(20, seed=3)             # a perfect model of the training data
    rep = q.quality_report(rx, ry, gx, gy, feature_fn=_first_coords, gan_train_x=tx, gan_train_y=ty)
    # the generator matches its training data, so it scores what its training data scores
    assert rep["fid"]["ratio_real_vs_gan_train"] > 3
    assert 0.6 < rep["fid"]["ratio"] / rep["fid"]["ratio_real_vs_gan_train"] < 1.6
    assert rep["fid"]["n"] == 7 * 20
    with pytest.raises(ValueError, match="gan_train_y"):
        q.quality_report(rx, ry, gx, gy, gan_train_x=tx)


def _seqs(n, seed):
    return np.random.default_rng(seed).normal(0, 0.2, (n, 2, 4, 25, 3))


def test_memorisation_flags_a_copying_generator_and_not_a_new_one():
    train, heldout = _seqs(60, 0), _seqs(40, 1)
    rng = np.random.default_rng(2)
    copies = train[rng.integers(0, 60, 50)] + rng.normal(0, 0.01, (50, 2, 4, 25, 3))
    new = _seqs(50, 3)
    m_copy = q.memorisation(copies, train, heldout)
    m_new = q.memorisation(new, train, heldout)
    assert m_copy["flagged"] and not m_new["flagged"]
    assert m_copy["near_copy_share"] > 0.9 and m_new["near_copy_share"] < q.COPY_SHARE_FLAG
    assert m_copy["ratio_of_medians"] < 0.2 and 0.8 < m_new["ratio_of_medians"] < 1.2
    assert m_copy["generated"]["median"] == pytest.approx(0.01, rel=0.1)  # RMS of the added noise
    json.dumps(m_copy)
    with pytest.raises(ValueError, match="frames"):
        q.nearest_distances(new[:, :, :2], train)
    # the report carries the check when it is given the GAN's training data
    ty = np.arange(60) % 7
    rep = q.quality_report(heldout.astype(np.float32), np.arange(40) % 7, copies.astype(np.float32),
                           np.arange(50) % 7, gan_train_x=train, gan_train_y=ty)
    assert rep["memorisation"]["flagged"] and rep["memorisation"]["n_train"] == 60
