"""Tests of skelutils.prepare: actor selection, resampling, centring, view alignment, motion."""
import numpy as np
import pytest

from skelutils.ntu import Skeleton
from skelutils.prepare import (
    DEFAULT_ACTOR_METHOD, NOISE_LEN_FRAMES, SPINE_MID, actor_slots, align_view, body_motion, center,
    denoise_bodies, drop_empty_frames, prepare_sequences, resample, select_actors, spread_valid_frames, to_motion,
    trim_empty,
)


def _person(rng, n, x0=0.0, amp=0.0):
    """(n, 25, 3) a person near z=3 m; ``amp`` > 0 makes it move (sinusoid along x)."""
    base = rng.normal(0, 0.2, (1, 25, 3)).astype(np.float32) + np.array([x0, 0.0, 3.0], np.float32)
    t = np.arange(n, dtype=np.float32)[:, None, None]
    move = np.zeros((n, 25, 3), np.float32)
    move[..., 0] = amp * np.sin(t[..., 0] / 3.0)
    return base + move


def _skel(bodies, presence):
    """Skeleton from a list of (F, 25, 3) arrays and a list of bool (F,) presence masks."""
    f = len(presence[0])
    s = Skeleton.empty_like(f, len(bodies))
    for b, (xyz, pres) in enumerate(zip(bodies, presence)):
        s.present[:, b] = pres
        s.xyz[pres, b] = xyz[pres]
    return s


def _seq(rng, f=10, absent1=()):
    x = rng.normal(0, 0.3, (f, 2, 25, 3)).astype(np.float32) + np.array([0, 0, 3], np.float32)
    for t in absent1:
        x[t, 1] = 0
    return x


# ----------------------------------------------------------------------------- select_actors

def test_motion_prefers_moving_bodies_over_static_noise_body():
    rng = np.random.default_rng(0)
    f = 30
    full = np.ones(f, bool)
    static = _person(rng, f, x0=1.5, amp=0.0)     # slot 0: a coat rack, present throughout
    actor_a = _person(rng, f, x0=-0.5, amp=0.3)
    actor_b = _person(rng, f, x0=0.5, amp=0.2)
    skel = _skel([static, actor_a, actor_b], [full, full, full])
    out = select_actors(skel, "motion")
    assert out.shape == (f, 2, 25, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, 0], actor_a)
    np.testing.assert_array_equal(out[:, 1], actor_b)
    # "first" takes the first two slots, noise included
    np.testing.assert_array_equal(select_actors(skel, "first")[:, 0], static)


def test_motion_keeps_order_of_first_appearance_and_drops_short_bodies():
    rng = np.random.default_rng(1)
    f = 40
    late = np.arange(f) >= 5
    early = np.ones(f, bool)
    flicker = np.zeros(f, bool)
    flicker[10:14] = True                            # 4 frames: noise even though it jumps a lot
    a = _person(rng, f, x0=-0.5, amp=0.05)           # appears first, moves little
    b = _person(rng, f, x0=0.5, amp=0.4)             # appears later, moves most
    noise = _person(rng, f, x0=2.0, amp=0.0) + rng.normal(0, 2.0, (f, 25, 3)).astype(np.float32)
    out = select_actors(_skel([noise, a, b], [flicker, early, late]), "motion")
    np.testing.assert_array_equal(out[:, 0], a)     # earlier-appearing actor is person 0
    np.testing.assert_array_equal(out[late, 1], b[late])
    assert not out[~late, 1].any()


def test_motion_stitches_a_person_whose_tracking_id_changed():
    rng = np.random.default_rng(2)
    f = 40
    first_half = np.arange(f) < 20
    p0 = _person(rng, f, x0=-0.5, amp=0.3)
    p1 = _person(rng, f, x0=0.5, amp=0.3)
    skel = _skel([p0, p1, p1], [np.ones(f, bool), first_half, ~first_half])
    out = select_actors(skel, "motion")
    np.testing.assert_array_equal(out[:, 1], p1)    # both slots of person 1 merged


def test_one_body_gives_zero_second_person_and_no_body_gives_zeros():
    rng = np.random.default_rng(3)
    p = _person(rng, 12, amp=0.1)
    out = select_actors(_skel([p], [np.ones(12, bool)]))
    np.testing.assert_array_equal(out[:, 0], p)
    assert not out[:, 1].any()
    assert not select_actors(Skeleton.empty_like(5, 0)).any()
    with pytest.raises(ValueError, match="allowed"):
        select_actors(Skeleton.empty_like(5, 0), "largest")


def _tall(rng, n, x0=0.0, amp=0.0):
    """A person-shaped body (taller than wide) near z=3 m, moving along x with amplitude ``amp``."""
    base = rng.normal(0, [0.05, 0.45, 0.05], (1, 25, 3)).astype(np.float32) + np.array([x0, 0.0, 3.0], np.float32)
    t = np.arange(n, dtype=np.float32)
    move = np.zeros((n, 25, 3), np.float32)
    move[..., 0] = (amp * np.sin(t / 3.0))[:, None]
    return base + move


def test_default_is_the_ctrgcn_denoising_in_order_of_appearance():
    assert DEFAULT_ACTOR_METHOD == "ctrgcn_first"
    rng = np.random.default_rng(10)
    f, full = 30, np.ones(30, bool)
    skel = _skel([_tall(rng, f, -0.5, 0.02), _tall(rng, f, 0.5, 0.3)], [full, full])
    assert actor_slots(skel, "ctrgcn") == [[1], [0]]          # the field: largest motion is person 0
    assert actor_slots(skel, "ctrgcn_first") == [[0], [1]]    # same bodies, order of appearance
    assert actor_slots(skel) == [[0], [1]]
    np.testing.assert_array_equal(select_actors(skel, "ctrgcn")[:, 0], skel.xyz[:, 1])


def test_ctrgcn_drops_bodies_of_11_frames_or_fewer():
    rng = np.random.default_rng(11)
    f, full = 40, np.ones(40, bool)
    short = np.zeros(f, bool)
    short[5:5 + NOISE_LEN_FRAMES] = True                      # exactly 11 frames, moves a lot
    a, b = _tall(rng, f, -0.5, 0.1), _tall(rng, f, 0.5, 0.1)
    b_late = np.arange(f) >= 5 + NOISE_LEN_FRAMES             # b is tracked after the short body left
    skel = _skel([a, _tall(rng, f, 0.5, 0.8), b], [full, short, b_late])
    assert 1 not in sum(actor_slots(skel, "ctrgcn"), [])
    assert 1 in sum(actor_slots(skel, "motion"), [])          # the earlier selection drops fewer than 11 only
    assert denoise_bodies(skel) == sorted([0, 2], key=lambda k: -body_motion(skel.xyz[skel.present[:, k], k]))


def test_ctrgcn_spread_test_drops_a_body_wider_than_tall():
    rng = np.random.default_rng(12)
    f, full = 40, np.ones(40, bool)
    wide = rng.normal(0, [1.0, 0.05, 0.1], (f, 25, 3)).astype(np.float32) + np.array([1.5, -0.5, 3.5], np.float32)
    a, b = _tall(rng, f, -0.5, 0.1), _tall(rng, f, 0.5, 0.1)
    assert not spread_valid_frames(wide).any() and spread_valid_frames(a).all()
    skel = _skel([wide, a, b], [full, full, full])
    assert actor_slots(skel, "ctrgcn_first") == [[1], [2]]
    assert actor_slots(skel, "motion")[0] == [0]             # no spread test: the wide blob moves most
    # the last remaining body is never dropped by the spread test
    assert denoise_bodies(_skel([wide, wide.copy()], [full, full])) in ([0], [1])


def test_body_motion_is_the_variance_over_all_frame_joint_points():
    rng = np.random.default_rng(13)
    still = np.repeat(_tall(rng, 1), 20, axis=0)               # a body that does not move at all
    assert body_motion(still) > 0.01                           # its spatial extent counts
    np.testing.assert_allclose(body_motion(still), np.var(still.reshape(-1, 3).astype(np.float64), 0).sum())
    moving = _tall(rng, 20, amp=0.5)
    assert body_motion(moving) > body_motion(moving[:1])


def test_ctrgcn_removes_frames_in_which_no_actor_is_present():
    rng = np.random.default_rng(14)
    f = 30
    pres = np.ones(f, bool)
    pres[10:14] = False                                        # nobody in frames 10-13
    noise_only = np.zeros(f, bool)
    noise_only[10:12] = True                                   # a 2-frame ghost in the gap
    a, b = _tall(rng, f, -0.5, 0.2), _tall(rng, f, 0.5, 0.1)
    skel = _skel([a, b, _tall(rng, f, 2.0)], [pres, pres, noise_only])
    out = select_actors(skel)
    assert out.shape == (f - 4, 2, 25, 3)
    np.testing.assert_array_equal(out[:, 0], a[pres])
    assert select_actors(skel, "motion").shape[0] == f        # the earlier selection keeps the timeline
    x = np.zeros((5, 2, 25, 3), np.float32)
    x[[0, 3], 1] = 1.0
    assert drop_empty_frames(x).shape[0] == 2


# ----------------------------------------------------------------------------- resample

def test_uniform_keeps_endpoints_and_interpolates_linearly():
    rng = np.random.default_rng(4)
    x = _seq(rng, 7)
    for t in (4, 7, 20):
        y = resample(x, t, "uniform")
        assert y.shape == (t, 2, 25, 3) and y.dtype == np.float32
        np.testing.assert_allclose(y[0], x[0], atol=1e-6)
        np.testing.assert_allclose(y[-1], x[-1], atol=1e-6)
    y = resample(x, 13, "uniform")                   # 7 -> 13: y[1] halfway between x[0] and x[1]
    np.testing.assert_allclose(y[1], (x[0] + x[1]) / 2, atol=1e-6)


def test_uniform_does_not_blend_with_an_absent_person():
    rng = np.random.default_rng(5)
    x = _seq(rng, 4, absent1=(2, 3))
    y = resample(x, 7, "uniform", trim=False)        # y[3] sits at 1.5: between present and absent
    np.testing.assert_allclose(y[1, 1], (x[0, 1] + x[1, 1]) / 2, atol=1e-6)
    assert (y[3, 1] == x[1, 1]).all() or not y[3, 1].any()   # nearest frame, never half of it
    assert not y[4:, 1].any()
    np.testing.assert_allclose(y[3, 0], (x[1, 0] + x[2, 0]) / 2, atol=1e-6)


def test_pad_random_loop_semantics():
    rng = np.random.default_rng(6)
    short, long = _seq(rng, 5), _seq(rng, 30)
    y = resample(short, 8, "pad")
    np.testing.assert_array_equal(y[:5], short)
    assert not y[5:].any()
    y = resample(short, 8, "random", rng=1)
    np.testing.assert_array_equal(y[:5], short)
    assert not y[5:].any()
    y = resample(short, 12, "loop")
    np.testing.assert_array_equal(y[5:10], short)
    np.testing.assert_array_equal(y[10:], short[:2])
    y = resample(long, 10, "pad")                    # uniform subsample, endpoints kept
    np.testing.assert_array_equal(y[0], long[0])
    np.testing.assert_array_equal(y[-1], long[-1])
    # random: T distinct frames of the input, in temporal order, deterministic for a seed
    y1 = resample(long, 10, "random", rng=np.random.default_rng(3))
    y2 = resample(long, 10, "random", rng=np.random.default_rng(3))
    np.testing.assert_array_equal(y1, y2)
    idx = [int(np.flatnonzero((long == f).all(axis=(1, 2, 3)))[0]) for f in y1]
    assert idx == sorted(set(idx)) and len(idx) == 10
    assert not np.array_equal(y1, resample(long, 10, "random", rng=np.random.default_rng(4)))


def test_trim_drops_empty_frames_at_both_ends():
    rng = np.random.default_rng(7)
    x = _seq(rng, 10)
    x[:2] = 0
    x[-3:] = 0
    assert trim_empty(x).shape[0] == 5
    y = resample(x, 5, "pad")
    np.testing.assert_array_equal(y, x[2:7])
    assert not resample(x, 10, "pad", trim=False)[:2].any()
    assert not resample(np.zeros((4, 2, 25, 3)), 6).any()


def test_resample_rejects_bad_input():
    with pytest.raises(ValueError, match="allowed"):
        resample(np.zeros((4, 2, 25, 3)), 8, "nearest")
    with pytest.raises(ValueError, match="frames"):
        resample(np.zeros((4, 2, 25, 3)), 0)
    with pytest.raises(ValueError, match=r"\(F, M, 25, 3\)"):
        resample(np.zeros((4, 25, 3)), 8)


# ----------------------------------------------------------------------------- centre / align / motion

def test_center_puts_person0_hip_in_first_present_frame_at_origin():
    rng = np.random.default_rng(8)
    x = _seq(rng, 6, absent1=(4, 5))
    x[0, 0] = 0                                     # person 0 enters in frame 1
    y = center(x, "hip0")
    np.testing.assert_allclose(y[1, 0, 0], 0, atol=1e-6)
    np.testing.assert_allclose(y[2, 1] - y[2, 0], x[2, 1] - x[2, 0], atol=1e-5)   # rigid shift
    assert not y[0, 0].any() and not y[4:, 1].any()  # absent stays zero
    np.testing.assert_array_equal(center(x, "none"), x)
    batch = np.stack([x.transpose(1, 0, 2, 3)] * 2)   # (N, M, T, V, C)
    np.testing.assert_allclose(center(batch)[1, 0, 1, 0], 0, atol=1e-6)


def test_align_view_makes_hip_vector_parallel_to_x():
    rng = np.random.default_rng(9)
    x = _seq(rng, 5)
    y = align_view(x, enabled=True)
    v = y[0, 0, 12] - y[0, 0, 16]                   # right hip -> left hip
    assert abs(v[2]) < 1e-5 and v[0] > 0
    np.testing.assert_allclose(y[..., 1], x[..., 1])  # a rotation about y keeps heights
    np.testing.assert_allclose(np.linalg.norm(y[..., [0, 2]], axis=-1),
                               np.linalg.norm(x[..., [0, 2]], axis=-1), rtol=1e-5)
    np.testing.assert_array_equal(align_view(x, enabled=False), x)


def test_to_motion():
    rng = np.random.default_rng(10)
    x = rng.normal(size=(2, 2, 6, 25, 3)).astype(np.float32)
    x[0, 1, 4:] = 0                                  # person 1 leaves at frame 4 (zero padding)
    m = to_motion(x)
    assert m.shape == x.shape and m.dtype == np.float32
    assert not m[:, :, 0].any()
    np.testing.assert_allclose(m[1, 0, 3], x[1, 0, 3] - x[1, 0, 2])
    assert not m[0, 1, 4:].any()                     # no jump into the padding


def test_prepare_sequences_shape_order_and_centring():
    rng = np.random.default_rng(11)
    seqs = [_seq(rng, 9), _seq(rng, 20), _seq(rng, 3)]
    x = prepare_sequences(seqs, frames=8)
    assert x.shape == (3, 2, 8, 25, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, 0, 0, 0], 0, atol=1e-6)     # hip of person 0, frame 0
    np.testing.assert_allclose(x[0, 1, -1] - x[0, 0, -1], seqs[0][-1, 1] - seqs[0][-1, 0], atol=1e-5)
    r1 = prepare_sequences(seqs, frames=8, resample="random", rng=5)
    r2 = prepare_sequences(seqs, frames=8, resample="random", rng=5)
    np.testing.assert_array_equal(r1, r2)
    with pytest.raises(ValueError, match="sequence 1"):
        prepare_sequences([seqs[0], np.zeros((4, 3, 25, 3))], frames=8)


def test_center_spinemid0_uses_person0_spinemid_in_its_first_frame():
    rng = np.random.default_rng(15)
    x = _seq(rng, 6)
    x[0, 0] = 0                                                # person 0 enters in frame 1
    y = center(x, "spinemid0")
    np.testing.assert_allclose(y[1, 0, SPINE_MID], 0.0, atol=1e-6)
    np.testing.assert_allclose(y[3, 1] - x[3, 1], -x[1, 0, SPINE_MID][None].repeat(25, 0), atol=1e-6)
    assert not y[0, 0].any()
    assert not np.allclose(center(x, "hip0")[1, 0, SPINE_MID], 0.0)
