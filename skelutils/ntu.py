"""NTU RGB+D raw skeleton files: names, constants, the reader and the writer.

One ``SsssCcccPpppRrrrAaaa.skeleton`` text file holds one sample (setup, camera,
performer, replication, action). Layout (Shahroudy et al. 2016, Liu et al. 2019)::

    <frame count>
    per frame:  <body count>
      per body: bodyID clippedEdges handLeftConfidence handLeftState
                handRightConfidence handRightState isRestricted leanX leanY trackingState
                <joint count = 25>
                25 x: x y z depthX depthY colorX colorY
                      orientationW orientationX orientationY orientationZ trackingState

Coordinates ``x y z`` are metres in the Kinect v2 camera frame; ``depthX depthY``
are pixels in the 512x424 depth image, ``colorX colorY`` pixels in the 1920x1080
colour image.
"""
from __future__ import annotations

import dataclasses
import os
import re
import threading
from pathlib import Path

import numpy as np

#: Number of Kinect v2 joints per body.
NUM_JOINTS = 25

#: The seven harmful mutual actions, in the companion's label order: (name, NTU action id).
CLASSES: tuple[tuple[str, int], ...] = (
    ("hit with object", 106),
    ("kicking", 51),
    ("knock over", 108),
    ("punch/slap", 50),
    ("pushing", 52),
    ("shoot with gun", 110),
    ("wield knife", 107),
)
CLASS_NAMES: tuple[str, ...] = tuple(name for name, _ in CLASSES)
ACTION_IDS: tuple[int, ...] = tuple(a for _, a in CLASSES)
#: NTU action id -> label index 0..6.
ACTION_TO_LABEL: dict[int, int] = {a: i for i, a in enumerate(ACTION_IDS)}

#: The harmless mutual actions of NTU RGB+D 60 (A050-A060) and 120 (A106-A120): (name, NTU id).
#: Together they make the one extra class "harmless interaction" of the class set
#: ``harmful7+harmless``. Borderline mutual actions are left out of both sides
#: (:data:`BORDERLINE_ACTIONS`).
HARMLESS_CLASSES: tuple[tuple[str, int], ...] = (
    ("pat on back", 53),
    ("hugging", 55),
    ("giving object", 56),
    ("handshaking", 58),
    ("walking towards", 59),
    ("walking apart", 60),
    ("high-five", 112),
    ("cheers and drink", 113),
    ("carry object", 114),
    ("take a photo", 115),
    ("whisper", 117),
    ("exchange things", 118),
    ("support somebody", 119),
    ("rock-paper-scissors", 120),
)
HARMLESS_ACTION_IDS: tuple[int, ...] = tuple(a for _, a in HARMLESS_CLASSES)
#: Mutual actions that are neither clearly harmful nor clearly harmless, with the reason; no
#: class set reads them.
BORDERLINE_ACTIONS: dict[int, str] = {
    54: "point finger: an accusing or threatening gesture as often as a friendly one",
    57: "touch pocket: the NTU performers act a pickpocket (a theft, not an assault)",
    109: "grab stuff: a snatch of the other's belongings (a robbery rather than a harmless exchange)",
    111: "step on foot: a deliberate stamp is an assault, an accidental one is not",
    116: "follow: walking behind someone is harmless or stalking depending on context",
}
#: Name of the extra class of ``harmful7+harmless``.
HARMLESS_CLASS_NAME = "harmless interaction"
#: Class sets a data set can be built for: the paper's seven harmful classes (Table 1), or the
#: seven plus one class holding every harmless mutual action.
CLASS_SETS: tuple[str, ...] = ("harmful7", "harmful7+harmless")
DEFAULT_CLASS_SET = "harmful7"


def _check_class_set(class_set: str) -> None:
    if class_set not in CLASS_SETS:
        raise ValueError(f"class set {class_set!r} unknown; choose one of {list(CLASS_SETS)} "
                         "(profile key data.class_set)")


def class_set_names(class_set: str = DEFAULT_CLASS_SET) -> tuple[str, ...]:
    """Class names of a class set in label order: the seven of :data:`CLASS_NAMES`, then
    ``"harmless interaction"`` for ``harmful7+harmless``."""
    _check_class_set(class_set)
    return CLASS_NAMES + ((HARMLESS_CLASS_NAME,) if class_set == "harmful7+harmless" else ())


def class_set_actions(class_set: str = DEFAULT_CLASS_SET) -> tuple[int, ...]:
    """The NTU action ids a class set reads (the harmful seven, plus the harmless ones)."""
    _check_class_set(class_set)
    return ACTION_IDS + (HARMLESS_ACTION_IDS if class_set == "harmful7+harmless" else ())


def class_set_labels(class_set: str = DEFAULT_CLASS_SET) -> dict[int, int]:
    """NTU action id -> label of a class set (every harmless action -> label 7)."""
    out = dict(ACTION_TO_LABEL)
    if class_set_names(class_set)[-1] == HARMLESS_CLASS_NAME:
        out.update({a: len(CLASS_NAMES) for a in HARMLESS_ACTION_IDS})
    return out


def harmless_label(class_names) -> int | None:
    """Index of the harmless class in ``class_names`` (``None`` when the set has none)."""
    names = list(class_names)
    return names.index(HARMLESS_CLASS_NAME) if HARMLESS_CLASS_NAME in names else None

#: Kinect v2 joint names, 0-based, in file order.
JOINT_NAMES: tuple[str, ...] = (
    "SpineBase", "SpineMid", "Neck", "Head", "ShoulderLeft", "ElbowLeft", "WristLeft",
    "HandLeft", "ShoulderRight", "ElbowRight", "WristRight", "HandRight", "HipLeft",
    "KneeLeft", "AnkleLeft", "FootLeft", "HipRight", "KneeRight", "AnkleRight",
    "FootRight", "SpineShoulder", "HandTipLeft", "ThumbLeft", "HandTipRight", "ThumbRight",
)
#: Kinect v2 bones as (child, parent), 0-based; the root is SpineBase (0).
BONES: tuple[tuple[int, int], ...] = (
    (1, 0), (20, 1), (2, 20), (3, 2), (4, 20), (5, 4), (6, 5), (7, 6), (21, 7), (22, 6),
    (8, 20), (9, 8), (10, 9), (11, 10), (23, 11), (24, 10), (12, 0), (13, 12), (14, 13),
    (15, 14), (16, 0), (17, 16), (18, 17), (19, 18),
)

#: Joint tracking states written by the Kinect SDK.
NOT_TRACKED, INFERRED, TRACKED = 0, 1, 2

_NAME_RE = re.compile(r"^S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})$")


class SkeletonFormatError(ValueError):
    """A raw skeleton file or a sample name is malformed.

    The message names the file, the line (1-based) where relevant, what was
    expected and what to do.
    """


@dataclasses.dataclass(frozen=True)
class SampleName:
    """The five ids encoded in an NTU sample name such as ``S018C002P042R001A106``."""

    setup: int
    camera: int
    performer: int
    replication: int
    action: int

    def __str__(self) -> str:
        return (f"S{self.setup:03d}C{self.camera:03d}P{self.performer:03d}"
                f"R{self.replication:03d}A{self.action:03d}")


def parse_sample_name(name: str | os.PathLike) -> SampleName:
    """Parse an NTU sample name (a bare name, a file name or a path).

    Args:
        name: ``"S018C002P042R001A106"``, optionally with a ``.skeleton`` suffix
            and leading folders.

    Returns:
        SampleName with setup, camera, performer, replication and action as ints.

    Raises:
        SkeletonFormatError: the name does not follow ``SsssCcccPpppRrrrAaaa``.
    """
    stem = Path(os.fspath(name)).name
    if stem.endswith(".skeleton"):
        stem = stem[: -len(".skeleton")]
    m = _NAME_RE.match(stem)
    if not m:
        raise SkeletonFormatError(
            f"{os.fspath(name)}: not an NTU RGB+D sample name; expected 'SsssCcccPpppRrrrAaaa' "
            "(e.g. S018C002P042R001A106) with an optional '.skeleton' suffix. Rename the file or "
            "remove it from the data folder.")
    return SampleName(*(int(g) for g in m.groups()))


@dataclasses.dataclass
class Skeleton:
    """One parsed sample. ``F`` frames, ``B`` body slots (bodies in order of first appearance).

    Attributes:
        xyz: float32 (F, B, 25, 3), metres, camera frame; zeros where a body is absent.
        present: bool (F, B), whether body slot b is in frame f.
        body_ids: int per body slot, the Kinect tracking id, in order of first appearance.
            A body keeps its slot across frames.
        tracking: int8 (F, B, 25), per-joint tracking state (0 not tracked, 1 inferred, 2 tracked).
        depth_xy: float32 (F, B, 25, 2), depth-image pixel coordinates.
        color_xy: float32 (F, B, 25, 2), colour-image pixel coordinates.
        orientation: float32 (F, B, 25, 4), joint orientation quaternion (w, x, y, z).
        body_info: float32 (F, B, 9), the body line after bodyID: clippedEdges,
            handLeftConfidence, handLeftState, handRightConfidence, handRightState,
            isRestricted, leanX, leanY, trackingState.
        path: the file it came from (or will be written to), if any.

    ``tracking``, ``depth_xy``, ``color_xy``, ``orientation`` and ``body_info`` are
    None in a Skeleton read with ``read_skeleton(path, fields="xyz")``.
    """

    xyz: np.ndarray
    present: np.ndarray
    body_ids: tuple[int, ...]
    tracking: np.ndarray
    depth_xy: np.ndarray
    color_xy: np.ndarray
    orientation: np.ndarray
    body_info: np.ndarray
    path: str | None = None

    @property
    def n_frames(self) -> int:
        return int(self.xyz.shape[0])

    @property
    def n_bodies(self) -> int:
        return int(self.xyz.shape[1])

    @classmethod
    def empty_like(cls, n_frames: int, n_bodies: int, path: str | None = None) -> "Skeleton":
        """All-absent arrays of the right shapes and dtypes (handy for writers and tests)."""
        f, b, v = n_frames, n_bodies, NUM_JOINTS
        return cls(
            xyz=np.zeros((f, b, v, 3), np.float32),
            present=np.zeros((f, b), bool),
            body_ids=tuple(72057594037931000 + i for i in range(b)),
            tracking=np.full((f, b, v), TRACKED, np.int8),
            depth_xy=np.zeros((f, b, v, 2), np.float32),
            color_xy=np.zeros((f, b, v, 2), np.float32),
            orientation=np.zeros((f, b, v, 4), np.float32),
            body_info=np.zeros((f, b, 9), np.float32),
            path=path,
        )


#: Significant digits and line end of the files in the NTU RGB+D download, as the Kinect SDK
#: tool that recorded them wrote (``0.2181153 0.1725972 3.785547 ...``, CRLF line ends).
#: :func:`write_skeleton` writes 9 digits and ``\n`` by default, with which every float32
#: value reads back bit-identical.
NTU_DIGITS, NTU_NEWLINE = 7, "\r\n"
#: ``newline`` values accepted by :func:`format_skeleton` and :func:`write_skeleton`.
NEWLINES = ("\n", "\r\n")


def format_skeleton(skel: Skeleton, digits: int = 9, newline: str = "\n") -> str:
    """The text of an NTU ``.skeleton`` file holding ``skel`` (see :func:`write_skeleton`).

    Args:
        skel: the sample.
        digits: significant digits of every float (1..17, default 9: float32 values read
            back bit-identical; :data:`NTU_DIGITS` = 7 as in the dataset).
        newline: ``"\\n"`` (default) or ``"\\r\\n"`` (:data:`NTU_NEWLINE`, as in the dataset).

    Raises:
        ValueError: ``digits`` or ``newline`` not one of the allowed values.
    """
    if isinstance(digits, bool) or not isinstance(digits, (int, np.integer)) or not 1 <= digits <= 17:
        raise ValueError(f"format_skeleton(digits={digits!r}): expected an integer in 1..17 "
                         "(9 reads float32 back exactly, 7 is the dataset's own precision)")
    if newline not in NEWLINES:
        raise ValueError(f"format_skeleton(newline={newline!r}): allowed values are {NEWLINES}")
    g = f"%.{int(digits)}g"
    joint_line = " ".join([g] * 11) + " %d"               # 11 floats, then the tracking state
    lean = f"{g} {g}"
    joint = np.concatenate([skel.xyz, skel.depth_xy, skel.color_xy, skel.orientation],
                           axis=-1).astype(np.float64)       # (F, B, 25, 11), float32 values exactly
    out = [str(skel.n_frames)]
    for f in range(skel.n_frames):
        slots = np.flatnonzero(skel.present[f])
        out.append(str(len(slots)))
        for b in slots:
            info = skel.body_info[f, b].tolist()
            ints = [int(round(v)) for v in info[:6]]
            out.append(f"{skel.body_ids[b]} " + " ".join(map(str, ints)) + " "
                       + lean % (info[6], info[7]) + f" {int(round(info[8]))}")
            out.append(str(NUM_JOINTS))
            out.extend(joint_line % (*row, trk)
                       for row, trk in zip(joint[f, b].tolist(), skel.tracking[f, b].tolist()))
    return newline.join(out) + newline


def write_skeleton(path: str | os.PathLike, skel: Skeleton, digits: int = 9, newline: str = "\n") -> Path:
    """Write ``skel`` as a genuine NTU ``.skeleton`` file, atomically.

    Bodies absent in a frame (``present[f, b]`` False) are not written for that
    frame; the reader gives them back their slot by body id. By default floats
    are written with 9 significant digits, so float32 values read back exactly;
    ``digits=NTU_DIGITS, newline=NTU_NEWLINE`` writes the dataset's own layout.

    Args:
        path: destination; the name should be an NTU sample name.
        skel: the sample.
        digits: significant digits of every float, see :func:`format_skeleton`.
        newline: ``"\\n"`` (default) or ``"\\r\\n"``.

    Returns:
        The path written.
    """
    data = format_skeleton(skel, digits, newline).encode("ascii")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


#: Values on a body line (bodyID and the nine of ``Skeleton.body_info``) and on a joint line.
BODY_VALUES, JOINT_VALUES = 10, 12
#: ``fields`` values accepted by :func:`read_skeleton`.
READ_FIELDS = ("all", "xyz")

_HINT = ("The file is damaged or is not an NTU RGB+D .skeleton file: extract it again from the "
         "dataset archive, or move it out of the data folder.")
# Plain decimals with at most this many digits are converted by the vectorised path
# (the mantissa, with the point read as one more digit, stays below 2**53, so every step
# is exact); anything else goes through float().
_MAX_FAST_DIGITS = 14
_MAX_FAST_WIDTH = 16
_BLOCK = 8192
_SCRATCH = threading.local()


def _masks(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two reusable bool buffers of length ``n`` (per thread): a fresh megabyte-sized array per
    file costs its page faults again on every read."""
    have = getattr(_SCRATCH, "buf", None)
    if have is None or have.shape[1] < n:
        have = _SCRATCH.buf = np.empty((2, max(n, 1 << 20)), bool)
    return have[0, :n], have[1, :n]
_U56 = np.uint64(56)
_ONES = np.uint64(0x0101010101010101)
_SPACES = np.uint64(0x2020202020202020)
_HIGH = np.uint64(0x8080808080808080)
# _KEEP[L]: 16 bytes whose last L are 0xFF (masks a right-aligned token of length L), one void16 each.
_KEEP = np.ascontiguousarray(
    np.where(np.arange(16)[None, ::-1] < np.arange(17)[:, None], np.uint8(255), np.uint8(0))).view("V16").ravel()
# 16 bytes as two words per row: a word whose only nonzero byte is a 1 at byte j, times its
# _BYTE_CODE word, has in its top byte 16 - j (first word) or 8 - j (second word): 16 minus
# the byte's offset in the 16. For a right-aligned token that is the point code w: 0 without
# a point, else 1 + the number of digits after it.
_BYTE_CODE = np.tile(np.frombuffer(bytes(range(9, 17)) + bytes(range(1, 9)), np.uint64), (_BLOCK, 1))
# Removing the point from the digits read with the point as a 0 (raw, at most 15 digits):
# mantissa = raw - _DROP[w] * floor(raw / _SPLIT[w]). In float64 every step is exact: the
# integers stay below 2**53, and the rounded quotient is never pushed up to the next integer.
_SPLIT = np.array([1e18] + [10.0 ** w for w in range(1, 17)] + [1e18] * 15)
_DROP = np.array([0.0] + [9 * 10.0 ** (w - 1) for w in range(1, 17)] + [0.0] * 15)
# Signed exact divisors 10**(w-1), indexed by w + 32 * negative (dividing by -10**k keeps -0.0).
_DIVISOR = np.array([1.0] + [10.0 ** (w - 1) for w in range(1, 17)] + [1.0] * 15)
_DIVISOR = np.concatenate((_DIVISOR, -_DIVISOR))


class _NotCanonical(Exception):
    """The vectorised reader met something it leaves to the line-by-line reader."""


@dataclasses.dataclass
class _Parsed:
    """Per body occurrence (one body in one frame), in file order; ``K`` occurrences."""

    n_frames: int
    frame: np.ndarray            # int64 (K,), 0-based frame index
    body_id: list[int]           # (K,) Kinect tracking ids
    body_line: np.ndarray        # int64 (K,), 0-based line index of the body line
    joints: np.ndarray           # float64 (K, 25, 3) xyz, or (K, 25, 12) every joint value
    body_info: np.ndarray | None  # float64 (K, 9), or None for fields="xyz"


def _error(path: str, line: int, what: str) -> SkeletonFormatError:
    return SkeletonFormatError(f"{path}, line {line}: {what}. {_HINT}")


def _swar_sum8(words: np.ndarray) -> np.ndarray:
    """Per uint64 word, the 8-digit number its bytes spell (0..9 each, most significant byte first in memory)."""
    w = (words * np.uint64(2561)) >> np.uint64(8)            # byte pairs: 10 * first + second
    w = ((w & np.uint64(0x00FF00FF00FF00FF)) * np.uint64(6553601)) >> np.uint64(16)
    w = ((w & np.uint64(0x0000FFFF0000FFFF)) * np.uint64(42949672960001)) >> np.uint64(32)
    return w


def _parse_decimals(a: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Convert the tokens ``a[start[i]:end[i]]`` (ASCII bytes) to float64, all at once.

    Plain decimals (an optional sign, digits, at most one point, at most 14
    digits) are converted with exact integer arithmetic: each token is copied
    right-aligned into 16 bytes (two 64-bit words) and the bytes left of it
    are cleared; per-byte digit and point flags are counted and the point
    located with one multiplication per word; the digits (the point read as a
    0) become one integer with a few multiply-and-shift steps; the point is
    taken out with one exact floor division by a power of ten; and a single
    division by an exact power of ten rounds correctly, so the result equals
    Python's ``float(token)`` bit for bit (-0.0 included). The few other
    tokens (exponents, long mantissas, ``nan``) go through ``float()``. Work
    goes in blocks of 8192 tokens so that the temporaries stay in cache.

    Raises:
        _NotCanonical: a token that ``float()`` rejects (the caller then locates it).
    """
    n = start.size
    out = np.empty(n)
    if n == 0:
        return out
    width = _MAX_FAST_WIDTH
    if int(end.min()) < width:                                # room for the window before the first token
        a = np.concatenate((np.full(width, 32, np.uint8), a))
        start, end = start + width, end + width
    # windows[i]: the 16 bytes a[i:i + 16], one void16 each (a gather copies them in one go)
    windows = np.ndarray((a.size - width + 1,), "V16", a, 0, (1,))
    odd = []
    for b in range(0, n, _BLOCK):
        s, e = start[b:b + _BLOCK], end[b:b + _BLOCK]
        m = s.size
        length = e - s
        w = windows[e - width].view(np.uint64).reshape(m, 2)  # token right-aligned in two words
        w &= _KEEP[np.minimum(length, width)].view(np.uint64).reshape(m, 2)
        ch = w.view(np.uint8)
        dig = ch - np.uint8(48)
        isdig = (dig < 10).view(np.uint64)                    # bytes 0 or 1
        ispoint = (ch == 46).view(np.uint64)
        c = (((ispoint << np.uint64(4)) | isdig) * _ONES) >> _U56  # per word: digits + 16 * points
        c = (c[:, 0] + c[:, 1]).astype(np.int64)
        ndig, npoint = c & 15, c >> 4
        c = (ispoint * _BYTE_CODE[:m]) >> _U56
        code = ((c[:, 0] + c[:, 1]) & np.uint64(31)).astype(np.intp)  # garbage (masked) only for bad tokens
        first = a[s]
        neg = first == 45
        bad = ((ndig + npoint + (neg | (first == 43)) != length) | (npoint > 1)
               | ((ndig - 1).astype(np.uint64) > np.uint64(_MAX_FAST_DIGITS - 1)))
        digits = dig.view(np.uint64)
        digits &= isdig * np.uint64(255)
        halves = _swar_sum8(digits)                           # (m, 2) 8-digit numbers
        raw = halves[:, 0] * np.uint64(10 ** 8) + halves[:, 1]  # the point read as a 0
        raw = raw.astype(np.float64)                         # exact below 2**53 (every good token)
        mant = raw - _DROP[code] * np.floor(raw / _SPLIT[code])
        np.divide(mant, _DIVISOR[code + 32 * neg], out=out[b:b + _BLOCK])
        if bad.any():
            odd.extend((np.flatnonzero(bad) + b).tolist())
    for i in odd:
        token = a[start[i]:end[i]].tobytes()
        try:
            out[i] = float(token)
        except ValueError:
            raise _NotCanonical from None
    return out


def _first_space(windows: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Per position p in ``at``, the offset (0..15) of the first space in ``a[p:p + 16]``, or 16 if none.

    ``windows`` is the void16 window view of ``a`` (see :func:`_parse_decimals`).
    A byte-wise test on two 64-bit words: spaces become 0 bytes, the classic
    zero-byte test flags them (exactly for the lowest one, which is all that
    is kept), and one multiplication turns that byte into 16 minus its offset.
    """
    out = np.empty(at.size, np.int64)
    for b in range(0, at.size, _BLOCK):
        p = at[b:b + _BLOCK]
        w = windows[p].view(np.uint64).reshape(p.size, 2) ^ _SPACES  # spaces become 0 bytes
        z = (w - _ONES) & ~w & _HIGH                                 # 0x80 at the 0 bytes (and above them)
        z &= np.uint64(0) - z                                        # the lowest only
        z >>= np.uint64(7)
        z *= _BYTE_CODE[:p.size]
        z >>= _U56                                                   # 16 - offset, 0 without a space
        np.subtract(16, np.maximum(z[:, 0], z[:, 1]), out=out[b:b + _BLOCK], casting="unsafe")
    return out


def _layout(data: bytes, a: np.ndarray, line_start: np.ndarray, newline: np.ndarray,
            n_spaces: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Walk the frame and body counts and check every line's value count (single-spaced lines).

    Returns:
        (n_frames, frame, body_line, joint_line): the frame (0-based) and the
        line index of every body occurrence, and the line indices of their
        joint lines, (K * 25,) in file order.

    Raises:
        _NotCanonical: a count is not a plain non-negative whole number, the
            lines do not add up, a line has the wrong number of values or a
            joint count is not 25.
    """
    n_lines = newline.size

    def count(i: int) -> int:
        if i >= n_lines or n_spaces[i] != 0:
            raise _NotCanonical
        try:
            v = int(data[line_start[i]:newline[i]])
        except ValueError:
            raise _NotCanonical from None
        if v < 0:
            raise _NotCanonical
        return v

    n_frames = count(0)
    count_line, n_bodies = [], []
    i = 1
    for _ in range(n_frames):
        nb = count(i)
        count_line.append(i)
        n_bodies.append(nb)
        i += 1 + (2 + NUM_JOINTS) * nb
    if i != n_lines:                                          # truncated, or lines beyond the last frame
        raise _NotCanonical
    nbod = np.asarray(n_bodies, np.int64)
    k = int(nbod.sum())
    frame = np.repeat(np.arange(n_frames), nbod)
    first_of_frame = np.cumsum(nbod) - nbod
    body_line = (np.repeat(np.asarray(count_line, np.int64) + 1, nbod)
                 + (2 + NUM_JOINTS) * (np.arange(k) - np.repeat(first_of_frame, nbod)))
    njoint_line = body_line + 1
    joint_line = (njoint_line[:, None] + 1 + np.arange(NUM_JOINTS)).ravel()
    if (n_spaces[body_line] != BODY_VALUES - 1).any() or (n_spaces[joint_line] != JOINT_VALUES - 1).any():
        raise _NotCanonical
    js = line_start[njoint_line]
    if ((newline[njoint_line] - js != 2) | (a[js] != 50) | (a[np.minimum(js + 1, a.size - 1)] != 53)).any():
        raise _NotCanonical                                   # joint count line is not "25"
    return n_frames, frame, body_line, joint_line


def _check_tracking_bytes(a: np.ndarray, newline: np.ndarray, joint_line: np.ndarray) -> None:
    """The last value of every joint line (trackingState) is one of "0" "1" "2"."""
    last = newline[joint_line]
    if ((a[last - 2] != 32) | (a[last - 1] < 48) | (a[last - 1] > 50)).any():
        raise _NotCanonical


def _body_ids(data: bytes, line_start: list[int], id_end: list[int]) -> list[int]:
    """The bodyID (first value) of each body line, read as a Python int (it has up to 20 digits)."""
    try:
        return [int(data[s:e]) for s, e in zip(line_start, id_end)]
    except ValueError:
        raise _NotCanonical from None


def _read_xyz(data: bytes, crlf: bool = False) -> _Parsed:
    """The ``fields="xyz"`` fast path of :func:`_read_vectorised`: no blank is located one by one.

    Only line ends are located. The layout is checked with whole-file byte tests
    (no control byte but the line ends, no two spaces side by side, no space at
    the start or end of a line) and a per-line count of spaces; then the three
    tokens x, y, z of each joint line are found from its start, 16 bytes at a
    time. Every line is checked exactly as in the general path.

    Args:
        data: the file, ending with its line end.
        crlf: every line ends with ``\\r\\n`` (else with ``\\n``).

    Raises:
        _NotCanonical: whatever the general path would reject, and also an x, y
            or z token of 16 characters or more (the general path reads those).
    """
    a = np.frombuffer(data, np.uint8)
    scratch, space = _masks(a.size)                           # full-size masks, reused below
    np.less(a, 32, out=scratch)
    ctrl = np.flatnonzero(scratch)                            # every control byte must be a line end
    if crlf:                                                  # "\r\n" pairs: the "\r" ends the line's text
        newline, lf = ctrl[0::2], ctrl[1::2]
        if (ctrl.size == 0 or ctrl.size % 2 or lf[-1] != a.size - 1 or (lf - newline != 1).any()
                or (a[newline] != 13).any() or (a[lf] != 10).any()):
            raise _NotCanonical                               # a lone CR or LF, a tab, another control byte
    else:
        newline = lf = ctrl
        if ctrl.size == 0 or ctrl[-1] != a.size - 1 or (a[ctrl] != 10).any():
            raise _NotCanonical                               # a tab, a lone CR, another control byte
    n_lines = newline.size
    np.equal(a, 32, out=space)
    if np.logical_and(space[1:], space[:-1], out=scratch[1:]).any():
        raise _NotCanonical                                   # two spaces side by side
    line_start = np.empty(n_lines, np.int64)
    line_start[0] = 0
    line_start[1:] = lf[:-1] + 1
    if (a[line_start] == 32).any() or (a[newline - 1] == 32).any():
        raise _NotCanonical                                   # a space first or last on a line
    # Spaces per line, counted modulo 256; a line with 256 more than it shows makes the total differ.
    n_spaces = np.add.reduceat(space.view(np.uint8), line_start, dtype=np.uint8)
    if int(n_spaces.sum(dtype=np.int64)) != np.count_nonzero(space):
        raise _NotCanonical
    n_frames, frame, body_line, joint_line = _layout(data, a, line_start, newline, n_spaces)
    _check_tracking_bytes(a, newline, joint_line)
    tok_start = np.empty((joint_line.size, 3), np.int64)
    tok_end = np.empty((joint_line.size, 3), np.int64)
    if joint_line.size:
        # A joint line holds 12 values: the 16 bytes read from the start of x, y or z stay inside it.
        windows = np.ndarray((a.size - _MAX_FAST_WIDTH + 1,), "V16", a, 0, (1,))
        at = line_start[joint_line]
        for j in range(3):
            length = _first_space(windows, at)
            if (length == 16).any():
                raise _NotCanonical                           # a token of 16 characters or more
            tok_start[:, j] = at
            at = at + length
            tok_end[:, j] = at
            at += 1
    joints = _parse_decimals(a, tok_start.ravel(), tok_end.ravel()).reshape(-1, NUM_JOINTS, 3)
    starts = line_start[body_line].tolist()
    body_id = _body_ids(data, starts, [data.find(b" ", s) for s in starts])
    return _Parsed(n_frames, frame, body_id, body_line, joints, None)


def _read_vectorised(data: bytes, path: str, want_all: bool, crlf: bool = False) -> _Parsed:
    """Parse a file laid out as the Kinect SDK writes it: single spaces, one record per line.

    Only the frame and body counts are walked in Python (one line per frame);
    line boundaries, value counts and every number are handled by numpy.
    ``data`` must end with its line end: ``\\r\\n`` on every line if ``crlf``,
    else ``\\n``. With ``want_all`` False, :func:`_read_xyz` is tried first.

    Raises:
        _NotCanonical: anything else (extra blanks, tabs, a malformed record);
            :func:`_read_lines` then reads the file and reports the exact line.
    """
    if not want_all:
        try:
            return _read_xyz(data, crlf)
        except _NotCanonical:
            pass                                              # long tokens are read below; the rest fails again
    a = np.frombuffer(data, np.uint8)
    blank = np.flatnonzero(np.less_equal(a, 32, out=_masks(a.size)[0]))  # every whitespace byte
    if crlf:
        # The "\r" of each "\r\n" ends the line's text; the "\n" bytes are set aside.
        is_lf = a[blank] == 10
        lf = blank[is_lf]
        if lf.size == 0 or lf[0] == 0 or lf[-1] != a.size - 1 or (a[lf - 1] != 13).any():
            raise _NotCanonical                               # a lone LF
        blank = blank[~is_lf]
        is_nl = a[blank] == 13
        if np.count_nonzero(is_nl) != lf.size:
            raise _NotCanonical                               # a lone CR
    else:
        is_nl = a[blank] == 10
    nl_at = np.flatnonzero(is_nl)                            # index into `blank` of each line end
    # Canonical: no two blanks side by side, no blank first, only ' ' and the line ends.
    if (blank.size and blank[0] == 0) or (np.diff(blank) == 1).any() or not (a[blank[~is_nl]] == 32).all():
        raise _NotCanonical
    newline = blank[nl_at]
    n_lines = newline.size
    line_start = np.empty(n_lines, np.int64)
    line_start[0] = 0
    line_start[1:] = newline[:-1] + (2 if crlf else 1)
    if crlf and n_lines > 1 and (a[line_start[1:]] <= 32).any():
        raise _NotCanonical                                   # a blank first on a line, or an empty line
    n_spaces = np.diff(nl_at, prepend=-1) - 1                # spaces per line = values per line - 1
    n_frames, frame, body_line, joint_line = _layout(data, a, line_start, newline, n_spaces)
    k = body_line.size

    # Value v (v >= 1) of line l starts after the v-th blank of that line.
    first_blank = np.concatenate(([0], nl_at + 1))          # index into `blank` of each line's first blank
    ncol = JOINT_VALUES if want_all else 3
    tok_start = np.empty((joint_line.size, ncol), np.int64)
    tok_end = np.empty((joint_line.size, ncol), np.int64)
    fb = first_blank[joint_line]
    tok_start[:, 0] = line_start[joint_line]
    sep = blank[fb[:, None] + np.arange(min(ncol, JOINT_VALUES - 1))]
    tok_end[:, : sep.shape[1]] = sep
    tok_start[:, 1:] = sep[:, : ncol - 1] + 1
    if ncol == JOINT_VALUES:
        tok_end[:, -1] = newline[joint_line]
    joints = _parse_decimals(a, tok_start.ravel(), tok_end.ravel()).reshape(k, NUM_JOINTS, ncol)
    if want_all:
        if not np.isin(joints[..., 11], (NOT_TRACKED, INFERRED, TRACKED)).all():
            raise _NotCanonical
    else:                                                     # trackingState still checked: one of "0" "1" "2"
        _check_tracking_bytes(a, newline, joint_line)

    fbb = first_blank[body_line]
    id_end = blank[fbb] if k else np.zeros(0, np.int64)
    body_id = _body_ids(data, line_start[body_line].tolist(), id_end.tolist())
    body_info = None
    if want_all:
        sep = blank[fbb[:, None] + np.arange(BODY_VALUES - 1)]  # (K, 9)
        bs = sep + 1
        be = np.empty_like(bs)
        be[:, :-1] = sep[:, 1:]
        be[:, -1] = newline[body_line]
        body_info = _parse_decimals(a, bs.ravel(), be.ravel()).reshape(k, BODY_VALUES - 1)
    return _Parsed(n_frames, frame, body_id, body_line, joints, body_info)


def _read_lines(data: bytes, path: str, want_all: bool) -> _Parsed:
    """Line-by-line reader for any layout ``str.split`` accepts; reports the exact bad line.

    Used when the vectorised reader meets anything it does not expect; it is
    what turns a malformed file into a :class:`SkeletonFormatError` naming the line.
    """
    lines = data.split(b"\n")
    n = len(lines)
    while n and not lines[n - 1].strip():                      # blank lines at the end are harmless
        n -= 1
    if n == 0:
        raise _error(path, 1, "the file is empty; expected the frame count")

    def text(i: int) -> str:
        return lines[i].decode("ascii", "replace").strip()[:80]

    def count(i: int, what: str) -> int:
        if i >= n:
            raise _error(path, i + 1, f"the file ends early: expected {what} (a whole number), "
                         f"the file has only {n} lines")
        try:
            v = int(lines[i])
        except ValueError:
            raise _error(path, i + 1, f"expected {what} (one whole number), got {text(i)!r}") from None
        if v < 0:
            raise _error(path, i + 1, f"{what} is negative ({v}); counts must be >= 0")
        return v

    def values(i: int, expected: int, what: str) -> list[bytes]:
        if i >= n:
            raise _error(path, i + 1, f"the file ends early: expected {what} ({expected} values), "
                         f"the file has only {n} lines")
        toks = lines[i].split()
        if len(toks) != expected:
            raise _error(path, i + 1, f"{what}: expected {expected} values, got {len(toks)} ({text(i)!r})")
        return toks

    def floats(i: int, toks: list[bytes], names: tuple[str, ...], what: str) -> list[float]:
        out = []
        for tok, name in zip(toks, names):
            try:
                out.append(float(tok))
            except ValueError:
                raise _error(path, i + 1, f"{what}: {name} is not a number "
                             f"({tok.decode('ascii', 'replace')!r})") from None
        return out

    n_frames = count(0, "the frame count")
    frame, body_id, body_line, joints, info = [], [], [], [], []
    i = 1
    for f in range(n_frames):
        nb = count(i, f"the body count of frame {f + 1} of {n_frames}")
        i += 1
        for b in range(nb):
            what = f"body line (frame {f + 1}, body {b + 1} of {nb})"
            toks = values(i, BODY_VALUES, what)
            try:
                bid = int(toks[0])
            except ValueError:
                raise _error(path, i + 1, f"{what}: bodyID is not a whole number "
                             f"({toks[0].decode('ascii', 'replace')!r})") from None
            info.append(floats(i, toks[1:], _BODY_FIELDS, what))
            frame.append(f)
            body_id.append(bid)
            body_line.append(i)
            nj = count(i + 1, f"the joint count of frame {f + 1}, body {b + 1}")
            if nj != NUM_JOINTS:
                raise _error(path, i + 2, f"joint count is {nj}; Kinect v2 skeletons have {NUM_JOINTS} joints")
            i += 2
            body = []
            for j in range(NUM_JOINTS):
                what = f"joint line (frame {f + 1}, body {b + 1}, joint {j + 1} {JOINT_NAMES[j]})"
                vals = floats(i, values(i, JOINT_VALUES, what), _JOINT_FIELDS, what)
                if vals[11] not in (NOT_TRACKED, INFERRED, TRACKED):
                    raise _error(path, i + 1, f"{what}: trackingState is {vals[11]:g}; expected 0, 1 or 2")
                body.append(vals if want_all else vals[:3])
                i += 1
            joints.append(body)
    if i < n:
        raise _error(path, i + 1, f"unexpected content after the last of the {n_frames} declared frames "
                     f"({text(i)!r}); the frame count on line 1 may be wrong")
    k = len(frame)
    ncol = JOINT_VALUES if want_all else 3
    return _Parsed(
        n_frames,
        np.asarray(frame, np.int64),
        body_id,
        np.asarray(body_line, np.int64),
        np.asarray(joints, np.float64).reshape(k, NUM_JOINTS, ncol),
        np.asarray(info, np.float64).reshape(k, BODY_VALUES - 1) if want_all else None,
    )


_BODY_FIELDS = ("clippedEdges", "handLeftConfidence", "handLeftState", "handRightConfidence",
                "handRightState", "isRestricted", "leanX", "leanY", "trackingState")
_JOINT_FIELDS = ("x", "y", "z", "depthX", "depthY", "colorX", "colorY", "orientationW",
                 "orientationX", "orientationY", "orientationZ", "trackingState")


def read_skeleton(path: str | os.PathLike, fields: str = "all") -> Skeleton:
    """Read one raw NTU RGB+D ``.skeleton`` file into a :class:`Skeleton`.

    Bodies get slots in order of first appearance and keep their slot across
    frames (matched by bodyID); a slot is zero (``present`` False) in frames
    where its body is missing. Frames with 0 bodies and frames with 3 or more
    (noise bodies) are kept as they are: choosing the two actors is the data
    layer's job, not the reader's. A file whose frames hold no body at all (the
    dataset's "missing skeleton" samples) or whose frame count is 0 gives
    arrays with 0 body slots, e.g. ``xyz`` of shape ``(F, 0, 25, 3)``.

    Files laid out as the Kinect SDK writes them (values separated by one
    space, one record per line, ``\\n`` or ``\\r\\n`` line ends) are read
    vectorised: Python walks one line per frame, numpy converts every number
    at once. Any other layout ``str.split`` accepts (tabs, repeated blanks) is
    read line by line, more slowly, with the same result. Numbers are parsed
    as by Python's ``float`` and then rounded to float32.

    Args:
        path: the ``.skeleton`` file. Its name is not checked (see
            :func:`parse_sample_name`).
        fields: ``"all"`` (default) fills every field of :class:`Skeleton`.
            ``"xyz"`` fills only ``xyz``, ``present``, ``body_ids`` and ``path``
            and sets ``tracking``, ``depth_xy``, ``color_xy``, ``orientation``
            and ``body_info`` to None; it checks the layout of every line and
            every trackingState but converts only the x, y, z values and
            locates only the newlines and the blanks after x, y and z (more
            than twice as fast).

    Returns:
        Skeleton with ``xyz`` float32 (F, B, 25, 3) in metres, ``present`` bool
        (F, B), ``body_ids`` (B,), ``tracking`` int8 (F, B, 25), ``depth_xy`` and
        ``color_xy`` float32 (F, B, 25, 2) in pixels, ``orientation`` float32
        (F, B, 25, 4), ``body_info`` float32 (F, B, 9), all zero where a body is
        absent, and ``path`` the file as given.

    Raises:
        FileNotFoundError: no such file.
        ValueError: ``fields`` is not one of ``"all"``, ``"xyz"``.
        SkeletonFormatError: the file is malformed: empty, truncated, a negative
            or non-numeric count, a joint count other than 25, a body line
            without 10 values or a joint line without 12, a value that is not
            a number, a joint trackingState other than 0, 1 or 2, the same
            bodyID twice in one frame, or content after the declared frames.
            The message names the file and the 1-based line.
    """
    if fields not in READ_FIELDS:
        raise ValueError(f"read_skeleton(fields={fields!r}): allowed values are {READ_FIELDS}")
    spath = os.fspath(path)
    data = Path(spath).read_bytes()
    crlf = b"\r\n" in data               # read in place: a copy without the CRs would cost as much again
    want_all = fields == "all"
    if not data or data.isspace():
        p = _read_lines(data, spath, want_all)                # reports the empty file
    else:
        end = b"\r\n" if crlf else b"\n"
        if not data.endswith(end) or data[-len(end) - 1:-len(end)].isspace():
            # Trailing blanks change no line number; one final line end keeps the layout regular.
            data = data.rstrip() + end
        try:
            p = _read_vectorised(data, spath, want_all, crlf)
        except _NotCanonical:
            p = None
        if p is None:   # outside the handler: an error names the line, with no internal frames chained
            p = _read_lines(data.replace(b"\r\n", b"\n") if crlf else data, spath, want_all)

    # Slots in order of first appearance, matched by bodyID.
    slot_of: dict[int, int] = {}
    for bid in p.body_id:
        slot_of.setdefault(bid, len(slot_of))
    n_slots = len(slot_of)
    slot = np.fromiter((slot_of[i] for i in p.body_id), np.int64, count=len(p.body_id))
    f, b, v = p.n_frames, n_slots, NUM_JOINTS
    present = np.zeros((f, b), bool)
    present[p.frame, slot] = True
    if np.count_nonzero(present) != slot.size:
        _, first = np.unique(p.frame * n_slots + slot, return_index=True)
        dup = np.setdiff1d(np.arange(slot.size), first)[0]
        raise _error(spath, int(p.body_line[dup]) + 1,
                     f"bodyID {p.body_id[dup]} appears twice in frame {int(p.frame[dup]) + 1}; "
                     "each body may appear once per frame")
    xyz = np.zeros((f, b, v, 3), np.float32)
    xyz[p.frame, slot] = p.joints[..., :3]
    skel = Skeleton(xyz=xyz, present=present, body_ids=tuple(slot_of), tracking=None, depth_xy=None,
                    color_xy=None, orientation=None, body_info=None, path=spath)
    if want_all:
        skel.tracking = np.zeros((f, b, v), np.int8)
        skel.tracking[p.frame, slot] = p.joints[..., 11]
        skel.depth_xy = np.zeros((f, b, v, 2), np.float32)
        skel.depth_xy[p.frame, slot] = p.joints[..., 3:5]
        skel.color_xy = np.zeros((f, b, v, 2), np.float32)
        skel.color_xy[p.frame, slot] = p.joints[..., 5:7]
        skel.orientation = np.zeros((f, b, v, 4), np.float32)
        skel.orientation[p.frame, slot] = p.joints[..., 7:11]
        skel.body_info = np.zeros((f, b, 9), np.float32)
        skel.body_info[p.frame, slot] = p.body_info
    return skel
