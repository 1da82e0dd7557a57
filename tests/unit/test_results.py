"""skelutils.results on synthetic results files: checks, grouping, aggregation over seeds, tables."""
import json
import math
import statistics

import numpy as np
import pytest

from skelutils import paper, results
from skelutils.ntu import CLASS_NAMES

PROFILE = "unit"


def make_run(model="cnn3d_lstm", split="xsub", seed=0, acc=0.5, protocol="real-only", fraction=0.0,
             data_source="simulated", epochs=40, per_class=None, n_test=70, train_loss=0.5):
    """A results dict shaped like train_recogniser's: ``acc`` test accuracy, ``n_test`` samples
    spread evenly over the seven classes, ``per_class`` overriding per-class accuracies."""
    k = len(CLASS_NAMES)
    per = n_test // k
    pc = dict(per_class or {c: acc for c in CLASS_NAMES})
    cm = []
    for i, c in enumerate(CLASS_NAMES):
        right = int(round(pc[c] * per))
        row = [0] * k
        row[i] = right
        row[(i + 1) % k] = per - right
        cm.append(row)
    hist = [{"epoch": e, "train_loss": train_loss + (epochs - e) * 0.01, "train_acc": 0.9,
             "val_loss": 1.0, "val_acc": min(0.8, 0.02 * e), "lr": 1e-3, "seconds": 1.0}
            for e in range(1, epochs + 1)]
    return {"model": model, "split": split, "profile": PROFILE, "data_source": data_source, "seed": seed,
            "test_accuracy": acc, "per_class_accuracy": pc, "confusion_matrix": cm,
            "class_names": list(CLASS_NAMES), "history": hist, "best_epoch": epochs,
            "best_val_acc": 0.8, "n_train": 100, "n_val": 20, "n_test": per * k, "epochs": epochs,
            "params": {}, "device": "cpu", "world_size": 1, "wall_seconds": 1.0, "git_commit": "x",
            "dataset_fingerprint": "f", "protocol": protocol, "gan_fraction": fraction,
            "test_accuracy_real": acc}


@pytest.fixture
def art(tmp_path, monkeypatch):
    """An empty artifacts folder for profile ``unit``; returns its results folder."""
    monkeypatch.setenv("SKELUTILS_ARTIFACTS", str(tmp_path))
    d = tmp_path / PROFILE / "results"
    d.mkdir(parents=True)
    return d


def put(folder, name, run):
    (folder / f"{name}.json").write_text(json.dumps(run))


def test_aggregation_over_seeds(art):
    accs = [0.60, 0.70, 0.65]
    for s, a in enumerate(accs):
        put(art, f"cnn3d_lstm_xsub_seed{s}", make_run(seed=s, acc=a))
    put(art, "other", make_run(split="xview", acc=0.9))
    runs = results.load_results(PROFILE)
    assert len(runs) == 4
    cells = results.aggregate(runs)
    assert [(c["model"], c["split"], c["n"]) for c in cells] == [("cnn3d_lstm", "xsub", 3), ("cnn3d_lstm", "xview", 1)]
    c = cells[0]
    assert c["seeds"] == [0, 1, 2]
    assert c["mean"] == pytest.approx(100 * statistics.mean(accs))
    assert c["std"] == pytest.approx(100 * statistics.stdev(accs))
    assert (c["min"], c["max"]) == (pytest.approx(60.0), pytest.approx(70.0))
    assert cells[1]["std"] is None and cells[1]["mean"] == pytest.approx(90.0)
    assert len(c["files"]) == 3 and all(f.endswith(".json") for f in c["files"])


def test_grouping_ignores_file_names_and_separates_settings(art):
    # Misleading names: grouping must follow the fields.
    put(art, "li2017_cnn_xview", make_run(model="rrn_lstm", split="xsub", seed=0, acc=0.5))
    put(art, "whatever", make_run(model="rrn_lstm", split="xsub", seed=1, acc=0.7))
    put(art, "hybrid", make_run(model="rrn_lstm", split="xsub", seed=0, acc=0.9, protocol="paper", fraction=1.0))
    put(art, "ntu", make_run(model="rrn_lstm", split="xsub", seed=0, acc=0.3, data_source="ntu"))
    cells = results.aggregate(results.load_results(PROFILE))
    by = {(c["data_source"], c["protocol"], c["gan_fraction"]): c for c in cells}
    assert set(by) == {("simulated", "real-only", 0.0), ("simulated", "paper", 1.0), ("ntu", "real-only", 0.0)}
    assert by[("simulated", "real-only", 0.0)]["mean"] == pytest.approx(60.0)
    assert by[("simulated", "real-only", 0.0)]["n"] == 2
    assert by[("simulated", "paper", 1.0)]["mean"] == pytest.approx(90.0)


@pytest.mark.parametrize("field", ["test_accuracy", "seed", "protocol", "per_class_accuracy", "history",
                                   "test_accuracy_real"])
def test_missing_field_names_file_and_field(art, field):
    run = make_run()
    del run[field]
    put(art, "broken", run)
    with pytest.raises(results.ResultsError, match=rf"broken\.json.*'{field}'.*missing"):
        results.load_results(PROFILE)


@pytest.mark.parametrize("field,value,expect", [
    ("test_accuracy", 67.5, "fraction"),             # percent instead of a fraction
    ("protocol", "hybrid", "one of"),
    ("gan_fraction", 1.5, "from 0 to 1"),
    ("seed", "0", "integer"),
    ("confusion_matrix", [[1]], "list of counts"),
])
def test_bad_values_are_reported(art, field, value, expect):
    run = make_run()
    run[field] = value
    put(art, "bad", run)
    with pytest.raises(results.ResultsError, match=rf"bad\.json.*'{field}'.*{expect}"):
        results.load_results(PROFILE)


def test_bad_history_and_inconsistent_counts(art):
    run = make_run()
    run["history"][3]["val_acc"] = None
    put(art, "h", run)
    with pytest.raises(results.ResultsError, match=r"h\.json.*history\[3\]\.val_acc"):
        results.load_results(PROFILE)
    run = make_run()
    run["n_test"] += 1
    put(art, "h", run)
    with pytest.raises(results.ResultsError, match=r"'confusion_matrix'.*n_test"):
        results.load_results(PROFILE)


def test_history_must_cover_every_epoch_of_the_run(art):
    # a resumed run once recorded the call's epochs (2) next to the checkpoint's five epochs
    run = make_run(epochs=5)
    run["epochs"] = 2
    put(art, "short", run)
    with pytest.raises(results.ResultsError, match=r"short\.json.*'history'.*epochs 1\.\.5.*'epochs' is 2"):
        results.load_results(PROFILE)
    run = make_run(epochs=5)
    del run["history"][2]
    put(art, "short", run)
    with pytest.raises(results.ResultsError, match=r"'history'.*\[1, 2, 4, 5\]"):
        results.load_results(PROFILE)
    put(art, "short", make_run(epochs=5))
    assert len(results.load_results(PROFILE)) == 1


def test_not_json_wrong_profile_and_duplicate_seed(art):
    (art / "x.json").write_text("{not json")
    with pytest.raises(results.ResultsError, match=r"x\.json.*not readable as JSON"):
        results.load_results(PROFILE)
    (art / "x.json").unlink()
    other = make_run()
    other["profile"] = "full"
    put(art, "y", other)
    with pytest.raises(results.ResultsError, match=r"y\.json.*'full'.*profile 'unit'"):
        results.load_results(PROFILE)
    (art / "y.json").unlink()
    put(art, "a", make_run(seed=3, acc=0.5))
    put(art, "b", make_run(seed=3, acc=0.6))
    with pytest.raises(results.ResultsError, match=r"same run.*delete one"):
        results.load_results(PROFILE)


def test_missing_folder_and_missing_models(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELUTILS_ARTIFACTS", str(tmp_path))
    assert results.load_results(PROFILE) == []
    miss = results.missing_results([make_run(model="cnn3d_lstm", split="xsub")], PROFILE)
    assert len(miss) == 5
    li = next(m for m in miss if m["model"] == "li2017_cnn" and m["split"] == "xview")
    assert li["notebook"].startswith("notebooks/03_train.ipynb") and "MODEL=li2017_cnn" in li["notebook"]
    assert "04_li2017_cnn" in li["message"]


def test_table1_contents(art):
    for s, a in enumerate([0.80, 0.84]):
        put(art, f"c{s}", make_run(model="cnn3d_lstm", split="xview", seed=s, acc=a))
    put(art, "r", make_run(model="rrn_lstm", split="xsub", acc=0.5))
    put(art, "extra", make_run(model="cnn3d_lstm", split="xview", acc=0.9, protocol="clean", fraction=0.5))
    runs = results.load_results(PROFILE)
    rows = results.table1(results.aggregate(runs), PROFILE)
    have = [r for r in rows if r["missing"] is None]
    assert [(r["model"], r["split"], r["protocol"]) for r in have] == [
        ("cnn3d_lstm", "xview", "real-only"), ("rrn_lstm", "xsub", "real-only"), ("cnn3d_lstm", "xview", "clean")]
    c = have[0]
    assert c["paper"] == paper.table1("cnn3d_lstm", "xview")
    assert c["ours"] == pytest.approx(82.0) and c["n"] == 2 and c["seeds"] == [0, 1]
    assert c["diff"] == pytest.approx(82.0 - paper.table1("cnn3d_lstm", "xview"))
    assert c["std"] == pytest.approx(100 * statistics.stdev([0.80, 0.84]))
    assert c["test"] == "CV" and c["data_source"] == "simulated" and c["profile"] == PROFILE
    missing = [r for r in rows if r["missing"]]
    assert {(r["model"], r["split"]) for r in missing} == {
        ("cnn3d_lstm", "xsub"), ("li2017_cnn", "xsub"), ("li2017_cnn", "xview"), ("rrn_lstm", "xview")}
    assert all(r["ours"] is None and r["paper"] == paper.table1(r["model"], r["split"]) for r in missing)
    assert "05_rrn_lstm" in next(r for r in missing if r["model"] == "rrn_lstm")["missing"]


def test_per_class_tables(art):
    pc0 = {c: 0.5 for c in CLASS_NAMES} | {"punch/slap": 0.9, "knock over": 0.1}
    pc1 = {c: 0.5 for c in CLASS_NAMES} | {"punch/slap": 0.7, "knock over": 0.3}
    put(art, "a", make_run(split="xview", seed=0, per_class=pc0))
    put(art, "b", make_run(split="xview", seed=1, per_class=pc1))
    runs = results.load_results(PROFILE)
    pc = results.per_class(runs)
    assert len(pc) == len(CLASS_NAMES)
    ps = next(r for r in pc if r["class"] == "punch/slap")
    assert ps["mean"] == pytest.approx(80.0) and ps["n"] == 2
    quoted = paper.paper_results()["per_class_cnn3d_lstm_xview"]
    comp = {r["class"]: r for r in results.per_class_paper(pc)}
    assert set(comp) == {"punch/slap", "pushing", "knock over"}
    assert comp["punch/slap"]["paper"] == quoted["punch/slap"]
    assert comp["punch/slap"]["diff"] == pytest.approx(80.0 - quoted["punch/slap"])
    assert comp["punch/slap"]["rank"] == 1 and comp["knock over"]["rank"] == 7
    assert comp["pushing"]["rank"] == 2  # five classes tie at 50%: they share rank 2
    piv = results.per_class_pivot(pc, ("simulated", "real-only", 0.0))
    assert [r["class"] for r in piv] == list(CLASS_NAMES)
    assert next(r for r in piv if r["class"] == "punch/slap")["cnn3d_lstm CV"].startswith("80.0 ± ")


def test_model_gaps_against_seed_spread(art):
    for s, (a, b, c) in enumerate([(0.80, 0.50, 0.79), (0.82, 0.52, 0.81), (0.81, 0.51, 0.80)]):
        put(art, f"a{s}", make_run(model="cnn3d_lstm", seed=s, acc=a))
        put(art, f"b{s}", make_run(model="li2017_cnn", seed=s, acc=b))
        put(art, f"c{s}", make_run(model="rrn_lstm", seed=s, acc=c))
    put(art, "single", make_run(model="cnn3d_lstm", split="xview", acc=0.9))
    put(art, "single2", make_run(model="rrn_lstm", split="xview", acc=0.2))
    gaps = results.model_gaps(results.aggregate(results.load_results(PROFILE)))
    g = {(r["split"], r["better"], r["worse"]): r for r in gaps}
    far = g[("xsub", "cnn3d_lstm", "li2017_cnn")]
    assert far["gap"] == pytest.approx(30.0) and far["exceeds"] is True and far["ranges_overlap"] is False
    near = g[("xsub", "cnn3d_lstm", "rrn_lstm")]
    assert near["gap"] == pytest.approx(1.0) and near["exceeds"] is False and near["ranges_overlap"] is True
    assert near["threshold"] == pytest.approx(2 * math.sqrt(2 * 1.0 ** 2 / 3))
    one = g[("xview", "cnn3d_lstm", "rrn_lstm")]
    assert one["exceeds"] is None and one["se"] is None  # one seed: spread unknown, not "significant"


def test_claims_table(art, tmp_path):
    put(art, "a", make_run(split="xview", seed=0, acc=0.8, epochs=40, train_loss=0.10))
    put(art, "b", make_run(split="xview", seed=1, acc=0.9, epochs=40, train_loss=0.14))
    rows = {r["id"]: r for r in results.claims_table(PROFILE)}
    pr = paper.paper_results()
    t = rows["table1_cnn3d_lstm_xview"]
    assert t["paper"] == pr["table1"]["cnn3d_lstm"]["xview"] and t["ours"] == pytest.approx(85.0) and t["n"] == 2
    assert len(t["source"]) == 2 and t["setting"] == "simulated data, real-only training"
    assert rows["table1_li2017_cnn_xsub"]["ours"] is None and "04_li2017_cnn" in rows["table1_li2017_cnn_xsub"]["note"]
    assert rows["train_loss_40"]["ours"] == pytest.approx(0.12)
    assert rows["train_loss_40"]["paper"] == pr["training_cnn3d_lstm"]["train_loss_after_40_epochs"]
    assert rows["epochs"]["ours"] == 40 and rows["epochs"]["paper"] == pr["training_cnn3d_lstm"]["epochs"]
    assert rows["converges_epoch"]["ours"] == pytest.approx(40.0)  # val_acc 0.02*e reaches 0.8 at 40
    assert rows["validation_plateau"]["ours"] == pytest.approx(100 * np.mean([0.02 * e for e in range(31, 41)]))
    # No dataset, no generated samples, no paper-protocol run: no value, and the reason.
    for cid in ("individuals", "min_samples_per_class", "generated_per_class", "generated_split"):
        assert rows[cid]["ours"] is None and rows[cid]["note"], cid
    assert rows["min_samples_per_class"]["paper"] == pr["dataset"]["min_samples_per_class_claimed"]
    assert all(set(r["id"]) <= set("abcdefghijklmnopqrstuvwxyz0123456789_") for r in rows.values())


def test_claims_short_runs_and_dataset_values(art, tmp_path):
    put(art, "a", make_run(split="xview", epochs=20))
    data = tmp_path / PROFILE / "data"
    data.mkdir()
    y = np.repeat(np.arange(7), 6)
    perf = np.tile([1, 1, 1, 2, 2, 2], 7)
    np.savez(data / "dataset.npz", y=y, meta_performer=perf)
    (data / "metrics.json").write_text(json.dumps({"counts": {c: {"total": 6 + i} for i, c in enumerate(CLASS_NAMES)}}))
    rows = {r["id"]: r for r in results.claims_table(PROFILE)}
    assert rows["train_loss_40"]["ours"] is None and "before epoch 40" in rows["train_loss_40"]["note"]
    assert rows["individuals"]["ours"] == 2 and rows["repetitions"]["ours"] == 3.0
    assert rows["min_samples_per_class"]["ours"] == 6
    assert rows["individuals"]["source"][0].endswith("dataset.npz")


def test_markdown_table_and_banner():
    rows = [{"a": 1.234, "b": None, "c": "x|y", "data_source": "simulated"}, {"a": 2.0, "b": [1, 2], "c": True}]
    md = results.markdown_table(rows, {"a": "A", "b": "B", "c": "C"}, digits={"a": 2})
    lines = md.splitlines()
    assert lines[0] == "| A | B | C |" and lines[1] == "|---|---|---|"
    assert lines[2] == "| 1.23 | - | x\\|y |" and lines[3] == "| 2.00 | 1, 2 | yes |"
    assert "```{warning}" in results.table_markdown(rows, ["a"], "T")
    assert "{warning}" not in results.table_markdown([{"a": 1.0, "data_source": "ntu"}], ["a"], "T")
    assert "no results" in results.table_markdown([], ["a"], "T")
    assert results.fmt(805399) == "805,399" and results.fmt(np.int64(1680)) == "1,680" and results.fmt(7) == "7"


def test_write_tables_roundtrip(art):
    put(art, "a", make_run())
    runs = results.load_results(PROFILE)
    tables = results.build_tables(PROFILE, runs)
    assert set(tables) == {"table1", "per_class_paper", "per_class", "seeds", "model_gaps", "claims"}
    paths = results.write_tables(PROFILE, tables, runs)
    assert not list(paths["table1"].parent.glob("*.tmp"))
    back = results.read_table(PROFILE, "seeds")
    assert back["profile"] == PROFILE and back["results_files"] == [r["source_file"] for r in runs]
    assert back["rows"][0]["mean"] == pytest.approx(50.0)
    with pytest.raises(FileNotFoundError, match="06_results"):
        results.read_table(PROFILE, "nonexistent")
