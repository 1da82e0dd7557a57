"""The measures and helpers of notebook 09 (skelutils.stream): early windows, alert coverage,
stream capacity, tables and the ``harmful7+harmless`` runs' folders."""
from __future__ import annotations

import numpy as np
import pytest

from skelutils import config, experiments, models, ntu, simulate, stream
from skelutils.dataset import build_dataset

SMALL = {"filters": [4, 8, 8, 16], "lstm_hidden": 16, "proj": 16, "fc": 16}


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    d = tmp_path_factory.mktemp("raw")
    simulate.simulate_dataset(d, seed=0, performers=(1, 2, 3), actions=(50, 58), cameras=(1,), progress=False)
    return d


@pytest.fixture(scope="module")
def ds8(raw):
    return build_dataset(raw, None, "simulated", frames=32, workers=1, progress=False, class_set="harmful7+harmless")


def test_early_windows_prepare_once_what_early_detection_prepares(raw, ds8):
    model = models.build_model("cnn3d_lstm", num_classes=8, seed=0, **SMALL).eval()
    prep = stream.Preparation.from_dict(ds8.prep)
    clips = stream.clip_frames(raw, ds8.names)
    assert [len(c) for c in clips] == ds8.meta["n_frames"].tolist()
    win = stream.early_windows(clips, prep)
    assert win.shape == (len(stream.EARLY_SHARES), len(clips), 2, 32, 25, 3)
    # the whole clip, prepared as a window, is the data set's sample
    np.testing.assert_allclose(win[-1], ds8.x, atol=1e-5)
    a = stream.early_detection(model, ds8.class_names, clips, ds8.y, prep)
    b = stream.early_detection(model, ds8.class_names, None, ds8.y, windows=win)
    assert a == b and a["n"] == len(clips) and len(a["accuracy"]) == len(stream.EARLY_SHARES)
    with pytest.raises(ValueError, match="shares"):
        stream.early_detection(model, ds8.class_names, None, ds8.y, shares=(0.5,), windows=win)


def test_clip_frames_names_a_missing_file(raw):
    with pytest.raises(FileNotFoundError, match="no .skeleton file"):
        stream.clip_frames(raw, ["S001C001P001R001A001"])


def test_alert_coverage():
    events = [{"start": 10, "end": 19, "harmful": True}, {"start": 30, "end": 39, "harmful": False},
              {"start": 60, "end": 69, "harmful": True}]
    A = stream.Alert
    cov = stream.alert_coverage([A(0, 0, 0, "x", 1.0, 49)], events, 100)      # one alert held from the start
    assert cov["alert_time_share"] == pytest.approx(0.5)
    assert cov["harmful_covered_share"] == pytest.approx(0.5) and cov["harmless_covered_share"] == 1.0
    # ... which detection_measures does not credit: it was raised before the action started
    assert stream.detection_measures([A(0, 0, 0, "x", 1.0, 49)], events, 100)["n_detected"] == 0
    cov = stream.alert_coverage([A(65, 0, 0, "x", 1.0, None)], events, 100)   # still on at the end
    assert cov["alert_time_share"] == pytest.approx(0.35) and cov["harmless_covered_share"] == 0.0


def test_streams_per_machine():
    budget = stream.FRAME_BUDGET_MS
    assert stream.streams_per_machine(budget / 4, stride=1, cores=2, threads=1) == 8
    assert stream.streams_per_machine(budget / 4, stride=2, cores=2, threads=2) == 8
    assert stream.streams_per_machine(2 * budget, stride=1, cores=4) == 0
    assert stream.streams_per_machine(0.0, stride=1, cores=2) == 0


def test_latency_rows_time_both_sizes(raw):
    frames = [f for p in sorted(raw.glob("*.skeleton"))[:3] for f in stream.iter_frames(p)]
    cfg = stream.StreamConfig(window=24, min_frames=8, stride=2)
    sizes = {"tiny": ({"cnn3d_lstm": SMALL}, stream.Preparation(frames=16)),
             "bigger": ({"cnn3d_lstm": {"filters": [8, 16, 16, 32], "lstm_hidden": 32, "proj": 32, "fc": 32}},
                        stream.Preparation(frames=32))}
    rows = stream.latency_rows(sizes, ["cnn3d_lstm"], frames, cfg, n_windows=3, threads=1, cores=2)
    assert [r["size"] for r in rows] == ["tiny", "bigger"]
    assert rows[0]["params"] < rows[1]["params"] and [r["frames"] for r in rows] == [16, 32]
    for r in rows:
        assert r["n"] == 3 and 0 < r["p50_ms"] <= r["p95_ms"]
        assert r["budget_ms"] == pytest.approx(2 * stream.FRAME_BUDGET_MS)
        assert r["real_time"] == (r["p95_ms"] <= r["budget_ms"])
    with pytest.raises(ValueError, match="frames"):
        stream.measure_latency(models.build_model("cnn3d_lstm", num_classes=8, **SMALL).eval(), list("abcdefgh"),
                               stream.Preparation(frames=16), frames[:10], cfg)


def test_tables_and_counts(ds8):
    cfg = config.load_profile("smoke")
    rows = stream.class_count_rows(cfg, ds8, ["xsub"])
    assert [r["class"] for r in rows] == list(ds8.class_names)
    assert sum(r["total"] for r in rows) == len(ds8.y)
    assert all(r["xsub_train"] + r["xsub_val"] + r["xsub_test"] == r["total"] for r in rows)
    t = stream.realtime_table([{"model": "m", "class_set": "harmful7+harmless", "share": 0.25},
                               {"model": "m", "class_set": "harmful7", "share": None}],
                              {"model": "model", "class_set": "classes", "share": "share"}, ("share",))
    assert t == [{"model": "m", "class_set": "8-way", "share": 25.0}, {"model": "m", "class_set": "7-way", "share": None}]


def test_realtime_runs_stay_out_of_the_results_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELUTILS_ARTIFACTS", str(tmp_path))
    cfg = config.load_profile("smoke")
    d8 = stream.realtime_run_dir(cfg, "li2017_cnn", "xsub", stream.REALTIME_CLASS_SET)
    d7 = stream.realtime_run_dir(cfg, "li2017_cnn", "xsub", "harmful7")
    assert d7 == experiments.run_dir(cfg, "li2017_cnn_xsub")
    assert d8 != d7 and stream.REALTIME_DIR in d8.parts
    assert stream.realtime_dataset_path(cfg).parent.name == stream.REALTIME_DIR
    assert ntu.harmless_label(ntu.class_set_names(stream.REALTIME_CLASS_SET)) == len(ntu.CLASS_NAMES)


def test_balanced_harmless_thins_the_harmless_class_in_every_group(ds8):
    h = ntu.harmless_label(ds8.class_names)
    assert (ds8.y == h).sum() == 6                                   # 3 performers x 2 replications
    thin = stream.balanced_harmless(ds8, ratio=1.0, seed=0)
    assert (thin.y != h).sum() == (ds8.y != h).sum()                 # every harmful sample kept
    kept = thin.meta["performer"][thin.y == h]
    assert sorted(kept.tolist()) == [1, 2, 3]                        # one per (performer, camera) group
    assert thin.fingerprint != ds8.fingerprint
    assert stream.balanced_harmless(ds8, ratio=1.0, seed=0).fingerprint == thin.fingerprint
    assert stream.balanced_harmless(ds8, ratio=None) is ds8
    assert stream.balanced_harmless(ds8, ratio=100.0) is ds8
    with pytest.raises(ValueError, match="ratio"):
        stream.balanced_harmless(ds8, ratio=-1.0)
