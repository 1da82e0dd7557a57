"""Standard preparation of raw NTU skeleton sequences: pure numpy functions.

The path from a parsed file to a model input is a chain of named, documented steps::

    Skeleton --select_actors--> (F', 2, 25, 3) --trim/center/align_view/resample--> (T, 2, 25, 3)
    prepare_sequences(list of (F_i, 2, 25, 3)) --> float32 (N, M=2, T, V=25, C=3)
    to_motion((N, M, T, V, C)) --> per-frame displacements, same shape

Conventions: coordinates are metres in the Kinect v2 camera frame (x right, y up, z away
from the camera); a person or joint that is absent is stored as exact zeros (a tracked
Kinect joint never sits exactly at the camera origin), and every step keeps absent
entries at zero.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from skelutils.ntu import NUM_JOINTS, Skeleton

#: Allowed values of the ``method`` argument of :func:`select_actors` (the first is the default).
ACTOR_METHODS = ("ctrgcn_first", "ctrgcn", "motion", "first")
#: The default actor selection: the NTU denoising of SGN / CTR-GCN, persons in order of appearance.
DEFAULT_ACTOR_METHOD = "ctrgcn_first"
#: Allowed values of the ``method`` argument of :func:`resample`.
RESAMPLE_METHODS = ("uniform", "pad", "random", "loop")
#: Allowed values of the ``mode`` argument of :func:`center`.
CENTER_MODES = ("hip0", "spinemid0", "none")

#: Noise length of the NTU denoising (``noise_len_thres`` of ``get_raw_denoised_data.py`` in the
#: SGN / CTR-GCN repositories): ``"ctrgcn"`` drops bodies tracked in this many frames or fewer;
#: ``"motion"`` drops bodies tracked in fewer frames than this.
NOISE_LEN_FRAMES = 11
#: A frame of a body is noisy when its x spread exceeds this share of its y spread
#: (``noise_spr_thres1``: a "body" wider than tall is a chair, a coat or a reflection).
NOISE_SPREAD_XY = 0.8
#: ``"ctrgcn"`` drops a body when this share of its frames or more is noisy (``noise_spr_thres2``).
NOISE_SPREAD_FRAMES = 0.69754
#: SpineBase, SpineMid, HipLeft, HipRight (0-based Kinect v2 joints).
SPINE_BASE, SPINE_MID, HIP_LEFT, HIP_RIGHT = 0, 1, 12, 16


def _check_choice(value, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what}={value!r} is not supported; allowed: {', '.join(map(repr, allowed))}")


def _as_seq(seq, what: str = "seq") -> np.ndarray:
    """Validate a (F, M, 25, 3) sequence and return it as a float32 array."""
    arr = np.asarray(seq)
    if arr.ndim != 4 or arr.shape[2] != NUM_JOINTS or arr.shape[3] != 3:
        raise ValueError(f"{what}: expected an array of shape (F, M, {NUM_JOINTS}, 3) "
                         f"(frames, persons, joints, xyz), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{what}: expected numbers, got dtype {arr.dtype}")
    return arr.astype(np.float32, copy=False)


def _body_present(seq: np.ndarray) -> np.ndarray:
    """bool (F, M): a person is present in a frame when any of its coordinates is non-zero."""
    return np.any(seq != 0, axis=(2, 3))


# ---------------------------------------------------------------------------------------------
# actor selection
# ---------------------------------------------------------------------------------------------

def _body_motion(xyz: np.ndarray, present: np.ndarray) -> float:
    """Per-joint variance over time of one body (summed over joints and xyz), present frames only."""
    pts = xyz[present]
    if len(pts) < 2:
        return 0.0
    return float(np.var(pts.astype(np.float64), axis=0).sum())


def body_motion(xyz: np.ndarray) -> float:
    """The motion of one body as the NTU denoising measures it.

    The variance of x, of y and of z over all (frame, joint) points of the body, summed:
    ``np.var(xyz.reshape(-1, 3), axis=0).sum()``. It grows with the body's spatial extent
    as well as with its movement (a tall person who stands still scores more than a small
    static blob).

    Args:
        xyz: (F, 25, 3) metres, the frames in which the body is present.

    Returns:
        Square metres; 0.0 for a body with no frame.
    """
    pts = np.asarray(xyz, np.float64).reshape(-1, 3)
    return float(np.var(pts, axis=0).sum()) if len(pts) else 0.0


def spread_valid_frames(xyz: np.ndarray) -> np.ndarray:
    """bool (F,): frames in which a body is not wider than tall (the spread test of the NTU denoising).

    A frame is valid when ``max(x) - min(x) <= NOISE_SPREAD_XY * (max(y) - min(y))`` over the
    25 joints.

    Args:
        xyz: (F, 25, 3) metres, the frames in which the body is present.
    """
    xyz = np.asarray(xyz, np.float32)
    x, y = xyz[..., 0], xyz[..., 1]
    return (x.max(axis=-1) - x.min(axis=-1)) <= np.float32(NOISE_SPREAD_XY) * (y.max(axis=-1) - y.min(axis=-1))


def denoise_bodies(skel: Skeleton) -> list[int]:
    """The body slots kept by the NTU denoising of SGN / CTR-GCN, largest motion first.

    Steps, in the reference's order (``get_raw_denoised_data.py``):

    1. length: bodies tracked in ``NOISE_LEN_FRAMES`` (11) frames or fewer are dropped; if no
       body is tracked longer, the longest ones are kept.
    2. spread: while two or more bodies remain, each body in order of first appearance is
       tested with :func:`spread_valid_frames`; it is dropped when the share of its noisy frames
       is ``NOISE_SPREAD_FRAMES`` (0.69754) or more (the last remaining body is never dropped);
       otherwise its motion becomes the smaller of its motion and the motion of its valid frames.
    3. motion: the remaining bodies are ranked by :func:`body_motion`, largest first (ties in
       order of first appearance).

    A file with one body slot is returned as is.

    Args:
        skel: a parsed sample, ``xyz`` float32 (F, B, 25, 3), ``present`` bool (F, B).

    Returns:
        Kept slot indices, largest motion first.
    """
    n_bodies = skel.n_bodies
    if n_bodies <= 1:
        return list(range(n_bodies))
    xyz = np.asarray(skel.xyz, np.float32)
    present = np.asarray(skel.present, bool)
    length = present.sum(axis=0)
    motion = {b: body_motion(xyz[present[:, b], b]) for b in range(n_bodies)}
    kept = [b for b in range(n_bodies) if length[b] > NOISE_LEN_FRAMES]
    if not kept:
        kept = [b for b in range(n_bodies) if length[b] == length.max()]
    for b in list(kept):
        if len(kept) == 1:
            break
        pts = xyz[present[:, b], b]
        valid = spread_valid_frames(pts)
        n_noise = int((~valid).sum())
        if n_noise == 0:
            continue
        if n_noise / len(valid) >= NOISE_SPREAD_FRAMES:
            kept.remove(b)
        else:
            motion[b] = min(motion[b], body_motion(pts[valid]))
    return sorted(kept, key=lambda b: (-motion[b], b))


def _assign(order: Sequence[int], present: np.ndarray) -> list[list[int]]:
    """Walk down ``order``: a body joins actor 0 if it shares no frame with it, else actor 1, else none."""
    actors: list[list[int]] = [[], []]
    frames = [np.zeros(len(present), bool), np.zeros(len(present), bool)]
    for b in order:
        for a in (0, 1):
            if not np.any(frames[a] & present[:, b]):
                actors[a].append(b)
                frames[a] |= present[:, b]
                break
    return actors


def actor_slots(skel: Skeleton, method: str = DEFAULT_ACTOR_METHOD) -> list[list[int]]:
    """Which body slots of ``skel`` make up the two actors.

    Args:
        skel: a parsed sample with ``B`` body slots (in order of first appearance).
        method: one of ``ACTOR_METHODS`` (default ``"ctrgcn_first"``); see :func:`select_actors`.

    Returns:
        Two lists of body-slot indices, actor 0 first. An actor may be made of several
        slots that never share a frame (a person whose tracking id changed mid-sequence);
        a list is empty when there is no such actor.
    """
    _check_choice(method, ACTOR_METHODS, "method")
    n_bodies = skel.n_bodies
    if method == "first" or n_bodies <= 1:
        return [[b] for b in range(min(n_bodies, 2))] + [[] for _ in range(2 - min(n_bodies, 2))]

    present = np.asarray(skel.present, bool)
    if method in ("ctrgcn_first", "ctrgcn"):
        actors = _assign(denoise_bodies(skel), present)
        if method == "ctrgcn_first":
            actors = _by_first_appearance(actors, present)
        return [sorted(a) for a in actors]

    length = present.sum(axis=0)                                       # frames per slot
    min_len = min(NOISE_LEN_FRAMES, int(length.max()))
    motion = np.array([_body_motion(skel.xyz[:, b], present[:, b]) for b in range(n_bodies)])
    # Long-enough bodies only, by motion (largest first), then by slot (stable ties).
    order = [b for b in sorted(range(n_bodies), key=lambda b: (-motion[b], b)) if length[b] >= min_len]
    return [sorted(a) for a in _by_first_appearance(_assign(order, present), present)]


def _by_first_appearance(actors: list[list[int]], present: np.ndarray) -> list[list[int]]:
    """The two actors ordered by their first frame, ties by their first body slot (file order)."""
    n_frames, n_bodies = present.shape

    def first_seen(bodies: list[int]) -> tuple[int, int]:
        frames = present[:, bodies].any(axis=1)
        if not frames.any():
            return (n_frames, n_bodies)
        return (int(np.argmax(frames)), min(bodies))

    return [actors[1], actors[0]] if first_seen(actors[1]) < first_seen(actors[0]) else actors


def drops_empty_frames(method: str) -> bool:
    """Whether the actor selection ``method`` removes the frames in which neither actor is present."""
    _check_choice(method, ACTOR_METHODS, "method")
    return method in ("ctrgcn_first", "ctrgcn")


def select_actors(skel: Skeleton, method: str = DEFAULT_ACTOR_METHOD) -> np.ndarray:
    """The two main actors of a sample, as a float32 array (F', 2, 25, 3).

    Files may hold more than two body slots: the Kinect tracker sometimes reports a
    noise body (a chair, a coat, a reflection) or gives a person a new tracking id
    mid-sequence. Methods:

    - ``"ctrgcn"``: the NTU denoising most published results use (SGN, CTR-GCN:
      ``get_raw_denoised_data.py``), see :func:`denoise_bodies`: bodies of 11 frames or fewer
      are dropped, then bodies that are mostly wider than tall, then the rest is ranked by
      :func:`body_motion` (variance over all (frame, joint) points). Walking down that
      ranking, a body joins actor 0 if it shares no frame with actor 0, else actor 1 if it
      shares no frame with actor 1, else it is dropped; so the body with the largest motion
      is in person 0 (the field's "actor 1") and a person whose tracking id changed is
      stitched back together. Frames in which neither actor is present are then removed
      (the file's frames with no body, and frames holding only noise bodies), so
      ``F' <= F``.
    - ``"ctrgcn_first"`` (default): the same bodies and frames as ``"ctrgcn"``, with the two
      actors ordered by first appearance instead of by motion (the earlier one is person 0;
      when both enter in the same frame, the one holding the earlier body slot of the file).
      The largest motion is not always the attacker's (a receiver who recoils or raises the
      hands can move more than an attacker who holds an aim), while the models and the GAN
      read person 0 as the one who acts; on the
      simulator, which writes the attacker's body first, this order puts the attacker in
      person 0 in every sample (see :func:`skelutils.dataset.actor_order_share`).
    - ``"motion"``: the companion's earlier selection: bodies tracked in fewer than 11 frames
      are dropped (unless no body is tracked that long: then the longest ones are kept), the
      others ranked by the per-joint variance over time summed over joints and xyz, no spread
      test; the same stitching; the two actors are then ordered by first appearance (the
      earlier one is person 0; when both enter in the same frame, the one holding the earlier
      body slot of the file). Keeps every frame of the file (``F' = F``).
    - ``"first"``: the first two body slots, no denoising; keeps every frame.

    Args:
        skel: a parsed sample, ``xyz`` float32 (F, B, 25, 3) metres.
        method: one of ``ACTOR_METHODS``.

    Returns:
        float32 (F', 2, 25, 3), metres; zeros where a person is absent (all zeros for
        person 1 when the file holds one body; when it holds none: no frame with the
        ``"ctrgcn"`` methods, all zeros with the others).

    Raises:
        ValueError: unknown ``method``.
    """
    seq = actors_from_slots(skel, actor_slots(skel, method))
    return drop_empty_frames(seq) if drops_empty_frames(method) else seq


def drop_empty_frames(seq) -> np.ndarray:
    """Remove every frame in which no person is present (not only leading and trailing ones).

    Args:
        seq: (F, M, 25, 3).

    Returns:
        float32 (F', M, 25, 3), F' <= F, the remaining frames in their order.
    """
    seq = _as_seq(seq)
    return seq[_body_present(seq).any(axis=1)]


def actors_from_slots(skel: Skeleton, slots: Sequence[Sequence[int]]) -> np.ndarray:
    """Gather the body slots of each actor (from :func:`actor_slots`) into float32 (F, 2, 25, 3)."""
    xyz = np.asarray(skel.xyz, np.float32)
    present = np.asarray(skel.present, bool)
    out = np.zeros((skel.n_frames, 2, NUM_JOINTS, 3), np.float32)
    for a, bodies in enumerate(slots):
        for b in bodies:
            mask = present[:, b]
            out[mask, a] = xyz[mask, b]
    return out


# ---------------------------------------------------------------------------------------------
# temporal steps
# ---------------------------------------------------------------------------------------------

def trim_empty(seq: np.ndarray) -> np.ndarray:
    """Drop leading and trailing frames in which no person is present.

    Args:
        seq: (F, M, 25, 3).

    Returns:
        (F', M, 25, 3) view, F' <= F (F' = 0 when no frame holds anyone).
    """
    seq = _as_seq(seq)
    any_body = _body_present(seq).any(axis=1)
    if not any_body.any():
        return seq[:0]
    idx = np.flatnonzero(any_body)
    return seq[idx[0]: idx[-1] + 1]


def _uniform_indices(n_in: int, n_out: int) -> np.ndarray:
    """``n_out`` frame indices spread evenly over ``0..n_in-1``, both ends included."""
    return np.rint(np.linspace(0, n_in - 1, n_out)).astype(np.int64)


def interpolation_weights(n: int, frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the ``frames`` output frames of a linear resampling of ``n`` frames lie (endpoints
    kept, ``n >= 2``): each is ``(1 - w) * in[lo] + w * in[hi]``, as int64, int64, float32 (frames,)."""
    pos = np.linspace(0.0, n - 1, frames)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    return lo, hi, (pos - lo).astype(np.float32)


def _interpolate(seq: np.ndarray, frames: int) -> np.ndarray:
    """Linear interpolation along axis 0 to ``frames`` frames, endpoints kept.

    Between a frame where a person is present and one where it is absent, the nearest
    frame's value is used instead of a blend with zeros.
    """
    n = seq.shape[0]
    if n == 1:
        return np.repeat(seq, frames, axis=0)
    lo, hi, w = interpolation_weights(n, frames)
    a, b = seq[lo], seq[hi]
    out = a + (b - a) * w[:, None, None, None]
    pres = _body_present(seq)
    mixed = pres[lo] != pres[hi]                                   # (T, M)
    if mixed.any():
        nearest = np.where(w >= 0.5, hi, lo)
        t_idx, m_idx = np.nonzero(mixed)
        out[t_idx, m_idx] = seq[nearest[t_idx], m_idx]
    return out.astype(np.float32)


def resample(seq, frames: int, method: str = "uniform", rng=None, trim: bool = True) -> np.ndarray:
    """Bring a sequence to a fixed number of frames.

    Methods:

    - ``"uniform"`` (default): linear interpolation to ``frames`` frames; the first and last
      frames are kept exactly. Works for shorter and longer inputs.
    - ``"pad"``: shorter inputs are zero-padded at the end; longer ones are subsampled at
      ``frames`` evenly spaced frames (first and last kept).
    - ``"random"``: shorter inputs are zero-padded at the end; for longer ones ``frames``
      distinct frames are drawn at random and kept in temporal order (the T = 100 rule of
      Zheng et al., *Relational Network for Skeleton-Based Action Recognition*, 2019).
    - ``"loop"``: shorter inputs are repeated from the start until ``frames`` frames are
      filled; longer ones are subsampled as in ``"pad"``.

    Args:
        seq: (F, M, 25, 3) metres, zeros where a person is absent.
        frames: T, the number of output frames (>= 1).
        method: one of ``RESAMPLE_METHODS``.
        rng: ``numpy.random.Generator`` or int seed for ``"random"``; ``None`` means seed 0
            (deterministic). Ignored by the other methods.
        trim: drop leading/trailing frames in which nobody is present first (default True).

    Returns:
        float32 (T, M, 25, 3). An input with no frame left is returned as all zeros.

    Raises:
        ValueError: bad shape, ``frames < 1`` or unknown ``method``.
    """
    _check_choice(method, RESAMPLE_METHODS, "method")
    if int(frames) != frames or frames < 1:
        raise ValueError(f"frames={frames!r}: expected a positive integer number of output frames")
    frames = int(frames)
    seq = _as_seq(seq)
    if trim:
        seq = trim_empty(seq)
    n = seq.shape[0]
    out = np.zeros((frames,) + seq.shape[1:], np.float32)
    if n == 0:
        return out
    if method == "uniform":
        return _interpolate(seq, frames)
    if n <= frames:
        out[:n] = seq
        if method == "loop":
            reps = -(-frames // n)
            out[:] = np.concatenate([seq] * reps, axis=0)[:frames]
        return out
    if method == "random":
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(0 if rng is None else rng)
        idx = np.sort(gen.choice(n, size=frames, replace=False))
    else:
        idx = _uniform_indices(n, frames)
    return np.ascontiguousarray(seq[idx])


# ---------------------------------------------------------------------------------------------
# spatial steps
# ---------------------------------------------------------------------------------------------

def _origin(seq: np.ndarray, joint: int = SPINE_BASE) -> np.ndarray | None:
    """Person 0's ``joint`` in its first present frame (person 1's if person 0 never appears)."""
    pres = _body_present(seq)
    for m in range(seq.shape[1]):
        if pres[:, m].any():
            return seq[int(np.argmax(pres[:, m])), m, joint].copy()
    return None


def center(x, mode: str = "hip0") -> np.ndarray:
    """Translate so that a joint of person 0 in its first frame is the origin.

    Modes:

    - ``"hip0"`` (default): SpineBase (hip centre, joint 0).
    - ``"spinemid0"``: SpineMid (middle of the spine, joint 1), the origin of the NTU
      preparation of SGN / CTR-GCN (``seq_transformation.py``) and of PySKL.
    - ``"none"``: a float32 copy, unchanged.

    The first frame is the first one in which person 0 is present (if person 0 never
    appears, person 1's first frame is used; with nobody present the input is returned).
    The same offset is subtracted from every joint of both persons in every frame;
    absent persons stay zero.

    Args:
        x: one sequence (T, M, 25, 3), or a batch (N, M, T, 25, 3) centred sample by sample.
        mode: one of ``CENTER_MODES``.

    Returns:
        float32 array of the input's shape, metres.

    Raises:
        ValueError: unknown ``mode`` or bad shape.
    """
    _check_choice(mode, CENTER_MODES, "mode")
    x = np.asarray(x)
    if x.ndim == 5:
        return np.stack([center(s.transpose(1, 0, 2, 3), mode).transpose(1, 0, 2, 3) for s in x]) \
            if len(x) else x.astype(np.float32)
    seq = _as_seq(x, "x").copy()
    if mode == "none":
        return seq
    origin = _origin(seq, SPINE_MID if mode == "spinemid0" else SPINE_BASE)
    if origin is None:
        return seq
    pres = _body_present(seq)
    seq[pres] -= origin
    return seq


def align_view(x, enabled: bool = False) -> np.ndarray:
    """Rotate about the vertical (y) axis so person 0 faces the camera squarely.

    The rotation makes the vector from person 0's right hip (joint 16) to left hip
    (joint 12) in its first present frame parallel to the +x axis (its z component
    becomes 0): the usual NTU view alignment (Shahroudy et al. 2016 align the hips
    with the x axis as part of their normalisation). It rotates about the origin, so
    apply it after :func:`center`. Absent persons stay zero; a zero-length hip vector
    leaves the input unchanged.

    Args:
        x: one sequence (T, M, 25, 3), or a batch (N, M, T, 25, 3) aligned sample by sample.
        enabled: off by default (the paper does not align views); ``False`` returns a
            float32 copy.

    Returns:
        float32 array of the input's shape, metres.
    """
    x = np.asarray(x)
    if x.ndim == 5:
        return np.stack([align_view(s.transpose(1, 0, 2, 3), enabled).transpose(1, 0, 2, 3)
                         for s in x]) if len(x) else x.astype(np.float32)
    seq = _as_seq(x, "x").copy()
    if not enabled:
        return seq
    pres = _body_present(seq)
    if not pres[:, 0].any():
        return seq
    f0 = int(np.argmax(pres[:, 0]))
    v = seq[f0, 0, HIP_LEFT].astype(np.float64) - seq[f0, 0, HIP_RIGHT]
    vx, vz = v[0], v[2]
    if np.hypot(vx, vz) < 1e-9:
        return seq
    theta = np.arctan2(vz, vx)
    c, s = np.cos(theta), np.sin(theta)
    # x' = c x + s z ; z' = -s x + c z  (rotation about y by -theta)
    rot = np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]])  # row vectors: p' = p @ rot
    seq[pres] = (seq[pres].astype(np.float64) @ rot).astype(np.float32)
    return seq


def to_motion(x, axis: int = 2) -> np.ndarray:
    """Per-frame displacement along time: ``out[t] = x[t] - x[t-1]``, ``out[0] = 0``.

    A displacement is set to zero where the joint is absent (all-zero xyz) in either of
    the two frames, so a person entering, leaving or zero padding does not show up as a
    jump of its whole position.

    Args:
        x: (N, M, T, V, C) by default (time on ``axis`` 2); any array with time on ``axis``
            and xyz on the last axis.
        axis: the time axis.

    Returns:
        float32 array of the input's shape, metres per frame.
    """
    x = np.asarray(x, np.float32)
    if x.ndim < 2:
        raise ValueError(f"to_motion: expected at least (T, C) dimensions, got shape {x.shape}")
    axis = axis % x.ndim
    if axis == x.ndim - 1:
        raise ValueError("to_motion: the last axis holds xyz; pass the time axis in `axis`")
    out = np.zeros_like(x)
    if x.shape[axis] < 2:
        return out
    cur = [slice(None)] * x.ndim
    prev = [slice(None)] * x.ndim
    cur[axis], prev[axis] = slice(1, None), slice(None, -1)
    a, b = x[tuple(cur)], x[tuple(prev)]
    both = np.any(a != 0, axis=-1, keepdims=True) & np.any(b != 0, axis=-1, keepdims=True)
    out[tuple(cur)] = np.where(both, a - b, 0.0)
    return out


# ---------------------------------------------------------------------------------------------
# the whole chain
# ---------------------------------------------------------------------------------------------

# The chain's keyword arguments are named like the step functions; keep handles on the functions.
_center, _resample = center, resample


def prepare_sequence(seq, frames: int = 64, resample: str = "uniform", center: str = "hip0",
                     align: bool = False, rng=None, trim: bool = True) -> np.ndarray:
    """One sequence through the chain trim -> center -> align_view -> resample.

    Centring and alignment come before resampling so that they use the true first frame
    (``"random"`` resampling may drop it).

    Args:
        seq: (F, 2, 25, 3) metres, from :func:`select_actors`.
        frames, resample, center, align, rng, trim: see :func:`prepare_sequences`.

    Returns:
        float32 (T, 2, 25, 3).
    """
    s = _as_seq(seq)
    if trim:
        s = trim_empty(s)
    s = _center(s, center)
    s = align_view(s, align)
    return _resample(s, frames, resample, rng=rng, trim=False)



def prepare_sequences(seqs, frames: int = 64, resample: str = "uniform", center: str = "hip0",
                      align: bool = False, rng=None, trim: bool = True) -> np.ndarray:
    """Raw two-person sequences to the model layout float32 (N, M=2, T, V=25, C=3).

    Steps, per sequence: :func:`trim_empty` (if ``trim``), :func:`center`,
    :func:`align_view`, :func:`resample`; then the axes go from (T, M, V, C) to
    (M, T, V, C).

    Args:
        seqs: list of N arrays (F_i, 2, 25, 3), metres, zeros where a person is absent.
        frames: T (default 64, the companion's canonical length; 100 for the RRN baseline).
        resample: ``"uniform"`` (default), ``"pad"``, ``"random"`` or ``"loop"``.
        center: ``"hip0"`` (default, person 0's SpineBase), ``"spinemid0"`` (its SpineMid, as
            SGN / CTR-GCN) or ``"none"``; see :func:`center`.
        align: rotate each sample to the hip-parallel-to-x view (default False).
        rng: numpy Generator or int seed used by ``resample="random"``; ``None`` means
            seed 0. One generator is shared by all sequences, in order.
        trim: drop leading/trailing frames with nobody present (default True).

    Returns:
        float32 (N, 2, T, 25, 3).

    Raises:
        ValueError: a sequence of the wrong shape (its index is named) or a bad option.
    """
    _check_choice(resample, RESAMPLE_METHODS, "resample")
    _check_choice(center, CENTER_MODES, "center")
    if int(frames) != frames or frames < 1:
        raise ValueError(f"frames={frames!r}: expected a positive integer number of output frames")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(0 if rng is None else rng)
    out = np.zeros((len(seqs), 2, int(frames), NUM_JOINTS, 3), np.float32)
    for i, seq in enumerate(seqs):
        arr = np.asarray(seq)
        if arr.ndim != 4 or arr.shape[1:] != (2, NUM_JOINTS, 3):
            raise ValueError(f"sequence {i}: expected shape (F, 2, {NUM_JOINTS}, 3), got {arr.shape}; "
                             "pass the output of select_actors")
        out[i] = prepare_sequence(arr, frames, resample, center, align, gen, trim).transpose(1, 0, 2, 3)
    return out
