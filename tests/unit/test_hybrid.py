"""Tests for skelutils.hybrid."""
from __future__ import annotations

import json

import numpy as np
import pytest

from skelutils.hybrid import (dataset_fingerprint, load_synthetic, make_hybrid, resample_frames,
                              save_synthetic)
from skelutils.ntu import CLASS_NAMES


def _real(t=8, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for part, n in (("train", 21), ("val", 7), ("test", 14)):
        out[f"x_{part}"] = rng.normal(size=(n, 2, t, 25, 3)).astype(np.float32)
        out[f"y_{part}"] = np.arange(n) % 7
    return out


def _synth(per_class=20, t=8, seed=1):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(7), per_class)
    x = rng.normal(size=(len(y), 2, t, 25, 3)).astype(np.float32)
    x[:, 0, 0, 0, 0] = np.arange(len(y))  # unique id per generated sample
    return x, y


@pytest.mark.parametrize("fraction, n_use", [(1.0, 20), (0.5, 10), (0.0, 0)])
def test_paper_protocol_counts(fraction, n_use):
    real = _real()
    sx, sy = _synth()
    h = make_hybrid(real, sx, sy, protocol="paper", fraction=fraction, per_class=20)
    n_tr, n_va = round(0.8 * n_use), round(0.1 * n_use)
    expect = {"train": n_tr, "val": n_va, "test": n_use - n_tr - n_va}
    for part, real_n in (("train", 21), ("val", 7), ("test", 14)):
        flag = h[f"is_synthetic_{part}"]
        assert flag.sum() == 7 * expect[part], part
        assert len(h[f"x_{part}"]) == len(h[f"y_{part}"]) == len(flag) == real_n + 7 * expect[part]
        assert not flag[:real_n].any()
        np.testing.assert_array_equal(h[f"x_{part}"][:real_n], real[f"x_{part}"])
        # each class gets its share
        np.testing.assert_array_equal(np.bincount(h[f"y_{part}"][flag], minlength=7),
                                      [expect[part]] * 7)
        assert h["provenance"]["n_synthetic"][part] == 7 * expect[part]
    assert h["provenance"]["protocol"] == "paper" and h["provenance"]["n_per_class"] == n_use


def test_paper_split_is_80_10_10_of_500():
    real = _real()
    sx, sy = _synth(per_class=500, t=2)
    real = {k: (v[:, :, :2] if k.startswith("x_") else v) for k, v in real.items()}
    h = make_hybrid(real, sx, sy, protocol="paper", per_class=500)
    assert h["provenance"]["n_synthetic"] == {"train": 2800, "val": 350, "test": 350}
    # no generated sample lands in two parts
    ids = [h[f"x_{p}"][h[f"is_synthetic_{p}"]][:, 0, 0, 0, 0] for p in ("train", "val", "test")]
    allid = np.concatenate(ids)
    assert len(np.unique(allid)) == len(allid) == 3500


@pytest.mark.parametrize("fraction", [1.0, 0.25])
def test_clean_keeps_val_and_test_real(fraction):
    real = _real()
    sx, sy = _synth()
    h = make_hybrid(real, sx, sy, protocol="clean", fraction=fraction, per_class=20)
    n_use = round(fraction * 20)
    assert h["is_synthetic_train"].sum() == 7 * n_use
    for part in ("val", "test"):
        assert not h[f"is_synthetic_{part}"].any()
        np.testing.assert_array_equal(h[f"x_{part}"], real[f"x_{part}"])
        np.testing.assert_array_equal(h[f"y_{part}"], real[f"y_{part}"])
    assert h["y_train"].dtype == np.int64 and h["x_train"].dtype == np.float32


def test_deterministic_and_seed_dependent():
    real = _real()
    sx, sy = _synth()
    a = make_hybrid(real, sx, sy, fraction=0.5, per_class=20, seed=3)
    b = make_hybrid(real, sx, sy, fraction=0.5, per_class=20, seed=3)
    c = make_hybrid(real, sx, sy, fraction=0.5, per_class=20, seed=4)
    np.testing.assert_array_equal(a["x_train"], b["x_train"])
    assert not np.array_equal(a["x_train"], c["x_train"])


def test_too_few_generated_samples():
    real = _real()
    sx, sy = _synth(per_class=20)
    keep = ~((sy == 2) & (np.arange(len(sy)) % 2 == 0))  # class 2 keeps 10
    with pytest.raises(ValueError, match=r"knock over \(label 2\): 10.*02_gan"):
        make_hybrid(real, sx[keep], sy[keep], per_class=20)
    make_hybrid(real, sx[keep], sy[keep], per_class=20, fraction=0.5)  # 10 each is enough


def test_bad_arguments():
    real = _real()
    sx, sy = _synth()
    with pytest.raises(ValueError, match="protocol"):
        make_hybrid(real, sx, sy, protocol="mixed")
    with pytest.raises(ValueError, match="fraction"):
        make_hybrid(real, sx, sy, fraction=1.5)
    with pytest.raises(ValueError, match="x_test"):
        make_hybrid({k: v for k, v in real.items() if k != "x_test"}, sx, sy)
    with pytest.raises(ValueError, match=r"\(M, V, C\)"):
        make_hybrid(real, sx[:, :1], sy, per_class=20)


def test_frames_resampled_linearly():
    real = _real(t=8)
    sx, sy = _synth(t=4)
    h = make_hybrid(real, sx, sy, protocol="clean", per_class=20)
    assert h["x_train"].shape[2] == 8
    assert h["provenance"]["frames"] == {"real": 8, "synthetic": 4, "resampled": True}
    ramp = np.broadcast_to(np.arange(4, dtype=np.float32)[None, None, :, None, None], (1, 2, 4, 25, 3))
    out = resample_frames(ramp, 7)
    np.testing.assert_allclose(out[0, 0, :, 0, 0], np.linspace(0, 3, 7), atol=1e-6)
    assert resample_frames(ramp, 4) is not None and np.array_equal(resample_frames(ramp, 4), ramp)


def test_save_load_synthetic(tmp_path):
    sx, sy = _synth(per_class=3)
    meta = {"gan_config": {"latent_dim": 8}, "seed": 1, "iterations": 10, "data_source": "simulated",
            "dataset_fingerprint": dataset_fingerprint(sx, sy)}
    p = save_synthetic(tmp_path / "synth", sx, sy, meta)
    assert p.suffix == ".npz" and p.with_suffix(".json").is_file()
    d = load_synthetic(p)
    np.testing.assert_array_equal(d["x"], sx)
    np.testing.assert_array_equal(d["y"], sy)
    assert d["synthetic"].all() and d["class_names"] == tuple(CLASS_NAMES)
    assert d["meta"]["seed"] == 1 and d["meta"]["n"] == 21 and d["meta"]["counts"] == [3] * 7
    assert json.loads(p.with_suffix(".json").read_text())["data_source"] == "simulated"
    assert not list(tmp_path.glob("*.tmp"))
    with pytest.warns(UserWarning, match="lacks"):
        save_synthetic(tmp_path / "bare.npz", sx, sy, {})
    with pytest.raises(FileNotFoundError, match="notebooks/02_gan.ipynb"):
        load_synthetic(tmp_path / "none.npz")


def test_fingerprint_changes_with_data():
    sx, sy = _synth(per_class=2)
    f = dataset_fingerprint(sx, sy)
    assert f == dataset_fingerprint(sx.copy(), sy.copy())
    sx2 = sx.copy()
    sx2[0, 0, 0, 0, 1] += 1e-3
    assert f != dataset_fingerprint(sx2, sy)
