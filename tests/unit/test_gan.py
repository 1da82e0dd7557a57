"""Tests for skelutils.gan: shapes, pyramid, penalty, training, resume, sampling."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from skelutils import gan
from skelutils.gan import (CHECKPOINT_NAME, Critic, GANConfig, Generator, Normaliser,
                           gradient_penalty, load_generator, person_pyramid_graphs, sample,
                           train_gan)

torch.set_num_threads(1)

TINY = GANConfig(t_size=16, latent_dim=8, embed_dim=3, mapping_layers=1, levels=4,
                 g_channels=(8, 8, 6, 6), d_channels=(6, 6, 8, 8), blocks_per_stage=1)


def _data(n=12, t=16, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 0.3, (1, 2, 1, 25, 3))
    base[:, 1, ..., 0] += 1.0  # second person one metre away
    x = (base + rng.normal(0, 0.05, (n, 2, t, 25, 3))).astype(np.float32)
    y = np.arange(n) % 7
    return x, y.astype(np.int64)


def test_generator_and_critic_shapes():
    g, d = Generator(TINY), Critic(TINY)
    z = torch.randn(5, TINY.latent_dim)
    lab = torch.tensor([0, 1, 2, 3, 6])
    x = g(z, lab)
    assert x.shape == (5, 2, 16, 25, 3)
    out = d(x, lab)
    assert out.shape == (5,)
    assert torch.isfinite(out).all()


def test_presets_are_valid_configs():
    for name in ("smoke", "cpu30", "full"):
        cfg, kw = gan.gan_preset(name)
        assert isinstance(cfg, GANConfig) and kw["iterations"] > 0 and kw["batch_size"] > 0
    full = gan.GAN_PRESETS["full"]["config"]
    assert full.latent_dim == 512 and full.t_size == 64 and full.n_critic == 5 and full.lambda_gp == 10
    with pytest.raises(KeyError, match="smoke"):
        gan.gan_preset("nope")


def test_config_validation_message():
    with pytest.raises(ValueError, match="t_size=20"):
        GANConfig(t_size=20, levels=4)
    with pytest.raises(ValueError, match="g_channels"):
        GANConfig(levels=3, g_channels=(8, 8), d_channels=(8, 8, 8))


def test_pyramid_graphs():
    adj, down, up = person_pyramid_graphs(4, "spine+hands")
    assert [a.shape[-1] for a in adj] == [50, 22, 10, 2]
    assert all(a.shape[0] == 4 for a in adj)
    # rows of the summed adjacency are normalised neighbourhood means
    for a in adj:
        np.testing.assert_allclose(a.sum((0, 2)), 1.0, rtol=1e-6)
    # spine bases of the two people joined; hands of person 0 reach spine-mid of person 1
    assert adj[0][3, 0, 25] > 0 and adj[0][3, 25, 0] > 0
    assert adj[0][3, 7, 26] > 0 and adj[0][3, 26, 7] > 0
    # no inter-person edge inside intra subsets
    assert adj[0][1][:25, 25:].sum() == 0 and adj[0][2][:25, 25:].sum() == 0
    for d, u in zip(down, up):
        np.testing.assert_allclose(d.sum(1), 1.0, rtol=1e-6)
        np.testing.assert_array_equal(u.sum(1), 1.0)  # every fine node has exactly one parent
    spine_only, _, _ = person_pyramid_graphs(4, "spine")
    assert spine_only[0][3, 7, 26] == 0 and spine_only[0][3, 0, 25] > 0
    none, _, _ = person_pyramid_graphs(4, "none")
    assert none[0][3].sum() == 0


def test_gradient_penalty_finite_positive():
    torch.manual_seed(0)
    d = Critic(TINY)
    real, fake = torch.randn(4, 2, 16, 25, 3), torch.randn(4, 2, 16, 25, 3)
    gp = gradient_penalty(d, real, fake, torch.tensor([0, 1, 2, 3]))
    assert torch.isfinite(gp) and gp.item() > 0
    gp.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in d.parameters())


def test_normaliser_round_trip():
    x, _ = _data()
    norm = Normaliser.fit(x)
    xt = torch.from_numpy(x)
    z = norm.normalise(xt)
    assert abs(float(z.mean())) < 1e-4
    np.testing.assert_allclose(z.reshape(-1, 3).std(0).numpy(), 1.0, rtol=1e-2)
    np.testing.assert_allclose(norm.denormalise(z).numpy(), x, atol=1e-5)


def _state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_one_training_step_changes_weights(tmp_path):
    x, y = _data()
    torch.manual_seed(3)
    g0 = _state(Generator(TINY, Normaliser.fit(x)))
    train_gan(x, y, TINY, run_dir=tmp_path, iterations=1, batch_size=4, seed=3, progress=False)
    ckpt = torch.load(tmp_path / CHECKPOINT_NAME, weights_only=True)
    g1 = ckpt["generator"]
    assert g0.keys() == g1.keys()
    params = dict(Generator(TINY).named_parameters())
    changed = [k for k in params if not torch.equal(g0[k], g1[k])]
    assert len(changed) == len(params), sorted(set(params) - set(changed))
    # the normaliser is data, not a parameter: unchanged
    assert torch.equal(g0["normaliser.mean"], g1["normaliser.mean"])


def test_resume_equals_uninterrupted(tmp_path):
    x, y = _data()
    kw = dict(batch_size=4, seed=7, progress=False, log_every=1)
    h_full = train_gan(x, y, TINY, run_dir=tmp_path / "a", iterations=4, **kw)
    train_gan(x, y, TINY, run_dir=tmp_path / "b", iterations=2, **kw)
    h_res = train_gan(x, y, TINY, run_dir=tmp_path / "b", iterations=4, **kw)
    a = torch.load(tmp_path / "a" / CHECKPOINT_NAME, weights_only=True)
    b = torch.load(tmp_path / "b" / CHECKPOINT_NAME, weights_only=True)
    for part in ("generator", "critic"):
        for k in a[part]:
            assert torch.equal(a[part][k], b[part][k]), (part, k)
    for key in ("iteration", "critic_loss", "generator_loss", "gradient_penalty", "wasserstein"):
        assert h_full[key] == h_res[key], key
    assert h_full["iteration"] == [1, 2, 3, 4]
    # already done: returns the history without training
    again = train_gan(x, y, TINY, run_dir=tmp_path / "b", iterations=4, **kw)
    assert again["critic_loss"] == h_res["critic_loss"]


def test_wrong_config_checkpoint_message(tmp_path):
    x, y = _data()
    train_gan(x, y, TINY, run_dir=tmp_path, iterations=1, batch_size=4, progress=False)
    other = GANConfig(**{**TINY.to_dict(), "latent_dim": 16})
    with pytest.raises(ValueError, match=r"another GANConfig.*latent_dim: checkpoint 8 vs requested 16"):
        train_gan(x, y, other, run_dir=tmp_path, iterations=2, batch_size=4, progress=False)
    with pytest.raises(ValueError, match="seed"):
        train_gan(x, y, TINY, run_dir=tmp_path, iterations=2, batch_size=4, seed=99, progress=False)
    # resume=False starts afresh with the new config
    train_gan(x, y, other, run_dir=tmp_path, iterations=1, batch_size=4, progress=False, resume=False)
    assert load_generator(tmp_path).cfg.latent_dim == 16


def test_bad_input_messages(tmp_path):
    x, y = _data()
    with pytest.raises(ValueError, match=r"\(N, 2, T, 25, 3\)"):
        train_gan(x[:, 0], y, TINY, run_dir=tmp_path, iterations=1, batch_size=4, progress=False)
    with pytest.raises(ValueError, match="labels span"):
        train_gan(x, y + 7, TINY, run_dir=tmp_path, iterations=1, batch_size=4, progress=False)
    with pytest.raises(ValueError, match="batch_size=64"):
        train_gan(x, y, TINY, run_dir=tmp_path, iterations=1, batch_size=64, progress=False)
    with pytest.raises(ValueError, match="exactly one"):
        train_gan(x, y, TINY, run_dir=tmp_path, batch_size=4, progress=False)
    with pytest.raises(FileNotFoundError, match="02_gan.ipynb"):
        load_generator(tmp_path / "missing")


def test_training_resamples_other_frame_counts(tmp_path):
    x, y = _data(t=32)
    train_gan(x, y, TINY, run_dir=tmp_path, epochs=1, batch_size=4, progress=False)
    g = load_generator(tmp_path)
    assert g.meta["iteration"] == 1  # ceil(12 / (4 * 5))
    xs, _ = sample(g, 1, seed=0, frames=32)
    assert xs.shape == (7, 2, 32, 25, 3)


def test_sampling_deterministic_and_metric(tmp_path):
    x, y = _data()
    train_gan(x, y, TINY, run_dir=tmp_path, iterations=1, batch_size=4, progress=False)
    x1, y1 = sample(tmp_path, 3, seed=5, device="cpu", batch_size=2)
    x2, y2 = sample(tmp_path, 3, seed=5, device="cpu", batch_size=2)
    assert x1.dtype == np.float32 and y1.dtype == np.int64
    assert x1.shape == (21, 2, 16, 25, 3)
    np.testing.assert_array_equal(y1, np.repeat(np.arange(7), 3))
    np.testing.assert_array_equal(x1, x2)
    x3, _ = sample(tmp_path, 3, seed=6, device="cpu", batch_size=2)
    assert not np.allclose(x1, x3)
    # a class's samples do not depend on the other classes asked for
    x4, y4 = sample(tmp_path, {4: 3}, seed=5, device="cpu", batch_size=2)
    np.testing.assert_array_equal(y4, [4, 4, 4])
    np.testing.assert_array_equal(x4, x1[y1 == 4])


def test_sample_maps_back_to_metres():
    torch.manual_seed(0)
    mean = np.full((2, 25, 3), 3.0, np.float32)
    g = Generator(TINY, Normaliser(mean, np.full(3, 1e-3, np.float32)))
    xs, _ = sample(g, 2, seed=0, device="cpu")
    assert np.abs(xs - 3.0).max() < 0.1  # standardised output scaled by 1 mm around 3 m
    g_id = Generator(TINY)
    g_id.load_state_dict({**g.state_dict(), "normaliser.mean": torch.zeros(2, 25, 3),
                          "normaliser.std": torch.ones(3)})
    xz, _ = sample(g_id, 2, seed=0, device="cpu")
    np.testing.assert_allclose(xs, xz * 1e-3 + 3.0, atol=1e-5)


def test_checkpoint_from_other_code_version_message(tmp_path):
    x, y = _data()
    train_gan(x, y, TINY, run_dir=tmp_path, iterations=1, batch_size=4, progress=False)
    ckpt = torch.load(tmp_path / CHECKPOINT_NAME, weights_only=True)
    del ckpt["generator"]["to_xyz.bias"]
    torch.save(ckpt, tmp_path / CHECKPOINT_NAME)
    with pytest.raises(ValueError, match="older code"):
        load_generator(tmp_path)
    with pytest.raises(ValueError, match="older code"):
        train_gan(x, y, TINY, run_dir=tmp_path, iterations=2, batch_size=4, progress=False)


def _bone_lengths(x: np.ndarray) -> np.ndarray:
    from skelutils.ntu import BONES
    b = np.asarray(BONES)
    return np.linalg.norm(x[..., b[:, 0], :] - x[..., b[:, 1], :], axis=-1)


def test_normaliser_records_mean_bones():
    x, _ = _data()
    norm = Normaliser.fit(x)
    from skelutils.ntu import BONES
    child = np.asarray(BONES)[:, 0]
    mean_len = _bone_lengths(x).mean(axis=(0, 2))                      # (2, B)
    np.testing.assert_allclose(norm.bone_mean.norm(dim=-1).numpy()[:, child], mean_len, rtol=1e-4)
    assert float(norm.bone_mean[:, 0].abs().sum()) == 0.0             # the root has no bone


def test_bones_output_keeps_limb_lengths():
    import dataclasses
    x, _ = _data()
    norm = Normaliser.fit(x)
    cfg = dataclasses.replace(TINY, output="bones")
    torch.manual_seed(0)
    g = Generator(cfg, norm)
    with torch.no_grad():
        start = norm.denormalise(g(torch.randn(6, cfg.latent_dim), torch.arange(6))).numpy()
        g.to_xyz.weight.normal_(0.0, 3.0)   # push the last layer far from its initialisation
        out = norm.denormalise(g(torch.randn(6, cfg.latent_dim), torch.arange(6))).numpy()
    mean_len = norm.bone_mean.norm(dim=-1).numpy()[None, :, None, np.asarray([c for c, _ in gan.BONES])]
    np.testing.assert_allclose(_bone_lengths(start) / mean_len, 1.0, rtol=1e-3)  # starts at mean lengths
    ratio = _bone_lengths(out) / mean_len
    assert np.isfinite(out).all()
    assert ratio.min() >= np.exp(-gan._BONE_LOG_SCALE) - 1e-4
    assert ratio.max() <= np.exp(gan._BONE_LOG_SCALE) + 1e-4
    assert ratio.std() > 0.01                                           # lengths vary within the bound
    # the free-joint generator has no such bound
    g0 = Generator(TINY, norm)
    with torch.no_grad():
        g0.to_xyz.weight.mul_(50.0)
        out0 = norm.denormalise(g0(torch.randn(6, TINY.latent_dim), torch.arange(6))).numpy()
    assert (_bone_lengths(out0) / mean_len).max() > 2
    with pytest.raises(ValueError, match="output='quaternions'"):
        GANConfig(output="quaternions")


def test_auxiliary_classifier_head(tmp_path):
    import dataclasses
    cfg = dataclasses.replace(TINY, aux_weight=1.0)
    d = Critic(cfg)
    assert d.label_emb is None and d.stages[0][0].gcn.in_channels in (3, 3 * 4)
    x = torch.randn(3, 2, 16, 25, 3)
    score, logits = d(x, torch.tensor([0, 1, 2]), return_logits=True)
    assert score.shape == (3,) and logits.shape == (3, 7)
    # the head cannot read the label: logits do not depend on it
    _, logits2 = d(x, torch.tensor([6, 5, 4]), return_logits=True)
    torch.testing.assert_close(logits, logits2)
    with pytest.raises(ValueError, match="aux_weight"):
        Critic(TINY)(x, torch.tensor([0, 1, 2]), return_logits=True)
    with pytest.raises(ValueError, match="aux_weight=-1"):
        GANConfig(aux_weight=-1)
    xs, ys = _data()
    hist = train_gan(xs, ys, cfg, run_dir=tmp_path, iterations=3, batch_size=4, progress=False,
                     log_every=1)
    assert len(hist["aux_loss_real"]) == len(hist["aux_loss_generated"]) == 3
    assert all(np.isfinite(hist["aux_loss_real"]))


@pytest.mark.parametrize("gp_every, expect", [(1, 20), (3, 7), (4, 5)])
def test_lazy_gradient_penalty(tmp_path, monkeypatch, gp_every, expect):
    import dataclasses
    xs, ys = _data()
    calls = []
    real_gp = gan.gradient_penalty

    def counting(*args, **kwargs):
        out = real_gp(*args, **kwargs)
        calls.append(float(out.detach()))
        return out

    monkeypatch.setattr(gan, "gradient_penalty", counting)
    cfg = dataclasses.replace(TINY, gp_every=gp_every)
    # 4 generator updates x 5 critic updates = 20; the penalty on updates 0, k, 2k, ... of them
    hist = train_gan(xs, ys, cfg, run_dir=tmp_path, iterations=4, batch_size=4, progress=False, log_every=1)
    assert len(calls) == expect
    assert np.isfinite(hist["gradient_penalty"]).all() and len(hist["gradient_penalty"]) == 4
    if gp_every == 4:  # updates 0 and 4 fall into the first generator update, 8, 12, 16 one each
        np.testing.assert_allclose(hist["gradient_penalty"], calls[1:], rtol=1e-6)  # the last one logged
    with pytest.raises(ValueError, match="gp_every=0"):
        GANConfig(gp_every=0)


def test_lazy_penalty_weight_is_lambda_times_gp_every(tmp_path, monkeypatch):
    import dataclasses
    xs, ys = _data()
    monkeypatch.setattr(gan, "gradient_penalty", lambda *a, **k: torch.tensor(1.0))  # a constant penalty
    cfg = dataclasses.replace(TINY, gp_every=3, lambda_gp=2.0)
    hist = train_gan(xs, ys, cfg, run_dir=tmp_path, iterations=5, batch_size=4, progress=False, log_every=1)
    # the logged critic loss is that of critic update 5 * it + 4; it carries the penalty, weighted
    # 2 * 3, when that index is a multiple of 3 (it = 1 and 4)
    penalty_part = np.asarray(hist["critic_loss"]) + np.asarray(hist["wasserstein"])
    np.testing.assert_allclose(penalty_part, [0.0, 6.0, 0.0, 0.0, 6.0], atol=1e-5)


def test_run_length_is_part_of_the_resume_check(tmp_path):
    x, y = _data()
    kw = dict(batch_size=4, seed=1, progress=False, log_every=1)
    train_gan(x, y, TINY, run_dir=tmp_path, iterations=3, **kw)
    assert load_generator(tmp_path).meta["iteration"] == 3
    with pytest.raises(ValueError, match=r"holds a run of 3 generator updates, more than the 2 requested"
                                         r".*iterations >= 3.*resume=False"):
        train_gan(x, y, TINY, run_dir=tmp_path, iterations=2, **kw)
    assert load_generator(tmp_path).meta["iteration"] == 3          # the refused call changed nothing
    h = train_gan(x, y, TINY, run_dir=tmp_path, iterations=5, **kw)  # a longer request extends the run
    assert h["iteration"] == [1, 2, 3, 4, 5] and load_generator(tmp_path).meta["iteration"] == 5
    train_gan(x, y, TINY, run_dir=tmp_path, iterations=2, resume=False, **kw)
    assert load_generator(tmp_path).meta["iteration"] == 2
