"""What notebook 09 (toward real time) measured: ``artifacts/<profile>/realtime/metrics.json``.

Where the margins come from (smoke profile, simulated data, 2 CPU cores): see the values in
:data:`MARGINS`. A seven-way model flags every harmless clip by construction (its harmful score
is 1); the eight-way models, trained for ``realtime.epochs`` epochs, must flag clearly fewer
while keeping most of the seven-way models' harmful recall. Timings are only checked for being
measured and consistent, never against the clock.
"""
import json

import numpy as np
import pytest

from skelutils import config, stream
from skelutils.ntu import CLASS_NAMES, HARMLESS_CLASS_NAME

MADE_BY = "notebooks/09_realtime.ipynb"
EIGHT = stream.REALTIME_CLASS_SET

#: Margins, as fractions (0-1). Measured (smoke, simulated data, 20 epochs, seed 0, 2 CPU cores):
#: the eight-way models flag 0.19-0.53 of the harmless test clips (seven-way: 1.0); their harmful
#: recall is 0.01-0.33 below the seven-way model's (li2017_cnn xview the most: 0.81 -> 0.48); with the
#: whole action seen they reach 0.65-0.73 (chance 1/8; two thirds of the clips are harmless); over
#: the stream their alerts are on 0.17-0.75 of the time, the seven-way ones' 0.985.
MARGINS = {
    # every eight-way model flags at most this share of the harmless test clips (seven-way: all)
    "harmless_flagged_8way_max": 0.75,
    # and at least this much less than the seven-way model of the same architecture and split
    "harmless_flagged_drop": 0.25,
    # harmful recall of an eight-way model: at most this far below the seven-way model's
    "recall_drop_max": 0.45,
    # early detection: with the whole action seen, an eight-way model beats chance (1/8) by this much
    "early_over_chance": 0.15,
    # over the stream, an eight-way model's alerts are on for at least this share less of the time
    "alert_time_drop": 0.1,
    # the fast path (precision mixed, kept frame features) against float32 and exact windows, with the
    # trained models: at least this share of clips or windows keeps its class, and no model loses more
    # than this much accuracy on its test clips
    "fast_same_min": 0.9,
    "fast_drop_max": 0.05,
}


@pytest.fixture(scope="module")
def rt(artifact) -> dict:
    return json.loads(artifact("realtime", "metrics.json", made_by=MADE_BY).read_text())


def _clip(rt, model, split, class_set):
    rows = [r for r in rt["clips"] if (r["model"], r["split"], r["class_set"]) == (model, split, class_set)]
    assert len(rows) == 1, f"metrics.json holds {len(rows)} clip rows for {model} {split} {class_set}"
    return rows[0]


def test_metrics_are_of_the_profile_and_its_data_set(rt, profile, cfg, artifact):
    assert rt["profile"] == profile and rt["seed"] == cfg["seed"]
    assert rt["class_set"] == EIGHT
    assert rt["data_source"] == cfg["data"].get("source", "simulated")
    npz = artifact("realtime", "dataset_harmless.npz", made_by=MADE_BY)
    side = json.loads(npz.with_suffix(".json").read_text())
    assert side["fingerprint"] == rt["dataset_fingerprint"], \
        f"metrics.json was measured on data set {rt['dataset_fingerprint']}, {npz} holds {side['fingerprint']}"
    with np.load(npz, allow_pickle=False) as z:
        y = z["y"]
    assert len(y) == rt["n_samples"]
    assert np.bincount(y, minlength=len(CLASS_NAMES) + 1).tolist() == [c["total"] for c in rt["counts"]]
    assert [c["class"] for c in rt["counts"]] == list(CLASS_NAMES) + [HARMLESS_CLASS_NAME]
    # every eight-way model was trained on the thinned training set, and its results file says so
    train = rt["training_set"]
    assert train["n_harmless"] < rt["counts"][-1]["total"] and train["n_samples"] < rt["n_samples"]
    for name, run in rt["runs_8way"].items():
        assert run["raw_fingerprint"] == train["fingerprint"], name
        res = json.loads(artifact(stream.REALTIME_DIR, f"{name}.json", made_by=MADE_BY).read_text())
        assert res["raw_fingerprint"] == train["fingerprint"] and res["class_names"][-1] == HARMLESS_CLASS_NAME
        assert res["epochs"] == rt["epochs"] == cfg["realtime"]["epochs"]
    for name, ck in rt["checkpoints"].items():
        assert ck["n_classes"] == len(CLASS_NAMES) + (1 if name.endswith("_8way") else 0), name


def test_every_model_and_split_was_measured(rt, cfg):
    assert rt["models"] == list(cfg["realtime"]["models"])
    for m in rt["models"]:
        for s in rt["splits"]:
            for cs in ("harmful7", EIGHT):
                r = _clip(rt, m, s, cs)
                assert r["n_harmless"] > 0 and r["n_harmful"] > 0


def test_seven_way_models_flag_every_harmless_clip(rt):
    for r in rt["clips"]:
        if r["class_set"] == "harmful7":
            assert r["harmless_flagged"] >= 0.999, (r["model"], r["split"], r["harmless_flagged"])
            assert r["harmful_detected"] >= 0.999


@pytest.mark.learning
def test_eight_way_models_flag_fewer_harmless_clips(rt):
    for m in rt["models"]:
        for s in rt["splits"]:
            r7, r8 = _clip(rt, m, s, "harmful7"), _clip(rt, m, s, EIGHT)
            assert r8["harmless_flagged"] <= MARGINS["harmless_flagged_8way_max"], (m, s, r8["harmless_flagged"])
            assert r8["harmless_flagged"] <= r7["harmless_flagged"] - MARGINS["harmless_flagged_drop"], (m, s)


@pytest.mark.learning
def test_eight_way_models_keep_the_harmful_recall(rt):
    for m in rt["models"]:
        for s in rt["splits"]:
            r7, r8 = _clip(rt, m, s, "harmful7"), _clip(rt, m, s, EIGHT)
            assert r8["harmful_recall"] >= r7["harmful_recall"] - MARGINS["recall_drop_max"], \
                (m, s, r7["harmful_recall"], r8["harmful_recall"])
            assert r8["harmful_recall"] <= r8["harmful_detected"] + 1e-9


def test_tradeoff_curves_are_monotone(rt):
    for r in rt["clips"]:
        th = [c["threshold"] for c in r["curve"]]
        flagged = [c["harmless_flagged"] for c in r["curve"]]
        assert th == sorted(th) and len(th) >= 10
        assert all(a >= b - 1e-9 for a, b in zip(flagged, flagged[1:])), (r["model"], r["split"], r["class_set"])


def test_early_detection_curves(rt):
    rows = rt["early"]["rows"]
    assert {(r["model"], r["class_set"]) for r in rows} == {(m, cs) for m in rt["models"] for cs in ("harmful7", EIGHT)}
    for r in rows:
        assert len(r["shares"]) == len(r["accuracy"]) and r["shares"][-1] == pytest.approx(1.0)
        assert all(0.0 <= a <= 1.0 for a in r["accuracy"]) and r["n"] > 0


@pytest.mark.learning
def test_early_detection_beats_chance_on_whole_clips(rt):
    chance = 1 / (len(CLASS_NAMES) + 1)
    for r in rt["early"]["rows"]:
        if r["class_set"] == EIGHT:
            assert r["accuracy"][-1] >= chance + MARGINS["early_over_chance"], (r["model"], r["accuracy"])


def test_stream_counts_are_consistent(rt):
    st = rt["stream"]
    assert st["n_events"] >= st["n_harmful"] > 0
    assert {(r["model"], r["class_set"]) for r in st["rows"]} == \
        {(m, cs) for m in rt["models"] for cs in ("harmful7", EIGHT)}
    for r in st["rows"]:
        assert r["n_harmful"] == st["n_harmful"]
        assert r["n_detected"] + r["n_missed"] == r["n_harmful"]
        assert len(r["delays_s"]) == r["n_detected"] and all(d >= 0 for d in r["delays_s"])
        assert r["false_alarms_per_hour"] == pytest.approx(r["n_false_alarms"] / r["hours"])
        assert r["false_alarms_in_harmless"] <= r["n_false_alarms"]
        assert r["hours"] == pytest.approx(st["duration_s"] / 3600, rel=1e-3)


def test_seven_way_models_alert_on_harmless_actions_in_the_stream(rt):
    """A seven-way model's harmful score is 1 whenever somebody is in view: its alert is on over
    (nearly) every harmless action, trained or not."""
    by = {(r["model"], r["class_set"]): r for r in rt["stream"]["rows"]}
    for m in rt["models"]:
        r7 = by[(m, "harmful7")]
        assert r7["harmless_flagged_share"] >= 0.8 and r7["harmless_covered_share"] >= 0.8, m


@pytest.mark.learning
def test_eight_way_models_alert_less_in_the_stream(rt):
    """The eight-way model of the same architecture is on less of the time."""
    by = {(r["model"], r["class_set"]): r for r in rt["stream"]["rows"]}
    for m in rt["models"]:
        r7, r8 = by[(m, "harmful7")], by[(m, EIGHT)]
        assert r8["alert_time_share"] <= r7["alert_time_share"] - MARGINS["alert_time_drop"], \
            (m, r7["alert_time_share"], r8["alert_time_share"])


def test_latency_was_measured_at_both_sizes(rt):
    lat = rt["latency"]
    assert lat["weights"] == "random"
    assert {r["size"] for r in lat["rows"]} == {rt["profile"], "paper"}
    for r in lat["rows"]:
        assert r["n"] > 0 and 0 < r["p50_ms"] <= r["p95_ms"] <= r["max_ms"]
        assert r["budget_ms"] == pytest.approx(r["stride"] * stream.FRAME_BUDGET_MS)
        assert r["real_time"] == (r["p95_ms"] <= r["budget_ms"])
        assert r["streams"] == stream.streams_per_machine(r["mean_ms"], r["stride"], r["cores"], r["threads"])
    paper = {r["model"]: r for r in lat["rows"] if r["size"] == "paper"}
    small = {r["model"]: r for r in lat["rows"] if r["size"] != "paper"}
    full = config.load_profile("full")["models"]
    for m in small:
        # the profile's own size is the paper's in full and full-dry, smaller elsewhere
        paper_sized = config.load_profile(rt["profile"])["models"][m]["params"] == full[m]["params"]
        assert (paper[m]["params"] == small[m]["params"]) if paper_sized else (paper[m]["params"] > small[m]["params"]), m


def test_latency_was_measured_as_trained_and_on_the_fast_path(rt):
    rows = rt["latency"]["rows"]
    got = {(r["size"], r["model"], r["precision"]) for r in rows}
    assert got == {(size, m, p) for size in (rt["profile"], "paper") for m in rt["models"] for p in ("fp32", "mixed")}
    # only the RRN keeps frame features, and only on the fast path
    assert all(r["reuse"] == (r["precision"] == "mixed" and r["model"] == "rrn_lstm") for r in rows)


def test_precision_rows_cover_every_recogniser(rt):
    got = {(r["model"], r["split"], r["class_set"]) for r in rt["precision"]["rows"]}
    assert got == {(m, s, cs) for m in rt["models"] for s in rt["splits"] for cs in ("harmful7", EIGHT)}
    for r in rt["precision"]["rows"]:
        assert r["n"] > 0 and r["precision"] == "mixed" and 0 <= r["max_abs_dp"] <= 1
    for r in rt["precision"]["reuse"]:
        assert r["reused"] and r["n"] > 0 and 0 <= r["max_abs_dp"] <= 1


@pytest.mark.learning
def test_the_fast_path_keeps_the_trained_decisions(rt):
    for r in rt["precision"]["rows"]:
        key = (r["model"], r["split"], r["class_set"])
        assert r["same_decision"] >= MARGINS["fast_same_min"], (key, r["same_decision"])
        assert r["accuracy_fp32"] - r["accuracy_mixed"] <= MARGINS["fast_drop_max"], (key, r)
    for r in rt["precision"]["reuse"]:
        assert r["same_decision"] >= MARGINS["fast_same_min"], r
