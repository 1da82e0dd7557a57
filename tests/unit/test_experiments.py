"""The profile-to-engine glue (skelutils.experiments): run names, hybrid data, the GAN's data."""
import json

import numpy as np
import pytest

from skelutils import config, experiments, hybrid
from skelutils.dataset import Dataset
from skelutils.ntu import CLASS_NAMES
from skelutils.splits import XSUB_TRAIN_PERFORMERS

T = 8


def _dataset(seed=0) -> Dataset:
    rng = np.random.default_rng(seed)
    performers = [p for p in sorted(XSUB_TRAIN_PERFORMERS)[:3]] + [p for p in range(1, 40)
                                                                    if p not in XSUB_TRAIN_PERFORMERS][:2]
    rows = [(p, c, a) for p in performers for c in (1, 2, 3) for a in range(7)]
    n = len(rows)
    y = np.array([a for _, _, a in rows], np.int64)
    x = rng.normal(0, 0.1, (n, 2, T, 25, 3)).astype(np.float32)
    x[..., 0] += y[:, None, None, None] * 0.3  # a learnable class signal
    meta = {k: np.zeros(n, np.int64) for k in ("setup", "replication", "action", "n_frames", "n_bodies_max",
                                               "n_noise_bodies")}
    meta["setup"][:] = 18
    meta["replication"][:] = 1
    meta["performer"] = np.array([p for p, _, _ in rows], np.int64)
    meta["camera"] = np.array([c for _, c, _ in rows], np.int64)
    meta["action"] = y + 1
    meta["n_frames"][:] = T
    meta["names"] = [f"S018C{c:03d}P{p:03d}R001A{a + 1:03d}" for p, c, a in rows]
    return Dataset(x=x, y=y, meta=meta, raw=[x[i, :, :, :, :].transpose(1, 0, 2, 3) for i in range(n)],
                   source="simulated", fingerprint="0123456789abcdef", empty=[], malformed=[],
                   prep={"frames": T})


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELUTILS_ARTIFACTS", str(tmp_path / "artifacts"))
    c = config.load_profile("smoke")
    c["name"] = "unit"
    c["seeds"] = [3, 4]
    c["train"].update(epochs=1, device="cpu")
    # five performances per class on the training side: 0.2 holds one out for validation
    c["data"]["val_fraction"] = 0.2
    c["gan"]["n_per_class"] = 10
    c["models"]["cnn3d_lstm"]["params"] = {"filters": [2, 2, 2, 2], "lstm_hidden": 4, "proj": 4, "fc": 4}
    return c


def test_run_names_say_protocol_fraction_and_extra_seeds(cfg):
    assert experiments.run_name("rrn_lstm", "xsub", seed=3, cfg=cfg) == "rrn_lstm_xsub"
    assert experiments.run_name("rrn_lstm", "xsub", seed=4, cfg=cfg) == "rrn_lstm_xsub_seed4"
    assert experiments.run_name("li2017_cnn", "xview", protocol="clean", fraction=0.25) == "li2017_cnn_xview_clean-f025"
    assert experiments.profile_seeds(cfg) == [3, 4]
    assert experiments.profile_seeds({"seed": 7}) == [7]


def test_gan_learns_only_from_training_samples_of_both_splits(cfg):
    ds = _dataset()
    idx = set(experiments.gan_training_indices(ds, cfg).tolist())
    assert idx
    for split in ("xsub", "xview"):
        parts = experiments.split_arrays(ds, split, cfg)["indices"]
        assert idx <= set(parts["train"].tolist())
        assert not idx & (set(parts["val"].tolist()) | set(parts["test"].tolist()))


def test_bad_protocol_or_fraction_names_the_setting(cfg):
    ds = _dataset()
    with pytest.raises(ValueError, match="hybrid.protocol"):
        experiments.hybrid_arrays(ds, "xsub", cfg, "mixed", 0.5, 0)
    with pytest.raises(ValueError, match="GAN_FRACTION"):
        experiments.hybrid_arrays(ds, "xsub", cfg, "clean", 1.5, 0)


def test_hybrid_without_generated_samples_points_to_notebook_02(cfg):
    with pytest.raises(FileNotFoundError, match="02_gan.ipynb"):
        experiments.hybrid_arrays(_dataset(), "xsub", cfg, "paper", 0.5, 0)


def _write_synthetic(cfg, per_class=10, ds=None):
    """Generated samples as notebook 02 saves them, from a GAN trained on ``ds`` (default :func:`_dataset`)."""
    ds = ds if ds is not None else _dataset()
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(7), per_class)
    x = rng.normal(0, 0.1, (len(y), 2, T, 25, 3)).astype(np.float32)
    hybrid.save_synthetic(experiments.synthetic_path(cfg), x, y,
                          meta={"gan_config": {}, "seed": 0, "iterations": 1, "data_source": ds.source,
                                "dataset_fingerprint": ds.fingerprint, "gan_train_splits": ["xsub", "xview"],
                                "gan_train_indices": experiments.gan_training_indices(ds, cfg).tolist()})


@pytest.mark.parametrize("protocol", ["clean", "paper"])
def test_hybrid_training_records_protocol_fraction_and_real_only_accuracy(cfg, protocol):
    ds = _dataset()
    _write_synthetic(cfg)
    real = experiments.split_arrays(ds, "xsub", cfg)
    res = experiments.train_recogniser(cfg, "cnn3d_lstm", "xsub", ds, protocol=protocol, fraction=0.5)
    path = config.artifacts_dir(cfg, "results") / f"cnn3d_lstm_xsub_{protocol}-f050.json"
    on_disk = json.loads(path.read_text())
    assert on_disk["protocol"] == protocol and on_disk["gan_fraction"] == 0.5 and on_disk["seed"] == 3
    n_syn = on_disk["hybrid"]["n_synthetic"]
    per_class = 5  # fraction 0.5 of the 10 generated samples per class
    if protocol == "clean":
        # the same generated training share as the paper protocol (80%), none in val or test
        assert n_syn == {"train": 7 * round(hybrid.PAPER_SPLIT[0] * per_class), "val": 0, "test": 0}
        assert on_disk["n_test"] == len(real["y_test"])
        assert on_disk["test_accuracy_real"] == pytest.approx(on_disk["test_accuracy"])
    else:
        assert sum(n_syn.values()) == 7 * per_class
        assert n_syn["test"] > 0 and on_disk["n_test_synthetic"] == n_syn["test"]
        assert on_disk["n_test"] == len(real["y_test"]) + n_syn["test"]
        pred = np.asarray(on_disk["test_predictions"])[:len(real["y_test"])]
        assert on_disk["test_accuracy_real"] == pytest.approx(float((pred == real["y_test"]).mean()))
    assert res["test_accuracy"] == on_disk["test_accuracy"]


def test_second_seed_writes_its_own_file_and_real_only_ignores_fraction(cfg):
    ds = _dataset()
    experiments.train_recogniser(cfg, "cnn3d_lstm", "xview", ds, seed=4, protocol="real-only", fraction=0.7)
    path = config.artifacts_dir(cfg, "results") / "cnn3d_lstm_xview_seed4.json"
    r = json.loads(path.read_text())
    assert (r["seed"], r["protocol"], r["gan_fraction"], r["split"]) == (4, "real-only", 0.0, "xview")
    assert set(r["per_class_accuracy"]) == set(CLASS_NAMES)


def test_profile_gan_config_overrides_preset(cfg):
    from skelutils import gan
    base, run = gan.gan_preset("cpu30")
    got, got_run = experiments.profile_gan_config({**cfg, "gan": {"preset": "cpu30"}})
    assert got == base and got_run == run
    got, _ = experiments.profile_gan_config({**cfg, "gan": {"preset": "cpu30",
                                                            "config": {"aux_weight": 0, "output": "joints"}}})
    assert got.aux_weight == 0 and got.output == "joints" and got.g_channels == base.g_channels
    with pytest.raises(ValueError, match=r"gan.config.*unknown fields \['latent'\]"):
        experiments.profile_gan_config({**cfg, "gan": {"preset": "cpu30", "config": {"latent": 3}}})
    with pytest.raises(ValueError, match=r"gan.config.*output='x'"):
        experiments.profile_gan_config({**cfg, "gan": {"preset": "cpu30", "config": {"output": "x"}}})


def test_results_file_is_written_once_and_complete(cfg, monkeypatch):
    writes = []
    real_write = config.write_json

    def recording_write(path, obj):
        writes.append((str(path), dict(obj)))
        return real_write(path, obj)

    monkeypatch.setattr(config, "write_json", recording_write)
    monkeypatch.setattr("skelutils.train.write_json", recording_write)
    res = experiments.train_recogniser(cfg, "cnn3d_lstm", "xsub", _dataset())
    path = str(config.artifacts_dir(cfg, "results") / "cnn3d_lstm_xsub.json")
    to_results = [obj for p, obj in writes if p == path]
    assert len(to_results) == 1, "a kill between two writes would leave a file without test_accuracy_real"
    assert {"test_accuracy_real", "n_test_synthetic", "history", "test_accuracy"} <= to_results[0].keys()
    from skelutils import results
    results.validate_run(json.loads(open(path).read()), path, profile="unit")
    assert res["test_accuracy_real"] == to_results[0]["test_accuracy_real"]


def test_the_engine_imports_nothing_from_the_layers_above_it():
    import ast
    from pathlib import Path

    from skelutils import train
    tree = ast.parse(Path(train.__file__).read_text())
    body = [n for n in tree.body if not (isinstance(n, ast.If) and "__main__" in ast.unparse(n.test))]
    names = set()
    for node in (n for top in body for n in ast.walk(top)):
        if isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    assert not {n for n in names if n.startswith(("skelutils.experiments", "skelutils.run"))}, names


def test_command_line_trains_through_the_profile_and_checks_it(cfg, tmp_path, capsys):
    import yaml

    from skelutils import run
    ds = _dataset()
    ds.save(tmp_path / "ds.npz")
    profile = tmp_path / "unit.yaml"
    profile.write_text(yaml.safe_dump(cfg))
    args = ["--model", "cnn3d_lstm", "--profile", str(profile), "--dataset", str(tmp_path / "ds.npz"),
            "--device", "cpu", "--no-progress"]
    assert run.main(args) == 0
    assert "cnn3d_lstm xsub: test accuracy" in capsys.readouterr().out
    on_disk = json.loads((config.artifacts_dir(cfg, "results") / "cnn3d_lstm_xsub.json").read_text())
    assert on_disk["dataset_path"] == str(tmp_path / "ds.npz") and on_disk["epochs"] == 1
    with pytest.raises(config.ProfileError, match=r"overrides: train\.device is 'gpu'.*'cuda:<index>'"):
        run.main(args[:-3] + ["--device", "gpu"])
    with pytest.raises(FileNotFoundError, match="01_data.ipynb"):
        run.main(["--model", "cnn3d_lstm", "--profile", str(profile), "--dataset", str(tmp_path / "no.npz")])


def test_ablation_plan_repeats_the_grid_for_each_seed_and_cells_average_them():
    cfg = config.load_profile("cpu30")
    plan = experiments.ablation_plan(cfg)
    seeds = experiments.ablation_seeds(cfg)
    assert seeds == [0, 1, 2]
    per_seed = [p for p in plan if p["seed"] == 0]
    assert len(plan) == len(seeds) * len(per_seed) == 3 * 2 * (1 + 2 * 1)
    rows = []
    for p in plan:  # made-up accuracies: the paper protocol adds 2 points on real data, clean 1
        add = {"real-only": 0.0, "paper": 0.02, "clean": 0.01}[p["protocol"]]
        acc = 0.5 + 0.01 * p["seed"] + add
        rows.append({**p, "test_accuracy": acc + 0.1 * (p["protocol"] == "paper"), "test_accuracy_real": acc})
    cells = experiments.ablation_cells(rows)
    assert len(cells) == len(per_seed)
    base = next(c for c in cells if c["protocol"] == "real-only" and c["split"] == "xsub")
    assert base["seeds"] == [0, 1, 2] and base["test_accuracy_real_mean"] == pytest.approx(0.51)
    assert base["test_accuracy_real_std"] == pytest.approx(0.01)
    gains = experiments.ablation_gains(rows)
    assert gains["paper"]["real"] == pytest.approx(2.0) and gains["clean"]["real"] == pytest.approx(1.0)
    assert gains["paper"]["own"] == pytest.approx(12.0) and gains["paper"]["n"] == 3 * 2 * 1
    # one seed: no spread
    one = experiments.ablation_cells([r for r in rows if r["seed"] == 0])
    assert all(c["test_accuracy_std"] is None for c in one)
