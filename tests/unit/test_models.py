"""Unit tests for skelutils.models: shapes, parameter counts, invariances, learning, errors."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from skelutils.models import (
    AMBIGUITIES, HIP_CENTRE_JOINTS, MODEL_NAMES, build_model, describe, hip_centre,
    measure_latency, model_params,
)

torch.set_num_threads(1)

TINY = {
    "cnn3d_lstm": dict(filters=(2, 4, 4, 4), lstm_hidden=8, proj=8, fc=16, dropout=0.0),
    "li2017_cnn": dict(joints_out=22, channels=(4, 8, 8), fc=(32, 16), clip_len=16, dropout=0.0),
    "rrn_lstm": dict(iterations=2, embed=4, fc=16, lstm_hidden=16, lstm_layers=2, dropout=0.0),
}


def _x(n=2, t=16, seed=0, scale=0.3):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, 2, t, 25, 3, generator=g)


def _tiny(name, seed=0, **kw):
    return build_model(name, seed=seed, **{**TINY[name], **kw})


# ---------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("t", [8, 16, 64])
def test_output_and_feature_shapes(name, t):
    model = _tiny(name, num_classes=5).eval()
    x = _x(n=3, t=t)
    with torch.no_grad():
        logits, feats = model(x), model.features(x)
    assert logits.shape == (3, 5)
    assert feats.shape == (3, model.feature_dim)
    assert model.classifier.in_features == model.feature_dim
    assert torch.isfinite(logits).all()
    # forward is exactly the classifier applied to features (dropout off in eval)
    torch.testing.assert_close(model.classifier(feats), logits)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_rejects_bad_input_with_actionable_message(name):
    model = _tiny(name)
    with pytest.raises(ValueError, match=r"T >= 8.*got shape \(2, 2, 7, 25, 3\)"):
        model(_x(t=7))
    with pytest.raises(ValueError, match="got shape"):
        model(torch.zeros(2, 2, 16, 17, 3))
    with pytest.raises(TypeError, match="dtype"):
        model(torch.zeros(2, 2, 16, 25, 3, dtype=torch.long))


def test_person_count_checked_where_the_layout_needs_two():
    with pytest.raises(ValueError, match="M=2"):
        _tiny("cnn3d_lstm")(torch.zeros(1, 3, 16, 25, 3))
    with pytest.raises(ValueError, match="M=2"):
        _tiny("rrn_lstm")(torch.zeros(1, 1, 16, 25, 3))
    # Maxout takes any number of persons
    assert _tiny("li2017_cnn").eval()(torch.zeros(1, 3, 16, 25, 3)).shape == (1, 7)


# ---------------------------------------------------------------------------- parameter counts


def _lstm_params(inp, hidden, layers=1, directions=1):
    total = 0
    for layer in range(layers):
        i = inp if layer == 0 else hidden * directions
        total += directions * (4 * hidden * (i + hidden) + 2 * 4 * hidden)
    return total


def _conv3d_stack(filters):
    total, c_in = 0, 1
    for c in filters:
        total += c_in * 27 * c + c
        c_in = c
    return total


def test_cnn3d_lstm_default_parameter_count():
    model = build_model("cnn3d_lstm")
    first = model.backbone[0]
    assert isinstance(first, nn.Conv3d) and first.kernel_size == (3, 3, 3)
    assert sum(p.numel() for p in first.parameters()) == 1 * 27 * 32 + 32
    # after pools 1..4: T/8 steps, 50 -> 25 -> 13 -> 7 joints, xyz kept: 256 * 7 * 3 per step
    assert model.lstm_input == 256 * 7 * 3
    assert model.lstm.bidirectional and model.lstm.hidden_size == 512
    expected = (_conv3d_stack((32, 64, 128, 256))
                + _lstm_params(256 * 7 * 3, 512, directions=2)
                + (1024 * 256 + 256) + (256 * 128 + 128) + (128 * 7 + 7))
    d = describe(model)
    assert d["params"] == expected
    assert d["fc_params"] == 1024 * 256 + 256 * 128 + 128 * 7
    assert d["feature_dim"] == 128


def test_cnn3d_lstm_wide_filters_and_sec51_variant():
    wide = build_model("cnn3d_lstm", filters=(64, 128, 256, 512))
    assert describe(wide)["params"] == (_conv3d_stack((64, 128, 256, 512))
                                        + _lstm_params(512 * 21, 512, directions=2)
                                        + (1024 * 256 + 256) + (256 * 128 + 128) + (128 * 7 + 7))
    s51 = build_model("cnn3d_lstm", variant="sec5.1")
    assert not s51.lstm.bidirectional and s51.lstm.hidden_size == 256 and s51.proj is None
    assert s51.fc.out_features == 64 and s51.config["fc"] == 64
    assert describe(s51)["params"] == (_conv3d_stack((32, 64, 128, 256))
                                       + _lstm_params(256 * 21, 256)
                                       + (256 * 64 + 64) + (64 * 7 + 7))
    # an explicit parameter overrides the variant's default
    assert build_model("cnn3d_lstm", variant="sec5.1", fc=32).fc.out_features == 32


def test_li2017_default_parameter_count():
    model = build_model("li2017_cnn")
    for stream in (model.position, model.motion):
        assert stream.transformer.weight.shape == (25, 30)
        assert stream.conv.weight.shape == (64, 3, 3, 3)
    # 30 joints -> 28 -> 14 -> 12 -> 6 -> 4 -> 2; 32 frames -> 4: fc5 sees 256 * 4 * 2
    assert model.fc5.in_features == 256 * 4 * 2
    expected = (2 * 25 * 30 + 2 * (3 * 9 * 64 + 64) + (128 * 9 * 128 + 128)
                + (128 * 9 * 256 + 256) + (2048 * 256 + 256) + (256 * 128 + 128)
                + (128 * 7 + 7) + 4)  # 4 PReLU slopes
    assert describe(model)["params"] == expected
    assert describe(model)["feature_dim"] == 128


def test_rrn_lstm_default_parameter_count():
    model = build_model("rrn_lstm")
    m = 50
    expected = ((3 * m + m)                          # embedding FC to M = 50
                + (2 * m * m + m) + (m * m + m) + (m * m + m)  # message function: 3 FC layers
                + (3 * m * (2 * m + m) + 2 * 3 * m)  # GRU node function, input [e, msgs]
                + 50                                 # attention mask
                + (50 * m * 256 + 256)               # FC to 256
                + 2 * 256                            # its batch normalisation (scale, shift)
                + _lstm_params(256, 512, layers=3)   # 3-layer LSTM 256 -> 512
                + (512 * 7 + 7))
    assert describe(model)["params"] == expected
    assert model.config["iterations"] == 5 and model.config["edges"] == 146
    assert describe(model)["feature_dim"] == 512


# ---------------------------------------------------------------------------- learning signals


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_gradients_reach_every_parameter(name):
    model = _tiny(name)
    y = torch.tensor([0, 3])
    nn.functional.cross_entropy(model(_x(n=2)), y).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, f"no gradient reaches {missing}"


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("seed", [0, 1])
def test_tiny_model_overfits_32_samples(name, seed):
    # 32 random samples, one class each (chance 1/32): Adam fits them well within the budget
    model = _tiny(name, num_classes=32, seed=seed)
    x, y = _x(n=32, t=16, seed=1 + seed, scale=0.5), torch.arange(32)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    acc = 0.0
    for step in range(300):
        opt.zero_grad()
        logits = model(x)
        nn.functional.cross_entropy(logits, y).backward()
        opt.step()
        acc = (logits.argmax(1) == y).float().mean().item()
        if acc == 1.0:
            break
    assert acc >= 0.9, f"{name}: train accuracy {acc:.2f} after {step + 1} steps"


# ---------------------------------------------------------------------------- invariances


def test_cnn3d_motion_input_ignores_translation_position_input_does_not():
    x = _x(n=2)
    shift = torch.tensor([0.7, -0.4, 1.3])
    for inp, invariant in (("motion", True), ("position", False)):
        model = _tiny("cnn3d_lstm", input=inp).eval()
        with torch.no_grad():
            a, b = model(x), model(x + shift)
        assert torch.allclose(a, b, atol=1e-5) is invariant, inp


def test_cnn3d_persons_side_by_side_on_joint_axis():
    model = _tiny("cnn3d_lstm", input="position")
    x = _x(n=1, t=8)
    vol = model.to_volume(x)
    assert vol.shape == (1, 1, 8, 50, 3)
    torch.testing.assert_close(vol[0, 0, :, :25], x[0, 0])
    torch.testing.assert_close(vol[0, 0, :, 25:], x[0, 1])
    motion = _tiny("cnn3d_lstm").to_volume(x)
    assert motion[0, 0, 0].abs().sum() == 0
    torch.testing.assert_close(motion[0, 0, 3, :25], x[0, 0, 3] - x[0, 0, 2])


def _entering(t=16, entry=6, seed=0):
    """Two persons; the receiver enters at frame ``entry`` (all zeros before), 1.5 m away."""
    x = _x(n=1, t=t, seed=seed, scale=0.05)
    x[:, 1] += torch.tensor([1.5, 0.0, 3.0])
    x[:, 1, :entry] = 0
    return x


def test_cnn3d_motion_is_zero_where_a_person_enters_or_leaves():
    model = _tiny("cnn3d_lstm")
    x = _entering(entry=6)
    x[:, 0, 12:] = 0                                   # and the actor leaves at frame 12
    vol = model.to_volume(x)[0, 0]                     # (T, 50, 3)
    recv, actor = vol[:, 25:], vol[:, :25]
    assert recv[:7].abs().sum() == 0                   # absent, then the entry frame: no jump
    torch.testing.assert_close(recv[7], x[0, 1, 7] - x[0, 1, 6])
    assert actor[12:].abs().sum() == 0                 # leaving is no jump either
    torch.testing.assert_close(actor[11], x[0, 0, 11] - x[0, 0, 10])
    assert vol.abs().max() < 0.5                       # nothing near the 3 m the person stands at


def test_li2017_motion_stream_is_zero_where_a_person_enters():
    model = _tiny("li2017_cnn").eval()                  # clip_len 16
    seen = {}
    model.motion.register_forward_pre_hook(lambda mod, args: seen.__setitem__("motion", args[0]))
    model.position.register_forward_pre_hook(lambda mod, args: seen.__setitem__("position", args[0]))
    for t in (16, 32):                                 # without and with resizing
        x = _entering(t=t, entry=t // 2 - 3)
        with torch.no_grad():
            model(x)
        motion = seen["motion"].reshape(2, 3, 16, 25)[1]     # the receiver: (3, T', 25)
        assert motion.abs().max() < 0.5, t
        position = seen["position"].reshape(2, 3, 16, 25)[1]
        # a resized frame is either the person or nothing, never a blend with the absent frames
        z = position[2].abs().amin(dim=1)
        assert ((z == 0) | (z > 2.5)).all(), t
        # and motion after the entry is still there
        assert motion[:, -4:].abs().sum() > 0, t


def test_skeleton_transformer_is_a_bias_free_linear_map_over_joints():
    model = build_model("li2017_cnn", seed=0)
    for stream in (model.position, model.motion):
        tr = stream.transformer
        assert [n for n, _ in tr.named_parameters()] == ["weight"]
        s1, s2 = torch.randn(4, 3, 8, 25), torch.randn(4, 3, 8, 25)
        torch.testing.assert_close(tr(2.0 * s1 - 3.0 * s2), 2.0 * tr(s1) - 3.0 * tr(s2))
        assert tr(torch.zeros(1, 3, 8, 25)).abs().sum() == 0
        # S' = (S^T W)^T for one frame's 25 x 3 skeleton matrix S
        s = torch.randn(25, 3)
        frame = s.T.reshape(1, 3, 1, 25)
        torch.testing.assert_close(tr(frame)[0, :, 0, :], (s.T @ tr.weight))


def test_li2017_person_maxout_is_the_elementwise_maximum_and_symmetric():
    model = _tiny("li2017_cnn").eval()
    x = _x(n=3)
    with torch.no_grad():
        maps = model.person_maps(x)                                  # (N, 2, D)
        merged = model.merge_persons(x)
        torch.testing.assert_close(merged, torch.maximum(maps[:, 0], maps[:, 1]), rtol=0, atol=0)
        # both persons win somewhere, so the check above tells a maximum from either map alone
        from_actor = (maps[:, 0] > maps[:, 1]).float().mean().item()
        assert 0.2 < from_actor < 0.8
        # swapping the persons changes neither the merged map nor the logits
        torch.testing.assert_close(model.merge_persons(x.flip(1)), merged, rtol=0, atol=0)
        torch.testing.assert_close(model(x.flip(1)), model(x), rtol=0, atol=0)
        # the features are fc5 -> fc6 over the merged map (no dropout in eval)
        h = model.act6(model.fc6(model.act5(model.fc5(merged))))
        torch.testing.assert_close(model.features(x), h)
        # a third person is merged the same way
        x3 = torch.cat([x, _x(n=3, seed=9)[:, :1]], dim=1)
        maps3 = model.person_maps(x3)
        torch.testing.assert_close(model.merge_persons(x3), maps3.amax(dim=1), rtol=0, atol=0)


def test_rrn_normalisation_modes():
    x = _x(n=2)
    per_person_frame = torch.randn(2, 2, 16, 1, 3)
    common = torch.randn(2, 1, 16, 1, 3)
    centre = x[..., list(HIP_CENTRE_JOINTS), :].mean(3, keepdim=True)      # (N, M, T, 1, 3)
    # "person": every person on its own hip centre, blind to where each one stands
    own = hip_centre(x, mode="person")
    torch.testing.assert_close(own, x - centre)
    torch.testing.assert_close(hip_centre(x + per_person_frame, mode="person"), own, atol=1e-6, rtol=0)
    # "shared" (the default): both on the actor's hip centre, the persons' offset is kept
    shared = hip_centre(x)
    torch.testing.assert_close(shared, x - centre[:, :1])
    torch.testing.assert_close(hip_centre(x + common), shared, atol=1e-6, rtol=0)
    torch.testing.assert_close(shared[:, 1, :, list(HIP_CENTRE_JOINTS)].mean(2),
                               (centre[:, 1] - centre[:, 0])[:, :, 0], atol=1e-6, rtol=0)


@pytest.mark.parametrize("mode", ["person", "shared"])
def test_rrn_normalisation_keeps_absent_joints_at_zero(mode):
    x = _x(n=2)
    x[0, 1] = 0                     # receiver absent throughout
    x[1, 0, :5] = 0                 # actor enters at frame 5
    x[1, 1, :, 3] = 0               # one joint of the receiver never tracked
    out = hip_centre(x, mode=mode)
    absent = x.eq(0).all(-1)
    assert out[absent].abs().sum() == 0
    if mode == "shared":
        # with the actor absent the receiver is centred on its own hip, not left in camera space
        c1 = x[1, 1, :5, list(HIP_CENTRE_JOINTS)].mean(1, keepdim=True)
        torch.testing.assert_close(out[1, 1, :5, 4:], x[1, 1, :5, 4:] - c1, atol=1e-6, rtol=0)


def test_rrn_default_sees_the_distance_between_the_persons():
    x = _x(n=2)
    apart = x.clone()
    apart[:, 1] += torch.tensor([0.6, 0.0, 0.3])       # the receiver steps back
    default = _tiny("rrn_lstm").eval()
    per_person = _tiny("rrn_lstm", center="person").eval()
    assert default.config["center"] == "shared"
    with torch.no_grad():
        assert (default(apart) - default(x)).abs().max() > 1e-3
        torch.testing.assert_close(per_person(apart), per_person(x), atol=1e-5, rtol=1e-5)
        # both are blind to where the pair stands in the room
        common = torch.randn(1, 1, 16, 1, 3)
        torch.testing.assert_close(default(x + common), default(x), atol=1e-5, rtol=1e-5)


def test_rrn_graph_edges():
    sk = build_model("rrn_lstm", **TINY["rrn_lstm"])
    pairs = set(zip(sk.src.tolist(), sk.dst.tolist()))
    assert len(pairs) == 146 == sk.incidence.shape[1]
    assert (1, 0) in pairs and (0, 1) in pairs          # SpineMid - SpineBase, both ways
    assert (25 + 1, 25 + 0) in pairs                   # same bone of person 2
    assert (7, 32) in pairs and (32, 7) in pairs       # HandLeft of actor <-> of receiver
    assert (7, 3) not in pairs                         # hand - head is not a bone
    assert torch.equal(sk.incidence.sum(1) > 0, torch.ones(50, dtype=torch.bool))
    full = build_model("rrn_lstm", graph="full", **TINY["rrn_lstm"])
    assert full.config["edges"] == 50 * 49
    assert full(_x(n=1, t=8)).shape == (1, 7)


# ---------------------------------------------------------------------------- config, L2, seeds


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_config_is_json_and_records_parameters(name):
    model = build_model(name, seed=5, **TINY[name])
    cfg = json.loads(json.dumps(model.config))
    assert cfg["name"] == name and cfg["num_classes"] == 7 and cfg["seed"] == 5
    for k, v in TINY[name].items():
        assert cfg[k] == (list(v) if isinstance(v, tuple) else v), k


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_l2_params_are_fc_weights_and_groups_partition(name):
    model = _tiny(name)
    l2 = model.l2_params()
    assert l2 and all(p.dim() == 2 for p in l2)
    linear_weights = {id(m.weight) for m in model.modules() if isinstance(m, nn.Linear)}
    assert {id(p) for p in l2} <= linear_weights
    assert id(model.classifier.weight) in {id(p) for p in l2}
    groups = model.param_groups(1e-4)
    assert [g["weight_decay"] for g in groups] == [1e-4, 0.0]
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids)) == len(list(model.parameters()))
    assert describe(model)["fc_params"] == sum(p.numel() for p in l2)


def test_cnn3d_l2_covers_exactly_projection_fc_and_classifier():
    model = _tiny("cnn3d_lstm")
    assert [id(p) for p in model.l2_params()] == [
        id(model.proj.weight), id(model.fc.weight), id(model.classifier.weight)]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_deterministic_for_a_seed(name):
    state = torch.random.get_rng_state()
    a, b, c = _tiny(name, seed=3), _tiny(name, seed=3), _tiny(name, seed=4)
    assert torch.equal(torch.random.get_rng_state(), state), "build_model(seed=...) moved the global RNG"
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb), ka
    x = _x()
    with torch.no_grad():
        torch.testing.assert_close(a.eval()(x), b.eval()(x), rtol=0, atol=0)
        assert not torch.allclose(a(x), c.eval()(x))


# ---------------------------------------------------------------------------- builder errors


def test_unknown_model_and_parameter_are_rejected_with_the_allowed_ones():
    with pytest.raises(ValueError, match="cnn3d_lstm.*li2017_cnn.*rrn_lstm"):
        build_model("resnet")
    with pytest.raises(ValueError, match=r"unknown parameter.*\['lstm_units'\].*lstm_hidden"):
        build_model("cnn3d_lstm", lstm_units=10)
    with pytest.raises(ValueError, match="filters must be 4 integers"):
        build_model("cnn3d_lstm", filters=(32, 64, 128))
    with pytest.raises(ValueError, match=r"input must be one of \['motion', 'position'\]"):
        build_model("cnn3d_lstm", input="velocity")
    with pytest.raises(ValueError, match="dropout"):
        build_model("li2017_cnn", dropout=1.0)
    with pytest.raises(ValueError, match="multiple of 8"):
        build_model("li2017_cnn", clip_len=20)
    with pytest.raises(ValueError, match="graph"):
        build_model("rrn_lstm", graph="knn")
    assert "seed" in model_params("rrn_lstm") and model_params("rrn_lstm")["iterations"] == 5


def test_ambiguities_are_complete_records():
    keys = {"model", "topic", "paper_says", "we_chose", "parameter"}
    assert {a["model"] for a in AMBIGUITIES} == set(MODEL_NAMES)
    for a in AMBIGUITIES:
        assert set(a) == keys and a["topic"] and a["paper_says"] and a["we_chose"]
        for p in (a["parameter"] or "").split(","):
            p = p.strip()
            if p and "(" not in p:
                assert p in model_params(a["model"]), (a["model"], p)


# ---------------------------------------------------------------------------- devices, timing


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_runs_under_cpu_autocast(name):
    model = _tiny(name).eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(_x())
    assert out.shape == (2, 7) and torch.isfinite(out.float()).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_runs_on_cuda_with_autocast(name):
    model = _tiny(name).cuda()
    x = _x().cuda()
    with torch.autocast("cuda", dtype=torch.float16):
        loss = model(x).float().logsumexp(1).mean()
    loss.backward()
    ref = _tiny(name).eval()(_x())
    torch.testing.assert_close(model.eval()(x).cpu(), ref, atol=1e-3, rtol=1e-3)


def test_measure_latency_restores_state():
    model = _tiny("li2017_cnn").train()
    threads = torch.get_num_threads()
    r = measure_latency(model, frames=16, repeats=2, warmup=1, threads=2)
    assert 0 < r["min_ms"] <= r["median_ms"] and r["threads"] == 2 and r["frames"] == 16
    assert model.training and torch.get_num_threads() == threads


def test_native_cpu_lstm_path_matches_and_restores_onednn_flag():
    from skelutils.models import _run_lstm
    lstm = nn.LSTM(12, 8, batch_first=True, bidirectional=True)
    seq = torch.randn(2, 5, 12)
    assert torch.backends.mkldnn.enabled
    with torch.no_grad():
        out, (h, c) = _run_lstm(lstm, seq)
        ref, (h_ref, c_ref) = lstm(seq)
    assert torch.backends.mkldnn.enabled
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(h, h_ref, atol=1e-5, rtol=1e-5)


def test_rrn_vectorised_message_passing_matches_a_loop_over_edges():
    model = _tiny("rrn_lstm", iterations=2).eval()
    x = _x(n=1, t=8)
    edges = list(zip(model.src.tolist(), model.dst.tolist()))
    with torch.no_grad():
        got = model.frame_features(x)                       # (1, 8, fc)
        nodes = hip_centre(x)[0].permute(1, 0, 2, 3).reshape(8, 50, 3)
        for t in (0, 5):
            e = model.embed(nodes[t])                       # (50, E)
            h = e
            for _ in range(2):
                msgs = torch.zeros_like(h)
                for s, d in edges:
                    pair = torch.cat([h[d], h[s]])          # f over [receiver, sender]
                    w1 = torch.cat([model.msg_recv.weight, model.msg_send.weight], dim=1)
                    z = torch.relu(pair @ w1.T + model.msg_recv.bias)
                    z = torch.relu(model.msg2(z))
                    msgs[d] += model.msg3(z)
                h = model.node(torch.cat([e, msgs], dim=1), h)
            want = torch.relu(model.reduce((h * model.mask[:, None]).reshape(-1)))
            torch.testing.assert_close(got[0, t], want, atol=1e-5, rtol=1e-5)


def _separable_hand_motion(n_per_class=8, t=16, seed=0, pose_seed=0):
    """Three classes told apart only by how the actor's right hand moves: up, forward, still.

    One rest pose (``pose_seed``) for all samples, per-sample jitter from ``seed``: the hand
    moves 0.4 m, twenty times the jitter, so a model that learns at all separates it.
    """
    base = 0.3 * torch.randn(1, 2, 1, 25, 3, generator=torch.Generator().manual_seed(pose_seed))
    g = torch.Generator().manual_seed(1000 + seed)
    xs, ys = [], []
    ramp = torch.linspace(0.0, 0.4, t)
    for c in range(3):
        x = base.repeat(n_per_class, 1, t, 1, 1) + 0.02 * torch.randn(n_per_class, 2, t, 25, 3, generator=g)
        if c < 2:
            x[:, 0, :, 11, 1 + c] += ramp                                   # HandRight: y (up) or z
        xs.append(x)
        ys.append(torch.full((n_per_class,), c))
    return torch.cat(xs), torch.cat(ys)


def _sgd_fit(model, x, y, steps=120, lr=1e-2):
    opt = torch.optim.SGD(model.param_groups(1e-4), lr=lr, momentum=0.9)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval()


def _accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rrn_lstm_learns_a_separable_problem_with_sgd(seed):
    # The paper trains the RRN-LSTM with SGD (momentum 0.9 in the engine). Accuracy on fresh
    # samples of the same problem, for several initialisations and data draws; chance is 1/3.
    x, y = _separable_hand_motion(seed=seed, pose_seed=seed)
    held_x, held_y = _separable_hand_motion(seed=50 + seed, pose_seed=seed)
    model = _sgd_fit(_tiny("rrn_lstm", num_classes=3, seed=seed), x, y)
    assert _accuracy(model, held_x, held_y) >= 0.8
def test_rrn_lstm_initialisation():
    model = build_model("rrn_lstm", **TINY["rrn_lstm"])
    for layer in (model.embed, model.msg_recv, model.msg2, model.msg3, model.reduce, model.classifier):
        assert layer.bias.abs().sum() == 0
    h = model.lstm.hidden_size
    for k in range(model.lstm.num_layers):
        b = getattr(model.lstm, f"bias_ih_l{k}") + getattr(model.lstm, f"bias_hh_l{k}")
        assert torch.equal(b[h:2 * h], torch.ones(h))                   # forget gate
        assert b[:h].abs().sum() == 0 and b[2 * h:].abs().sum() == 0
        w = getattr(model.lstm, f"weight_hh_l{k}")[:h]
        torch.testing.assert_close(w @ w.T, torch.eye(h), atol=1e-5, rtol=0)   # orthogonal
    assert torch.equal(model.mask.detach(), torch.ones(50))


@pytest.mark.parametrize("readout", ["last", "mean"])
def test_rrn_lstm_ignores_trailing_zero_padding(readout):
    model = _tiny("rrn_lstm", readout=readout).eval()
    x = _x(n=2, t=12)
    x[1, 1, 9:] = 0                       # one person leaving early is not padding
    padded = torch.cat([x, torch.zeros(2, 2, 20, 25, 3)], dim=2)
    torch.testing.assert_close(model.valid_lengths(padded), torch.tensor([12, 12]))
    with torch.no_grad():
        torch.testing.assert_close(model(padded), model(x), atol=1e-5, rtol=1e-5)
        # without the length handling the padded frames would change the output
        out, _ = model.lstm(model.frame_features(padded))
        naive = out[:, -1] if readout == "last" else out.mean(dim=1)
        assert not torch.allclose(model.classifier(naive), model(x), atol=1e-3)
    assert torch.equal(model.valid_lengths(torch.zeros(1, 2, 8, 25, 3)), torch.tensor([8]))
