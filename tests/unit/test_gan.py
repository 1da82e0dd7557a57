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
    for name in ("smoke", "cpu30", "kinetic_gan", "full_two_person"):
        cfg, kw = gan.gan_preset(name)
        assert isinstance(cfg, GANConfig) and kw["iterations"] > 0 and kw["batch_size"] > 0
    for name in ("kinetic_gan", "full_two_person"):
        full = gan.GAN_PRESETS[name]["config"]
        assert full.latent_dim == 512 and full.t_size == 64 and full.n_critic == 5 and full.lambda_gp == 10
    assert gan.GAN_PRESETS["full_two_person"]["config"].arch == "companion"
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
    # The head's critic reads coordinates only (3 channels, one copy per adjacency subset, K = 4);
    # without the head the label embedding enters as extra input channels.
    assert d.label_emb is None and d.stages[0][0].gcn.in_channels == 3 * 4
    assert Critic(TINY).stages[0][0].gcn.in_channels == 3 + TINY.embed_dim
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


# ---------------------------------------------------------------------------
# arch="kinetic_gan": Kinetic-GAN's networks as published (DegardinBruno/Kinetic-GAN)
# ---------------------------------------------------------------------------

KG_TINY = GANConfig(arch="kinetic_gan", t_size=16, latent_dim=8, embed_dim=7, mapping_layers=2,
                    levels=4, g_channels=(8, 8, 6, 6, 4), d_channels=(4, 6, 6, 8, 8, 8),
                    blocks_per_stage=1, critic_projection=False, n_critic=1, truncation_psi=0.95)


def test_kinetic_gan_pyramid_matches_reference():
    """The leaf-removal pyramid equals the one Kinetic-GAN's ``graph_ntu`` builds (its
    ``map``, ``edge``, ``center`` and ``upsample_mapping``, printed from the reference code)."""
    g = gan.kinetic_gan_graphs()
    assert g["n"] == [25, 11, 5, 1] and g["centre"] == [20, 10, 4, 0]
    assert g["kept"][1:] == [[0, 2, 5, 7, 9, 11, 13, 14, 17, 18, 20], [2, 4, 6, 8, 10], [4]]
    assert g["edges"][1] == [(0, 6), (0, 8), (0, 10), (1, 10), (2, 3), (2, 10), (4, 5), (4, 10),
                             (6, 7), (8, 9)]
    assert g["edges"][2] == [(0, 4), (1, 4), (2, 3), (2, 4), (3, 4)] and g["edges"][3] == []
    assert g["neighbours"][0] == [(1, [0, 10]), (3, [1]), (4, [2, 10]), (6, [2, 3]), (8, [4, 10]),
                                  (10, [4, 5]), (12, [0, 6]), (15, [7]), (16, [0, 8]), (19, [9]),
                                  (21, [3]), (22, [3]), (23, [5]), (24, [5])]
    assert g["neighbours"][1] == [(0, [2, 3, 4]), (1, [4]), (3, [0]), (5, [1]), (7, [2]), (9, [3])]
    assert g["neighbours"][2] == [(0, [0]), (1, [0]), (2, [0]), (3, [0])]
    # the partition's non-zeros per subset (self, root + closer, further) in the reference's As
    nnz = [[int((a != 0).sum()) for a in A] for A in g["A"]]
    assert nnz == [[25, 40, 8], [11, 12, 8], [5, 6, 4], [1, 0, 0]]
    for A in g["A"]:  # columns are neighbourhood means
        np.testing.assert_allclose(A.sum((0, 1)), 1.0, rtol=1e-6)
    # from the one-node level, re-inserted nodes take half the coarse value (upsample_s)
    np.testing.assert_array_equal(g["up"][2][:, 0], [0.5, 0.5, 0.5, 0.5, 1.0])
    np.testing.assert_allclose(g["up"][0].sum(1), 1.0, rtol=1e-6)


def _reference_parameter_count(n_classes: int, latent: int = 512, mlp: int = 4):
    """Parameters of Kinetic-GAN's Generator and Discriminator for the NTU 25-joint graph
    (K = 3 subsets, nodes 25/11/5/1 per level, temporal kernel 3), transcribed from its
    models/generator.py (lines 55-75, st_gcn 110-163), models/discriminator.py (28-50,
    st_gcn 78-121) and models/init_gan/tgcn.py (graph conv: 1x1 conv, no bias)."""
    nodes = [25, 11, 5, 1]

    def block(c_in, c_out, lvl, bn, residual, res_bn, noise):
        n = c_in * c_out * 3                                   # gcn conv, bias=False
        n += c_out * c_out * 3 + c_out                         # tcn conv (3, 1)
        n += 2 * c_out if bn else 0                            # tcn BatchNorm
        if residual and c_in != c_out:
            n += c_in * c_out + c_out + (2 * c_out if res_bn else 0)
        n += c_out if noise else 0                             # NoiseInjection weight
        return n + 3 * nodes[lvl] ** 2                         # edge importance (K, V, V)

    width = latent + n_classes
    g = n_classes ** 2 + mlp * (width * width + width)        # label_emb, Mapping_Net
    for c_in, c_out, lvl, bn, res in [(width, 512, 3, False, False), (512, 256, 3, True, True),
                                      (256, 128, 2, False, True), (128, 64, 2, True, True),
                                      (64, 32, 1, False, True), (32, 3, 1, True, True),
                                      (3, 3, 0, False, True)]:
        g += block(c_in, c_out, lvl, bn, res, True, True)
    d = n_classes ** 2 + latent + 1                            # label_emb, fcn
    for c_in, c_out, lvl, res in [(3 + n_classes, 32, 0, False), (32, 64, 1, True),
                                  (64, 128, 1, True), (128, 256, 2, True), (256, 512, 2, True),
                                  (512, latent, 3, True)]:
        d += block(c_in, c_out, lvl, False, res, False, False)
    return g, d


def test_kinetic_gan_parameter_count_equals_reference():
    # Expected counts obtained by instantiating the reference classes (DegardinBruno/Kinetic-GAN,
    # commit 0e798f6, with .cuda() made a no-op): Generator(512, 3, 7, 64, 4) and
    # Discriminator(3, 7, 64, 512). For its default 60 classes: 3,944,401 and 3,332,115.
    # Parameter counts are integers and depend on no floating-point detail: no slack.
    assert _reference_parameter_count(7) == (3_627_938, 3_323_476)
    assert _reference_parameter_count(60) == (3_944_401, 3_332_115)
    cfg = gan.KINETIC_GAN_CONFIG
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(Generator(cfg)) == 3_627_938
    assert count(Critic(cfg)) == 3_323_476
    assert cfg.t_size == 64 and cfg.embed_dim == cfg.n_classes == 7 and cfg.truncation_psi == 0.95
    # the same frames per level at 64 frames: one frame of one node at the generator's start
    g = Generator(cfg).net
    assert [f for _, _, f in g.plan] == [1, 4, 4, 8, 16, 32, 64]
    assert [f for _, _, f in Critic(cfg).net.plan] == [64, 64, 32, 16, 8, 4]


def test_kinetic_gan_preset_is_the_paper_reading():
    cfg, run = gan.gan_preset("kinetic_gan")
    assert cfg == gan.KINETIC_GAN_CONFIG and run["epochs"] == 1200 and run["batch_size"] == 32
    assert run["iterations"] == gan.epochs_to_iterations(1200, 2000, 32, cfg.n_critic)
    assert gan.epochs_to_iterations(1, 10, 4, 1) == 3  # ceil(10 / 4)


def test_kinetic_gan_config_validation():
    with pytest.raises(ValueError, match="critic_projection"):
        GANConfig(**{**KG_TINY.to_dict(), "critic_projection": True})
    with pytest.raises(ValueError, match="g_channels"):
        GANConfig(**{**KG_TINY.to_dict(), "g_channels": (8, 8, 6, 6)})
    with pytest.raises(ValueError, match="aux_weight"):
        GANConfig(**{**KG_TINY.to_dict(), "aux_weight": 1.0})
    with pytest.raises(ValueError, match="arch"):
        GANConfig(arch="stylegan")
    with pytest.raises(ValueError, match="truncation_psi"):
        GANConfig(truncation_psi=0.0)


def test_minmax_normaliser_scales_to_unit_range():
    x, _ = _data()
    z = Normaliser.fit_minmax(x).normalise(torch.from_numpy(x))
    assert abs(float(z.min()) + 1) < 1e-5 and abs(float(z.max()) - 1) < 1e-5


def test_kinetic_gan_one_update_generates_one_person(tmp_path):
    """One critic and one generator update of Kinetic-GAN's networks on CPU."""
    x, y = _data()
    hist = train_gan(x, y, KG_TINY, run_dir=tmp_path, iterations=1, batch_size=4, seed=1,
                     progress=False, log_every=1)
    for key in ("critic_loss", "generator_loss", "gradient_penalty", "wasserstein"):
        assert len(hist[key]) == 1 and np.isfinite(hist[key][0]), key
    gen = load_generator(tmp_path)
    ckpt = torch.load(tmp_path / CHECKPOINT_NAME, weights_only=True)
    assert any(not torch.equal(v, Generator(KG_TINY).state_dict()[k]) for k, v in ckpt["generator"].items()
               if k.startswith("net.blocks.") and k.endswith("tcn.0.weight"))
    xs, ys = sample(gen, 3, seed=0, device="cpu")
    assert xs.shape == (21, 2, 16, 25, 3) and ys.shape == (21,)
    assert np.all(xs[:, 1] == 0)                       # the second person is absent
    assert np.isfinite(xs).all() and np.abs(xs[:, 0]).sum(axis=(1, 2, 3)).min() > 0
    # tanh output: within the training data's min-max range
    assert xs[:, 0].min() >= x.min() - 1e-5 and xs[:, 0].max() <= x.max() + 1e-5
    # the critic reads person 0 only
    crit = Critic(KG_TINY)
    lab = torch.tensor([0, 1])
    a = torch.randn(2, 2, 16, 25, 3)
    b = a.clone()
    b[:, 1] = torch.randn(2, 16, 25, 3)
    assert torch.equal(crit(a, lab), crit(b, lab))


def test_truncation_pulls_samples_to_the_mean():
    torch.manual_seed(0)
    g = Generator(KG_TINY, Normaliser.fit_minmax(_data()[0])).eval()  # noise weights are zero at init
    spread = {psi: sample(g, {2: 6}, seed=0, device="cpu", truncation_psi=psi)[0][:, 0].std(axis=0).mean()
              for psi in (1.0, 1e-3)}
    assert spread[1.0] > 0 and spread[1e-3] < 0.01 * spread[1.0]  # w -> w_avg: one sample per class
    x1, _ = sample(g, {2: 6}, seed=0, device="cpu", truncation_psi=1.0)
    x2, _ = sample(g, {2: 6}, seed=0, device="cpu")          # the config's 0.95
    assert not np.array_equal(x1, x2)


def _class_data(n=28, t=16, seed=0):
    """Two persons whose arm poses differ by class (7 classes, 4 samples each), with small noise."""
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 0.3, (1, 2, 1, 25, 3))
    base[:, 1, ..., 0] += 1.0
    y = np.arange(n) % 7
    x = np.repeat(base, n, axis=0).repeat(t, axis=2)
    for c in range(7):
        x[y == c, :, :, 5:12, 1] += 0.1 * (c - 3)
    x = x + rng.normal(0, 0.002, x.shape)
    return x.astype(np.float32), y.astype(np.int64)


@pytest.mark.parametrize("output", ["joints", "bones"])
def test_class_template_starts_at_the_class_mean(output):
    import dataclasses
    x, y = _class_data()
    cfg = dataclasses.replace(TINY, output=output, class_template=1)
    norm = Normaliser.fit(x)
    g = Generator(cfg, norm)
    g.set_templates(*gan.class_templates(x, y, norm, output, cfg.n_classes))
    with torch.no_grad():
        g.to_xyz.weight.zero_()          # no residual: the sample is the template itself
        g.to_xyz.bias.zero_()
        lab = torch.arange(7)
        out = norm.denormalise(g(torch.randn(7, cfg.latent_dim), lab)).numpy()
    class_mean = np.stack([x[y == c].mean(axis=0) for c in range(7)])
    if output == "joints":
        np.testing.assert_allclose(out, class_mean, atol=1e-4)
    else:  # forward kinematics of mean directions: roots exact, joints near the class mean
        np.testing.assert_allclose(out[..., 0, :], class_mean[..., 0, :], atol=1e-4)
        assert np.abs(out - class_mean).max() < 0.02
    # the classes stay apart (their arm offsets differ by 0.1 m per class)
    arm = out[:, :, :, 5:12, 1].mean(axis=(1, 2, 3))
    assert np.all(np.diff(arm) > 0.05)
    # without the template the same zero residual gives one sample for every class
    g0 = Generator(dataclasses.replace(cfg, class_template=0), norm)
    with torch.no_grad():
        g0.to_xyz.weight.zero_()
        g0.to_xyz.bias.zero_()
        out0 = g0(torch.randn(7, cfg.latent_dim), lab).numpy()
    assert np.abs(out0 - out0[:1]).max() < 1e-6


def test_class_template_is_set_by_training_and_saved(tmp_path):
    import dataclasses
    x, y = _class_data()
    cfg = dataclasses.replace(TINY, class_template=1)
    train_gan(x, y, cfg, run_dir=tmp_path, iterations=1, batch_size=8, progress=False)
    g = load_generator(tmp_path)
    want, _ = gan.class_templates(x, y, g.normaliser, "joints", cfg.n_classes)
    # one update at lr 2e-4 moves the template by at most a few learning rates
    np.testing.assert_allclose(g.template.detach().numpy(), want, atol=5 * cfg.lr)
    assert np.abs(want).max() > 0.5
    with pytest.raises(ValueError, match="class_template=1 .arch='kinetic_gan'"):
        GANConfig(arch="kinetic_gan", class_template=1)
    with pytest.raises(ValueError, match="class_template=True"):
        GANConfig(class_template=True)


def test_separate_class_head_is_trained_by_the_class_loss_only(tmp_path):
    import dataclasses
    cfg = dataclasses.replace(TINY, aux_weight=1.0, aux_head="separate")
    d = Critic(cfg)
    # the critic takes the label as input channels again; the class network reads coordinates
    assert d.aux is None and d.stages[0][0].gcn.in_channels == 3 + TINY.embed_dim
    assert d.classifier.stages[0][0].gcn.in_channels == 3 * 4
    x = torch.randn(3, 2, 16, 25, 3)
    lab = torch.tensor([0, 1, 2])
    score, logits = d(x, lab, return_logits=True)
    assert logits.shape == (3, 7)
    # the Wasserstein score does not reach the class network, and the class loss not the critic
    score.sum().backward()
    assert all(p.grad is None for p in d.classifier.parameters())
    assert d.fc.weight.grad is not None
    d.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(d(x, lab, return_logits=True)[1], lab).backward()
    assert d.fc.weight.grad is None and all(p.grad is None for p in d.stages.parameters())
    assert all(p.grad is not None for p in d.classifier.parameters())
    with pytest.raises(ValueError, match="aux_head='linear'"):
        GANConfig(aux_head="linear")
    # in training it learns the classes of a problem it can solve: the class loss on real batches
    # falls well below chance's ln 7 = 1.95
    xs, ys = _class_data(n=56)
    hist = train_gan(xs, ys, dataclasses.replace(cfg, lr=2e-3), run_dir=tmp_path, iterations=40,
                     batch_size=14, progress=False, log_every=10)
    assert hist["aux_loss_real"][0] > 1.5
    assert hist["aux_loss_real"][-1] < 1.2   # measured 0.63; the linear head on the critic: 1.69


def test_several_templates_per_class_keep_its_modes_apart():
    import dataclasses
    x, y = _class_data(n=56)
    side = np.where(np.arange(56) // 7 % 4 == 0, 1.0, -1.0)          # a quarter strike with the other arm
    x[..., 8:11, 0] += (0.3 * side)[:, None, None, None]
    norm = Normaliser.fit(x)
    one, w1 = gan.class_templates(x, y, norm, "joints", 7, k=1)
    two, w2 = gan.class_templates(x, y, norm, "joints", 7, k=2, seed=0)
    assert one.shape[0] == 7 and two.shape[0] == 14 and w1.shape == (7, 1) and w2.shape == (7, 2)
    hand = lambda t: norm.denormalise(torch.from_numpy(t)).numpy()[:, 0, :, 8:11, 0].mean(axis=(1, 2))
    base = x[:, 0, :, 8:11, 0].mean(axis=(1, 2)) - 0.3 * side          # person 0 without the offset
    # one template is the blurred mean (half-way), two find each mode and its share
    np.testing.assert_allclose(hand(one) - base[:7], 0.3 * (0.25 - 0.75), atol=0.02)
    offsets = np.sort(hand(two).reshape(7, 2) - base[:7, None], axis=1)
    np.testing.assert_allclose(offsets, np.tile([-0.3, 0.3], (7, 1)), atol=0.02)
    np.testing.assert_allclose(np.sort(w2, axis=1), np.tile([0.25, 0.75], (7, 1)), atol=1e-6)
    g = Generator(dataclasses.replace(TINY, class_template=2), norm)
    g.set_templates(two, w2)
    rows = g.draw_templates(torch.full((4000,), 3), torch.Generator().manual_seed(0))
    assert set(rows.tolist()) == {6, 7}
    share = (rows == 6).float().mean().item()
    assert abs(share - w2[3, 0]) < 0.03
