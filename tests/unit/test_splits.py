"""Tests of skelutils.splits: the three NTU protocols and their validation sets."""
import numpy as np
import pytest

from skelutils.splits import (
    PERFORMANCE_FIELDS, XSUB_TRAIN_PERFORMERS, make_split, named_splits, parse_split_name,
    performance_ids, split_name,
)

#: NTU RGB+D 120's cross-subject training performers as its paper (Liu et al. 2019) lists them.
PUBLISHED_XSUB_TRAIN = ("1 2 4 5 8 9 13 14 15 16 17 18 19 25 27 28 31 34 35 38 45 46 47 49 50 52 53 54 55 56 57 58 59 "
                        "70 74 78 80 81 82 83 84 85 86 89 91 92 93 94 95 97 98 100 103")


def _meta(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    return {"performer": rng.integers(1, 107, n), "camera": rng.integers(1, 4, n),
            "setup": rng.integers(1, 33, n), "action": rng.choice([50, 51, 52, 106, 107, 108, 110], n)}


ACTIONS = (50, 51, 52, 106, 107, 108, 110)


def _ntu_meta(seed=0, setups=range(1, 33), performers_per_setup=4, drop=0.02):
    """NTU-like metadata: each setup has its performers, each performs every action twice
    (replications 1, 2), each performance is filmed by cameras 1-3; a few clips are missing
    (NTU's samples without a skeleton) and the rows are shuffled."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in setups:
        for p in rng.choice(np.arange(1, 107), size=performers_per_setup, replace=False):
            for a in ACTIONS:
                for r in (1, 2):
                    for c in (1, 2, 3):
                        rows.append((s, c, p, r, a))
    rows = np.array(rows, np.int64)
    rows = rows[rng.random(len(rows)) >= drop]
    rows = rows[rng.permutation(len(rows))]
    return dict(zip(("setup", "camera", "performer", "replication", "action"), rows.T))


def _performances(meta, idx):
    return {tuple(int(meta[f][i]) for f in PERFORMANCE_FIELDS) for i in idx}


@pytest.mark.parametrize("protocol", ["xsub", "xview", "xset"])
@pytest.mark.parametrize("seed", [0, 1])
def test_no_performance_is_on_both_sides(protocol, seed):
    meta = _ntu_meta(seed=seed)
    sp = make_split(meta, protocol, val_fraction=0.1, seed=seed)
    train, val, test = (_performances(meta, sp[k]) for k in ("train", "val", "test"))
    assert len(val) > 0.05 * len(train | val)
    assert not train & val                       # the twins of a validation clip are not in train
    if protocol == "xview":
        # the protocol itself tests on camera 1 of the training performances (a few clips
        # are missing, so nearly all of them, not all)
        assert len((train | val) & test) > 0.9 * len(test)
    else:
        assert not (train | val) & test
    # every clip of a validation performance on the training cameras is in validation
    cams = {"xview": {2, 3}, "xset": {1, 2, 3}}.get(protocol)
    if cams:
        in_val = np.isin(np.arange(len(meta["camera"])), sp["val"])
        for key in list(val)[:50]:
            same = np.all([meta[f] == v for f, v in zip(PERFORMANCE_FIELDS, key)], axis=0)
            assert in_val[same & np.isin(meta["camera"], list(cams))].all()


def test_old_per_sample_draw_would_leak_twins():
    # what the performance grouping guards against: a per-sample draw of 10% of the xview
    # training clips leaves the other camera's twin of most validation clips in training
    meta = _ntu_meta()
    train_side = np.flatnonzero(np.isin(meta["camera"], (2, 3)))
    val = np.random.default_rng(0).choice(train_side, size=len(train_side) // 10, replace=False)
    train = np.setdiff1d(train_side, val)
    shared = _performances(meta, train) & _performances(meta, val)
    assert len(shared) > 0.8 * len(_performances(meta, val))


@pytest.mark.parametrize("protocol", ["xview", "xset"])
def test_val_is_stratified_by_class_over_performances(protocol):
    meta = _ntu_meta()
    sp = make_split(meta, protocol, val_fraction=0.2, seed=4)
    pid = performance_ids(meta)
    side = np.concatenate([sp["train"], sp["val"]])
    for a in ACTIONS:
        of_a = side[meta["action"][side] == a]
        n_perf = len(np.unique(pid[of_a]))
        n_val = len(np.unique(pid[sp["val"][meta["action"][sp["val"]] == a]]))
        assert n_val == round(0.2 * n_perf)


def test_performance_ids():
    meta = {"setup": np.array([1, 1, 1, 2, 1]), "camera": np.array([1, 2, 3, 1, 1]),
            "performer": np.array([5, 5, 5, 5, 5]), "replication": np.array([1, 1, 1, 1, 2]),
            "action": np.array([50, 50, 50, 50, 50])}
    np.testing.assert_array_equal(performance_ids(meta), [0, 0, 0, 1, 2])
    # without the fields each sample stands alone
    np.testing.assert_array_equal(performance_ids({"camera": np.array([1, 2, 3])}, n=3), [0, 1, 2])
    with pytest.raises(ValueError, match="pass n"):
        performance_ids({"camera": np.array([1, 2])})


def test_xsub_list_is_the_ntu120_csub_list():
    assert XSUB_TRAIN_PERFORMERS == tuple(int(v) for v in PUBLISHED_XSUB_TRAIN.split())


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


def test_xview_cameras():
    meta = _meta()
    sp = make_split(meta, "xview", val_fraction=0.2, seed=1)
    cam = meta["camera"]
    assert set(cam[sp["test"]]) == {1}
    assert set(cam[sp["train"]]) | set(cam[sp["val"]]) == {2, 3}


def test_xset_even_setups_train():
    meta = _meta()
    sp = make_split(meta, "xset")
    assert np.all(meta["setup"][sp["test"]] % 2 == 1)
    assert np.all(meta["setup"][np.concatenate([sp["train"], sp["val"]])] % 2 == 0)


@pytest.mark.parametrize("protocol", ["xsub", "xview", "xset"])
def test_deterministic_for_a_seed(protocol):
    meta = _ntu_meta()
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
