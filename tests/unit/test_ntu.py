"""NTU RGB+D names, the raw skeleton writer and the reader (round trip, odd samples, malformed files)."""
from __future__ import annotations

import importlib.util
import re
import traceback
from pathlib import Path

import numpy as np
import pytest

from skelutils import ntu
from skelutils.ntu import (
    NUM_JOINTS,
    SampleName,
    Skeleton,
    SkeletonFormatError,
    format_skeleton,
    parse_sample_name,
    read_skeleton,
    write_skeleton,
)

NAME = "S018C002P042R001A106.skeleton"


def _bench():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_reader.py"
    spec = importlib.util.spec_from_file_location("bench_reader", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def random_skeleton(rng: np.random.Generator, n_frames: int, n_bodies: int) -> Skeleton:
    """Random values of every kind the format holds; absent slots are all zero (as the reader gives them)."""
    s = Skeleton.empty_like(n_frames, n_bodies)
    s.body_ids = tuple(int(x) for x in 72057594037927936 + rng.choice(10**6, n_bodies, replace=False))
    s.xyz[:] = rng.normal(0, 1.5, s.xyz.shape) * 10.0 ** rng.integers(-6, 2, s.xyz.shape)
    s.depth_xy[:] = rng.uniform(0, 512, s.depth_xy.shape)
    s.color_xy[:] = rng.uniform(-50, 1920, s.color_xy.shape)
    s.orientation[:] = rng.normal(0, 0.5, s.orientation.shape)
    s.orientation[..., 3, :] = 0
    s.tracking[:] = rng.integers(0, 3, s.tracking.shape)
    s.body_info[..., :6] = rng.integers(0, 4, (n_frames, n_bodies, 6))
    s.body_info[..., 6:8] = rng.normal(0, 0.3, (n_frames, n_bodies, 2))
    s.body_info[..., 8] = rng.integers(0, 3, (n_frames, n_bodies))
    s.present[:] = rng.random(s.present.shape) < 0.7
    return s


def absent_zeroed(s: Skeleton) -> Skeleton:
    for key in ("xyz", "tracking", "depth_xy", "color_xy", "orientation", "body_info"):
        getattr(s, key)[~s.present] = 0
    return s


def assert_same(got: Skeleton, want: Skeleton, fields=("xyz", "tracking", "depth_xy", "color_xy",
                                                        "orientation", "body_info")):
    assert got.body_ids == want.body_ids
    np.testing.assert_array_equal(got.present, want.present)
    for key in fields:
        g, w = getattr(got, key), getattr(want, key)
        assert g.dtype == w.dtype, key
        assert g.shape == w.shape, key
        # bit-identical, NaN included
        np.testing.assert_array_equal(g.view(np.uint8), w.view(np.uint8), err_msg=key)


# --------------------------------------------------------------------------- round trip


def test_round_trip_is_bit_identical(tmp_path):
    rng = np.random.default_rng(0)
    s = random_skeleton(rng, 12, 4)
    s.present[0] = [True, True, False, False]        # slots in first-appearance order:
    s.present[1:3, 2] = False                         # body 2 appears late (frame 3) ...
    s.present[1:4, 3] = False                         # ... and body 3 later still (frame 4 or 5)
    s.present[5] = True                               # 4 bodies in one frame (noise bodies)
    s.present[6] = False                              # a frame with no body
    s.present[3, 2:] = [True, False]
    s.present[4, 3] = True
    s.present[1, 0] = False                           # actor lost for a frame
    s.xyz[2, 0, 0] = [0.0, -0.0, 1e-30]
    s.xyz[2, 0, 1] = [3.4e38, 123456.789, -7.5]
    absent_zeroed(s)
    # first appearance defines the slot order; frames 1-3 must not have both late bodies
    first = [int(np.argmax(s.present[:, b])) for b in range(4)]
    assert first == sorted(first)
    path = write_skeleton(tmp_path / NAME, s)
    got = read_skeleton(path)
    assert got.path == str(path)
    assert got.xyz.shape == (12, 4, NUM_JOINTS, 3)
    assert got.tracking.dtype == np.int8 and got.present.dtype == bool
    assert_same(got, s)
    xyz_only = read_skeleton(path, fields="xyz")
    assert_same(xyz_only, s, ("xyz",))
    assert xyz_only.tracking is None and xyz_only.body_info is None


def test_bodies_keep_their_slot_by_id_not_by_position(tmp_path):
    s = absent_zeroed(random_skeleton(np.random.default_rng(1), 3, 2))
    s.present[:] = True
    path = write_skeleton(tmp_path / NAME, s)
    text = path.read_text().split("\n")
    # swap the two bodies of frame 2 in the file (each body is 27 lines)
    f2 = 1 + 1 + 2 * 27                               # line index of frame 2's body count
    block = text[f2 + 1:f2 + 1 + 54]
    text[f2 + 1:f2 + 1 + 54] = block[27:] + block[:27]
    path.write_text("\n".join(text))
    got = read_skeleton(path)
    assert_same(got, s)


def test_frames_without_bodies_and_missing_skeleton_samples(tmp_path):
    p = tmp_path / NAME
    p.write_text("3\n0\n0\n0\n")
    got = read_skeleton(p)
    assert got.xyz.shape == (3, 0, NUM_JOINTS, 3)
    assert got.present.shape == (3, 0) and got.body_ids == ()
    assert got.body_info.shape == (3, 0, 9) and got.tracking.shape == (3, 0, NUM_JOINTS)
    p.write_text("0\n")
    got = read_skeleton(p, fields="xyz")
    assert got.xyz.shape == (0, 0, NUM_JOINTS, 3) and got.present.shape == (0, 0)


def test_layout_variants_give_the_same_result(tmp_path):
    s = absent_zeroed(random_skeleton(np.random.default_rng(2), 5, 3))
    text = format_skeleton(s)
    want = read_skeleton(write_skeleton(tmp_path / NAME, s))
    variants = {
        "crlf": text.replace("\n", "\r\n"),
        "tabs_and_double_blanks": text.replace(" ", "  \t"),
        "no_final_newline": text.rstrip("\n"),
        "trailing_blank_lines": text + "\n\n  \n",
        "seven_digits": re.sub(r"(\d\.\d{6})\d+", r"\1", text),   # the dataset's own precision
        "exponents": re.sub(r"(?<![\w.])(\d+\.\d+)(?![\w.])", r"\1e0", text),   # same values, other spelling
        "long_tokens": re.sub(r"(\d\.\d+)", r"\g<1>000000000", text),   # x, y, z of 16 characters or more
        "blanks_at_line_ends": text.replace("\n", " \n").replace("\n", "\n\t"),
    }
    for name, v in variants.items():
        p = tmp_path / f"{name}.skeleton"
        p.write_text(v)
        got = read_skeleton(p)
        ref = ntu._read_lines(v.replace("\r\n", "\n").encode(), str(p), True)   # the line-by-line reader
        assert got.body_ids == want.body_ids, name
        np.testing.assert_array_equal(got.present, want.present, err_msg=name)
        if name == "seven_digits":
            np.testing.assert_allclose(got.xyz, want.xyz, rtol=1e-5, atol=1e-5)
        else:
            assert_same(got, want)
        np.testing.assert_array_equal(got.xyz[got.present], ref.joints[..., :3].astype(np.float32), err_msg=name)
        got_xyz = read_skeleton(p, fields="xyz")
        assert got_xyz.body_ids == got.body_ids, name
        np.testing.assert_array_equal(got_xyz.present, got.present, err_msg=name)
        np.testing.assert_array_equal(got_xyz.xyz.view(np.uint32), got.xyz.view(np.uint32), err_msg=name)
    # the xyz fast path leaves long tokens to the general vectorised path
    long_data = variants["long_tokens"].encode()
    with pytest.raises(ntu._NotCanonical):
        ntu._read_xyz(long_data)
    np.testing.assert_array_equal(ntu._read_vectorised(long_data, "x", False).joints,
                                  ntu._read_lines(long_data, "x", False).joints)


def test_vectorised_and_line_by_line_readers_agree(tmp_path):
    rng = np.random.default_rng(3)
    s = absent_zeroed(random_skeleton(rng, 20, 3))
    data = format_skeleton(s).encode()
    fast = ntu._read_vectorised(data, "x", True)
    slow = ntu._read_lines(data, "x", True)
    np.testing.assert_array_equal(fast.frame, slow.frame)
    assert fast.body_id == slow.body_id
    np.testing.assert_array_equal(fast.joints.view(np.uint64), slow.joints.view(np.uint64))
    np.testing.assert_array_equal(fast.body_info, slow.body_info)


@pytest.mark.parametrize("n_frames, n_bodies", [(1, 1), (9, 4), (130, 4)])
def test_xyz_fast_path_agrees_with_the_other_readers(n_frames, n_bodies):
    """Frames with 0 bodies and with 3+ bodies; the largest case has more than 8192 joint lines (several blocks)."""
    s = random_skeleton(np.random.default_rng(n_frames), n_frames, n_bodies)
    s.present[-1] = True                              # every body (3 or more when n_bodies > 2)
    if n_frames > 1:
        s.present[0] = False                          # no body at all
    data = format_skeleton(absent_zeroed(s)).encode()
    fast = ntu._read_xyz(data)                        # must not fall back
    slow = ntu._read_lines(data, "x", False)
    full = ntu._read_vectorised(data, "x", True)
    assert fast.body_info is None and fast.joints.shape == (int(s.present.sum()), NUM_JOINTS, 3)
    for other, joints in ((slow, slow.joints), (full, full.joints[..., :3])):
        assert fast.n_frames == other.n_frames == n_frames
        np.testing.assert_array_equal(fast.frame, other.frame)
        np.testing.assert_array_equal(fast.body_line, other.body_line)
        assert fast.body_id == other.body_id
        np.testing.assert_array_equal(fast.joints.view(np.uint64), joints.view(np.uint64))
    assert fast.body_id == [s.body_ids[b] for f in range(n_frames) for b in np.flatnonzero(s.present[f])]


def test_first_space_matches_bytes_find():
    rng = np.random.default_rng(8)
    # every byte value, spaces often; 0x00, 0x1f, 0x21, 0x80, 0xa0, 0xff trip careless byte tests
    a = np.where(rng.random(50_000) < 0.08, 32, rng.integers(0, 256, 50_000)).astype(np.uint8)
    a[rng.integers(0, a.size - 40, 200)[:, None] + np.arange(20)] = 49   # some runs without a space
    windows = np.ndarray((a.size - 15,), "V16", a, 0, (1,))
    at = np.arange(a.size - 15)
    got = ntu._first_space(windows, at)
    data = a.tobytes()
    want = [data.find(b" ", p, p + 16) for p in range(a.size - 15)]
    want = np.array([w - p if w >= 0 else 16 for p, w in enumerate(want)])
    np.testing.assert_array_equal(got, want)
    assert (got == 16).any() and (got == 0).any()


def test_decimal_conversion_matches_float():
    rng = np.random.default_rng(4)
    vals = rng.normal(0, 1, 3000) * 10.0 ** rng.integers(-9, 7, 3000)
    toks = [f"{v:.9g}" for v in vals.astype(np.float32)] + [f"{v:.7g}" for v in vals[:500]]
    toks += [repr(float(v)) for v in vals[:500]]
    toks += [f"{v:.{k}f}" for k in range(16) for v in vals[:100]]           # the point at every position
    toks += [f"{v:+.{k}f}" for k in range(16) for v in vals[100:200]]
    toks += ["5.", "-.5", "+3.25", ".0", "0012.5000", "-0", "0", "1e5", "-2.5E-3", "nan", "-inf",
             "-0.0", "-0.", "+.1", "-.0", "+0", "00000000000001", "0000000000000000.5",
             "12345678901234", "123456789012345", "1234567890.12345", "99999999.99999999",
             "-99999999999999", "9999999999999.9", ".12345678901234", "-1234567890123.", "0.00000000000001"]
    data = (" ".join(toks) + "\n").encode()
    a = np.frombuffer(data, np.uint8)
    blank = np.flatnonzero(a <= 32)
    start = np.concatenate(([0], blank[:-1] + 1))
    got = ntu._parse_decimals(a, start, blank)
    want = np.array([float(t) for t in toks])
    np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))
    for bad in ["1-2", "x", "1.2.3", "-", ".", "1e", "--1", "0x10", "..", "+-1", "1..", "1/2", "1:2", "-.", "+."]:
        d = f"1 {bad} 3\n".encode()
        aa = np.frombuffer(d, np.uint8)
        bb = np.flatnonzero(aa <= 32)
        with pytest.raises(ntu._NotCanonical):
            ntu._parse_decimals(aa, np.concatenate(([0], bb[:-1] + 1)), bb)


@pytest.mark.parametrize("layout", ["ntu", "exact"])
def test_agrees_with_the_official_style_reader(tmp_path, layout):
    bench = _bench()
    rng = np.random.default_rng(5)
    digits, newline = bench.LAYOUTS[layout]
    for i in range(3):
        path = write_skeleton(tmp_path / f"S001C001P001R001A05{i}.skeleton", bench.make_sample(rng, 30 + 10 * i),
                              digits, newline)
        ref = bench.read_official_style(path)
        for fields in ("all", "xyz"):
            got = read_skeleton(path, fields=fields)
            assert bench.agree(got, ref, ("xyz",)) is None
        assert bench.agree(read_skeleton(path), ref, ("xyz", "depth_xy", "color_xy")) is None


def test_writer_layouts(tmp_path):
    s = absent_zeroed(random_skeleton(np.random.default_rng(12), 4, 2))
    s.xyz[0, 0, 0] = [0.2181153, 0.1725972, 3.785547]
    s.present[0, 0] = True
    crlf = write_skeleton(tmp_path / "crlf.skeleton", s, ntu.NTU_DIGITS, ntu.NTU_NEWLINE).read_bytes()
    lf = write_skeleton(tmp_path / "lf.skeleton", s).read_bytes()
    assert crlf.count(b"\r\n") == crlf.count(b"\n") == lf.count(b"\n") > 4 and b"\r" not in lf
    assert b"\r\n0.2181153 0.1725972 3.785547 " in crlf                # the dataset's own spelling
    mantissas = [re.sub(r"e.*|[-.]", "", t).lstrip("0") for t in re.findall(rb"[-.\deE+]+", crlf)
                 for t in [t.decode()] if "." in t]
    assert max(map(len, mantissas)) == 7                                 # 7 significant digits, not more
    assert max(len(re.sub(r"e.*|[-.]", "", t).lstrip("0")) for t in lf.decode().split() if "." in t) == 9
    for bad in (dict(digits=0), dict(digits=18), dict(digits=7.0), dict(newline="\r")):
        with pytest.raises(ValueError, match="digits|newline"):
            format_skeleton(s, **bad)


def test_crlf_files_take_the_fast_path_and_read_as_lf(tmp_path, monkeypatch):
    """The dataset's own layout (7 digits, CRLF) is read vectorised, in place, to the same arrays as LF."""
    s = absent_zeroed(random_skeleton(np.random.default_rng(13), 30, 3))
    paths = {(d, nl): write_skeleton(tmp_path / f"d{d}_{len(nl)}.skeleton", s, d, nl)
             for d in (7, 9) for nl in ("\n", "\r\n")}
    want = {k: read_skeleton(p) for k, p in paths.items()}

    def no_fallback(*args, **kwargs):
        raise AssertionError("the line-by-line reader was used")

    fast_xyz = []
    read_xyz = ntu._read_xyz

    def counting_read_xyz(data, crlf=False):
        out = read_xyz(data, crlf)
        fast_xyz.append(crlf)
        return out

    monkeypatch.setattr(ntu, "_read_lines", no_fallback)
    monkeypatch.setattr(ntu, "_read_xyz", counting_read_xyz)
    for digits in (7, 9):
        lf, crlf = paths[digits, "\n"], paths[digits, "\r\n"]
        assert crlf.read_bytes() == lf.read_bytes().replace(b"\n", b"\r\n")
        assert_same(read_skeleton(crlf), read_skeleton(lf))          # every field, bit for bit
        assert_same(read_skeleton(crlf), want[digits, "\r\n"])
        fast_xyz.clear()
        got = read_skeleton(crlf, fields="xyz")
        assert fast_xyz == [True]                                    # the xyz fast path, not the general one
        assert_same(got, read_skeleton(lf, fields="xyz"), ("xyz",))
    # a file that ends without its last CRLF, or with blank lines, stays on the fast path
    text = paths[7, "\r\n"].read_bytes()
    for variant in (text[:-2], text + b"\r\n\r\n  \r\n"):
        p = tmp_path / "variant.skeleton"
        p.write_bytes(variant)
        assert_same(read_skeleton(p), want[7, "\r\n"])


# --------------------------------------------------------------------------- malformed files


def _good_text(n_frames=2, n_bodies=2) -> list[str]:
    s = random_skeleton(np.random.default_rng(6), n_frames, n_bodies)
    s.present[:] = True
    return format_skeleton(s).split("\n")   # last element is "" (final newline)


def _body_line(text, frame, body):
    """0-based line index of a body line in a file where every frame holds 2 bodies."""
    return 1 + frame * (1 + 2 * 27) + 1 + body * 27


def _drop_value(line: str, i: int, lead: str = "", sep: str = " ", trail: str = "") -> str:
    """A joint line without its value i, the others joined by single spaces except ``sep`` at the gap."""
    v = line.split(" ")
    return lead + " ".join(v[:i]) + sep + " ".join(v[i + 1:]) + trail


MALFORMED = {
    # name: (edit of the good text, expected 1-based line, words the message must contain)
    "empty": (lambda t: [""], 1, "empty"),
    "blank_only": (lambda t: ["", "   ", ""], 1, "empty"),
    "frame_count_not_a_number": (lambda t: ["two"] + t[1:], 1, "frame count"),
    "negative_frame_count": (lambda t: ["-2"] + t[1:], 1, "negative"),
    "negative_body_count": (lambda t: t[:1] + ["-1"] + t[2:], 2, "negative"),
    "body_count_not_a_number": (lambda t: t[:1] + ["2.5"] + t[2:], 2, "body count"),
    "truncated_mid_body": (lambda t: t[:40], 41, "ends early"),
    "truncated_before_frame": (lambda t: t[:1 + 55], 57, "ends early"),
    "joint_count_24": (lambda t: t[:3] + ["24"] + t[4:], 4, "joint count is 24"),
    "joint_count_text": (lambda t: t[:3] + ["x"] + t[4:], 4, "joint count"),
    "body_line_9_values": (lambda t: t[:2] + [t[2].rsplit(" ", 1)[0]] + t[3:], 3, "expected 10 values"),
    "body_id_not_int": (lambda t: t[:2] + ["abc" + t[2][t[2].index(" "):]] + t[3:], 3, "bodyID"),
    "joint_line_11_values": (lambda t: t[:10] + [t[10].rsplit(" ", 1)[0]] + t[11:], 11, "expected 12 values"),
    "joint_line_13_values": (lambda t: t[:10] + [t[10] + " 1"] + t[11:], 11, "expected 12 values"),
    "joint_value_not_number": (lambda t: t[:10] + [" ".join(t[10].split(" ")[:1] + ["abc"] + t[10].split(" ")[2:])]
                               + t[11:], 11, "y is not a number"),
    "joint_value_garbled": (lambda t: t[:12] + [t[12].replace(" ", "-", 1).replace(" ", " 1 ", 1)] + t[13:],
                            13, "not a number"),
    # 11 values and still 11 spaces on the line: a missing value hidden by an extra space
    "double_space": (lambda t: t[:10] + [_drop_value(t[10], 3, sep="  ")] + t[11:], 11, "expected 12 values"),
    "leading_space": (lambda t: t[:10] + [_drop_value(t[10], 3, lead=" ")] + t[11:], 11, "expected 12 values"),
    "trailing_space": (lambda t: t[:10] + [_drop_value(t[10], 3, trail=" ")] + t[11:], 11, "expected 12 values"),
    "body_line_trailing_space": (lambda t: t[:2] + [_drop_value(t[2], 5, trail=" ")] + t[3:], 3, "expected 10 values"),
    # a tab inside a value that fields="xyz" does not convert (depthY)
    "tab_splits_a_value": (lambda t: t[:10] + [" ".join(v if i != 4 else v[:2] + "\t" + v[2:]
                                                        for i, v in enumerate(t[10].split(" ")))] + t[11:],
                           11, "expected 12 values, got 13"),
    "tab_joins_two_lines": (lambda t: t[:10] + [t[10] + "\t" + t[11]] + t[12:], 11, "expected 12 values, got 24"),
    # 11 + 65536 spaces: a per-line count kept in 8 or 16 bits wraps around to 11
    "space_count_wraps": (lambda t: t[:10] + [" ".join(["1"] * (12 + 65536))] + t[11:], 11, "expected 12 values"),
    "tracking_state_7": (lambda t: t[:20] + [t[20].rsplit(" ", 1)[0] + " 7"] + t[21:], 21, "trackingState"),
    "trailing_garbage": (lambda t: t[:-1] + ["1 2 3", ""], len(_good_text()), "after the last"),
    "extra_frame": (lambda t: t[:-1] + ["0", ""], len(_good_text()), "after the last"),
    "duplicate_body_id": (lambda t: t[:_body_line(t, 0, 1)] + [t[2]] + t[_body_line(t, 0, 1) + 1:],
                          _body_line(None, 0, 1) + 1, "appears twice"),
}


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_files_name_path_and_line(tmp_path, name, newline):
    edit, line, words = MALFORMED[name]
    p = tmp_path / NAME
    p.write_bytes(newline.join(edit(_good_text())).encode())
    with pytest.raises(SkeletonFormatError) as ei:
        read_skeleton(p)
    msg = str(ei.value)
    assert str(p) in msg
    assert f"line {line}:" in msg, msg
    assert words in msg, msg
    assert "extract it again" in msg                  # what to do
    # the fast field selection is just as strict, with the same message
    with pytest.raises(SkeletonFormatError) as ei:
        read_skeleton(p, fields="xyz")
    assert str(ei.value) == msg
    # ... and its fast path hands every malformed layout on (a repeated bodyID is found after parsing)
    if name != "duplicate_body_id":
        with pytest.raises(ntu._NotCanonical):
            ntu._read_xyz(p.read_bytes().rstrip() + newline.encode(), crlf=newline == "\r\n")


def _assert_plain_error(exc: SkeletonFormatError) -> None:
    """Raised by the reader itself: no frame in numpy, no internal exception chained to it."""
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)
    printed = "".join(traceback.format_exception(exc))
    assert "numpy" not in printed and "_NotCanonical" not in printed, printed


def _ntu_layout_file(tmp_path, n_frames=2) -> tuple[Path, bytes]:
    s = random_skeleton(np.random.default_rng(14), n_frames, 2)
    s.present[:] = True
    p = write_skeleton(tmp_path / NAME, s, ntu.NTU_DIGITS, ntu.NTU_NEWLINE)
    return p, p.read_bytes()


def test_truncated_and_garbled_crlf_files_give_a_clear_error(tmp_path):
    p, data = _ntu_layout_file(tmp_path)
    lines = data.split(b"\r\n")
    cases = [
        # cut in the middle of joint 4 (Head) of the first body, as an interrupted copy leaves it
        (data[:len(b"\r\n".join(lines[:7])) + 2 + 30], "line 8:",
         ["joint line (frame 1, body 1, joint 4 Head)", "expected 12 values, got 3"], ("all", "xyz")),
        # cut after the first frame: the second frame's body count is missing
        (b"\r\n".join(lines[:2 + 2 * 27]) + b"\r\n", "line 57:", ["ends early", "body count of frame 2"],
         ("all", "xyz")),
        # bad numbers in a CRLF file: z of joint 2 (SpineMid) of the first body ...
        (b"\r\n".join(lines[:5] + [b" ".join(lines[5].split(b" ")[:2] + [b"3.78-5"] + lines[5].split(b" ")[3:])]
                       + lines[6:]), "line 6:", ["joint line (frame 1, body 1, joint 2 SpineMid)",
                                                 "z is not a number", "'3.78-5'"], ("all", "xyz")),
        # ... and values that fields="xyz" does not convert (it checks their count, not their spelling)
        (b"\r\n".join(lines[:5] + [b" ".join(lines[5].split(b" ")[:5] + [b"1038.2.6"] + lines[5].split(b" ")[6:])]
                       + lines[6:]), "line 6:", ["colorX is not a number", "'1038.2.6'"], ("all",)),
        (b"\r\n".join(lines[:2] + [lines[2].replace(b" ", b" x", 1)] + lines[3:]), "line 3:",
         ["body line (frame 1, body 1 of 2)", "clippedEdges is not a number"], ("all",)),
    ]
    for text, line, words, fields_checked in cases:
        p.write_bytes(text)
        for fields in fields_checked:
            with pytest.raises(SkeletonFormatError) as ei:
                read_skeleton(p, fields=fields)
            msg = str(ei.value)
            assert msg.startswith(f"{p}, {line}"), msg
            for w in words:
                assert w in msg, (w, msg)
            assert "extract it again" in msg
            _assert_plain_error(ei.value)


def test_every_truncation_is_reported(tmp_path):
    """A file cut short either lost only its last line end or fails naming the file and a line."""
    p, data = _ntu_layout_file(tmp_path)
    full = read_skeleton(p)
    for cut in list(range(0, len(data), 41)) + [len(data) - 2, len(data) - 1]:   # cuts at varied offsets within lines
        p.write_bytes(data[:cut])
        if data[:cut].rstrip() == data.rstrip():
            assert_same(read_skeleton(p), full)
            continue
        with pytest.raises(SkeletonFormatError) as ei:
            read_skeleton(p, fields="xyz" if cut % 2 else "all")
        assert re.match(rf"{re.escape(str(p))}, line \d+: ", str(ei.value)), (cut, str(ei.value))
        _assert_plain_error(ei.value)


def test_crlf_line_numbers_are_unchanged(tmp_path):
    t = _good_text()
    t[11] = t[11].rsplit(" ", 1)[0]
    p = tmp_path / NAME
    p.write_bytes("\r\n".join(t).encode())
    with pytest.raises(SkeletonFormatError, match="line 12:"):
        read_skeleton(p)


def test_missing_file_and_bad_fields(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.skeleton"):
        read_skeleton(tmp_path / "nope.skeleton")
    p = write_skeleton(tmp_path / NAME, Skeleton.empty_like(1, 0))
    with pytest.raises(ValueError, match="allowed values"):
        read_skeleton(p, fields="depth")


def test_reader_does_not_check_the_file_name(tmp_path):
    p = write_skeleton(tmp_path / "not_a_sample_name.txt", Skeleton.empty_like(2, 0))
    assert read_skeleton(p).n_frames == 2


# --------------------------------------------------------------------------- sample names


@pytest.mark.parametrize("name, want", [
    ("S018C002P042R001A106", (18, 2, 42, 1, 106)),
    ("S001C003P008R002A050.skeleton", (1, 3, 8, 2, 50)),
    ("/data/nturgbd_skeletons/S032C001P106R002A110.skeleton", (32, 1, 106, 2, 110)),
    (Path("nturgb+d_skeletons") / "S005C002P010R001A052.skeleton", (5, 2, 10, 1, 52)),
])
def test_parse_sample_name(name, want):
    got = parse_sample_name(name)
    assert (got.setup, got.camera, got.performer, got.replication, got.action) == want
    assert str(got) == Path(str(name)).name.removesuffix(".skeleton")
    assert got == SampleName(*want)


@pytest.mark.parametrize("bad", ["", "S18C002P042R001A106", "S018C002P042R001A106.txt", "s018c002p042r001a106",
                                 "S018C002P042R001A106x", "S018C002P042R001A1066", "folder/A106.skeleton"])
def test_parse_sample_name_rejects(bad):
    with pytest.raises(SkeletonFormatError, match="SsssCcccPpppRrrrAaaa"):
        parse_sample_name(bad)


def test_reused_scratch_buffers_do_not_leak_between_reads_or_threads(tmp_path):
    """The reader keeps per-thread mask buffers between calls; a big file, then a small one,
    then reads from several threads at once must all give what a first read gives."""
    from concurrent.futures import ThreadPoolExecutor
    rng = np.random.default_rng(11)
    paths = []
    for i, (frames, bodies) in enumerate([(180, 3), (5, 2), (90, 1), (1, 0)]):
        p = tmp_path / f"S001C001P001R001A05{i}.skeleton"
        ntu.write_skeleton(p, random_skeleton(rng, frames, bodies))
        paths.append(p)
    first = [ntu.read_skeleton(p, fields=f) for p in paths for f in ("xyz", "all")]
    again = [ntu.read_skeleton(p, fields=f) for p in reversed(paths) for f in ("xyz", "all")]
    again = [again[len(again) - 2 - 2 * (k // 2) + (k % 2)] for k in range(len(again))]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda pf: ntu.read_skeleton(pf[0], fields=pf[1]),
                                 [(p, f) for p in paths for f in ("xyz", "all")] * 3))
    for a, b in zip(first * 3 + first, threaded + again):
        assert np.array_equal(a.xyz, b.xyz) and np.array_equal(a.present, b.present)
        assert tuple(a.body_ids) == tuple(b.body_ids)
