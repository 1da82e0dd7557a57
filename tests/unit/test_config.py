"""Profiles, paths, seeding, atomic writes and the paper data file."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from skelutils import config, paper


def test_profiles_load_and_differ():
    smoke, full = config.load_profile("smoke"), config.load_profile("full")
    assert smoke["name"] == "smoke" and full["name"] == "full"
    assert full["data"]["frames"] == 64
    assert smoke["data"]["frames"] <= full["data"]["frames"]


def test_overrides_merge_nested():
    cfg = config.load_profile("smoke", {"seed": 7, "data": {"frames": 16}})
    assert cfg["seed"] == 7 and cfg["data"]["frames"] == 16
    assert cfg["data"]["source"] == "simulated"  # untouched keys survive


def test_unknown_profile_lists_available():
    with pytest.raises(FileNotFoundError, match="smoke"):
        config.load_profile("nope")


def test_bad_yaml_profile(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("- just\n- a list\n")
    with pytest.raises(ValueError, match="mapping"):
        config.load_profile(str(p))


def test_seed_reaches_numpy_and_torch():
    config.seed_everything(3)
    a = (np.random.rand(3), torch.rand(3))
    config.seed_everything(3)
    b = (np.random.rand(3), torch.rand(3))
    assert np.array_equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_write_json_atomic_and_numpy(tmp_path):
    path = config.write_json(tmp_path / "sub" / "m.json", {"a": np.float32(1.5), "b": np.arange(3)})
    assert json.loads(path.read_text()) == {"a": 1.5, "b": [0, 1, 2]}
    assert [p.name for p in path.parent.iterdir()] == ["m.json"]  # no temporary left behind


def test_read_json_missing_names_notebook(tmp_path):
    with pytest.raises(FileNotFoundError, match="01_data"):
        config.read_json(tmp_path / "x.json", "dataset metrics", made_by="notebooks/01_data.ipynb")


def test_raw_folder_ntu_errors(tmp_path):
    with pytest.raises(ValueError, match="ntu_dir"):
        config.raw_folder({"data": {"source": "ntu"}})
    with pytest.raises(FileNotFoundError, match="not a folder"):
        config.raw_folder({"data": {"source": "ntu", "ntu_dir": str(tmp_path / "missing")}})
    assert config.raw_folder({"data": {"source": "ntu", "ntu_dir": str(tmp_path)}}) == tmp_path
    with pytest.raises(ValueError, match="allowed"):
        config.raw_folder({"data": {"source": "kinetics"}})


def test_paper_table1_from_data_file():
    raw = json.loads(paper.PAPER_RESULTS_FILE.read_text())
    for model in ("cnn3d_lstm", "li2017_cnn", "rrn_lstm"):
        for split in ("xsub", "xview"):
            assert paper.table1(model, split) == raw["table1"][model][split]
            assert 0 < paper.table1(model, split) < 100
    with pytest.raises(KeyError, match="Table 1"):
        paper.table1("resnet", "xsub")


def test_simulated_raw_folder_is_rewritten_when_the_simulator_changes(tmp_path, monkeypatch):
    from skelutils import simulate
    monkeypatch.setenv("SKELUTILS_ARTIFACTS", str(tmp_path))
    calls = []

    def fake(d, size, seed, progress, workers):
        calls.append((size, seed))
        (Path(d) / f"S018C001P001R001A050_{len(calls)}.skeleton").write_text("0\n")
    monkeypatch.setattr(simulate, "simulate_dataset_preset", fake)
    cfg = {"name": "unit", "seed": 3, "data": {"source": "simulated", "simulator_size": "smoke"}}
    d = config.raw_folder(cfg)
    config.raw_folder(cfg)
    assert calls == [("smoke", 3)]  # reused while nothing changed
    marker = json.loads((d / "simulated.json").read_text())
    marker["simulator"] = "0" * 16  # as written by another version of simulate.py
    (d / "simulated.json").write_text(json.dumps(marker))
    config.raw_folder(cfg)
    assert calls == [("smoke", 3), ("smoke", 3)]
    assert [p.name for p in d.glob("*.skeleton")] == ["S018C001P001R001A050_2.skeleton"]
