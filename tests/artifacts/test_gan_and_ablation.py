"""What notebooks 02 (GAN) and 07 (ablation) write holds what it should (run after the notebooks,
see `make test`)."""
import json

import numpy as np
import pytest

from skelutils import config, experiments, gan, hybrid
from skelutils.ntu import CLASS_NAMES

CHANCE = 1 / len(CLASS_NAMES)
GAN, ABLATION = "notebooks/02_gan.ipynb", "notebooks/07_ablation.ipynb"


@pytest.fixture(scope="module")
def quality(artifact):
    return json.loads(artifact("gan", "quality.json", made_by=GAN).read_text())


def test_generated_samples_are_flagged_counted_and_traceable(cfg, artifact, metrics):
    syn = hybrid.load_synthetic(artifact("gan", "synthetic.npz", made_by=GAN))
    n = int(cfg["gan"]["n_per_class"])
    assert syn["x"].shape == (7 * n, 2, cfg["data"]["frames"], 25, 3)
    assert syn["synthetic"].all()
    assert np.bincount(syn["y"], minlength=7).tolist() == [n] * 7
    assert np.isfinite(syn["x"]).all()
    meta = syn["meta"]
    assert meta["preset"] == cfg["gan"]["preset"] and meta["data_source"] == metrics["data_source"]
    assert meta["file_fingerprint"] == hybrid.arrays_fingerprint(syn["x"], syn["y"])
    # the generator saw only training samples of both splits
    assert 0 < meta["n_gan_train"] < min(metrics["split_sizes"][s]["train"] for s in ("xsub", "xview"))


@pytest.mark.learning
def test_generated_samples_are_recognised_above_chance(quality, expect):
    rec = quality["recognisability"]
    assert rec["chance"] == pytest.approx(CHANCE)
    assert rec["n"] == quality["n_generated"] and set(rec["per_class"]) == set(CLASS_NAMES)
    # the overall accuracy is the mean over classes of equal size
    assert rec["accuracy"] == pytest.approx(np.mean(list(rec["per_class"].values())), abs=1e-9)
    want = CHANCE + expect["gan_over_chance"]
    assert rec["accuracy"] >= want, (
        f"the real-trained recogniser assigns {rec['accuracy']:.3f} of the generated samples to their class, "
        f"below chance {CHANCE:.3f} + {expect['gan_over_chance']} = {want:.3f}: the generator ignores its class")


def test_quality_report_has_every_measure_with_its_baseline(quality, profile, cfg):
    q = quality
    for m in ("fid", "mmd"):
        assert q[m]["n"] >= 2
        assert np.isfinite(q[m]["real_vs_generated"]) and np.isfinite(q[m]["real_vs_real"])
    # two halves of real data are never identical, so their distance is positive
    assert q["fid"]["real_vs_real"] > 0 and q["fid"]["ratio"] == pytest.approx(
        q["fid"]["real_vs_generated"] / q["fid"]["real_vs_real"])
    assert q["bone_length_cv"]["real"]["n"] > 0 and q["bone_length_cv"]["generated"]["n"] > 0
    # a one-person generator (Kinetic-GAN as published) makes no contact between two persons
    persons = q["provenance"]["gan_persons"]
    assert persons == gan.generated_persons(experiments.profile_gan_config(cfg)[0])
    for k in ("contact_min_m", "contact_mean_m"):
        assert q[k]["real"]["n"] > 0 and (q[k]["generated"]["n"] > 0) == (persons == 2), (k, persons)
    assert set(q["diversity"]["generated"]["per_class"]) == set(CLASS_NAMES)
    prov = q["provenance"]
    assert prov["profile"] == profile and prov["real_reference"] == "xsub test set"
    # the feature network is the real-only xsub run that notebook 03 reports
    res = json.loads((config.repo_root() / prov["feature_model_results"]).read_text())
    assert res["protocol"] == "real-only" and res["test_accuracy"] == prov["feature_model_test_accuracy"]


@pytest.fixture(scope="module")
def ablation(artifact):
    return json.loads(artifact("ablation", "summary.json", made_by=ABLATION).read_text())


def test_ablation_covers_the_plan_and_matches_its_results_files(cfg, ablation):
    summary = ablation
    plan = experiments.ablation_plan(cfg)
    got = [(r["model"], r["split"], r["protocol"], r["fraction"], r["seed"]) for r in summary["runs"]]
    assert got == [(p["model"], p["split"], p["protocol"], p["fraction"], p["seed"]) for p in plan]
    assert summary["seeds"] == experiments.ablation_seeds(cfg)
    # each cell's mean is the mean of its runs
    for c in summary["cells"]:
        runs = [r for r in summary["runs"] if (r["model"], r["split"], r["protocol"], r["fraction"]) ==
                (c["model"], c["split"], c["protocol"], c["fraction"])]
        assert sorted(c["seeds"]) == sorted(r["seed"] for r in runs)
        assert c["test_accuracy_real_mean"] == pytest.approx(np.mean([r["test_accuracy_real"] for r in runs]))
    for r in summary["runs"]:
        res = json.loads((config.repo_root() / r["file"]).read_text())
        assert (res["model"], res["split"], res["protocol"], res["gan_fraction"]) == \
            (r["model"], r["split"], r["protocol"], r["fraction"])
        assert res["test_accuracy"] == r["test_accuracy"] and res["epochs"] == summary["epochs"]
        n_syn = res["hybrid"]["n_synthetic"]
        # per class round(fraction * n_per_class) generated samples, split 80/10/10 under paper;
        # clean adds the same training share and nothing to validation or test
        n_use = int(round(r["fraction"] * cfg["gan"]["n_per_class"]))
        n_train = int(round(hybrid.PAPER_SPLIT[0] * n_use)) * len(CLASS_NAMES)
        assert n_syn["train"] == n_train
        if r["protocol"] == "paper":
            assert sum(n_syn.values()) == n_use * len(CLASS_NAMES)
        else:
            assert n_syn["val"] == n_syn["test"] == 0


@pytest.mark.learning
def test_ablation_runs_learn(ablation, expect):
    """Every run of notebook 07 beats chance on its own test set by the profile's margin (it trains
    fewer epochs than notebooks 03-05, so the nearest-centroid margin is not asked of it)."""
    want = CHANCE + expect["ablation_over_chance"]
    low = [f"{r['file']}: {r['test_accuracy']:.3f}" for r in ablation["runs"] if r["test_accuracy"] < want]
    assert not low, f"ablation runs at chance level (below {CHANCE:.3f} + {expect['ablation_over_chance']}): {low}"
