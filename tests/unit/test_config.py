"""Profiles, paths, seeding, atomic writes and the paper data file."""
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from skelutils import config, paper


def test_profiles_load_and_differ():
    smoke, full = config.load_profile("smoke"), config.load_profile("full")
    assert smoke["name"] == "smoke" and full["name"] == "full"
    assert full["data"]["frames"] == 64
    assert smoke["data"]["frames"] <= full["data"]["frames"]


#: The only fields in which full-dry may differ from full: amounts (data, epochs, steps, GAN
#: updates, generated samples, stream length), never what decides code paths or memory.
DRY_RUN_AMOUNTS = {
    ("name",), ("extends",), ("data", "simulator_size"), ("data", "workers"), ("train", "epochs"),
    ("train", "max_steps_per_epoch"), ("gan", "iterations"), ("gan", "n_per_class"), ("ablation", "epochs"),
    ("realtime", "epochs"), ("realtime", "stream_s"),
    ("realtime", "early_clips"),
}


def _leaves(d, prefix=()):
    for k, v in d.items():
        if isinstance(v, dict) and v:
            yield from _leaves(v, prefix + (k,))
        else:
            yield prefix + (k,), v


def test_full_dry_differs_from_full_in_amounts_only():
    full, dry = config.load_profile("full"), config.load_profile("full-dry")
    a, b = dict(_leaves(full)), dict(_leaves(dry))
    differ = {k for k in a.keys() | b.keys() if a.get(k, "<absent>") != b.get(k, "<absent>")}
    assert differ <= DRY_RUN_AMOUNTS, f"full-dry changes more than amounts: {sorted(differ - DRY_RUN_AMOUNTS)}"
    assert dry["name"] == "full-dry" and dry["extends"] == "full"
    # what a GPU run must not be the first to try: the paper's models, T, batch, GAN, grid, seeds
    for key in ("models", "seeds", "hybrid", "stream"):
        assert dry[key] == full[key]
    assert (dry["data"]["frames"], dry["train"]["batch_size"], dry["gan"]["preset"]) == (64, 16, "kinetic_gan")
    assert dry["ablation"]["fractions"] == full["ablation"]["fractions"]
    assert dry["train"]["epochs"] < full["train"]["epochs"] and dry["gan"]["iterations"] < 100


def test_full_dry_is_derived_not_copied():
    text = (config.repo_root() / "profiles" / "full-dry.yaml").read_text()
    assert re.search(r"^extends: full$", text, re.M)
    assert "models:" not in text and "seeds:" not in text  # inherited, so a change to full reaches it


def test_extends_merges_over_the_base_and_refuses_cycles(tmp_path):
    (tmp_path / "base.yaml").write_text((config.repo_root() / "profiles" / "smoke.yaml").read_text())
    (tmp_path / "child.yaml").write_text("extends: base.yaml\ntrain: {epochs: 2}\nseeds: [4]\n")
    child = config.load_profile(str(tmp_path / "child.yaml"))
    smoke = config.load_profile("smoke")
    assert child["name"] == "child" and child["train"]["epochs"] == 2 and child["seeds"] == [4]
    assert child["train"]["batch_size"] == smoke["train"]["batch_size"]  # a section merges field by field
    assert child["models"] == smoke["models"]
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(config.ProfileError, match="cycle"):
        config.load_profile(str(tmp_path / "a.yaml"))
    (tmp_path / "typo.yaml").write_text("extends: base.yaml\ntrain: {epochz: 2}\n")
    with pytest.raises(config.ProfileError, match="epochz"):
        config.load_profile(str(tmp_path / "typo.yaml"))


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


# ----------------------------------------------------------------------------- profile schema


def test_committed_profiles_are_listed_and_pass_the_schema():
    on_disk = {p.stem for p in (config.repo_root() / "profiles").glob("*.yaml")}
    assert set(config.PROFILES) == on_disk
    for name in config.PROFILES:
        cfg = config.load_profile(name)
        assert cfg["name"] == name
        assert config.check_profile(cfg, name) is cfg


def _profile_file(tmp_path, edit):
    cfg = yaml.safe_load((config.repo_root() / "profiles" / "smoke.yaml").read_text())
    edit(cfg)
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _rename(section, old, new):
    def edit(cfg):
        cfg[section][new] = cfg[section].pop(old)
    return edit


def _set(*keys, value):
    def edit(cfg):
        node = cfg
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return edit


@pytest.mark.parametrize("edit,field,expect", [
    (_rename("train", "batch_size", "batchsize"), "train.batchsize", r"did you mean 'batch_size'.*'epochs'"),
    (_set("train", "epochs", value="forty"), "train.epochs", r"'forty' \(a string\); expected an integer >= 1"),
    (_set("train", "device", value="gpu"), "train.device", r"one of \['auto', 'cpu', 'cuda', 'cuda:<index>'\]"),
    (_rename("models", "rrn_lstm", "rrn"), "models.rrn", r"\['cnn3d_lstm', 'li2017_cnn', 'rrn_lstm'\]"),
    (_set("data", "actor_method", value="biggest"), "data.actor_method", r"one of \[.*'motion'.*\]"),
    (_set("gan", "config", value={"latent": 3}), "gan.config.latent", r"did you mean 'latent_dim'"),
    (_set("gan", "config", value={"output": "pixels"}), "gan.config", r"valid GANConfig.*output='pixels'"),
    (_set("models", "cnn3d_lstm", "params", "lstm_hiden", value=3), "models.cnn3d_lstm.params.lstm_hiden",
     r"did you mean 'lstm_hidden'"),
    (_set("models", "rrn_lstm", "optimizer", value="adamw"), "models.rrn_lstm.optimizer", r"\['adam', 'sgd'\]"),
    (_set("data", "val_fraction", value=1.0), "data.val_fraction", r"from 0 to 1 \(excluded\)"),
    (lambda cfg: cfg["data"].pop("frames"), "data.frames", r"is missing; expected an integer"),
    (_set("seeds", value=[0, "1"]), r"seeds\[1\]", r"'1' \(a string\)"),
])
def test_a_bad_profile_names_file_field_and_allowed_values(tmp_path, edit, field, expect):
    path = _profile_file(tmp_path, edit)
    with pytest.raises(config.ProfileError) as e:
        config.load_profile(str(path))
    msg = str(e.value)
    assert msg.startswith(f"profile {path}: ") and "\n" not in msg, msg
    assert re.search(rf"{field} .*{expect}.*edit mine\.yaml\.$", msg), msg


def test_several_problems_are_listed_together(tmp_path):
    def edit(cfg):
        _rename("train", "batch_size", "batchsize")(cfg)
        cfg["train"]["epochs"] = "forty"
    with pytest.raises(config.ProfileError) as e:
        config.load_profile(str(_profile_file(tmp_path, edit)))
    lines = str(e.value).splitlines()
    assert lines[0].startswith("2 problems with profile") and len(lines) == 3
    assert "train.epochs" in lines[1] + lines[2] and "train.batchsize" in lines[1] + lines[2]


@pytest.mark.parametrize("overrides,field,param,expect", [
    ({"seeds": "0,1"}, "seeds", "SEEDS", r"'0,1' \(a string\); expected a non-empty list .* \[0, 1\]"),
    ({"seeds": 3}, "seeds", "SEEDS", r"3 \(an integer\); expected a non-empty list"),
    ({"seeds": []}, "seeds", "SEEDS", r"expected a non-empty list"),
    ({"gan": {"iterations": 0}}, "gan.iterations", "ITERATIONS", r"expected an integer >= 1 or null"),
    ({"hybrid": {"fraction": 50}}, "hybrid.fraction", "GAN_FRACTION", r"from 0 to 1"),
    ({"hybrid": {"protocol": "mixed"}}, "hybrid.protocol", "HYBRID_PROTOCOL", r"'real-only', 'paper', 'clean'"),
    ({"data": {"source": "kinect"}}, "data.source", "DATA_SOURCE", r"\['simulated', 'ntu'\]"),
])
def test_overrides_are_checked_and_named_as_such(overrides, field, param, expect):
    with pytest.raises(config.ProfileError) as e:
        config.load_profile("smoke", overrides)
    msg = str(e.value)
    assert msg.startswith(f"profile 'smoke', overrides (notebook parameter {param}): {field} is "), msg
    assert re.search(expect, msg) and msg.endswith(f"change {param} or the overrides passed to load_profile."), msg


def test_an_unknown_override_is_refused_but_good_ones_pass():
    with pytest.raises(config.ProfileError, match=r"overrides: train\.epoch is not a known field \(did you mean 'epochs'"):
        config.load_profile("smoke", {"train": {"epoch": 3}})
    cfg = config.load_profile("smoke", {"seeds": [4], "seed": np.int64(2), "gan": {"iterations": None},
                                        "train": {"device": "cuda:1"}, "hybrid": {"fraction": 1}})
    assert cfg["seeds"] == [4] and type(cfg["seed"]) is int and cfg["train"]["device"] == "cuda:1"


def test_allowed_values_are_read_from_the_module_that_defines_them(tmp_path, monkeypatch):
    from skelutils import prepare
    path = _profile_file(tmp_path, _set("data", "actor_method", value="tallest"))
    with pytest.raises(config.ProfileError, match="actor_method"):
        config.load_profile(str(path))
    monkeypatch.setattr(prepare, "ACTOR_METHODS", prepare.ACTOR_METHODS + ("tallest",))
    assert config.load_profile(str(path))["data"]["actor_method"] == "tallest"


def test_yaml_exponent_without_a_dot_is_read_as_a_number(tmp_path):
    path = tmp_path / "e.yaml"
    text = (config.repo_root() / "profiles" / "smoke.yaml").read_text()
    path.write_text(re.sub(r"weight_decay_fc: \S+", "weight_decay_fc: 1e-4", text))
    assert yaml.safe_load(path.read_text())["train"]["weight_decay_fc"] == "1e-4"  # PyYAML's YAML 1.1
    assert config.load_profile(str(path))["train"]["weight_decay_fc"] == pytest.approx(1e-4)


def test_an_installed_copy_finds_its_profiles_outside_a_checkout(tmp_path):
    """``pip install .`` (not editable), then the package used from a folder that is no checkout."""
    import shutil
    import subprocess
    import sys
    pytest.importorskip("setuptools")
    root, src = config.repo_root(), tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(root / "skelutils", src / "skelutils", ignore=ignore)
    shutil.copytree(root / "profiles", src / "profiles", ignore=ignore)
    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(site), str(src)], check=True, capture_output=True, timeout=300)
    assert sorted(p.name for p in (site / "skelutils" / "profiles").iterdir()) == sorted(
        f"{n}.yaml" for n in config.PROFILES)
    assert (site / "skelutils" / "data" / "paper_results.json").is_file()
    code = ("from skelutils import config, paper; import json; "
            "print(json.dumps([config.load_profile(n)['name'] for n in config.PROFILES] "
            "+ [str(config.profile_path('smoke')), str(config.repo_root()), paper.table1('cnn3d_lstm', 'xsub')]))")
    env = {k: v for k, v in os.environ.items() if k not in ("SKELUTILS_ROOT", "SKELUTILS_ARTIFACTS")}
    env["PYTHONPATH"] = str(site)
    out = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, check=True, capture_output=True,
                         text=True, timeout=120).stdout
    got = json.loads(out)
    n = len(config.PROFILES)  # full-dry, which extends full, is found there too
    assert got[:n] == list(config.PROFILES)
    assert got[n] == str(site / "skelutils" / "profiles" / "smoke.yaml")
    assert got[n + 1] == str(elsewhere.resolve())  # artifacts go under the working folder, not site-packages
    assert got[n + 2] == paper.table1("cnn3d_lstm", "xsub")
