"""skelutils.chapters: what makes each training chapter its own, and the layer tables (Fig. 5)."""
import pytest
import torch

from skelutils import chapters, config, models


def test_one_chapter_per_model_in_the_book_s_order():
    assert list(chapters.CHAPTERS) == list(models.MODEL_NAMES)
    assert [c.name[:2] for c in chapters.CHAPTERS.values()] == ["03", "04", "05"]
    assert all(c.title.startswith(c.name[:2] + " - ") for c in chapters.CHAPTERS.values())
    assert [c.experiment for c in chapters.CHAPTERS.values()] == [1, 2, 3]
    with pytest.raises(ValueError, match="cnn3d_lstm"):
        chapters.chapter("resnet")


@pytest.mark.parametrize("model", models.MODEL_NAMES)
def test_intro_and_choices_are_the_model_s_own(model):
    intro = chapters.intro_markdown(model)
    assert f"Experiment {chapters.chapter(model).experiment}" in intro and "Section" in intro
    table = chapters.choices_markdown(model)
    rows = [r for r in models.AMBIGUITIES if r["model"] == model]
    assert table.count("\n") == len(rows) + 1
    assert all(r["topic"] in table for r in rows)


@pytest.mark.parametrize("model", models.MODEL_NAMES)
def test_layer_table_counts_every_parameter_once(model):
    params = config.load_profile("smoke")["models"][model]["params"]
    net = models.build_model(model, seed=0, **params)
    state = torch.random.get_rng_state()
    rows = chapters.layer_rows(net, frames=32, depth=2)
    assert torch.equal(state, torch.random.get_rng_state()), "the layer table must not draw random numbers"
    assert net.training, "the model's mode is restored"
    total = models.describe(net)["params"]
    top = sum(r["params"] for r in rows if r["depth"] == 1)
    assert top == total, f"{model}: the top-level layers hold {top} parameters, the model {total}"
    assert all(r["output"] != "" for r in rows)
    text = chapters.layer_table_markdown(net, frames=32)
    assert f"**{total:,}**" in text


def test_layer_table_shows_the_output_shapes():
    net = models.build_model("cnn3d_lstm", seed=0, filters=(8, 16, 32, 64), lstm_hidden=64, proj=64, fc=32)
    rows = {r["layer"]: r for r in chapters.layer_rows(net, frames=32)}
    assert rows["classifier"]["output"] == "1 × 7"
    assert rows["lstm"]["output"] == "1 × 4 × 128"  # T / 8 steps, two directions of 64


def test_training_profile_applies_only_what_is_given():
    base = config.load_profile("smoke")
    cfg = chapters.training_profile("smoke")
    assert cfg["seeds"] == base["seeds"] and cfg["hybrid"] == base["hybrid"]
    cfg = chapters.training_profile("smoke", seeds=[3], protocol="clean", fraction=0.5)
    assert cfg["seeds"] == [3] and cfg["hybrid"] == {"protocol": "clean", "fraction": 0.5}


def test_numbers_for_people():
    assert chapters.fmt_int(805399) == "805,399" and chapters.fmt_int(7) == "7"
