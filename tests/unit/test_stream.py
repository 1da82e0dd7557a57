"""The live monitor (skelutils.stream, python -m skelutils watch), the harmless class set and the
simulator's harmless actions and long stream."""
from __future__ import annotations

import dataclasses
import io
import json
import sys

import numpy as np
import pytest
import torch

from skelutils import __main__ as cli
from skelutils import config, experiments, models, ntu, simulate, stream
from skelutils.dataset import build_dataset

SMALL = {"li2017_cnn": {"channels": [8, 16, 16], "fc": [32, 16], "clip_len": 32},
         "cnn3d_lstm": {"filters": [4, 8, 8, 16], "lstm_hidden": 16, "proj": 16, "fc": 16},
         "rrn_lstm": {"iterations": 1, "embed": 8, "fc": 16, "lstm_hidden": 16, "lstm_layers": 1}}


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    """Four simulated performers, two harmful and two harmless actions, one camera."""
    d = tmp_path_factory.mktemp("raw")
    simulate.simulate_dataset(d, seed=0, performers=(1, 2, 3, 4), actions=(50, 52, 58, 112), cameras=(1,),
                              progress=False)
    return d


@pytest.fixture(scope="module")
def ds8(raw):
    return build_dataset(raw, None, "simulated", frames=32, workers=1, progress=False, class_set="harmful7+harmless")


# ----------------------------------------------------------------------------- class sets

def test_class_sets_follow_the_tables():
    assert ntu.class_set_names("harmful7") == ntu.CLASS_NAMES
    names8 = ntu.class_set_names("harmful7+harmless")
    assert len(names8) == 8 and names8[-1] == ntu.HARMLESS_CLASS_NAME
    assert not set(ntu.HARMLESS_ACTION_IDS) & set(ntu.ACTION_IDS)
    assert not set(ntu.BORDERLINE_ACTIONS) & set(ntu.HARMLESS_ACTION_IDS + ntu.ACTION_IDS)
    labels = ntu.class_set_labels("harmful7+harmless")
    assert {labels[a] for a in ntu.HARMLESS_ACTION_IDS} == {7}
    assert ntu.harmless_label(ntu.CLASS_NAMES) is None and ntu.harmless_label(names8) == 7
    with pytest.raises(ValueError, match="data.class_set"):
        ntu.class_set_names("harmful8")


def test_dataset_of_the_harmless_class_set(raw, ds8):
    ds7 = build_dataset(raw, None, "simulated", frames=32, workers=1, progress=False)
    assert set(ds7.meta["action"].tolist()) == {50, 52} and ds7.class_names == ntu.CLASS_NAMES
    assert "class_set" not in ds7.prep                        # harmful7 data sets keep their fingerprint
    assert ds8.class_set == "harmful7+harmless" and len(ds8.class_names) == 8
    harmless = np.isin(ds8.meta["action"], ntu.HARMLESS_ACTION_IDS)
    assert harmless.sum() == 16 and (ds8.y[harmless] == 7).all() and (ds8.y[~harmless] < 7).all()
    cfg = config.load_profile("smoke")
    data = experiments.split_arrays(ds8, "xsub", cfg)
    assert data["class_names"] == list(ds8.class_names)


def test_profile_rejects_an_unknown_class_set():
    with pytest.raises(config.ProfileError, match="data.class_set"):
        config.load_profile("smoke", {"data": {"class_set": "harmless"}})


# ----------------------------------------------------------------------------- simulator

@pytest.mark.parametrize("action", ntu.HARMLESS_ACTION_IDS)
def test_every_harmless_action_is_simulated_with_both_persons(action):
    perf = simulate.simulate_performance(action, 18, 1, 1, seed=0)
    assert simulate.MIN_FRAMES <= perf.n_frames <= simulate.MAX_FRAMES
    assert np.isfinite(perf.xyz).all() and perf.contacts
    moved = np.abs(np.diff(perf.xyz, axis=0)).sum(axis=(0, 2, 3))       # both persons move
    assert (moved > 0.5).all()


def test_handshake_is_not_a_punch():
    """The handshake's hand stays low and slow where a punch goes fast to the face."""
    def wrist(action):
        p = simulate.simulate_performance(action, 18, 1, 1, seed=0)
        w = p.xyz[:, 0, [6, 10]]                                          # both wrists of the actor
        return w[..., 1].max(), np.linalg.norm(np.diff(w, axis=0), axis=-1).max()
    (hs_h, hs_v), (pu_h, pu_v) = wrist(58), wrist(50)
    assert hs_v < pu_v


def test_long_stream_ground_truth(tmp_path):
    truth = simulate.simulate_stream(tmp_path / "s.skeleton", seed=1, duration_s=20, harmful_share=0.5)
    skel = ntu.read_skeleton(tmp_path / "s.skeleton", fields="xyz")
    assert skel.n_frames == truth["n_frames"] >= 20 * simulate.FPS
    assert json.loads((tmp_path / "s.json").read_text()) == json.loads(json.dumps(truth))
    prev_end = -1
    for ev in truth["events"]:
        assert prev_end < ev["start"] <= ev["end"] < truth["n_frames"]
        assert ev["harmful"] == (ev["action"] in ntu.ACTION_IDS)
        assert skel.present[ev["start"]:ev["end"] + 1].sum(axis=1).min() >= 1
        prev_end = ev["end"]
    assert (skel.present.sum(axis=1) == 0).any()                          # empty scenes between pairs
    with pytest.raises(ValueError, match="harmful_share"):
        simulate.simulate_stream(tmp_path / "t.skeleton", harmful_share=2.0)


# ----------------------------------------------------------------------------- reading frames

def test_iter_frames_reads_what_the_reader_reads(raw):
    path = sorted(raw.glob("*.skeleton"))[0]
    skel = ntu.read_skeleton(path, fields="xyz")
    frames = list(stream.iter_frames(path))
    assert all(isinstance(f, stream.Frame) for f in frames) and len(frames) == skel.n_frames
    for a, b in zip(frames, stream.frames_of_skeleton(skel)):
        assert a.body_ids == b.body_ids
        np.testing.assert_array_equal(a.xyz, b.xyz)


def test_a_bad_frame_is_reported_and_skipped(raw):
    path = sorted(raw.glob("*.skeleton"))[0]
    lines = path.read_text().splitlines()
    lines[5] = "0.1 0.2 nonsense"                  # a joint line of frame 0
    items = list(stream.iter_frames(io.StringIO("\n".join(lines) + "\n"), name="feed"))
    bad = [i for i in items if isinstance(i, stream.BadFrame)]
    good = [i for i in items if isinstance(i, stream.Frame)]
    assert len(bad) == 1 and "feed, line 6" in bad[0].message and "skipped" in bad[0].message
    assert len(good) == len(items) - 1 and good[0].index == 1


def test_a_stream_that_is_not_skeleton_text_says_so():
    with pytest.raises(ValueError, match="line 1: expected the frame count"):
        list(stream.iter_frames(io.StringIO("hello\n"), name="feed"))


# ----------------------------------------------------------------------------- the recogniser

@pytest.mark.parametrize("name", models.MODEL_NAMES)
def test_stream_agrees_with_the_offline_model_on_whole_clips(raw, ds8, name):
    """With a window as long as the clip, the stream's decision at a clip's last frame is the
    offline model's on the prepared data set (same preparation, done causally)."""
    model = models.build_model(name, num_classes=8, seed=0, **SMALL[name]).eval()
    offline = stream.clip_probabilities(model, ds8.x)
    prep = stream.Preparation.from_dict(ds8.prep)
    for i, nm in enumerate(ds8.names):
        frames = list(stream.iter_frames(raw / f"{nm}.skeleton"))
        # evaluated once, at the last frame (min_frames = the clip's length)
        cfg = stream.StreamConfig(window=simulate.MAX_FRAMES + 10, min_frames=len(frames))
        rec = stream.OnlineRecogniser(model, ds8.class_names, prep, cfg)
        for fr in frames:
            step = rec.push(fr)
        assert step.evaluated
        assert step.probs.argmax() == offline[i].argmax()
        np.testing.assert_allclose(step.probs, offline[i], atol=1e-4)


def test_batched_replay_equals_the_online_stream(raw, ds8):
    model = models.build_model("li2017_cnn", num_classes=8, seed=0, **SMALL["li2017_cnn"]).eval()
    prep = stream.Preparation.from_dict(ds8.prep)
    cfg = stream.StreamConfig(window=40, min_frames=12, stride=3)
    frames = [f for p in sorted(raw.glob("*.skeleton"))[:2] for f in stream.iter_frames(p)]
    rec = stream.OnlineRecogniser(model, ds8.class_names, prep, cfg)
    online = [rec.push(f).probs for f in frames]
    batched = stream.stream_probabilities(frames, model, ds8.class_names, prep, cfg)
    assert sum(p is not None for p in online) > len(frames) // 2
    for o, b in zip(online, batched):
        if o is None:
            assert np.isnan(b).all()
        else:
            np.testing.assert_allclose(o, b, atol=1e-5)
    assert len(rec.latencies_ms) == sum(1 for k in range(len(frames)) if k + 1 >= 12 and (k - 11) % 3 == 0)


def test_alert_hysteresis():
    names = ntu.class_set_names("harmful7+harmless")
    tr = stream.AlertTracker(names, on=0.8, off=0.5, k_on=3)

    def p(harm, c=2):
        v = np.zeros(8)
        v[c], v[7] = harm, 1 - harm
        return v
    seq = [p(0.9)] * 2 + [p(0.1)] + [p(0.9)] * 3 + [p(0.6)] * 4 + [p(0.4)] + [None] + [p(0.95, 4)] * 3
    raised = [k for k, probs in enumerate(seq) if tr.update(k, probs) is not None]
    assert raised == [5, 14]                        # 2 frames are not enough; 0.6 keeps it on; 0.4 clears it
    assert tr.alerts[0].end == 10 and tr.alerts[0].class_name == names[2]
    assert tr.alerts[1].class_name == names[4]
    with pytest.raises(ValueError, match="clear_below"):
        stream.StreamConfig(raise_at=0.4, clear_below=0.6)


def test_a_seven_way_model_flags_every_harmless_clip():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(7), size=20)
    harmless = np.arange(20) < 8
    m = stream.harmless_measures(probs, harmless, np.zeros(20, int), ntu.CLASS_NAMES)
    assert m["harmless_flagged"] == 1.0 and m["harmful_detected"] == 1.0
    p8 = np.concatenate([probs * 0.1, np.full((20, 1), 0.9)], axis=1)     # an 8-way model that says harmless
    m8 = stream.harmless_measures(p8, harmless, np.zeros(20, int), ntu.class_set_names("harmful7+harmless"))
    assert m8["harmless_flagged"] == 0.0 and m8["harmful_detected"] == 0.0
    flagged = [c["harmless_flagged"] for c in m8["curve"]]
    assert flagged == sorted(flagged, reverse=True)                        # a higher threshold flags fewer


def test_detection_measures():
    events = [{"start": 100, "end": 200, "harmful": True}, {"start": 400, "end": 500, "harmful": False},
              {"start": 700, "end": 800, "harmful": True}]
    A = stream.Alert
    alerts = [A(130, 0, 0, "x", 0.9, 150), A(160, 0, 0, "x", 0.9, 170), A(450, 0, 0, "x", 0.9, 460)]
    m = stream.detection_measures(alerts, events, n_frames=30 * 3600, fps=30)
    assert m["n_detected"] == 1 and m["n_missed"] == 1 and m["delays_s"] == [1.0]
    assert m["n_false_alarms"] == 2 and m["false_alarms_in_harmless"] == 1
    assert m["false_alarms_per_hour"] == pytest.approx(2.0)
    assert m["harmless_flagged_share"] == 1.0


# ----------------------------------------------------------------------------- checkpoints and the watch command

@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, ds8):
    from skelutils.train import fit
    cfg = config.load_profile("smoke")
    data = experiments.split_arrays(ds8, "xsub", cfg)
    data.pop("indices")
    run = tmp_path_factory.mktemp("artifacts") / "smoke" / "runs" / "li2017_cnn_xsub_harmless"
    fit("li2017_cnn", data, model_params=SMALL["li2017_cnn"], epochs=1, batch_size=8, seed=0,
        device="cpu", run_dir=run, results_path=None)
    return run


def test_a_checkpoint_serves_the_stream(trained_run, ds8):
    model, names, ck = stream.load_run(trained_run)
    assert names == ds8.class_names and ck["num_classes"] == 8
    rec = stream.OnlineRecogniser.from_run(trained_run, stream.Preparation.from_dict(ds8.prep),
                                           stream.StreamConfig(window=60))
    x = torch.from_numpy(ds8.x[:2])
    assert rec.run(x).shape == (2, 8)


def test_watch_a_file_a_folder_and_stdin(trained_run, raw, capsys, monkeypatch):
    path = sorted(raw.glob("*.skeleton"))[0]
    assert cli.main(["watch", str(path), "--run", str(trained_run), "--fast", "--threshold", "0.0", "--clear", "0.0",
                     "--k", "1"]) == 0
    out = capsys.readouterr().out
    assert "ALERT" in out and "summary: 1 source(s)" in out and "p95" in out
    assert cli.main(["watch", str(raw), "--run", str(trained_run), "--fast"]) == 0
    assert f"summary: {len(list(raw.glob('*.skeleton')))} source(s)" in capsys.readouterr().out
    text = path.read_text().splitlines()
    text[5] = "garbage"
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(text) + "\n"))
    assert cli.main(["watch", "-", "--run", str(trained_run), "--fast"]) == 0
    cap = capsys.readouterr()
    assert "1 bad frame(s) skipped" in cap.out and "<stdin>, line 6" in cap.err


def test_watch_names_what_is_missing(trained_run, tmp_path, capsys):
    assert cli.main(["watch", str(tmp_path / "nope.skeleton"), "--run", str(trained_run)]) == cli.EXIT_BAD_FOLDER
    assert "no such file" in capsys.readouterr().err
    assert cli.main(["watch", str(tmp_path), "--run", str(tmp_path)]) == cli.EXIT_BAD_FOLDER
    assert "no .skeleton file" in capsys.readouterr().err


@pytest.mark.parametrize("name", models.MODEL_NAMES)
@pytest.mark.parametrize("precision", ["bf16", "int8", "mixed"])
def test_lower_precision_runs_and_stays_close(ds8, precision, name):
    model = models.build_model(name, num_classes=8, seed=0, **SMALL[name]).eval()
    ref = stream.clip_probabilities(model, ds8.x[:4])
    low = stream.clip_probabilities(stream.optimise_model(model, precision), ds8.x[:4])
    assert low.shape == ref.shape and np.isfinite(low).all()
    assert np.abs(low - ref).max() < 0.1


def test_rrn_head_of_frame_features_is_the_forward_pass(ds8):
    model = models.build_model("rrn_lstm", num_classes=8, seed=0, **SMALL["rrn_lstm"]).eval()
    x = torch.from_numpy(ds8.x[:3])
    with torch.no_grad():
        # frames are independent before the LSTM: features of a slice are the slice of features
        z = model.frame_features(x)
        np.testing.assert_allclose(model.frame_features(x[:, :, 5:7], check=False).numpy(), z[:, 5:7].numpy(),
                                   atol=1e-5)
        full = [i for i in range(3) if int(model.valid_lengths(x[i:i + 1])[0]) == x.shape[2]]
        assert full, "no sample without trailing padding"
        np.testing.assert_allclose(model.head(z[full]).numpy(), model(x[full]).numpy(), atol=1e-5)


@pytest.mark.parametrize("precision", ["fp32", "mixed"])
def test_kept_frame_features_agree_with_exact_windows(raw, ds8, precision):
    """The RRN with kept frame features gives the exact windows' class (its features are
    interpolated instead of computed from interpolated frames); other models do not reuse."""
    prep = stream.Preparation.from_dict(ds8.prep)
    frames = [f for p in sorted(raw.glob("*.skeleton"))[:3] for f in stream.iter_frames(p)]
    cfg = stream.StreamConfig(window=48, min_frames=16, stride=1, precision=precision)
    rrn = models.build_model("rrn_lstm", num_classes=8, seed=0, **SMALL["rrn_lstm"]).eval()
    agree = stream.reuse_agreement(rrn, ds8.class_names, prep, frames, cfg)
    assert agree["reused"] and agree["n"] > 50
    assert agree["same_decision"] >= 0.95 and agree["max_abs_dp"] < 0.1
    # each frame's features are computed once: the cache never holds more than a window
    rec = stream.OnlineRecogniser(rrn, ds8.class_names, prep, dataclasses.replace(cfg, reuse=True))
    for f in frames:
        rec.push(f)
        assert len(rec.reuse.cache) <= cfg.window
    li = models.build_model("li2017_cnn", num_classes=8, seed=0, **SMALL["li2017_cnn"]).eval()
    assert stream.OnlineRecogniser(li, ds8.class_names, prep, dataclasses.replace(cfg, reuse=True)).reuse is None
