"""Standard preparation of raw NTU skeleton sequences: pure numpy functions.

The path from a parsed file to a model input is a chain of named, documented steps::

    Skeleton --select_actors--> (F, 2, 25, 3) --trim/center/align_view/resample--> (T, 2, 25, 3)
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

#: Allowed values of the ``method`` argument of :func:`select_actors`.
ACTOR_METHODS = ("motion", "first")
#: Allowed values of the ``method`` argument of :func:`resample`.
RESAMPLE_METHODS = ("uniform", "pad", "random", "loop")
#: Allowed values of the ``mode`` argument of :func:`center`.
CENTER_MODES = ("hip0", "none")

#: Bodies tracked in fewer frames than this are treated as noise by ``select_actors``
#: (the threshold of the NTU denoising of Zhang et al., View Adaptive networks, 2019).
NOISE_LEN_FRAMES = 11
#: SpineBase, HipLeft, HipRight (0-based Kinect v2 joints).
SPINE_BASE, HIP_LEFT, HIP_RIGHT = 0, 12, 16


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
    """Total variance over time of one body's joints (summed over joints and xyz), present frames only."""
    pts = xyz[present]
    if len(pts) < 2:
        return 0.0
    return float(np.var(pts.astype(np.float64), axis=0).sum())


def actor_slots(skel: Skeleton, method: str = "motion") -> list[list[int]]:
    """Which body slots of ``skel`` make up the two actors.

    Args:
        skel: a parsed sample with ``B`` body slots (in order of first appearance).
        method: ``"motion"`` (default) or ``"first"``; see :func:`select_actors`.

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
    length = present.sum(axis=0)                                       # frames per slot
    min_len = min(NOISE_LEN_FRAMES, int(length.max()))
    motion = np.array([_body_motion(skel.xyz[:, b], present[:, b]) for b in range(n_bodies)])
    # Long-enough bodies first, then by motion (largest first), then by slot (stable ties).
    order = sorted(range(n_bodies), key=lambda b: (length[b] < min_len, -motion[b], b))

    actors: list[list[int]] = [[], []]
    frames = [np.zeros(skel.n_frames, bool), np.zeros(skel.n_frames, bool)]
    for b in order:
        if length[b] < min_len:
            continue                                                   # a short body: noise
        for a in (0, 1):
            if not np.any(frames[a] & present[:, b]):
                actors[a].append(b)
                frames[a] |= present[:, b]
                break

    def first_seen(a: int) -> tuple[int, int]:
        # (first frame, first slot): slots are numbered in order of first appearance in the file
        if not frames[a].any():
            return (skel.n_frames, n_bodies)
        return (int(np.argmax(frames[a])), min(actors[a]))

    if first_seen(1) < first_seen(0):
        actors = [actors[1], actors[0]]
    return [sorted(a) for a in actors]


def select_actors(skel: Skeleton, method: str = "motion") -> np.ndarray:
    """The two main actors of a sample, as a float32 array (F, 2, 25, 3).

    Files may hold more than two body slots: the Kinect tracker sometimes reports a
    noise body (a chair, a coat, a reflection) or gives a person a new tracking id
    mid-sequence. Methods:

    - ``"motion"`` (default; the common NTU denoising of Zhang et al., *View Adaptive
      Neural Networks*, 2019, also used by CTR-GCN): bodies tracked in fewer than
      ``NOISE_LEN_FRAMES`` (11) frames are dropped as noise (unless no body is tracked that
      long: then the longest ones are kept); the others are ranked by their total
      joint variance over time (the larger, the more the body moves and spreads, the
      more likely a person). Walking down that ranking, a body joins actor 0 if it shares
      no frame with actor 0, else actor 1 if it shares no frame with actor 1, else it is
      dropped as noise; so a person whose tracking id changed is stitched back together.
      (The original's extra "x-spread > 0.8 y-spread" filter is not applied.)
    - ``"first"``: the first two body slots, no denoising.

    The two actors are then ordered by first appearance (the earlier one is person 0; when
    both enter in the same frame, the one holding the earlier body slot of the file).

    Args:
        skel: a parsed sample, ``xyz`` float32 (F, B, 25, 3) metres.
        method: ``"motion"`` or ``"first"``.

    Returns:
        float32 (F, 2, 25, 3), metres; zeros where a person is absent (all zeros for
        person 1 when the file holds one body, all zeros when it holds none).

    Raises:
        ValueError: unknown ``method``.
    """
    return actors_from_slots(skel, actor_slots(skel, method))


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


def _interpolate(seq: np.ndarray, frames: int) -> np.ndarray:
    """Linear interpolation along axis 0 to ``frames`` frames, endpoints kept.

    Between a frame where a person is present and one where it is absent, the nearest
    frame's value is used instead of a blend with zeros.
    """
    n = seq.shape[0]
    if n == 1:
        return np.repeat(seq, frames, axis=0)
    pos = np.linspace(0.0, n - 1, frames)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    w = (pos - lo).astype(np.float32)
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

def _origin(seq: np.ndarray) -> np.ndarray | None:
    """Person 0's SpineBase in its first present frame (person 1's if person 0 never appears)."""
    pres = _body_present(seq)
    for m in range(seq.shape[1]):
        if pres[:, m].any():
            return seq[int(np.argmax(pres[:, m])), m, SPINE_BASE].copy()
    return None


def center(x, mode: str = "hip0") -> np.ndarray:
    """Translate so that person 0's SpineBase (hip centre, joint 0) in the first frame is the origin.

    The first frame is the first one in which person 0 is present (if person 0 never
    appears, person 1's first frame is used; with nobody present the input is returned).
    The same offset is subtracted from every joint of both persons in every frame;
    absent persons stay zero.

    Args:
        x: one sequence (T, M, 25, 3), or a batch (N, M, T, 25, 3) centred sample by sample.
        mode: ``"hip0"`` (default) or ``"none"`` (a float32 copy, unchanged).

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
    origin = _origin(seq)
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
        center: ``"hip0"`` (default) or ``"none"``.
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
