"""The tables notebook 06 (and 08) wrote agree with the results files and the paper's data file
(run after the notebooks, see `make test`).

The results files are read here with plain ``json`` and grouped by their fields, independently
of ``skelutils.results``, so a mistake in its grouping or averaging shows up as a mismatch.
"""
import json
import statistics

import pytest

from skelutils import config, paper
from skelutils.ntu import CLASS_NAMES

KEYS = ("profile", "data_source", "model", "split", "protocol", "gan_fraction")
TOL = 1e-9
MODELS = ("cnn3d_lstm", "li2017_cnn", "rrn_lstm")


@pytest.fixture(scope="module")
def table(artifact):
    """``table(name)``: a table notebook 06 (or 08, for ``claims``) wrote."""
    def read(name):
        made_by = "notebooks/08_claims.ipynb" if name == "claims" else "notebooks/06_results.ipynb"
        return json.loads(artifact("tables", f"{name}.json", made_by=made_by).read_text())
    return read


@pytest.fixture(scope="module")
def cells(runs):
    """Accuracies (percent) per cell, from the files."""
    out = {}
    for path, r in runs.items():
        key = tuple(round(float(r[k]), 6) if k == "gan_fraction" else r[k] for k in KEYS)
        out.setdefault(key, []).append((r["seed"], 100 * r["test_accuracy"], path, r))
    return {k: sorted(v) for k, v in out.items()}


def _key(row):
    return tuple(round(float(row[k]), 6) if k == "gan_fraction" else row[k] for k in KEYS)


@pytest.mark.learning
def test_recognisers_beat_the_nearest_centroid(runs, metrics, expect):
    """Every run of notebooks 03-05, each seed alone, beats the nearest-centroid baseline of its
    split on real test samples by the profile's margin: a model at chance or at the baseline fails."""
    base = metrics["baseline_nearest_centroid"]
    have = {(r["model"], r["split"]) for r in runs.values()}
    assert have >= {(m, s) for m in MODELS for s in ("xsub", "xview")}, f"a recogniser has no results on a split: {have}"
    low = []
    for path, r in runs.items():
        if r["split"] not in base:
            continue  # a split the baseline is not computed on
        real = r["test_accuracy_real"] if r.get("test_accuracy_real") is not None else r["test_accuracy"]
        if real < base[r["split"]] + expect["over_baseline"]:
            low.append(f"{path} (seed {r['seed']}): {real:.3f}")
    assert not low, (f"runs not above the nearest centroid ({base}) + {expect['over_baseline']} "
                     f"(chance {1 / len(CLASS_NAMES):.3f}): " + "; ".join(low))


def test_tables_were_made_from_the_current_results(runs, table, profile):
    for name in ("table1", "seeds", "per_class", "per_class_paper", "model_gaps", "claims"):
        t = table(name)
        assert t["profile"] == profile and t["table"] == name
        assert sorted(t["results_files"]) == sorted(runs), (
            f"{name}.json was computed from other results files than those in the results folder now: "
            "re-run notebooks/06_results.ipynb")


def test_seed_cells_equal_the_mean_over_their_files(cells, table):
    rows = table("seeds")["rows"]
    assert {_key(r) for r in rows} == set(cells)
    counted = []
    for r in rows:
        got = cells[_key(r)]
        values = [v for _, v, _, _ in got]
        assert r["n"] == len(got) and r["seeds"] == [s for s, _, _, _ in got]
        assert r["mean"] == pytest.approx(statistics.mean(values), abs=TOL)
        assert r["values"] == pytest.approx(values, abs=TOL)
        if len(values) > 1:
            assert r["std"] == pytest.approx(statistics.stdev(values), abs=TOL)
        else:
            assert r["std"] is None
        assert sorted(r["files"]) == sorted(p for _, _, p, _ in got)
        counted += r["files"]
    assert len(counted) == len(set(counted)), "a results file is counted in two cells"


def test_table1_ours_and_paper_columns(cells, table):
    rows = table("table1")["rows"]
    t1 = paper.paper_results()["table1"]
    seen = set()
    for r in rows:
        assert r["paper"] == t1[r["model"]][r["split"]], (r["model"], r["split"])
        seen.add((r["model"], r["split"]))
        if r["missing"]:
            assert r["ours"] is None
            assert not any(k[2] == r["model"] and k[3] == r["split"] for k in cells)
            continue
        values = [v for _, v, _, _ in cells[_key(r)]]
        assert r["ours"] == pytest.approx(statistics.mean(values), abs=TOL)
        assert r["diff"] == pytest.approx(r["ours"] - r["paper"], abs=TOL)
        assert r["n"] == len(values)
    assert seen == {(m, s) for m in MODELS for s in ("xsub", "xview")}
    paper_cells = [k for k in cells if k[2] in t1 and k[3] in ("xsub", "xview")]
    assert len([r for r in rows if not r["missing"]]) == len(paper_cells)


def test_per_class_tables(cells, table):
    quoted = paper.paper_results()["per_class_cnn3d_lstm_xview"]
    for r in table("per_class")["rows"]:
        got = cells[_key(r)]
        assert r["mean"] == pytest.approx(statistics.mean(100 * x["per_class_accuracy"][r["class"]]
                                                          for _, _, _, x in got), abs=TOL)
    rows = table("per_class_paper")["rows"]
    for r in rows:
        assert r["paper"] == quoted[r["class"]]
        got = cells[_key({**r, "model": "cnn3d_lstm", "split": "xview"})]
        assert r["ours"] == pytest.approx(statistics.mean(100 * x["per_class_accuracy"][r["class"]]
                                                          for _, _, _, x in got), abs=TOL)
    with_cv = [k for k in cells if k[2] == "cnn3d_lstm" and k[3] == "xview"]
    assert len(rows) == 3 * len(with_cv)


def test_claims_paper_values_and_sources(runs, table, profile):
    pr = paper.paper_results()
    rows = {r["id"]: r for r in table("claims")["rows"]}
    for m in ("cnn3d_lstm", "li2017_cnn", "rrn_lstm"):
        for s in ("xsub", "xview"):
            assert rows[f"table1_{m}_{s}"]["paper"] == pr["table1"][m][s]
    assert rows["per_class_knock_over"]["paper"] == pr["per_class_cnn3d_lstm_xview"]["knock over"]
    assert rows["train_accuracy"]["paper"] == pr["training_cnn3d_lstm"]["train_accuracy_percent"]
    assert rows["train_loss_40"]["paper"] == pr["training_cnn3d_lstm"]["train_loss_after_40_epochs"]
    assert rows["individuals"]["paper"] == pr["dataset"]["individuals"]
    assert rows["min_samples_per_class"]["paper"] == pr["dataset"]["min_samples_per_class_claimed"]
    root = config.repo_root()
    for r in rows.values():
        if r["ours"] is None:
            assert r["note"], f"claim {r['id']} has no value and no reason"
        else:
            assert r["source"], f"claim {r['id']} has a value but no source file"
        for src in r["source"]:
            assert (root / src).is_file(), f"claim {r['id']}: source {src} does not exist"
        if r["id"].startswith("table1_") and r["ours"] is not None:
            accs = [100 * runs[p]["test_accuracy"] for p in r["source"]]
            assert r["ours"] == pytest.approx(statistics.mean(accs), abs=TOL)
    metrics = json.loads((config.artifacts_dir(profile, "data", create=False) / "metrics.json").read_text())
    assert rows["min_samples_per_class"]["ours"] == min(c["total"] for c in metrics["counts"].values())
