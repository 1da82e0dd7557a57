"""Tests of skelutils.splits: the three NTU protocols and their validation sets."""
import numpy as np
import pytest

from skelutils.splits import (
    XSUB_TRAIN_PERFORMERS, make_split, named_splits, parse_split_name, split_name,
)

SPEC_LIST = ("1 2 4 5 8 9 13 14 15 16 17 18 19 25 27 28 31 34 35 38 45 46 47 49 50 52 53 54 55 56 57 58 59 "
             "70 74 78 80 81 82 83 84 85 86 89 91 92 93 94 95 97 98 100 103")


def _meta(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    return {"performer": rng.integers(1, 107, n), "camera": rng.integers(1, 4, n),
            "setup": rng.integers(1, 33, n), "action": rng.choice([50, 51, 52, 106, 107, 108, 110], n)}


def test_xsub_list_is_the_ntu120_csub_list():
    assert XSUB_TRAIN_PERFORMERS == tuple(int(v) for v in SPEC_LIST.split())


@pytest.mark.parametrize("protocol", ["xsub", "xview", "xset"])
def test_parts_are_disjoint_and_cover_everything(protocol):
    meta = _meta()
    sp = make_split(meta, protocol, val_fraction=0.1, seed=0)
    assert set(sp) == {"train", "val", "test"}
    allidx = np.concatenate([sp["train"], sp["val"], sp["test"]])
    assert len(allidx) == len(meta["camera"])
    np.testing.assert_array_equal(np.sort(allidx), np.arange(len(meta["camera"])))
    assert all(len(sp[k]) > 0 for k in sp)
    assert all(np.all(np.diff(sp[k]) > 0) for k in sp)        # sorted, no repeats


def test_xsub_test_performers_are_exactly_those_not_listed_and_val_is_from_train():
    meta = _meta()
    sp = make_split(meta, "xsub", val_fraction=0.1, seed=3)
    perf = meta["performer"]
    assert set(perf[sp["test"]]) == set(perf) - set(XSUB_TRAIN_PERFORMERS)
    val_p, train_p = set(perf[sp["val"]]), set(perf[sp["train"]])
    assert val_p <= set(XSUB_TRAIN_PERFORMERS)
    assert not val_p & train_p                                  # whole performers held out
    assert len(val_p) == round(0.1 * len(val_p | train_p))


def test_xsub_val_holds_at_least_one_performer_and_zero_fraction_gives_empty_val():
    meta = {"performer": np.array([1, 1, 2, 2, 3]), "action": np.array([50] * 5)}
    sp = make_split(meta, "xsub", val_fraction=0.01)
    assert len(set(meta["performer"][sp["val"]])) == 1
    assert len(make_split(meta, "xsub", val_fraction=0.0)["val"]) == 0


def test_xview_cameras_and_stratified_val():
    meta = _meta()
    sp = make_split(meta, "xview", val_fraction=0.2, seed=1)
    cam = meta["camera"]
    assert set(cam[sp["test"]]) == {1}
    assert set(cam[sp["train"]]) | set(cam[sp["val"]]) == {2, 3}
    train_side = np.concatenate([sp["train"], sp["val"]])
    for a in np.unique(meta["action"]):
        n_a = int((meta["action"][train_side] == a).sum())
        assert int((meta["action"][sp["val"]] == a).sum()) == round(0.2 * n_a)


def test_xset_even_setups_train():
    meta = _meta()
    sp = make_split(meta, "xset")
    assert np.all(meta["setup"][sp["test"]] % 2 == 1)
    assert np.all(meta["setup"][np.concatenate([sp["train"], sp["val"]])] % 2 == 0)


@pytest.mark.parametrize("protocol", ["xsub", "xview", "xset"])
def test_deterministic_for_a_seed(protocol):
    meta = _meta()
    a, b = make_split(meta, protocol, seed=7), make_split(meta, protocol, seed=7)
    c = make_split(meta, protocol, seed=8)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["val"], c["val"])


def test_errors_and_names():
    with pytest.raises(ValueError, match="xsub, xview, xset"):
        make_split(_meta(), "cross-subject")
    with pytest.raises(ValueError, match="val_fraction"):
        make_split(_meta(), "xsub", val_fraction=1.0)
    with pytest.raises(KeyError, match="camera"):
        make_split({"performer": np.arange(3)}, "xview")
    names = named_splits(_meta(), ("xsub", "xview"))
    assert sorted(names) == sorted(f"{p}_{q}" for p in ("xsub", "xview") for q in ("train", "val", "test"))
    assert split_name("xset", "val") == "xset_val" and parse_split_name("xview_train") == ("xview", "train")
    with pytest.raises(ValueError):
        parse_split_name("xsub_dev")
