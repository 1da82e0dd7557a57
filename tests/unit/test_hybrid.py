"""Tests for skelutils.hybrid."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from skelutils import config, experiments, gan
from skelutils.dataset import Dataset
from skelutils.hybrid import (arrays_fingerprint, load_synthetic, make_hybrid, resample_frames,
                              save_synthetic)
from skelutils.ntu import CLASS_NAMES

torch.set_num_threads(1)


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
    assert h["is_synthetic_train"].sum() == 7 * round(0.8 * n_use)  # the paper protocol's training share
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
            "dataset_fingerprint": arrays_fingerprint(sx, sy)}
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
    f = arrays_fingerprint(sx, sy)
    assert f == arrays_fingerprint(sx.copy(), sy.copy())
    sx2 = sx.copy()
    sx2[0, 0, 0, 0, 1] += 1e-3
    assert f != arrays_fingerprint(sx2, sy)


def _ids(h, part):
    return h[f"x_{part}"][h[f"is_synthetic_{part}"]][:, 0, 0, 0, 0]


@pytest.mark.parametrize("fraction", [1.0, 0.5, 0.25])
def test_paper_and_clean_train_on_the_same_generated_samples(fraction):
    real = _real()
    sx, sy = _synth()
    for seed in (0, 5):
        paper = make_hybrid(real, sx, sy, protocol="paper", fraction=fraction, per_class=20, seed=seed)
        clean = make_hybrid(real, sx, sy, protocol="clean", fraction=fraction, per_class=20, seed=seed)
        assert paper["provenance"]["n_synthetic"]["train"] == clean["provenance"]["n_synthetic"]["train"] > 0
        np.testing.assert_array_equal(np.sort(_ids(paper, "train")), np.sort(_ids(clean, "train")))


def test_paper_test_draw_does_not_change_with_the_training_seed():
    real = _real()
    sx, sy = _synth()
    draws = [make_hybrid(real, sx, sy, protocol="paper", fraction=1.0, per_class=20, seed=s) for s in (0, 1, 2)]
    for part in ("test", "val"):
        for d in draws[1:]:
            np.testing.assert_array_equal(np.sort(_ids(d, part)), np.sort(_ids(draws[0], part)))
    # the training draw never takes a held-out sample
    held = set(_ids(draws[0], "test")) | set(_ids(draws[0], "val"))
    for d in draws:
        assert not held & set(_ids(d, "train"))
    # with more generated samples than used, seeds draw different training samples
    a = make_hybrid(real, *_synth(per_class=40), fraction=0.5, per_class=20, seed=0)
    b = make_hybrid(real, *_synth(per_class=40), fraction=0.5, per_class=20, seed=1)
    assert set(_ids(a, "train")) != set(_ids(b, "train"))
    np.testing.assert_array_equal(np.sort(_ids(a, "test")), np.sort(_ids(b, "test")))
    # another holdout seed draws another test set
    c = make_hybrid(real, *_synth(per_class=40), fraction=0.5, per_class=20, seed=0, holdout_seed=9)
    assert set(_ids(a, "test")) != set(_ids(c, "test"))


def test_array_file_and_sidecar_are_checked_as_a_pair(tmp_path):
    sx, sy = _synth(per_class=3)
    meta = {"gan_config": {}, "seed": 1, "iterations": 10, "data_source": "simulated",
            "dataset_fingerprint": "abc"}
    p = save_synthetic(tmp_path / "a", sx, sy, meta)
    other = save_synthetic(tmp_path / "b", sx[::-1].copy(), sy[::-1].copy(), meta)
    assert json.loads(p.with_suffix(".json").read_text())["npz_sha256"] != \
        json.loads(other.with_suffix(".json").read_text())["npz_sha256"]
    p.write_bytes(other.read_bytes())   # a new array file next to the old sidecar
    with pytest.raises(ValueError, match=r"a\.json and a\.npz do not belong together.*02_gan"):
        load_synthetic(p)
    side = json.loads(other.with_suffix(".json").read_text())
    del side["npz_sha256"]
    other.with_suffix(".json").write_text(json.dumps(side))
    with pytest.raises(ValueError, match="records no npz_sha256.*02_gan"):
        load_synthetic(other)


def test_load_synthetic_refuses_samples_of_another_data_set(tmp_path):
    sx, sy = _synth(per_class=3)
    p = save_synthetic(tmp_path / "s", sx, sy, {"gan_config": {}, "seed": 0, "iterations": 1,
                                               "data_source": "simulated", "dataset_fingerprint": "aaaa"})
    assert load_synthetic(p, dataset_fingerprint="aaaa", data_source="simulated")["meta"]["seed"] == 0
    with pytest.raises(ValueError, match=r"trained on simulated data \(dataset fingerprint aaaa\), but the "
                                         r"current data set is ntu \(fingerprint bbbb\).*02_gan"):
        load_synthetic(p, dataset_fingerprint="bbbb", data_source="ntu")
    with pytest.raises(ValueError, match="fingerprint aaaa.*fingerprint bbbb"):
        load_synthetic(p, dataset_fingerprint="bbbb", data_source="simulated")
    p.with_suffix(".json").unlink()
    with pytest.raises(ValueError, match="s.json is missing.*02_gan"):
        load_synthetic(p, dataset_fingerprint="aaaa", data_source="simulated")


# ---------------------------------------------------------------- through skelutils.experiments

T = 8


def _dataset(fingerprint="0123456789abcdef", source="simulated", seed=0) -> Dataset:
    """Performers on both sides of xsub, cameras 1-3, setups 18 (xset train) and 19 (xset test)."""
    from skelutils.splits import XSUB_TRAIN_PERFORMERS
    train_p = sorted(XSUB_TRAIN_PERFORMERS)[:3]
    test_p = [p for p in range(1, 40) if p not in XSUB_TRAIN_PERFORMERS][:2]
    rows = [(s, p, c, a) for s in (18, 19) for p in train_p + test_p for c in (1, 2, 3) for a in range(7)]
    n = len(rows)
    rng = np.random.default_rng(seed)
    y = np.array([a for *_, a in rows], np.int64)
    x = rng.normal(0, 0.1, (n, 2, T, 25, 3)).astype(np.float32)
    meta = {"setup": np.array([r[0] for r in rows], np.int64), "performer": np.array([r[1] for r in rows], np.int64),
            "camera": np.array([r[2] for r in rows], np.int64), "replication": np.ones(n, np.int64),
            "action": y + 1, "n_frames": np.full(n, T, np.int64), "n_bodies_max": np.full(n, 2, np.int64),
            "n_noise_bodies": np.zeros(n, np.int64),
            "names": [f"S{s:03d}C{c:03d}P{p:03d}R001A{a + 1:03d}" for s, p, c, a in rows]}
    return Dataset(x=x, y=y, meta=meta, raw=[x[i].transpose(1, 0, 2, 3) for i in range(n)], source=source,
                   fingerprint=fingerprint, empty=[], malformed=[], prep={"frames": T})


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELUTILS_ARTIFACTS", str(tmp_path / "artifacts"))
    c = config.load_profile("smoke")
    c["name"] = "unit"
    c["data"]["val_fraction"] = 0.25
    c["train"]["device"] = "cpu"
    c["gan"].update(n_per_class=10, iterations=2,
                    config={"t_size": 16, "latent_dim": 8, "embed_dim": 3, "mapping_layers": 1,
                            "g_channels": [8, 8, 6, 6], "d_channels": [6, 6, 8, 8]})
    return c


def test_generated_samples_record_their_gan_and_are_checked_against_the_data(cfg):
    ds = _dataset()
    info = experiments.train_profile_gan(cfg, ds)
    experiments.generate_synthetic(cfg, ds, info)
    meta = load_synthetic(experiments.synthetic_path(cfg))["meta"]
    assert meta["iterations"] == 2 and meta["dataset_fingerprint"] == ds.fingerprint
    assert meta["gan_train_indices"] == experiments.gan_training_indices(ds, cfg).tolist()
    assert meta["gan_train_splits"] == ["xsub", "xview"]
    # a GAN run cannot be shortened; a longer request extends it and the provenance says so
    with pytest.raises(ValueError, match="holds a GAN run of 2 generator updates, more than the 1 "
                                         "requested.*ITERATIONS"):
        experiments.train_profile_gan({**cfg, "gan": {**cfg["gan"], "iterations": 1}}, ds)
    longer = {**cfg, "gan": {**cfg["gan"], "iterations": 3}}
    info3 = experiments.train_profile_gan(longer, ds)
    experiments.generate_synthetic(longer, ds, info3)
    assert info3["iterations"] == 3 and load_synthetic(experiments.synthetic_path(cfg))["meta"]["iterations"] == 3
    assert gan.load_generator(info3["run_dir"]).meta["iteration"] == 3

    for protocol in ("paper", "clean"):
        h = experiments.hybrid_arrays(ds, "xsub", cfg, protocol, 1.0, seed=0)
        assert h["provenance"]["n_synthetic"]["train"] == 7 * 8
    # the same files next to a data set rebuilt from other data (notebook 01 re-run on NTU)
    for other in (_dataset(fingerprint="fedcba9876543210", source="ntu"), _dataset(fingerprint="fedcba9876543210")):
        with pytest.raises(ValueError, match=r"trained on simulated data \(dataset fingerprint 0123456789abcdef\)"
                                             r".*fingerprint fedcba9876543210.*02_gan"):
            experiments.hybrid_arrays(other, "xsub", cfg, "paper", 1.0, seed=0)
    # xset: the GAN learned from xset test samples (setup 19), so hybrid data are refused there
    with pytest.raises(ValueError, match=r"learned from \d+ samples of the xset test part.*gan.train_splits.*02_gan"):
        experiments.hybrid_arrays(ds, "xset", cfg, "clean", 0.5, seed=0)
    assert experiments.hybrid_arrays(ds, "xset", cfg, "real-only", 0.0, seed=0)["provenance"]["fraction"] == 0.0


def test_a_gan_kept_from_xset_test_may_feed_xset(cfg):
    ds = _dataset()
    cfg["gan"]["train_splits"] = ["xsub", "xview", "xset"]
    idx = experiments.gan_training_indices(ds, cfg)
    assert idx.size and (ds.meta["setup"][idx] % 2 == 0).all()
    info = experiments.train_profile_gan(cfg, ds)
    experiments.generate_synthetic(cfg, ds, info)
    h = experiments.hybrid_arrays(ds, "xset", cfg, "paper", 1.0, seed=0)
    assert h["provenance"]["n_synthetic"] == {"train": 7 * 8, "val": 7, "test": 7}
    with pytest.raises(ValueError, match=r"gan.train_splits holds \['xcam'\]"):
        experiments.gan_training_indices(ds, {**cfg, "gan": {"train_splits": ["xcam"]}})
