"""The metrics notebook 01 writes hold what they should (run after the notebooks, see `make test`)."""
import numpy as np
import pytest

from skelutils import config
from skelutils.ntu import CLASS_NAMES

CHANCE = 1 / len(CLASS_NAMES)


def test_counts_are_consistent(metrics):
    counts = metrics["counts"]
    assert set(counts) == set(CLASS_NAMES)
    assert sum(c["total"] for c in counts.values()) == metrics["n_samples"]
    for split in ("xsub", "xview"):
        sizes = metrics["split_sizes"][split]
        assert sizes["train"] + sizes["val"] + sizes["test"] == metrics["n_samples"]
        for name, c in counts.items():
            assert c[f"{split}_train"] + c[f"{split}_val"] + c[f"{split}_test"] == c["total"], (split, name)
            assert c[f"{split}_train"] > 0 and c[f"{split}_test"] > 0, (split, name)


def test_metrics_are_of_the_profile_and_its_data(metrics, profile, cfg):
    assert metrics["profile"] == profile
    assert metrics["data_source"] == cfg["data"].get("source", "simulated")
    if metrics["data_source"] == "simulated":
        # every file the simulator wrote is a sample, or counted as empty or malformed
        files = list(config.artifacts_dir(profile, "raw", create=False).glob("*.skeleton"))
        assert metrics["n_samples"] + metrics["n_empty"] + metrics["n_malformed"] == len(files)
        assert metrics["n_malformed"] == 0
        assert metrics["n_empty"] <= 0.02 * len(files), "more than 2% of the simulated files hold no skeleton"


@pytest.mark.learning
def test_baseline_is_above_chance_and_below_trivial(metrics, expect):
    base = metrics["baseline_nearest_centroid"]
    for split, (low, high) in expect["baseline"].items():
        assert base[split] > low, f"{split}: the nearest centroid reaches {base[split]:.3f}, not above {low:.3f} " \
                                  f"(chance {CHANCE:.3f}): the classes are not told apart"
        if high is not None:
            assert base[split] <= high, f"{split}: the nearest centroid reaches {base[split]:.3f} > {high}: " \
                                        "the task is too easy to tell the recognisers apart"


def test_dataset_artifact_matches_metrics(metrics, artifact):
    path = artifact("data", "dataset.npz", made_by="notebooks/01_data.ipynb")
    with np.load(path, allow_pickle=False) as z:
        x, y = z["x"], z["y"]
    assert x.dtype == np.float32 and x.ndim == 5 and x.shape[1:] == (2, metrics["frames"], 25, 3)
    assert len(y) == metrics["n_samples"]
    assert np.bincount(y, minlength=len(CLASS_NAMES)).tolist() == \
        [metrics["counts"][c]["total"] for c in CLASS_NAMES]
    assert np.isfinite(x).all()
