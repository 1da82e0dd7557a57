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


def _fmt(values) -> str:
    # 9 significant digits: a float32 read back is bit-identical.
    return " ".join(f"{float(v):.9g}" for v in values)


def format_skeleton(skel: Skeleton) -> str:
    """The text of an NTU ``.skeleton`` file holding ``skel`` (see :func:`write_skeleton`)."""
    out = [str(skel.n_frames)]
    for f in range(skel.n_frames):
        slots = np.flatnonzero(skel.present[f])
        out.append(str(len(slots)))
        for b in slots:
            info = skel.body_info[f, b]
            ints = [int(round(float(v))) for v in info[:6]]
            out.append(f"{skel.body_ids[b]} " + " ".join(map(str, ints)) + " "
                       + _fmt(info[6:8]) + f" {int(round(float(info[8])))}")
            out.append(str(NUM_JOINTS))
            xyz, dxy, cxy = skel.xyz[f, b], skel.depth_xy[f, b], skel.color_xy[f, b]
            ori, trk = skel.orientation[f, b], skel.tracking[f, b]
            for j in range(NUM_JOINTS):
                out.append(_fmt(xyz[j]) + " " + _fmt(dxy[j]) + " " + _fmt(cxy[j]) + " "
                           + _fmt(ori[j]) + f" {int(trk[j])}")
    return "\n".join(out) + "\n"


def write_skeleton(path: str | os.PathLike, skel: Skeleton) -> Path:
    """Write ``skel`` as a genuine NTU ``.skeleton`` file, atomically.

    Bodies absent in a frame (``present[f, b]`` False) are not written for that
    frame; the reader gives them back their slot by body id. Floats are written
    with 9 significant digits, so float32 values read back exactly.

    Args:
        path: destination; the name should be an NTU sample name.
        skel: the sample.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(format_skeleton(skel))
    os.replace(tmp, path)
    return path


def read_skeleton(path: str | os.PathLike) -> Skeleton:
    """Read one raw NTU ``.skeleton`` file. (Implemented below.)"""
    raise NotImplementedError
