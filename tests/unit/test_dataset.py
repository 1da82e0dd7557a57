"""Tests of skelutils.dataset (scan, cache, Dataset) and of the ``check`` command."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import skelutils.ntu as ntu
from skelutils.__main__ import EXIT_BAD_FOLDER, EXIT_USAGE, main
from skelutils.dataset import (
    actor_order_share, build_dataset, cache_key, cache_path, class_counts, list_skeleton_files, load_dataset,
    load_or_scan, official_missing_skeletons, scan_folder, scan_summary,
)
from skelutils.prepare import ACTOR_METHODS
from skelutils.ntu import Skeleton, write_skeleton

GOOD = ["S001C001P001R001A050", "S001C002P002R001A051", "S018C003P008R002A106", "S020C001P003R001A110"]


def _sample(seed, frames=12, bodies=2):
    rng = np.random.default_rng(seed)
    s = Skeleton.empty_like(frames, bodies)
    # taller than wide, like a person (the spread test of the default denoising keeps it)
    s.xyz[:] = rng.normal(0, [0.05, 0.4, 0.1], s.xyz.shape).astype(np.float32) + np.array([0, 0, 3], np.float32)
    s.present[:] = True
    return s


@pytest.fixture
def raw(tmp_path):
    """A tiny download: 4 good samples (one nested, one with a noise body), one empty, one
    malformed, one other action, one non-NTU name."""
    d = tmp_path / "raw"
    for i, name in enumerate(GOOD):
        sub = d / "nturgb+d_skeletons" if i == 2 else d
        write_skeleton(sub / f"{name}.skeleton", _sample(i, frames=10 + i, bodies=3 if i == 3 else 2))
    write_skeleton(d / "S001C001P001R001A052.skeleton", Skeleton.empty_like(5, 0))    # no skeleton
    text = ntu.format_skeleton(_sample(9)).splitlines()
    (d / "S001C001P002R001A107.skeleton").write_text("\n".join(text[:40]) + "\n")    # truncated
    write_skeleton(d / "S001C001P001R001A001.skeleton", _sample(10))                  # drinking water
    (d / "notes.skeleton").write_text("hello\n")
    return d


def test_scan_reports_problems_and_filters_actions(raw):
    r = scan_folder(raw, workers=1, progress=False)
    assert r.names == sorted(GOOD)
    assert r.empty == ["S001C001P001R001A052"]
    assert [m[0] for m in r.malformed] == ["S001C001P002R001A107"]
    assert "S001C001P002R001A107" in r.malformed[0][1]                          # the message names the file
    assert r.not_ntu == ["notes.skeleton"] and r.n_other_actions == 1 and r.n_files == 8
    i = r.names.index("S020C001P003R001A110")
    assert (r.setup[i], r.camera[i], r.performer[i], r.action[i], r.label[i]) == (20, 1, 3, 110, 5)
    assert r.n_bodies_max[i] == 3 and r.n_noise_bodies[i] == 1 and r.n_frames[i] == 13
    assert all(s.dtype == np.float32 and s.shape[1:] == (2, 25, 3) for s in r.sequences)
    j = r.names.index("S001C001P001R001A050")
    np.testing.assert_array_equal(r.sequences[j], _sample(0, 10).xyz)


def test_two_workers_equal_one(raw):
    a = scan_folder(raw, workers=1, progress=False)
    b = scan_folder(raw, workers=2, progress=False)
    assert a.names == b.names and a.empty == b.empty and a.malformed == b.malformed
    for s, t in zip(a.sequences, b.sequences):
        np.testing.assert_array_equal(s, t)
    np.testing.assert_array_equal(a.n_noise_bodies, b.n_noise_bodies)


def test_scan_of_a_missing_folder_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        scan_folder(tmp_path / "nope", progress=False)


def test_cache_hit_reads_no_file_and_changes_invalidate(raw, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = load_or_scan(raw, cache, workers=1, progress=False)
    assert not first.from_cache

    def boom(*a, **k):
        raise AssertionError("a cache hit must not read skeleton files")

    real = ntu.read_skeleton
    monkeypatch.setattr(ntu, "read_skeleton", boom)
    hit = load_or_scan(raw, cache, workers=1, progress=False)
    assert hit.from_cache and hit.names == first.names
    assert hit.empty == first.empty and hit.malformed == first.malformed and hit.not_ntu == first.not_ntu
    for s, t in zip(first.sequences, hit.sequences):
        np.testing.assert_array_equal(s, t)
    np.testing.assert_array_equal(hit.n_frames, first.n_frames)

    # a changed parameter, a touched, an added and a removed file each force a rescan
    with pytest.raises(RuntimeError, match="must not read"):
        load_or_scan(raw, cache, actor_method="first", workers=1, progress=False)
    target = raw / f"{GOOD[0]}.skeleton"
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    with pytest.raises(RuntimeError, match="must not read"):
        load_or_scan(raw, cache, workers=1, progress=False)
    monkeypatch.setattr(ntu, "read_skeleton", real)
    assert not load_or_scan(raw, cache, workers=1, progress=False).from_cache
    write_skeleton(raw / "S002C001P001R001A050.skeleton", _sample(20))
    added = load_or_scan(raw, cache, workers=1, progress=False)
    assert not added.from_cache and "S002C001P001R001A050" in added.names
    (raw / "S002C001P001R001A050.skeleton").unlink()
    removed = load_or_scan(raw, cache, workers=1, progress=False)
    assert not removed.from_cache and removed.names == first.names
    assert load_or_scan(raw, cache, workers=1, progress=False).from_cache


def test_build_save_load_subset_reprepare(raw, tmp_path):
    ds = build_dataset(raw, tmp_path / "cache", "simulated", frames=8, workers=1, progress=False)
    assert ds.x.shape == (4, 2, 8, 25, 3) and ds.x.dtype == np.float32
    assert ds.y.dtype == np.int64 and sorted(ds.y.tolist()) == [0, 1, 3, 5]
    np.testing.assert_allclose(ds.x[:, 0, 0, 0], 0, atol=1e-6)       # centred on person 0's hip
    assert ds.meta["names"] == sorted(GOOD) and ds.empty == ["S001C001P001R001A052"]
    assert len(ds.malformed) == 1 and ds.prep["frames"] == 8
    other = build_dataset(raw, tmp_path / "cache", "simulated", frames=16, workers=1, progress=False)
    assert other.fingerprint != ds.fingerprint

    path = ds.save(tmp_path / "out" / "data.npz")
    assert path.with_suffix(".json").is_file()
    back = load_dataset(path)
    np.testing.assert_array_equal(back.x, ds.x)
    np.testing.assert_array_equal(back.y, ds.y)
    assert back.fingerprint == ds.fingerprint and back.prep == ds.prep and back.source == "simulated"
    np.testing.assert_array_equal(back.meta["performer"], ds.meta["performer"])
    assert all(np.array_equal(a, b) for a, b in zip(back.raw, ds.raw))

    sub = ds.subset([2, 0])
    assert sub.meta["names"] == [ds.meta["names"][2], ds.meta["names"][0]]
    np.testing.assert_array_equal(sub.x[1], ds.x[0])
    assert sub.fingerprint != ds.fingerprint

    x100 = ds.reprepare(frames=100, resample="random", rng=0)
    assert x100.shape == (4, 2, 100, 25, 3)
    assert not x100[0, :, 10:].any()                                    # 10 frames, zero padded
    np.testing.assert_array_equal(ds.reprepare(), ds.x)

    rows = class_counts(ds, {"train": np.array([0, 1]), "test": np.array([2, 3])})
    assert [r["total"] for r in rows] == [1, 1, 0, 1, 0, 1, 0]
    assert sum(r["train"] for r in rows) == 2 and rows[3]["action"] == "A050"


def test_load_dataset_missing_names_notebook(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"01_data\.ipynb"):
        load_dataset(tmp_path / "nothing.npz")
    with pytest.raises(ValueError, match="source"):
        build_dataset(tmp_path, None, "real", progress=False)


def test_check_prints_class_table_and_exits_0(raw, tmp_path, capsys):
    out_json = tmp_path / "report.json"
    assert main(["check", str(raw), "--workers", "1", "--quiet", "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert "A050" in out and "punch/slap" in out and "wield knife" in out
    assert "S001C001P001R001A052" in out and "S001C001P002R001A107" in out and "notes.skeleton" in out
    assert "VERDICT: OK" in out
    rep = json.loads(out_json.read_text())
    counts = {c["action"]: c["samples"] for c in rep["classes"]}
    assert counts["A050"] == 1 and counts["A107"] == 0 and rep["exit_code"] == 0
    assert {c["action"]: c["by_setup_range"] for c in rep["classes"]}["A106"]["S018-S032 (NTU 120 only)"] == 1


def test_check_exits_1_without_usable_classes(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["check", str(tmp_path / "empty"), "--quiet"]) == 1
    assert "NO USABLE SAMPLES" in capsys.readouterr().out


def test_check_exits_3_for_a_missing_folder(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "skelutils", "check", str(tmp_path / "missing")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == EXIT_BAD_FOLDER == 3
    assert "does not exist" in proc.stderr and "missing" in proc.stderr


def test_check_workers_0_is_a_usage_error_not_a_bad_folder(raw, capsys):
    for bad in ("0", "-1", "two"):
        with pytest.raises(SystemExit) as exc:
            main(["check", str(raw), "--workers", bad, "--quiet"])
        assert exc.value.code == EXIT_USAGE != EXIT_BAD_FOLDER
        assert "--workers" in capsys.readouterr().err


def test_build_dataset_on_a_folder_without_samples_says_what_it_saw(tmp_path):
    d = tmp_path / "wrong"
    write_skeleton(d / "S001C001P001R001A001.skeleton", _sample(1))               # another action
    write_skeleton(d / "S001C001P001R001A050.skeleton", Skeleton.empty_like(5, 0))  # punch/slap, empty
    (d / "readme.skeleton").write_text("x\n")
    with pytest.raises(ValueError) as exc:
        build_dataset(d, None, "ntu", workers=1, progress=False)
    msg = str(exc.value)
    assert "3 '.skeleton' file(s)" in msg and "1 of other NTU actions" in msg and "1 not named" in msg
    assert "A050 punch/slap: 1 (1 without a skeleton" in msg and "python -m skelutils check" in msg
    (tmp_path / "none").mkdir()
    with pytest.raises(ValueError, match=r"Saw 0 '\.skeleton' file.*python -m skelutils check"):
        build_dataset(tmp_path / "none", tmp_path / "cache", "ntu", workers=1, progress=False)


def test_official_missing_lists_and_check_report(tmp_path, capsys):
    off = official_missing_skeletons()
    assert len(off["ntu60"]) == 302 and len(off["ntu120"]) == 535 and set(off["ntu60"]) <= set(off["ntu120"])
    assert all(ntu.parse_sample_name(n) for n in off["ntu120"])
    d = tmp_path / "raw"
    listed_empty, listed_readable = "S006C002P016R001A051", "S029C003P051R002A110"   # both on the list
    assert {listed_empty, listed_readable} <= set(off["ntu120"])
    write_skeleton(d / f"{listed_empty}.skeleton", Skeleton.empty_like(5, 0))
    write_skeleton(d / f"{listed_readable}.skeleton", _sample(2, frames=20))
    write_skeleton(d / "S001C001P001R001A052.skeleton", Skeleton.empty_like(5, 0))   # empty, not listed
    rep = scan_summary(scan_folder(d, workers=1, progress=False))["official_missing"]
    assert rep["listed_present"] == sorted([listed_empty, listed_readable])
    assert rep["listed_present_empty"] == [listed_empty] and rep["listed_present_usable"] == [listed_readable]
    assert rep["empty_not_listed"] == ["S001C001P001R001A052"]
    assert rep["listed"] == sum(ntu.parse_sample_name(n).action in ntu.ACTION_IDS for n in off["ntu120"])
    assert main(["check", str(d), "--workers", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "empty here but not on the list: 1" in out and listed_readable in out


def test_cache_key_and_path_change_with_the_actor_method(raw, tmp_path):
    listing = list_skeleton_files(raw)
    keys = {m: cache_key(listing, ntu.ACTION_IDS, m) for m in ACTOR_METHODS}
    paths = {m: cache_path(raw, tmp_path, ntu.ACTION_IDS, m) for m in ACTOR_METHODS}
    assert len(set(keys.values())) == len(ACTOR_METHODS) and len(set(paths.values())) == len(ACTOR_METHODS)
    a = load_or_scan(raw, tmp_path, actor_method="ctrgcn", workers=1, progress=False)
    b = load_or_scan(raw, tmp_path, actor_method="motion", workers=1, progress=False)
    assert not a.from_cache and not b.from_cache and (a.actor_method, b.actor_method) == ("ctrgcn", "motion")
    assert load_or_scan(raw, tmp_path, actor_method="ctrgcn", workers=1, progress=False).from_cache


def test_default_scan_removes_frames_without_a_body(tmp_path):
    s = _sample(5, frames=20)
    s.present[8:11] = False                       # a gap with nobody in the middle of the sample
    s.xyz[8:11] = 0
    write_skeleton(tmp_path / "S001C001P001R001A050.skeleton", s)
    default = scan_folder(tmp_path, workers=1, progress=False)
    old = scan_folder(tmp_path, workers=1, progress=False, actor_method="motion")
    assert default.actor_method == "ctrgcn_first" and default.n_frames[0] == 20
    assert default.sequences[0].shape[0] == 17 and old.sequences[0].shape[0] == 20
    assert np.any(default.sequences[0] != 0, axis=(2, 3)).all()


def test_actor_order_share_on_the_simulator(tmp_path):
    from skelutils.simulate import simulate_dataset
    simulate_dataset(tmp_path, seed=3, performers=(1, 2), actions=(50, 110), replications=(1,), progress=False)
    r = actor_order_share(tmp_path, seed=3)
    assert r["n_samples"] >= 10 and set(r["methods"]) == set(ACTOR_METHODS)
    for m, v in r["methods"].items():
        assert 0.0 <= v["share"] <= 1.0 and v["attacker_first"] == round(v["share"] * r["n_samples"])
    # the simulator writes the attacker's body first, so order of appearance finds it every time
    assert r["methods"]["ctrgcn_first"]["share"] == 1.0 and r["methods"]["first"]["share"] == 1.0
    with pytest.raises(ValueError, match="seed"):
        actor_order_share(tmp_path, seed=4)


def test_dataset_npz_and_sidecar_are_checked_as_a_pair(tmp_path):
    import json as _json
    import numpy as _np
    from skelutils import dataset as _d
    from skelutils.simulate import simulate_dataset_preset
    raw = tmp_path / "raw"
    simulate_dataset_preset(raw, size="smoke", seed=0, workers=1, progress=False)
    ds = _d.build_dataset(raw, tmp_path / "cache", source="simulated", frames=8, workers=1, progress=False)
    path = ds.save(tmp_path / "a" / "dataset.npz")
    assert len(_d.load_dataset(path).y) == len(ds.y)
    other = ds.save(tmp_path / "b" / "dataset.npz")
    side = _json.loads(other.with_suffix(".json").read_text())
    # another data set's npz next to this sidecar
    with _np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["y"] = arrays["y"][::-1].copy()
    _np.savez(other, **arrays)
    with pytest.raises(ValueError, match="do not belong together.*re-run"):
        _d.load_dataset(other)
    side.pop("npz_sha256")
    other.with_suffix(".json").write_text(_json.dumps(side))
    with pytest.raises(ValueError, match="records no hash"):
        _d.load_dataset(other)
