"""The metrics notebook 01 writes hold what they should (run after the notebooks, see `make test`)."""
import json

import numpy as np
import pytest

from skelutils import config
from skelutils.ntu import CLASS_NAMES

PROFILE = "smoke"


@pytest.fixture(scope="module")
def metrics():
    path = config.artifacts_dir(PROFILE, "data", create=False) / "metrics.json"
    if not path.is_file():
        pytest.fail(f"{path} is missing: notebooks/01_data.ipynb did not run (make test runs it through nbval first)")
    return json.loads(path.read_text())


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


def test_simulated_smoke_data_and_baseline(metrics):
    assert metrics["data_source"] == "simulated"
    assert metrics["profile"] == PROFILE
    assert 200 <= metrics["n_samples"] <= 1000  # "a few hundred files"
    base = metrics["baseline_nearest_centroid"]
    chance = 1 / len(CLASS_NAMES)
    # The simulated task is learnable but not trivial for a nearest centroid.
    assert chance + 0.05 < base["xsub"] <= 0.75
    assert chance + 0.05 < base["xview"] <= 0.85


def test_dataset_artifact_matches_metrics(metrics):
    path = config.artifacts_dir(PROFILE, "data", create=False) / "dataset.npz"
    with np.load(path, allow_pickle=False) as z:
        x, y = z["x"], z["y"]
    assert x.dtype == np.float32 and x.ndim == 5 and x.shape[1:] == (2, metrics["frames"], 25, 3)
    assert len(y) == metrics["n_samples"]
    assert np.isfinite(x).all()
