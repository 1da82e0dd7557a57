"""The committed results of benchmarks that CI cannot afford: schema, provenance, consistency."""
import json
import re

import pytest

from skelutils import config

PAPER_SCALE = config.repo_root() / "book" / "data" / "paper_scale.json"
MODELS = ("cnn3d_lstm", "li2017_cnn", "rrn_lstm")


@pytest.fixture(scope="module")
def scale():
    if not PAPER_SCALE.is_file():
        pytest.fail(f"{PAPER_SCALE} is missing: run `.venv/bin/python benchmarks/bench_paper_scale.py`",
                    pytrace=False)
    return json.loads(PAPER_SCALE.read_text())


def test_paper_scale_has_its_provenance(scale):
    assert scale["schema"] == "skelutils.paper_scale/1" and scale["profile"] == "full"
    prov = scale["provenance"]
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?|unknown", prov["git_commit"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", prov["date"])
    assert re.match(r"\d+\.\d+", prov["torch_version"])
    assert prov["machine"]["cpu"] and prov["machine"]["threads"] >= 1
    assert "bench_paper_scale.py" in prov["command"]


def test_paper_scale_measures_every_model_and_the_gan_at_the_profile_sizes(scale):
    full = config.load_profile("full")
    meas = scale["measured"]
    assert set(meas) == {*MODELS, "gan"}
    for name in MODELS:
        m = meas[name]
        assert (m["batch_size"], m["frames"]) == (full["train"]["batch_size"], full["data"]["frames"])
        assert m["train_step_flops"] > 2 * m["forward_flops_per_sample"] * m["batch_size"]  # backward costs more
        assert m["step_seconds_cpu"] > 0 and m["peak_memory_mb_cpu"] > 0 and m["params"] > 0
    g = meas["gan"]
    assert g["preset"] == full["gan"]["preset"]
    parts = g["critic_update_flops_parts"]
    assert g["critic_update_flops"] == pytest.approx(sum(parts.values()))
    assert g["critic_update_counted_directly"] is not True  # else the parts are not needed: count it directly


def test_paper_scale_projection_is_consistent(scale):
    proj = scale["projection"]
    assert proj["runs"] == sum(proj["runs_by_notebook"].values()) > 0
    for name, g in proj["gpus"].items():
        assert 0 < g["assumed_utilisation"] <= 1
        assert g["hours_1_gpu"] >= g["hours_1_gpu_compute_only"] > 0
        # eight GPUs are faster than one, never more than eight times, and never below the GAN on one
        assert g["hours_1_gpu"] / 8 <= g["hours_8_gpus"] * (1 + 1e-9) and g["hours_8_gpus"] < g["hours_1_gpu"]
        assert g["hours_8_gpus"] >= g["gan_hours"]
    assert set(scale["assumptions"]) >= {"utilisation", "launch_us_per_op", "why", "gan_double_backward"}
    disk = scale["disk"]
    assert disk["checkpoint_writes_tb_upper_bound"] < disk["checkpoint_writes_tb_every_epoch_before"]
    assert disk["disk_needed_gb"] > disk["checkpoints_resident_gb"] > 0
