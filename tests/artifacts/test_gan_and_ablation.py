"""What notebooks 02 (GAN) and 07 (ablation) write holds what it should (run after the notebooks,
see `make test`)."""
import json

import numpy as np
import pytest

from skelutils import config, experiments, hybrid
from skelutils.ntu import CLASS_NAMES

PROFILE = "smoke"


def _read(*parts):
    path = config.artifacts_dir(PROFILE, *parts[:-1], create=False) / parts[-1]
    if not path.is_file():
        pytest.fail(f"{path} is missing: its notebook did not run (make test runs every notebook first)")
    return path


def test_generated_samples_are_flagged_counted_and_traceable():
    cfg = config.load_profile(PROFILE)
    syn = hybrid.load_synthetic(_read("gan", "synthetic.npz"))
    n = int(cfg["gan"]["n_per_class"])
    assert syn["x"].shape == (7 * n, 2, cfg["data"]["frames"], 25, 3)
    assert syn["synthetic"].all()
    assert np.bincount(syn["y"], minlength=7).tolist() == [n] * 7
    assert np.isfinite(syn["x"]).all()
    meta = syn["meta"]
    assert meta["preset"] == cfg["gan"]["preset"] and meta["data_source"] == "simulated"
    assert meta["file_fingerprint"] == hybrid.dataset_fingerprint(syn["x"], syn["y"])
    # the generator saw only training samples of both splits
    ds_meta = json.loads(_read("data", "metrics.json").read_text())
    assert 0 < meta["n_gan_train"] < min(ds_meta["split_sizes"][s]["train"] for s in ("xsub", "xview"))


def test_quality_report_has_every_measure_with_its_baseline():
    q = json.loads(_read("gan", "quality.json").read_text())
    for m in ("fid", "mmd"):
        assert q[m]["n"] >= 2
        assert np.isfinite(q[m]["real_vs_generated"]) and np.isfinite(q[m]["real_vs_real"])
    assert q["fid"]["real_vs_real"] >= 0 and q["fid"]["ratio"] == pytest.approx(
        q["fid"]["real_vs_generated"] / q["fid"]["real_vs_real"])
    rec = q["recognisability"]
    assert rec["n"] == q["n_generated"] and set(rec["per_class"]) == set(CLASS_NAMES)
    assert 0.0 <= rec["accuracy"] <= 1.0 and rec["chance"] == pytest.approx(1 / 7)
    for k in ("bone_length_cv", "contact_min_m", "contact_mean_m"):
        assert q[k]["real"]["n"] > 0 and q[k]["generated"]["n"] > 0
    assert set(q["diversity"]["generated"]["per_class"]) == set(CLASS_NAMES)
    prov = q["provenance"]
    assert prov["profile"] == PROFILE and prov["real_reference"] == "xsub test set"
    # the feature network is the real-only xsub run that notebook 03 reports
    res = json.loads((config.repo_root() / prov["feature_model_results"]).read_text())
    assert res["protocol"] == "real-only" and res["test_accuracy"] == prov["feature_model_test_accuracy"]


def test_ablation_covers_the_plan_and_matches_its_results_files():
    cfg = config.load_profile(PROFILE)
    summary = json.loads(_read("ablation", "summary.json").read_text())
    plan = experiments.ablation_plan(cfg)
    got = [(r["model"], r["split"], r["protocol"], r["fraction"]) for r in summary["runs"]]
    assert got == [(p["model"], p["split"], p["protocol"], p["fraction"]) for p in plan]
    for r in summary["runs"]:
        res = json.loads((config.repo_root() / r["file"]).read_text())
        assert (res["model"], res["split"], res["protocol"], res["gan_fraction"]) == \
            (r["model"], r["split"], r["protocol"], r["fraction"])
        assert res["test_accuracy"] == r["test_accuracy"] and res["epochs"] == summary["epochs"]
        n_syn = res["hybrid"]["n_synthetic"]
        expect = int(round(r["fraction"] * cfg["gan"]["n_per_class"])) * 7
        assert sum(n_syn.values()) == expect
        if r["protocol"] == "clean":
            assert n_syn["val"] == n_syn["test"] == 0

