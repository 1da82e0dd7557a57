"""A simulator that writes genuine NTU RGB+D ``.skeleton`` files for the seven classes.

NTU RGB+D is distributed only after registration, so the companion ships a simulator whose
files go through the same reader, preparation and models as the real data. It models:

- **Performers** (ids 1..106 as in NTU): height 1.50-1.92 m, limb ratios, shoulder width,
  handedness (about 12 % left-handed), tempo and vigour, all drawn from ``(seed, performer)``,
  so a performer looks and moves the same way in every file of a dataset.
- **Choreography**: two people face each other; the actor (the performer named in the file
  name) approaches, winds up, strikes and recovers, with random phase timing, and the receiver
  (the ``partner``) reacts. Similar classes share structure on purpose: punch/slap, hit with
  object and wield knife are all one-arm strikes that differ in the arm's path (straight to
  the face, overhead or sideways arc, thrust at the belly), its speed and the number of
  repetitions; pushing and knock over are both two-arm pushes, knock over with a harder push
  and a receiver who falls (in some pushes the receiver stumbles too); kicking is a leg strike;
  shoot with gun raises a straight arm, holds the aim and recoils. The receiver guards, recoils,
  doubles over, steps back, falls or raises the hands.
- **Cameras**: three Kinect v2 sensors at the same height, at the azimuths of
  :data:`CAMERA_AZIMUTH_DEG` around the scene (camera 1 in the middle at 0 deg, camera 2 at
  -45 deg, camera 3 at +45 deg). As in NTU, replication 1 turns the pair towards camera 2 and
  replication 2 towards camera 3, so camera 1 always sees a 45 deg view and cameras 2 and 3 see
  a side-on and an end-on view. The three files of one performance hold the SAME 3D motion, only
  rigidly moved into each camera's frame (then each camera adds its own sensor noise).
  Setups (``setup`` id) change the camera distance (3.1-3.5 m), height (0.75-1.0 m) and pitch.
- **Sensor**: joint jitter growing with depth, inferred joints (tracking state 1) with larger,
  slowly drifting errors (self-occluded joints, joints hidden behind the other person, hand
  tips and thumbs most often), frames where a body is missing, re-acquired bodies with a new
  tracking id, noise bodies (a static furniture-like blob or a brief ghost of a person), and a
  few samples with no skeleton at all (every frame holds 0 bodies).

Coordinates follow the Kinect v2 camera space: metres, right-handed, ``y`` up, ``z`` away from
the sensor, ``x`` towards the sensor's left, which is the right of Kinect's mirrored image
(``depthX`` grows with ``x``). Pixels are pinhole projections with Kinect v2-like intrinsics
(:data:`DEPTH_INTRINSICS`, :data:`COLOR_INTRINSICS`): ``depthX = 256 + 365 x / z``,
``depthY = 212 - 365 y / z``, ``colorX = 960 + 1060 (x + 0.052) / z`` (the colour camera sits
:data:`COLOR_BASELINE_M` beside the depth camera), ``colorY = 540 - 1060 y / z``; joints of
real NTU files lie within a few pixels of these (the principal points differ a little from one
Kinect to another). Joint orientations are unit quaternions (w, x, y, z) of the joint's bone
frame in the camera frame, as Kinect v2 gives them: the local y axis along the bone from the
joint to its child (SpineBase to SpineMid, ShoulderLeft to ElbowLeft, ...), the local z axis as
close to the person's forward direction as the bone allows, x = y cross z. A person facing the
camera thus has trunk quaternions near (0, 0, 1, 0), and w takes either sign, as in real files.
Real Kinect files write 0 0 0 0 for the seven leaf joints (Head, hand tips, thumbs, feet); the
simulator writes the frame of the bone ending there.

Files are written as the Kinect SDK tool that recorded NTU RGB+D wrote them: floats with
:data:`FILE_DIGITS` significant digits and :data:`FILE_NEWLINE` line ends; the Skeleton that
:func:`simulate_sample` returns holds the values rounded the same way, so it equals what
:func:`skelutils.ntu.read_skeleton` reads back from the file.

Randomness: every sample derives its random streams from ``numpy.random.SeedSequence`` over
``seed`` and the sample ids (the motion from the ids without the camera, the sensor noise from
all of them), so any single file can be regenerated on its own and the same seed gives
byte-identical files.
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from skelutils.ntu import (ACTION_IDS, BONES, HARMLESS_ACTION_IDS, INFERRED, NOT_TRACKED, NUM_JOINTS, TRACKED,
                           SampleName, Skeleton, format_skeleton, write_skeleton)

# ---------------------------------------------------------------------------------------------
# constants
# ---------------------------------------------------------------------------------------------

#: Frame rate of Kinect v2 skeleton streams (Hz).
FPS = 30
#: Every action the simulator writes: the seven harmful ones, then the harmless mutual actions
#: of ``skelutils.ntu.HARMLESS_CLASSES`` (each with its own choreography, see
#: :func:`_choreograph_harmless`).
SIMULATED_ACTIONS: tuple[int, ...] = ACTION_IDS + HARMLESS_ACTION_IDS
#: Shortest and longest simulated sample, frames (1.7 s and 5 s at 30 fps).
MIN_FRAMES, MAX_FRAMES = 50, 150
#: Performer ids, as in NTU RGB+D 120.
PERFORMERS: tuple[int, ...] = tuple(range(1, 107))
#: NTU RGB+D 120 setups in which A106-A120 were recorded.
SETUPS_120: tuple[int, ...] = tuple(range(18, 33))
#: Camera id -> azimuth of the camera around the scene centre (degrees, about the vertical axis).
CAMERA_AZIMUTH_DEG: dict[int, float] = {1: 0.0, 2: -45.0, 3: 45.0}
#: Depth camera intrinsics (fx, fy, cx, cy) in pixels, image 512 x 424.
DEPTH_INTRINSICS = (365.0, 365.0, 256.0, 212.0)
DEPTH_SIZE = (512, 424)
#: Colour camera intrinsics (fx, fy, cx, cy) in pixels, image 1920 x 1080.
COLOR_INTRINSICS = (1060.0, 1060.0, 960.0, 540.0)
COLOR_SIZE = (1920, 1080)
#: Offset of the colour camera from the depth camera along x (metres): the colour camera sees a
#: joint at ``x + COLOR_BASELINE_M`` (a fit of real NTU joints gives ``colorX = 960 + 1060 (x + 0.052)
#: / z`` within a pixel).
COLOR_BASELINE_M = 0.052
#: Significant digits of the floats and the line end of the simulated files, as in the NTU
#: RGB+D download (e.g. ``0.2181153 0.1725972 3.785547 277.419 191.8218 ...``, CRLF).
FILE_DIGITS, FILE_NEWLINE = 7, "\r\n"
#: Kinect tracking ids are 2**56 plus a counter (e.g. 72057594037931101).
BODY_ID_BASE = 72057594037927936

#: Default per-file rates of sensor events (fractions of files).
EMPTY_FRACTION = 0.01
NOISE_BODY_FRACTION = 0.12
DROPOUT_FRACTION = 0.15
NEW_ID_FRACTION = 0.3          # of dropouts: the body comes back with a new tracking id
#: Fraction of performances in which the actor stands on the usual side of the pair (as seen
#: from the camera the pair is turned towards); in the others actor and receiver swap places.
SAME_SIDE_FRACTION = 0.85

_J = {name: i for i, name in enumerate((
    "SpineBase", "SpineMid", "Neck", "Head", "ShoulderLeft", "ElbowLeft", "WristLeft",
    "HandLeft", "ShoulderRight", "ElbowRight", "WristRight", "HandRight", "HipLeft",
    "KneeLeft", "AnkleLeft", "FootLeft", "HipRight", "KneeRight", "AnkleRight",
    "FootRight", "SpineShoulder", "HandTipLeft", "ThumbLeft", "HandTipRight", "ThumbRight"))}
_PARENT = np.zeros(NUM_JOINTS, int)
for _c, _p in BONES:
    _PARENT[_c] = _p
# The bone whose frame a joint's orientation gives: from the joint to its main child, or from
# the parent for the seven leaves (Head, HandTipLeft, ThumbLeft, HandTipRight, ThumbRight, feet).
_MAIN_CHILD = {"SpineBase": "SpineMid", "SpineMid": "SpineShoulder", "SpineShoulder": "Neck",
               "Neck": "Head", "ShoulderLeft": "ElbowLeft", "ElbowLeft": "WristLeft",
               "WristLeft": "HandLeft", "HandLeft": "HandTipLeft", "ShoulderRight": "ElbowRight",
               "ElbowRight": "WristRight", "WristRight": "HandRight", "HandRight": "HandTipRight",
               "HipLeft": "KneeLeft", "KneeLeft": "AnkleLeft", "AnkleLeft": "FootLeft",
               "HipRight": "KneeRight", "KneeRight": "AnkleRight", "AnkleRight": "FootRight"}
_BONE_FROM = np.array([_J[n] if n in _MAIN_CHILD else _PARENT[_J[n]] for n in _J])
_BONE_TO = np.array([_J[_MAIN_CHILD[n]] if n in _MAIN_CHILD else _J[n] for n in _J])
_HANDS = [_J[n] for n in ("HandLeft", "HandRight", "WristLeft", "WristRight")]
_EXTREMITIES = [_J[n] for n in ("HandTipLeft", "ThumbLeft", "HandTipRight", "ThumbRight")]
_FEET = [_J[n] for n in ("FootLeft", "FootRight", "AnkleLeft", "AnkleRight")]

# stream tags for SeedSequence
_TAG_PERFORMER, _TAG_SETUP, _TAG_PARTNER, _TAG_MOTION, _TAG_SENSOR = 11, 13, 17, 19, 23


# ---------------------------------------------------------------------------------------------
# performers, setups
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Performer:
    """Body proportions and movement style of one performer.

    Attributes:
        performer: NTU performer id (1..106).
        height: standing height, metres (1.50-1.92).
        arm, leg, torso, shoulder: multipliers (about 0.92-1.08) on the anthropometric
            segment lengths (fractions of height after Winter, *Biomechanics and Motor
            Control of Human Movement*).
        left_handed: strikes with the left arm and kicks with the left leg.
        tempo: duration multiplier of every phase (0.8 quick to 1.25 slow).
        vigour: amplitude multiplier of strikes and reactions (0.85-1.15).
    """

    performer: int
    height: float
    arm: float
    leg: float
    torso: float
    shoulder: float
    left_handed: bool
    tempo: float
    vigour: float

    def segments(self) -> dict[str, float]:
        """Segment lengths in metres (keys: hip_h, ankle_h, thigh, shank, foot, hip_w, spine1,
        spine2, neck, head, shoulder_w, upper_arm, forearm, hand, hand_tip, thumb)."""
        h = self.height
        thigh, shank = 0.245 * h * self.leg, 0.246 * h * self.leg
        ankle_h = 0.039 * h
        return dict(
            ankle_h=ankle_h, thigh=thigh, shank=shank, hip_h=ankle_h + 0.985 * (thigh + shank),
            foot=0.09 * h, hip_w=0.048 * h, spine1=0.15 * h * self.torso,
            spine2=0.13 * h * self.torso, neck=0.045 * h, head=0.065 * h,
            shoulder_w=0.098 * h * self.shoulder, upper_arm=0.172 * h * self.arm,
            forearm=0.155 * h * self.arm, hand=0.045 * h, hand_tip=0.045 * h, thumb=0.03 * h)


def performer_profile(performer: int, seed: int = 0) -> Performer:
    """The body and style of ``performer`` in the dataset of ``seed`` (deterministic).

    Args:
        performer: NTU performer id, 1..106 (any positive int works).
        seed: dataset seed.

    Returns:
        Performer.
    """
    _check_id(performer, "performer", 1, 999)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), _TAG_PERFORMER, int(performer)]))
    height = float(np.clip(rng.normal(1.71, 0.085), 1.50, 1.92))
    arm, leg, torso, shoulder = (float(v) for v in np.clip(rng.normal(1.0, 0.035, 4), 0.92, 1.08))
    return Performer(performer=int(performer), height=height, arm=arm, leg=leg, torso=torso,
                     shoulder=shoulder, left_handed=bool(rng.random() < 0.12),
                     tempo=float(np.clip(rng.lognormal(0.0, 0.12), 0.8, 1.25)),
                     vigour=float(np.clip(rng.normal(1.0, 0.07), 0.85, 1.15)))


@dataclasses.dataclass(frozen=True)
class SetupGeometry:
    """Where the three cameras of a setup stand.

    Attributes:
        setup: NTU setup id.
        distance: horizontal distance of every camera from the scene centre, metres (3.1-3.5).
        height: camera height above the floor, metres (0.75-1.0).
        pitch_deg: camera pitch, degrees (negative looks down; -6..1).
    """

    setup: int
    distance: float
    height: float
    pitch_deg: float


def setup_geometry(setup: int, seed: int = 0) -> SetupGeometry:
    """The camera geometry of ``setup`` in the dataset of ``seed`` (deterministic)."""
    _check_id(setup, "setup", 1, 999)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), _TAG_SETUP, int(setup)]))
    return SetupGeometry(setup=int(setup), distance=float(rng.uniform(3.1, 3.5)),
                         height=float(rng.uniform(0.75, 1.0)), pitch_deg=float(rng.uniform(-6, 1)))


def default_partner(setup: int, performer: int, seed: int = 0) -> int:
    """The receiver paired with ``performer`` in ``setup`` when none is given (never itself)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), _TAG_PARTNER, int(setup),
                                                        int(performer)]))
    other = int(rng.integers(1, len(PERFORMERS)))          # 1..105
    return other + 1 if other >= performer else other


def _check_id(value, what: str, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise ValueError(f"{what}={value!r}: expected an integer id in {lo}..{hi} "
                         "(NTU sample names hold three digits)")


# ---------------------------------------------------------------------------------------------
# small geometry helpers (vectorised over frames)
# ---------------------------------------------------------------------------------------------

def _rot_x(a):
    a = np.asarray(a, float)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def _rot_y(a):
    a = np.asarray(a, float)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def _rot_z(a):
    a = np.asarray(a, float)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def _apply(r, v):
    """Rotate vectors ``v`` (T, 3) or (3,) by matrices ``r`` (T, 3, 3)."""
    return np.einsum("tij,tj->ti", r, np.broadcast_to(v, (r.shape[0], 3)))


def _unit(v, eps=1e-9):
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), eps)


def _two_bone(root, target, l1, l2, pole):
    """Analytic two-bone IK. Returns (middle joint, end joint), each (T, 3); the end is pulled
    towards ``root`` when ``target`` is out of reach, so bone lengths are always exact."""
    d = target - root
    dist = np.linalg.norm(d, axis=-1, keepdims=True)
    direction = d / np.maximum(dist, 1e-9)
    dist = np.clip(dist, abs(l1 - l2) + 1e-3, l1 + l2 - 1e-4)
    a = (l1 ** 2 - l2 ** 2 + dist ** 2) / (2 * dist)
    h = np.sqrt(np.maximum(l1 ** 2 - a ** 2, 0.0))
    p = pole - np.sum(pole * direction, -1, keepdims=True) * direction
    pn = np.linalg.norm(p, axis=-1, keepdims=True)
    fallback = _unit(np.cross(direction, np.array([1.0, 0.0, 0.0])) + 1e-6)
    p = np.where(pn > 1e-6, p / np.maximum(pn, 1e-9), fallback)
    return root + direction * a + p * h, root + direction * dist


class _Keys:
    """Keyframed signal with smoothstep easing between keys (C1, zero velocity at keys)."""

    def __init__(self, value):
        self.keys = [(0.0, np.asarray(value, float))]

    @property
    def t(self) -> float:
        return self.keys[-1][0]

    @property
    def value(self) -> np.ndarray:
        return self.keys[-1][1]

    def to(self, t, value) -> "_Keys":
        self.keys.append((max(float(t), self.t + 1.0), np.asarray(value, float)))
        return self

    def hold(self, t) -> "_Keys":
        return self.to(t, self.value)

    def __call__(self, t: np.ndarray) -> np.ndarray:
        """Values at the (fractional) frames ``t``, shape ``(len(t),) + value shape``."""
        times = np.array([k[0] for k in self.keys])
        vals = np.stack([np.broadcast_to(k[1], self.keys[0][1].shape) for k in self.keys])
        t = np.asarray(t, float)
        i = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1)
        j = np.minimum(i + 1, len(times) - 1)
        span = times[j] - times[i]
        u = np.clip(np.where(span > 0, (t - times[i]) / np.where(span > 0, span, 1), 0), 0, 1)
        s = (u * u * (3 - 2 * u)).reshape((-1,) + (1,) * (vals.ndim - 1))
        return vals[i] + s * (vals[j] - vals[i])


# ---------------------------------------------------------------------------------------------
# the body: controls -> 25 joints
# ---------------------------------------------------------------------------------------------

_REST_WRIST = (0.08, -0.96, 0.05)          # (out, up, fwd) in arm lengths, arm hanging


class _Body:
    """Per-frame controls of one person, in the person's local frame (x = the person's left,
    y up, z forward, origin on the floor under the starting pelvis)."""

    def __init__(self, perf: Performer, n_guess: int = 0):
        self.p = perf
        self.seg = perf.segments()
        s = self.seg
        self.arm_len = s["upper_arm"] + s["forearm"]
        self.leg_len = s["thigh"] + s["shank"]
        self.pitch = _Keys(0.0)
        self.roll = _Keys(0.0)
        self.twist = _Keys(0.0)
        self.head = _Keys(0.0)
        self.drop = _Keys(0.0)               # pelvis lowering (m, positive = down)
        self.back = _Keys(0.0)               # pelvis displacement along z beyond the feet (m)
        # wrists: (out, up, fwd) in arm lengths relative to the shoulder, trunk frame
        self.wrist = {+1: _Keys(_REST_WRIST), -1: _Keys(_REST_WRIST)}
        # feet: absolute local (x, y, z) of the ankles
        self.ankle = {side: _Keys((side * s["hip_w"] * 1.1, s["ankle_h"], 0.0)) for side in (+1, -1)}

    @property
    def dom(self) -> int:
        """Side of the dominant arm/leg: +1 left, -1 right."""
        return +1 if self.p.left_handed else -1

    def stance(self, rng, forward_foot: int, spread: float) -> None:
        """Start in a stance with ``forward_foot`` ahead by ``spread`` metres."""
        s = self.seg
        for side in (+1, -1):
            z = spread / 2 if side == forward_foot else -spread / 2
            self.ankle[side] = _Keys((side * s["hip_w"] * rng.uniform(1.0, 1.3), s["ankle_h"], z))

    def step(self, t0: float, t1: float, dz: float, lead: int, lift: float = 0.07) -> None:
        """Move both feet by ``dz`` metres along z between frames t0 and t1 (lead foot first)."""
        n = max(1, int(round(abs(dz) / 0.35)))
        edges = np.linspace(t0, t1, 2 * n + 1)
        for k in range(2 * n):
            side = lead if k % 2 == 0 else -lead
            a, b = edges[k], edges[k + 1]
            x, y, z = self.ankle[side].value
            self.ankle[side].hold(a).to((a + b) / 2, (x, y + lift, z + dz / n / 2)).to(b, (x, y, z + dz / n))

    def last_key(self) -> float:
        """The frame of the last key of any control."""
        keys = [self.pitch, self.roll, self.twist, self.head, self.drop, self.back,
                *self.wrist.values(), *self.ankle.values()]
        return max(k.t for k in keys)

    def pose(self, t: np.ndarray, sway: np.ndarray | float = 0.0) -> np.ndarray:
        """Joint positions (len(t), 25, 3), metres, local frame, at the frames ``t``;
        ``sway`` (radians) is added to the trunk pitch."""
        s = self.seg
        n = len(t)
        out = np.zeros((n, NUM_JOINTS, 3))
        ank = {side: self.ankle[side](t) for side in (+1, -1)}
        pitch, roll, twist = self.pitch(t) + sway, self.roll(t), self.twist(t)
        feet_mid = (ank[+1] + ank[-1]) / 2
        pelvis = np.stack([feet_mid[:, 0] * 0.6, s["hip_h"] - self.drop(t)
                           - 0.35 * np.abs(ank[+1][:, 2] - ank[-1][:, 2]) ** 2 / s["hip_h"],
                           feet_mid[:, 2] + self.back(t)], -1)
        rp = _rot_y(0.35 * twist)
        out[:, _J["SpineBase"]] = pelvis
        fwd_p = _apply(rp, np.array([0.0, 0.0, 1.0]))
        for side, (hip, knee, ankle, foot) in ((+1, ("HipLeft", "KneeLeft", "AnkleLeft", "FootLeft")),
                                               (-1, ("HipRight", "KneeRight", "AnkleRight", "FootRight"))):
            hp = pelvis + _apply(rp, np.array([side * s["hip_w"], -0.02 * self.p.height, 0.0]))
            pole = fwd_p + np.array([side * 0.15, 0.0, 0.0])
            kn, an = _two_bone(hp, ank[side], s["thigh"], s["shank"], pole)
            out[:, _J[hip]], out[:, _J[knee]], out[:, _J[ankle]] = hp, kn, an
            shin = _unit(kn - an)
            out[:, _J[foot]] = an + s["foot"] * _unit(fwd_p - 0.25 * shin + np.array([side * 0.15, 0, 0]))
        rt = _rot_y(twist) @ _rot_x(pitch) @ _rot_z(roll)
        rh = _rot_y(twist / 2) @ _rot_x(pitch / 2) @ _rot_z(roll / 2)
        sm = pelvis + _apply(rh, np.array([0.0, s["spine1"], -0.01]))
        ss = sm + _apply(rt, np.array([0.0, s["spine2"], 0.0]))
        neck = ss + _apply(rt, np.array([0.0, s["neck"], 0.01]))
        head = neck + _apply(rt @ _rot_x(self.head(t)), np.array([0.0, s["head"], 0.015]))
        out[:, _J["SpineMid"]], out[:, _J["SpineShoulder"]] = sm, ss
        out[:, _J["Neck"]], out[:, _J["Head"]] = neck, head
        up_t = _apply(rt, np.array([0.0, 1.0, 0.0]))
        for side, names in ((+1, ("ShoulderLeft", "ElbowLeft", "WristLeft", "HandLeft", "HandTipLeft",
                                  "ThumbLeft")),
                            (-1, ("ShoulderRight", "ElbowRight", "WristRight", "HandRight",
                                  "HandTipRight", "ThumbRight"))):
            sh = ss + _apply(rt, np.array([side * s["shoulder_w"], -0.012 * self.p.height, -0.01]))
            w = self.wrist[side](t) * self.arm_len
            target = sh + _apply(rt, np.stack([side * w[:, 0], w[:, 1], w[:, 2]], -1))
            pole = _apply(rt, np.array([side * 0.5, -1.0, -0.45]))
            el, wr = _two_bone(sh, target, s["upper_arm"], s["forearm"], pole)
            d = _unit(wr - el)
            hand = wr + d * s["hand"]
            inward = _unit(np.cross(d, up_t) * -side + 1e-6 * up_t)
            out[:, _J[names[0]]], out[:, _J[names[1]]], out[:, _J[names[2]]] = sh, el, wr
            out[:, _J[names[3]]], out[:, _J[names[4]]] = hand, hand + d * s["hand_tip"]
            tv = inward + 0.5 * up_t
            tv = _unit(tv - np.sum(tv * d, -1, keepdims=True) * d + 1e-6 * np.cross(d, up_t))
            out[:, _J[names[5]]] = wr + d * (0.6 * s["hand"]) + tv * s["thumb"]
        return out


# ---------------------------------------------------------------------------------------------
# choreography
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Performance:
    """One performance: the 3D motion of both persons, before any camera.

    Attributes:
        action: NTU action id.
        setup, performer, replication, partner: ids (performer = actor, partner = receiver).
        xyz: float64 (T, 2, 25, 3), metres, scene frame (y up, floor at y = 0, origin at the
            scene centre); person 0 is the actor.
        contacts: frames at which the actor's strikes land (or shots are fired).
        facing_deg: azimuth of the actor-to-receiver direction, degrees.
    """

    action: int
    setup: int
    performer: int
    replication: int
    partner: int
    xyz: np.ndarray
    contacts: tuple[int, ...]
    facing_deg: float

    @property
    def n_frames(self) -> int:
        return int(self.xyz.shape[0])


def _dur(rng, lo, hi, tempo):
    return max(1.0, rng.uniform(lo, hi) * tempo)


def _shake_wrists(bodies, t: float, reps: int, lo: float, hi: float, dy: float, rng, tempo: float) -> float:
    """Both persons' dominant wrists up by ``dy`` metres and back, ``reps`` times (a handshake, a
    rock-paper-scissors count), each half taking ``_dur(lo, hi)`` frames; returns the end time."""
    for _ in range(reps):
        for sign in (1, -1):
            t += _dur(rng, lo, hi, tempo)
            for b in bodies:
                b.wrist[b.dom].to(t, b.wrist[b.dom].value + sign * np.array((0, dy, 0)))
    return t


def _strike_arm(act: _Body, rng, action: int, t: float, tempo: float, vig: float,
                side: int) -> tuple[float, list[float], str]:
    """Key the striking arm of A050 / A106 / A107 / A110 from frame ``t``; returns the end
    frame, the contact frames and a style label."""
    w = act.wrist[side]
    other = act.wrist[-side]
    contacts: list[float] = []
    jit = lambda v, sd=0.05: np.asarray(v, float) + rng.normal(0, sd, 3)  # noqa: E731
    if action == 50:                                      # punch / slap
        slap = rng.random() < 0.35
        style = "slap" if slap else "punch"
        t += _dur(rng, 5, 10, tempo)
        w.to(t, jit((-0.1, -0.3, 0.42)))
        other.to(t, jit((-0.1, -0.3, 0.35)))
        for _ in range(int(rng.choice([1, 1, 2, 2, 3]))):
            if slap:
                t += _dur(rng, 4, 8, tempo)
                w.to(t, jit((0.5, 0.05, 0.2)))
                t += _dur(rng, 3, 6, tempo)
                w.to(t, jit((-0.15, 0.08, 0.85 * vig)))
                contacts.append(t)
                t += _dur(rng, 2, 4, tempo)
                w.to(t, jit((-0.45, 0.0, 0.6)))
            else:
                t += _dur(rng, 3, 6, tempo)
                w.to(t, jit((-0.2, 0.1, 0.95 * min(vig, 1.02))))
                contacts.append(t)
            t += _dur(rng, 4, 9, tempo)
            w.to(t, jit((-0.1, -0.3, 0.42)))
    elif action == 106:                                   # hit with object
        overhead = rng.random() < 0.65
        style = "overhead" if overhead else "sideways"
        two_hands = rng.random() < 0.3
        for _ in range(int(rng.choice([1, 1, 2]))):
            t += _dur(rng, 8, 15, tempo)
            w.to(t, jit((0.15, 0.8, -0.15) if overhead else (0.7, 0.15, -0.35)))
            t += _dur(rng, 3, 6, tempo)
            w.to(t, jit((-0.05, 0.45, 0.75) if overhead else (-0.1, 0.15, 0.85)))
            contacts.append(t)
            t += _dur(rng, 3, 6, tempo)
            w.to(t, jit((-0.15, -0.4, 0.7) if overhead else (-0.7, -0.1, 0.35)))
            if two_hands:
                other.to(w.t, jit((-0.3, -0.2, 0.55)))
        t += _dur(rng, 4, 8, tempo)
        w.to(t, jit((-0.1, -0.6, 0.4)))
    elif action == 107:                                   # wield knife
        overhand = rng.random() < 0.35
        style = "overhand" if overhand else "thrust"
        ready = (0.1, 0.55, 0.1) if overhand else (-0.05, -0.5, 0.35)
        t += _dur(rng, 6, 12, tempo)
        w.to(t, jit(ready))
        other.to(t, jit((0.1, -0.55, 0.25)))
        for _ in range(int(rng.choice([1, 2, 2, 3]))):
            t += _dur(rng, 3, 7, tempo)
            w.to(t, jit((-0.1, -0.2, 0.8) if overhand else (-0.15, -0.38, 0.88 * min(vig, 1.05))))
            contacts.append(t)
            t += _dur(rng, 4, 8, tempo)
            w.to(t, jit(ready))
    elif action == 110:                                   # shoot with gun
        two_hands = rng.random() < 0.4
        style = "two-handed" if two_hands else "one-handed"
        aim = jit((-0.12, 0.05, 0.97), 0.04)
        t += _dur(rng, 8, 14, tempo)
        w.to(t, aim)
        if two_hands:
            other.to(t, aim + np.array([-0.35, -0.05, -0.08]))
        for _ in range(int(rng.choice([1, 2, 2, 3]))):
            t += _dur(rng, 5, 14, tempo)
            w.hold(t)
            contacts.append(t)
            t += 2
            w.to(t, aim + np.array([0.0, 0.18 * vig, -0.08]))
            t += _dur(rng, 3, 5, tempo)
            w.to(t, aim)
        t += _dur(rng, 4, 15, tempo)
        w.hold(t)
        if two_hands:
            other.hold(t)
    else:  # pragma: no cover - guarded by the caller
        raise AssertionError(action)
    return t, contacts, style


def _choreograph(action: int, actor: Performer, receiver: Performer,
                 rng) -> tuple[_Body, _Body, int, list[float], float]:
    """Controls of both persons in their own frames; returns (actor, receiver, n_frames,
    contacts, initial separation in metres)."""
    if action in HARMLESS_ACTION_IDS:
        return _choreograph_harmless(action, actor, receiver, rng)
    act, rec = _Body(actor), _Body(receiver)
    tempo, vig = actor.tempo, actor.vigour
    side = act.dom if rng.random() < 0.85 else -act.dom
    act.stance(rng, forward_foot=-side, spread=rng.uniform(0.0, 0.3))
    rec.stance(rng, forward_foot=int(rng.choice([-1, 1])), spread=rng.uniform(0.0, 0.25))

    reach = {50: 0.92 * act.arm_len + 0.2, 106: 0.9 * act.arm_len + 0.35, 107: 0.85 * act.arm_len + 0.2,
             52: 0.8 * act.arm_len + 0.15, 108: 0.85 * act.arm_len + 0.15, 51: 0.8 * act.leg_len + 0.15,
             110: None}[action]
    sep = rng.uniform(1.3, 1.8) if action == 110 else rng.uniform(1.0, 1.5)
    t = _dur(rng, 3, 20, 1.0)                         # idle start
    approach = 0.0 if reach is None else max(0.0, sep - reach)
    if approach > 0.05:
        d = _dur(rng, 12, 22, tempo) * (0.6 + approach)
        act.step(t, t + d, approach, lead=-side)
        t_strike = t + d * rng.uniform(0.5, 0.9)    # the wind-up overlaps the end of the approach
    else:
        t_strike = t
    for k in (act.wrist[+1], act.wrist[-1], act.pitch):
        k.hold(t_strike)

    contacts: list[float]
    if action in (50, 106, 107, 110):
        t_end, contacts, style = _strike_arm(act, rng, action, t_strike, tempo, vig, side)
        lean = {50: 0.12, 106: 0.18, 107: 0.15, 110: 0.03}[action] * vig
        act.pitch.to(contacts[0], lean + rng.normal(0, 0.04)).hold(t_end)
        act.twist.hold(t_strike).to(contacts[0], -side * rng.uniform(0.1, 0.35)).hold(t_end)
    elif action in (52, 108):                             # pushing, knock over
        knock = action == 108
        contacts = []
        t = t_strike
        ready = np.array((-0.12, -0.42, 0.35))
        t += _dur(rng, 5, 10, tempo)
        for k in (+1, -1):
            act.wrist[k].to(t, ready + rng.normal(0, 0.04, 3))
        n_push = 1 if knock or rng.random() < 0.7 else 2
        for _ in range(n_push):
            t += _dur(rng, 4, 8, tempo) if knock else _dur(rng, 5, 10, tempo)
            ext = (0.97 if knock else 0.88) * min(vig, 1.05)
            for k in (+1, -1):
                act.wrist[k].to(t, (-0.05, -0.25, ext) + rng.normal(0, 0.04, 3))
            contacts.append(t)
            if knock or rng.random() < 0.5:
                act.step(t - 3, t + 8, rng.uniform(0.15, 0.35) * (1.4 if knock else 1.0), lead=-side)
            t += _dur(rng, 2, 6, tempo)
            for k in (+1, -1):
                act.wrist[k].hold(t).to(t + _dur(rng, 5, 9, tempo), ready + rng.normal(0, 0.04, 3))
            t = act.wrist[+1].t
        t_end = t
        act.pitch.to(contacts[0], (0.25 if knock else 0.18) * vig + rng.normal(0, 0.04)).hold(t_end)
    elif action == 51:                                    # kicking
        contacts = []
        t = t_strike
        leg = act.ankle[side]
        x0, y0, z0 = leg.value
        mid_z = (z0 + act.ankle[-side].value[2]) / 2                  # hip above the feet's middle
        hip = np.array([side * act.seg["hip_w"], act.seg["hip_h"], mid_z])
        for k in (+1, -1):                                # arms out for balance
            act.wrist[k].to(t + 6, (0.3, -0.6, 0.25) + rng.normal(0, 0.05, 3))
        act.pitch.to(t + 6, -0.1 + rng.normal(0, 0.04))
        for _ in range(int(rng.choice([1, 1, 2]))):
            t += _dur(rng, 5, 9, tempo)
            leg.to(t, hip + act.leg_len * np.array([0.0, -0.6, 0.35]))          # chamber
            t += _dur(rng, 3, 6, tempo)
            hgt = rng.uniform(0.3, 0.6)
            leg.to(t, hip + act.leg_len * np.array([-side * 0.05, -hgt, np.sqrt(1 - hgt ** 2) * 0.97]))
            contacts.append(t)
            t += _dur(rng, 4, 7, tempo)
            leg.to(t, hip + act.leg_len * np.array([0.0, -0.6, 0.35]))
            t += _dur(rng, 4, 8, tempo)
            leg.to(t, (x0, y0, z0 + rng.uniform(0.0, 0.2)))
        t_end = t
        act.pitch.hold(t_end)
    else:
        raise ValueError(f"action A{action:03d} is not simulated; simulated actions: "
                         f"{', '.join(f'A{a:03d}' for a in ACTION_IDS)}")

    # recovery of the actor
    t = t_end + _dur(rng, 5, 15, tempo)
    for k in (+1, -1):
        act.wrist[k].to(t + _dur(rng, 0, 8, 1.0), np.asarray(_REST_WRIST) + rng.normal(0, 0.03, 3))
    act.pitch.to(t, rng.normal(0, 0.03))
    act.twist.to(t, 0.0)

    _react(action, rec, rng, contacts, t_strike, receiver)
    n = int(np.ceil(max(t, rec.ankle[1].t, rec.ankle[-1].t, rec.drop.t, rec.pitch.t)
                    + _dur(rng, 5, 25, 1.0)))
    return act, rec, n, contacts, sep


def _choreograph_harmless(action: int, actor: Performer, receiver: Performer,
                          rng) -> tuple[_Body, _Body, int, list[float], float]:
    """Controls of a harmless mutual action (``skelutils.ntu.HARMLESS_ACTION_IDS``), as
    :func:`_choreograph` returns them. Both persons take part; several begin as a harmful
    action does on purpose (handshaking and giving object extend an arm forward as a punch or a
    knife thrust does, high-five raises the arm as a slap, hugging closes in as a push), and
    differ in height, speed, what the partner does and what follows (a held grip, a pumping
    hand, a mirrored gesture)."""
    act, rec = _Body(actor), _Body(receiver)
    tempo = actor.tempo
    bodies = (act, rec)
    side = act.dom
    jit = lambda v, sd=0.04: np.asarray(v, float) + rng.normal(0, sd, 3)  # noqa: E731
    for b in bodies:
        b.stance(rng, forward_foot=int(rng.choice([-1, 1])), spread=rng.uniform(0.0, 0.25))
    close = {53: 0.65, 55: 0.45, 56: 1.0, 58: 0.95, 112: 1.0, 113: 0.95, 114: 1.05, 115: 1.9,
             117: 0.5, 118: 1.0, 119: 0.55, 120: 1.0}
    if action == 59:                                       # walking towards: from afar
        sep = rng.uniform(2.6, 3.2)
    elif action == 60:                                     # walking apart: from close by
        sep = rng.uniform(0.8, 1.1)
    else:
        sep = close[action] + rng.uniform(0.3, 0.7)
    t = _dur(rng, 3, 20, 1.0)                              # idle start
    contacts: list[float] = []
    if action in (59, 60):
        dz = rng.uniform(0.7, 1.1) * (1 if action == 59 else -1)
        d = _dur(rng, 30, 45, tempo)
        for b in bodies:
            b.step(t, t + d, dz * rng.uniform(0.8, 1.2), lead=int(rng.choice([-1, 1])))
            for k in (+1, -1):                             # arms swing a little while walking
                b.wrist[k].hold(t).to(t + d / 2, jit((0.08, -0.93, 0.05 + 0.15 * k))).to(t + d, jit(_REST_WRIST))
        contacts.append(t + d / 2)
        t += d
    else:
        gap = sep - close[action]                          # both close the gap, the actor more
        d = _dur(rng, 12, 22, tempo) * (0.6 + gap)
        act.step(t, t + d, 0.65 * gap, lead=-side)
        rec.step(t + rng.uniform(0, 4), t + d, 0.35 * gap, lead=int(rng.choice([-1, 1])))
        t += d * rng.uniform(0.6, 0.9)
        for b in bodies:
            for k in (+1, -1):
                b.wrist[k].hold(t)
        if action == 58:                                   # handshaking: waist height, pumped
            for b in bodies:
                b.wrist[b.dom].to(t + _dur(rng, 8, 14, tempo), jit((-0.2, -0.45, 0.78)))
            t = act.wrist[side].t
            contacts.append(t)
            t = _shake_wrists(bodies, t, int(rng.integers(2, 5)), 3, 5, 0.09, rng, tempo)
            t += _dur(rng, 4, 12, tempo)
        elif action == 112:                                # high-five: up, a quick clap, down
            for b in bodies:
                b.wrist[b.dom].to(t + _dur(rng, 6, 10, tempo), jit((0.1, 0.7, 0.35)))
            t = act.wrist[side].t + _dur(rng, 2, 6, tempo)
            for b in bodies:
                b.wrist[b.dom].to(t, jit((-0.1, 0.55, 0.72)))
            contacts.append(t)
            t += _dur(rng, 3, 6, tempo)
            for b in bodies:
                b.wrist[b.dom].to(t, jit((0.05, 0.35, 0.45)))
        elif action == 55:                                 # hugging: both arms around, held
            t += _dur(rng, 6, 10, tempo)
            for b, hi in ((act, 0.05), (rec, -0.15)):
                for k in (+1, -1):
                    b.wrist[k].to(t, jit((-0.45, hi + 0.1 * k, 0.7)))
                b.pitch.hold(t - 6).to(t, 0.12 + rng.normal(0, 0.03))
            contacts.append(t)
            t += _dur(rng, 25, 50, 1.0)
            for b in bodies:
                for k in (+1, -1):
                    b.wrist[k].hold(t)
                b.pitch.hold(t).to(t + 8, 0.0)
            rec.step(t, t + 12, -0.25, lead=int(rng.choice([-1, 1])))
        elif action == 53:                                 # pat on back: over the shoulder, pats
            t += _dur(rng, 6, 10, tempo)
            act.wrist[side].to(t, jit((-0.35, 0.05, 0.85)))
            for _ in range(int(rng.integers(2, 5))):
                t += _dur(rng, 3, 5, tempo)
                act.wrist[side].to(t, act.wrist[side].value + (0, 0.1, -0.05))
                t += _dur(rng, 3, 5, tempo)
                act.wrist[side].to(t, act.wrist[side].value - (0, 0.1, -0.05))
                contacts.append(t)
            rec.pitch.to(contacts[0], 0.06).hold(t)
        elif action in (56, 118):                          # giving object / exchange things
            both = action == 118
            t += _dur(rng, 10, 16, tempo)                  # slow, chest height
            act.wrist[side].to(t, jit((-0.1, -0.3, 0.8)))
            if both:
                act.wrist[-side].to(t, jit((-0.05, -0.4, 0.65)))
            t += _dur(rng, 4, 10, tempo)
            rec.wrist[rec.dom].to(t, jit((-0.1, -0.3, 0.78)))
            if both:
                rec.wrist[-rec.dom].to(t, jit((-0.05, -0.4, 0.65)))
            contacts.append(t)
            t += _dur(rng, 6, 14, tempo)
            for b in bodies:
                b.wrist[b.dom].hold(t).to(t + _dur(rng, 8, 12, tempo), jit((0.0, -0.55, 0.35)))
        elif action == 113:                                # cheers and drink
            t += _dur(rng, 8, 12, tempo)
            for b in bodies:
                b.wrist[b.dom].to(t, jit((-0.1, -0.05, 0.75)))
            contacts.append(t)
            t += _dur(rng, 4, 8, tempo)
            for b in bodies:
                b.wrist[b.dom].to(t, jit((-0.1, -0.1, 0.5))).to(t + _dur(rng, 8, 12, tempo), jit((-0.55, 0.3, 0.2)))
            t = act.wrist[side].t + _dur(rng, 10, 20, 1.0)
            for b in bodies:
                b.wrist[b.dom].hold(t)
                b.head.to(t - 8, -0.2).to(t, 0.0)
        elif action == 114:                                # carry object: low, both hands, walk
            t += _dur(rng, 8, 12, tempo)
            for b in bodies:
                for k in (+1, -1):
                    b.wrist[k].to(t, jit((0.05, -0.55, 0.55)))
            contacts.append(t)
            d = _dur(rng, 25, 40, tempo)
            dz = rng.uniform(0.4, 0.8)
            act.step(t, t + d, -dz, lead=side)
            rec.step(t, t + d, dz, lead=-side)
            t += d
            for b in bodies:
                for k in (+1, -1):
                    b.wrist[k].hold(t)
        elif action == 115:                                # take a photo: camera at the face
            t += _dur(rng, 8, 14, tempo)
            for k in (+1, -1):
                act.wrist[k].to(t, jit((-0.45, 0.2, 0.35)))
            rec.wrist[rec.dom].to(t + 4, jit((0.25, 0.6, 0.2)))          # a pose, one hand up
            contacts.append(t + _dur(rng, 10, 20, 1.0))
            t = contacts[-1] + _dur(rng, 5, 15, 1.0)
            for k in (+1, -1):
                act.wrist[k].hold(t)
            rec.wrist[rec.dom].hold(t)
        elif action == 117:                                # whisper: lean to the ear, hand cupped
            t += _dur(rng, 8, 12, tempo)
            act.wrist[side].to(t, jit((-0.55, 0.35, 0.3)))
            act.pitch.to(t, 0.2 + rng.normal(0, 0.04))
            act.twist.to(t, side * rng.uniform(0.15, 0.35))
            rec.roll.to(t, rng.normal(0, 0.1))
            contacts.append(t)
            t += _dur(rng, 25, 45, 1.0)
            act.wrist[side].hold(t)
            act.pitch.hold(t)
            act.twist.hold(t)
        elif action == 119:                                # support somebody: arm around, walk
            rec.drop.to(t, rng.uniform(0.08, 0.18))
            rec.pitch.to(t, 0.25 + rng.normal(0, 0.05))
            t += _dur(rng, 8, 12, tempo)
            act.wrist[side].to(t, jit((-0.6, 0.25, 0.7)))
            act.wrist[-side].to(t, jit((-0.3, -0.3, 0.6)))
            rec.wrist[rec.dom].to(t, jit((-0.5, 0.2, 0.6)))
            contacts.append(t)
            d = _dur(rng, 25, 40, tempo)
            act.step(t, t + d, rng.uniform(0.3, 0.6), lead=side)
            rec.step(t, t + d, -rng.uniform(0.3, 0.6), lead=-side)
            t += d
            for k in (+1, -1):
                act.wrist[k].hold(t)
            rec.wrist[rec.dom].hold(t)
            rec.drop.hold(t)
            rec.pitch.hold(t)
        elif action == 120:                                # rock-paper-scissors: three shakes
            for b in bodies:
                b.wrist[b.dom].to(t + _dur(rng, 6, 10, tempo), jit((-0.1, -0.35, 0.45)))
            t = act.wrist[side].t
            t = _shake_wrists(bodies, t, 3, 4, 6, 0.2, rng, tempo)
            t += _dur(rng, 2, 4, tempo)
            for b in bodies:
                b.wrist[b.dom].to(t, jit((-0.1, -0.3, 0.65)))
            contacts.append(t)
            t += _dur(rng, 10, 20, 1.0)
            for b in bodies:
                b.wrist[b.dom].hold(t)
        else:  # pragma: no cover - guarded by the caller
            raise AssertionError(action)
    t += _dur(rng, 5, 12, tempo)                           # both back to rest
    for b in bodies:
        for k in (+1, -1):
            b.wrist[k].to(t + _dur(rng, 0, 8, 1.0), np.asarray(_REST_WRIST) + rng.normal(0, 0.03, 3))
        for ctl in (b.pitch, b.twist, b.roll, b.head, b.drop):
            ctl.to(max(t, ctl.t + 4), 0.0)
    n = int(np.ceil(max(act.last_key(), rec.last_key()) + _dur(rng, 5, 20, 1.0)))
    return act, rec, n, contacts, sep


def _react(action: int, rec: _Body, rng, contacts: list[float], t_warn: float, perf: Performer) -> None:
    """Key the receiver's reaction to the contacts."""
    vig = perf.vigour
    lat = rng.uniform(1, 4)
    c0 = contacts[0] + lat
    for k in (rec.pitch, rec.head, rec.wrist[+1], rec.wrist[-1], rec.roll, rec.twist):
        k.hold(max(0.0, t_warn + rng.uniform(-2, 6)))
    jit = lambda v, sd=0.05: np.asarray(v, float) + rng.normal(0, sd, 3)  # noqa: E731
    back = -1.0
    if action in (50, 106, 107):
        guard = {50: (-0.1, -0.15, 0.35), 106: (-0.05, 0.5, 0.3), 107: (-0.05, -0.2, 0.6)}[action]
        if rng.random() < 0.6:
            for k in (+1, -1):
                rec.wrist[k].to(c0 - lat - rng.uniform(0, 4), jit(guard))
        for c in contacts:
            rec.pitch.to(c + lat + 2, (-0.25 if action != 107 else 0.2) * vig + rng.normal(0, 0.06))
            rec.head.to(c + lat + 2, (-0.35 if action != 107 else 0.25) + rng.normal(0, 0.08))
            rec.roll.to(c + lat + 3, rng.normal(0, 0.12))
            rec.pitch.to(c + lat + 10, rng.normal(0, 0.05))
            rec.head.to(c + lat + 10, 0.0)
        if action == 106 and rng.random() < 0.5:
            rec.drop.hold(c0).to(c0 + 6, rng.uniform(0.08, 0.2)).hold(c0 + 14).to(c0 + 24, 0.0)
        rec.step(c0, c0 + rng.uniform(8, 14), back * rng.uniform(0.05, 0.3), lead=int(rng.choice([-1, 1])))
    elif action == 51:
        for k in (+1, -1):
            rec.wrist[k].to(c0 + 4, jit((-0.25, -0.6, 0.25)))
        rec.pitch.to(c0 + 4, rng.uniform(0.25, 0.6) * vig)
        rec.head.to(c0 + 4, 0.2)
        rec.step(c0, c0 + rng.uniform(8, 14), back * rng.uniform(0.1, 0.3), lead=int(rng.choice([-1, 1])))
        rec.pitch.to(c0 + rng.uniform(14, 24), rng.normal(0.05, 0.05))
    elif action in (52, 108):
        fall = action == 108 and rng.random() < 0.85
        stumble = (action == 52 and rng.random() < 0.2) or (action == 108 and not fall)
        dist = rng.uniform(0.3, 0.6) if action == 52 else rng.uniform(0.2, 0.45)
        t1 = c0 + rng.uniform(8, 14)
        rec.step(c0, t1, back * dist, lead=int(rng.choice([-1, 1])), lift=0.05)
        for k in (+1, -1):
            rec.wrist[k].to(c0 + 5, jit((0.45, -0.45, 0.15)))
        rec.pitch.to(c0 + 4, -rng.uniform(0.15, 0.35) * vig)
        rec.head.to(c0 + 4, 0.3)
        if fall:
            tf = t1 + rng.uniform(10, 20)
            lie = rng.uniform(0.9, 1.4)
            rec.drop.hold(c0 + 4).to(tf, perf.segments()["hip_h"] - rng.uniform(0.12, 0.2))
            rec.back.hold(c0 + 4).to(tf, -rng.uniform(0.25, 0.45))
            rec.pitch.to(tf, -lie)
            rec.head.to(tf, 0.5)
            for k in (+1, -1):
                rec.wrist[k].to(tf, jit((0.6, -0.4, 0.2)))
            rec.pitch.hold(tf + rng.uniform(10, 30))
        elif stumble:
            rec.drop.hold(c0 + 4).to(t1, rng.uniform(0.1, 0.3)).hold(t1 + 5).to(t1 + 18, 0.0)
            rec.pitch.to(t1 + 18, 0.0)
        else:
            rec.pitch.to(t1 + 6, 0.0)
        rec.head.to(rec.pitch.t, 0.0 if not fall else 0.5)
    elif action == 110:
        r = rng.random()
        if r < 0.55:                                       # hands up
            t_up = t_warn + rng.uniform(6, 16)
            for k in (+1, -1):
                rec.wrist[k].to(t_up, jit((0.35, 0.7, 0.05)))
                rec.wrist[k].hold(contacts[-1] + rng.uniform(5, 20))
        elif r < 0.85:                                     # hit: clutch the chest and crouch
            for k in (+1, -1):
                rec.wrist[k].to(c0 + 5, jit((-0.3, -0.3, 0.25)))
            rec.pitch.to(c0 + 5, rng.uniform(0.2, 0.5))
            rec.drop.hold(c0).to(c0 + 12, rng.uniform(0.1, 0.35))
        else:                                              # step back
            rec.step(c0, c0 + 10, back * rng.uniform(0.1, 0.3), lead=int(rng.choice([-1, 1])))
            rec.pitch.to(c0 + 4, -0.15)
            rec.pitch.to(c0 + 14, 0.0)
    if action != 108 and rng.random() < 0.6:               # arms back down after a while
        t_rest = contacts[-1] + rng.uniform(12, 25)
        for k in (+1, -1):
            rec.wrist[k].to(max(t_rest, rec.wrist[k].t + 4), np.asarray(_REST_WRIST) + rng.normal(0, 0.03, 3))


def simulate_performance(action: int, setup: int, performer: int, replication: int, *, seed: int,
                         partner: int | None = None) -> Performance:
    """The camera-independent 3D motion of one performance (both persons).

    Args:
        action: NTU action id, one of :data:`SIMULATED_ACTIONS` (the seven harmful actions of
            ``skelutils.ntu.ACTION_IDS`` and the harmless ones of ``skelutils.ntu.HARMLESS_ACTION_IDS``).
        setup: NTU setup id (1..999); sets the scene's camera geometry.
        performer: the actor's performer id (1..999; NTU uses 1..106).
        replication: 1 or 2 (NTU); sets which camera the pair is turned towards.
        seed: dataset seed.
        partner: the receiver's performer id; default :func:`default_partner`.

    Returns:
        Performance, ``xyz`` float64 (T, 2, 25, 3) metres in the scene frame.

    Raises:
        ValueError: an unknown action or an out-of-range id.
    """
    if action not in SIMULATED_ACTIONS:
        raise ValueError(f"action={action!r}: not simulated; expected one of "
                         f"{', '.join(map(str, SIMULATED_ACTIONS))} (NTU action ids of skelutils.ntu.CLASSES "
                         "and skelutils.ntu.HARMLESS_CLASSES)")
    _check_id(setup, "setup", 1, 999)
    _check_id(performer, "performer", 1, 999)
    _check_id(replication, "replication", 1, 999)
    if partner is None:
        partner = default_partner(setup, performer, seed)
    _check_id(partner, "partner", 1, 999)
    actor_p, rec_p = performer_profile(performer, seed), performer_profile(partner, seed)
    rng = np.random.default_rng(np.random.SeedSequence(
        [int(seed), _TAG_MOTION, int(setup), int(performer), int(replication), int(action), int(partner)]))
    act, rec, n, contacts, sep = _choreograph(action, actor_p, rec_p, rng)
    # a performance longer than MAX_FRAMES is played faster (keys evaluated at fractional frames)
    scale = n / MAX_FRAMES if n > MAX_FRAMES else 1.0
    n_out = min(max(n, MIN_FRAMES), MAX_FRAMES)
    t = np.arange(n_out) * scale
    poses = []
    for body in (act, rec):                  # breathing: a slow sway of the trunk (0.5-1.5 deg)
        amp, period, phase = rng.uniform(0.008, 0.025), rng.uniform(60, 110), rng.uniform(0, 2 * np.pi)
        poses.append(body.pose(t, amp * np.sin(2 * np.pi * t / period + phase)))
    contacts_out = tuple(int(round(c / scale)) for c in contacts)

    # place the pair in the scene: the actor at -sep/2, the receiver at +sep/2 along the pair axis
    toward = CAMERA_AZIMUTH_DEG[2] if replication % 2 == 1 else CAMERA_AZIMUTH_DEG[3]
    facing = toward + (90.0 if rng.random() < SAME_SIDE_FRACTION else -90.0) + rng.normal(0, 8)
    centre = rng.normal(0, 0.15, 2)
    phi = np.deg2rad(facing)
    axis = np.array([np.sin(phi), 0.0, np.cos(phi)])          # actor -> receiver, horizontal
    xyz = np.zeros((n_out, 2, NUM_JOINTS, 3))
    for k, (p, sign) in enumerate(((poses[0], -1.0), (poses[1], +1.0))):
        heading = phi if k == 0 else phi + np.pi
        base = np.array([centre[0], 0.0, centre[1]]) + sign * axis * sep / 2
        r = _rot_y(np.array([heading]))[0]
        xyz[:, k] = p @ r.T + base
    return Performance(action=int(action), setup=int(setup), performer=int(performer),
                       replication=int(replication), partner=int(partner), xyz=xyz,
                       contacts=contacts_out, facing_deg=float(facing))


# ---------------------------------------------------------------------------------------------
# the camera and the sensor
# ---------------------------------------------------------------------------------------------

def camera_pose(setup: int, camera: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Extrinsics of ``camera`` in ``setup``: (R, c) with ``x_cam = R @ (x_scene - c)``.

    R is a proper rotation (rows: the camera's x, y, z axes in the scene frame); c the camera
    centre, metres. Camera ids map to azimuths by :data:`CAMERA_AZIMUTH_DEG`.
    """
    if camera not in CAMERA_AZIMUTH_DEG:
        raise ValueError(f"camera={camera!r}: expected one of {sorted(CAMERA_AZIMUTH_DEG)} "
                         "(NTU uses three cameras, ids 1-3)")
    g = setup_geometry(setup, seed)
    az = np.deg2rad(CAMERA_AZIMUTH_DEG[camera])
    c = np.array([-g.distance * np.sin(az), g.height, -g.distance * np.cos(az)])
    horiz = _unit(np.array([np.sin(az), 0.0, np.cos(az)]))
    pitch = np.deg2rad(g.pitch_deg)
    z = np.cos(pitch) * horiz + np.sin(pitch) * np.array([0.0, 1.0, 0.0])
    y = _unit(np.array([0.0, 1.0, 0.0]) - z[1] * z)
    x = np.cross(y, z)
    return np.stack([x, y, z]), c


def _project(xyz, intr, size, baseline=0.0):
    """Pixels (..., 2) of camera-frame points (..., 3): ``(cx + fx (x + baseline) / z, cy - fy y / z)``."""
    fx, fy, cx, cy = intr
    z = np.maximum(xyz[..., 2], 0.1)
    uv = np.stack([cx + fx * (xyz[..., 0] + baseline) / z, cy - fy * xyz[..., 1] / z], -1)
    return uv


def _quat_from_matrix(r: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) -> unit quaternions (..., 4) (w, x, y, z).

    Of the two quaternions of a rotation, the one whose largest component is positive
    (Shepperd's method), so w takes either sign.
    """
    m00, m01, m02 = r[..., 0, 0], r[..., 0, 1], r[..., 0, 2]
    m10, m11, m12 = r[..., 1, 0], r[..., 1, 1], r[..., 1, 2]
    m20, m21, m22 = r[..., 2, 0], r[..., 2, 1], r[..., 2, 2]
    lead = np.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22,
                     1 - m00 - m11 + m22], -1)              # 4 w^2, 4 x^2, 4 y^2, 4 z^2
    k = np.argmax(lead, -1)
    s = 2.0 * np.sqrt(np.maximum(np.take_along_axis(lead, k[..., None], -1)[..., 0], 1e-12))
    cand = np.stack([
        np.stack([s / 4, (m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s], -1),
        np.stack([(m21 - m12) / s, s / 4, (m01 + m10) / s, (m02 + m20) / s], -1),
        np.stack([(m02 - m20) / s, (m01 + m10) / s, s / 4, (m12 + m21) / s], -1),
        np.stack([(m10 - m01) / s, (m02 + m20) / s, (m12 + m21) / s, s / 4], -1)], -2)
    q = np.take_along_axis(cand, k[..., None, None], -2)[..., 0, :]
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def _orthogonal(v: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The part of ``v`` orthogonal to the unit vectors ``y`` (not normalised)."""
    return v - np.sum(v * y, -1, keepdims=True) * y


def _orientations(xyz: np.ndarray) -> np.ndarray:
    """(..., 25, 3) joints -> (..., 25, 4) unit quaternions (w, x, y, z) of the Kinect v2 bone frames.

    Local y: along the joint's bone (to its main child; from the parent for a leaf). Local z:
    the person's forward direction (left cross up, from the shoulders, hips and spine) made
    orthogonal to y; for a bone pointing nearly forward or backward, y cross left (up for a
    forward bone, down for a backward one). Local x = y cross z.
    """
    y = _unit(xyz[..., _BONE_TO, :] - xyz[..., _BONE_FROM, :])
    up = _unit(xyz[..., _J["SpineShoulder"], :] - xyz[..., _J["SpineBase"], :])
    left = _unit(xyz[..., _J["ShoulderLeft"], :] - xyz[..., _J["ShoulderRight"], :]
                 + xyz[..., _J["HipLeft"], :] - xyz[..., _J["HipRight"], :])
    fwd = _unit(np.cross(left, up))[..., None, :]
    z = _orthogonal(np.broadcast_to(fwd, y.shape), y)
    alt = np.cross(y, np.broadcast_to(left[..., None, :], y.shape))
    z = np.where(np.linalg.norm(z, axis=-1, keepdims=True) > 0.2, z, alt)
    # a degenerate body (a noise blob): any direction orthogonal to the bone
    spare = _orthogonal(np.broadcast_to(np.array([0.0, 0.0, -1.0]), y.shape), y)
    spare = np.where(np.linalg.norm(spare, axis=-1, keepdims=True) > 0.2, spare, np.cross(y, [1.0, 0.0, 0.0]))
    z = np.where(np.linalg.norm(z, axis=-1, keepdims=True) > 1e-3, z, spare)
    z = _unit(_orthogonal(z, y))
    x = np.cross(y, z)
    return _quat_from_matrix(np.stack([x, y, z], -1))       # columns: the local axes


def _as_written(values: np.ndarray) -> np.ndarray:
    """``values`` rounded to :data:`FILE_DIGITS` significant digits, float32: what the reader gives
    back for them from a simulated file (-0.0 becomes 0.0)."""
    v = np.asarray(values, np.float64) + 0.0
    mag = np.abs(v)
    exp = np.floor(np.log10(np.where(mag > 0, mag, 1.0)))
    scale = 10.0 ** (FILE_DIGITS - 1 - exp)
    return (np.round(v * scale) / scale + 0.0).astype(np.float32)


def _smooth_noise(rng, shape, rho, sd):
    """AR(1) noise along axis 0 with stationary standard deviation ``sd``."""
    e = rng.normal(0, sd * np.sqrt(1 - rho ** 2), shape)
    out = np.empty(shape)
    out[0] = rng.normal(0, sd, shape[1:])
    for t in range(1, shape[0]):
        out[t] = rho * out[t - 1] + e[t]
    return out


def _runs_mask(rng, p: np.ndarray, width: int = 3) -> np.ndarray:
    """Boolean mask along axis 0 with rate about ``p``, in runs of about ``width`` frames."""
    seedm = rng.random(p.shape) < p / width
    out = seedm.copy()
    for k in range(1, width):
        out[k:] |= seedm[:-k]
    return out


def _sensor(pts: np.ndarray, rng, all_pts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Jitter and inferred joints for body ``k``; ``pts`` (T, 25, 3) camera frame."""
    n = pts.shape[0]
    depth = pts[..., 2]
    # which joints the tracker would have to infer
    p = np.full((n, NUM_JOINTS), 0.006)
    p[:, _EXTREMITIES] = 0.06
    p[:, _HANDS] = 0.02
    p[:, _FEET] = 0.02
    dz = depth - depth[:, [_J["SpineMid"]]]
    p += 0.3 / (1 + np.exp(-(dz - 0.12) / 0.03))            # behind the own trunk
    other = all_pts[:, 1 - k]
    ang_self = pts[..., :2] / depth[..., None]
    ang_other = other[..., :2] / np.maximum(other[..., 2:], 0.1)
    near = (np.linalg.norm(ang_self[:, :, None] - ang_other[:, None], axis=-1) < 0.035).any(-1)
    behind = depth > np.median(other[..., 2], axis=1, keepdims=True) + 0.1
    p += 0.5 * (near & behind)                              # hidden behind the other person
    inferred = _runs_mask(rng, np.clip(p, 0, 0.95), 3)
    sd = 0.003 + 0.0012 * depth
    sd[:, _HANDS + _EXTREMITIES] *= 1.6
    noisy = pts + rng.normal(0, 1, pts.shape) * sd[..., None]
    noisy += _smooth_noise(rng, pts.shape, 0.9, 0.003)
    drift = _smooth_noise(rng, pts.shape, 0.85, 0.035)
    noisy = np.where(inferred[..., None], noisy + drift, noisy)
    return noisy, np.where(inferred, INFERRED, TRACKED).astype(np.int8)


def _furniture(rng, n: int) -> np.ndarray:
    """A static furniture-like blob (T, 25, 3) in the camera frame, inside the field of view."""
    z = rng.uniform(2.8, 4.2)
    centre = np.array([rng.uniform(-0.5, 0.5) * z, rng.uniform(-0.6, 0.1), z])
    shape = rng.normal(0, [0.15, 0.2, 0.08], (NUM_JOINTS, 3))
    return centre + shape + rng.normal(0, 0.01, (n, NUM_JOINTS, 3))


def simulate_sample(action: int, setup: int, camera: int, performer: int, replication: int, *,
                    seed: int, partner: int | None = None, sensor_noise: bool = True,
                    empty_fraction: float = EMPTY_FRACTION,
                    noise_body_fraction: float = NOISE_BODY_FRACTION,
                    dropout_fraction: float = DROPOUT_FRACTION,
                    performance: Performance | None = None) -> Skeleton:
    """One simulated NTU sample as seen by one camera.

    The motion comes from :func:`simulate_performance` with the same ids and seed (so the
    three cameras of one performance see the same motion); the sensor effects come from a
    stream seeded by the seed and all five ids.

    Args:
        action: NTU action id (one of :data:`SIMULATED_ACTIONS`).
        setup: NTU setup id (1..999).
        camera: 1, 2 or 3 (azimuths in :data:`CAMERA_AZIMUTH_DEG`).
        performer: actor's performer id (1..999).
        replication: replication id (1 or 2 in NTU).
        seed: dataset seed.
        partner: receiver's performer id; default :func:`default_partner`.
        sensor_noise: False gives the clean projection of the motion (no jitter, no inferred
            joints, no dropouts, no noise bodies, never empty); default True.
        empty_fraction: probability that the file holds no skeleton at all (default 0.01).
        noise_body_fraction: probability of a noise body (furniture blob or ghost), default 0.12.
        dropout_fraction: probability that a person is lost for 1-8 frames, default 0.15
            (30 % of those come back with a new tracking id, as Kinect does).
        performance: a precomputed :func:`simulate_performance` result for these ids (a speed-up
            when writing several cameras); must match the ids.

    Returns:
        Skeleton with ``B >= 2`` body slots (0 when empty), the actor in slot 0 and the receiver
        in slot 1, ``path`` set to the NTU file name; float values rounded to
        :data:`FILE_DIGITS` significant digits, so they equal what the reader gets from the file.
    """
    _check_id(camera, "camera", 1, 3)
    for name, v in (("empty_fraction", empty_fraction), ("noise_body_fraction", noise_body_fraction),
                    ("dropout_fraction", dropout_fraction)):
        if not 0.0 <= float(v) <= 1.0:
            raise ValueError(f"{name}={v!r}: expected a probability in [0, 1]")
    perf = performance or simulate_performance(action, setup, performer, replication, seed=seed,
                                               partner=partner)
    if (perf.action, perf.setup, perf.performer, perf.replication) != (action, setup, performer, replication):
        raise ValueError("performance: its ids do not match the requested sample; pass the result of "
                         "simulate_performance for the same action, setup, performer and replication")
    name = str(SampleName(setup, camera, performer, replication, action)) + ".skeleton"
    rng = np.random.default_rng(np.random.SeedSequence(
        [int(seed), _TAG_SENSOR, int(setup), int(camera), int(performer), int(replication), int(action)]))
    n = perf.n_frames
    r, c = camera_pose(setup, camera, seed)
    pts = (perf.xyz - c) @ r.T                                # (T, 2, 25, 3) camera frame
    u_empty, u_noise, u_drop = rng.random(3)
    if sensor_noise and u_empty < empty_fraction:
        return Skeleton.empty_like(n, 0, path=name)

    base_id = BODY_ID_BASE + int(rng.integers(1000, 9000))
    bodies = []                                               # (xyz, present, tracking, id)
    for k in range(2):
        if sensor_noise:
            xyz, trk = _sensor(pts[:, k], rng, pts, k)
        else:
            xyz, trk = pts[:, k].copy(), np.full((n, NUM_JOINTS), TRACKED, np.int8)
        bodies.append([xyz, np.ones(n, bool), trk, base_id + k * int(rng.integers(1, 40))])
    extra = []
    if sensor_noise and u_drop < dropout_fraction:
        k = 1 if rng.random() < 0.7 else 0
        length = int(rng.integers(1, 9))
        start = int(rng.integers(3, max(4, n - length - 1)))
        bodies[k][1][start:start + length] = False
        if rng.random() < NEW_ID_FRACTION and start + length < n:
            xyz, pres, trk, _ = bodies[k]
            new_pres = np.zeros(n, bool)
            new_pres[start + length:] = True
            pres[start + length:] = False
            extra.append([xyz, new_pres, trk, base_id + 100 + int(rng.integers(0, 50))])
    if sensor_noise and u_noise < noise_body_fraction:
        if rng.random() < 0.5:
            blob = _furniture(rng, n)
            pres = np.zeros(n, bool)
            length = int(n * rng.uniform(0.2, 1.0))
            start = int(rng.integers(1, max(2, n - length)))
            pres[start:start + length] = True
            trk = np.where(rng.random((n, NUM_JOINTS)) < 0.4, INFERRED, TRACKED).astype(np.int8)
        else:
            k = int(rng.integers(0, 2))
            blob = pts[:, k] + np.array([rng.uniform(-0.4, 0.4), 0.0, rng.uniform(-0.2, 0.3)])
            blob = blob + rng.normal(0, 0.03, blob.shape)
            pres = np.zeros(n, bool)
            length = int(rng.integers(2, 11))
            start = int(rng.integers(1, max(2, n - length)))
            pres[start:start + length] = True
            trk = np.where(rng.random((n, NUM_JOINTS)) < 0.6, INFERRED, TRACKED).astype(np.int8)
        extra.append([blob, pres, trk, base_id + 200 + int(rng.integers(0, 800))])
    # slots in order of first appearance (the persons are both present in frame 0)
    extra.sort(key=lambda b: int(np.argmax(b[1])))
    bodies += extra

    b = len(bodies)
    skel = Skeleton.empty_like(n, b, path=name)      # absent bodies: all fields zero, as the reader gives
    skel.body_ids = tuple(int(x[3]) for x in bodies)
    for k, (xyz, pres, trk, _) in enumerate(bodies):
        xyz = np.where(pres[:, None, None], xyz, 0.0)
        skel.present[:, k] = pres
        skel.xyz[:, k] = xyz
        skel.tracking[:, k] = np.where(pres[:, None], trk, NOT_TRACKED)
        dxy = _project(xyz, DEPTH_INTRINSICS, DEPTH_SIZE)
        cxy = _project(xyz, COLOR_INTRINSICS, COLOR_SIZE, COLOR_BASELINE_M)
        # clippedEdges bits as the Kinect SDK: 1 right, 2 left, 4 top, 8 bottom
        edges = ((dxy[..., 0] > DEPTH_SIZE[0] - 1).any(-1) * 1 + (dxy[..., 0] < 0).any(-1) * 2
                 + (dxy[..., 1] < 0).any(-1) * 4 + (dxy[..., 1] > DEPTH_SIZE[1] - 1).any(-1) * 8)
        out = ((dxy < 0) | (dxy > np.array(DEPTH_SIZE) - 1)).any(-1)
        skel.tracking[:, k] = np.where(out & pres[:, None], INFERRED, skel.tracking[:, k])
        dxy = np.clip(dxy, 0, np.array(DEPTH_SIZE) - 1)
        cxy = np.clip(cxy, 0, np.array(COLOR_SIZE) - 1)
        skel.depth_xy[:, k] = np.where(pres[:, None, None], dxy, 0.0)
        skel.color_xy[:, k] = np.where(pres[:, None, None], cxy, 0.0)
        q = _orientations(np.where(pres[:, None, None], xyz, pts[:, 0]))
        skel.orientation[:, k] = np.where(pres[:, None, None], q, 0.0)
        # body line: clippedEdges, hand confidences/states, isRestricted, lean, trackingState 2
        info = np.zeros((n, 9))
        info[:, 0] = edges
        for h, (hand_j, col) in enumerate(((_J["HandLeft"], 1), (_J["HandRight"], 3))):
            conf = (skel.tracking[:, k, hand_j] == TRACKED).astype(float)
            info[:, col] = conf
            states = rng.choice([1, 2, 3], size=n // 10 + 1, p=[0.2, 0.5, 0.3])
            info[:, col + 1] = np.where(conf > 0, np.repeat(states, 10)[:n], 0)
        spine = xyz[:, _J["SpineShoulder"]] - xyz[:, 0]
        info[:, 6] = np.clip(spine[:, 0] / 0.5, -1, 1)
        lean_z = -(spine[:, 2] - np.median(spine[:, 2]))
        info[:, 7] = np.clip(lean_z / 0.5, -1, 1)
        info[:, 8] = TRACKED
        skel.body_info[:, k] = np.where(pres[:, None], info, 0.0)
    for field in ("xyz", "depth_xy", "color_xy", "orientation", "body_info"):
        setattr(skel, field, _as_written(getattr(skel, field)))
    return skel


# ---------------------------------------------------------------------------------------------
# datasets
# ---------------------------------------------------------------------------------------------

def _write_performance(job) -> list[tuple[str, bool]]:
    out_dir, seed, action, setup, performer, replication, cameras, kw = job
    perf = simulate_performance(action, setup, performer, replication, seed=seed)
    done = []
    for cam in cameras:
        skel = simulate_sample(action, setup, cam, performer, replication, seed=seed, performance=perf, **kw)
        write_skeleton(Path(out_dir) / skel.path, skel, digits=FILE_DIGITS, newline=FILE_NEWLINE)
        done.append((skel.path, skel.n_bodies == 0))
    return done


def simulate_dataset(out_dir: str | os.PathLike, *, seed: int = 0,
                     performers: Iterable[int] = PERFORMERS[:8],
                     setups: Iterable[int] = (18,),
                     sessions: Sequence[tuple[int, int]] | None = None,
                     replications: Iterable[int] = (1, 2), cameras: Iterable[int] = (1, 2, 3),
                     actions: Iterable[int] = ACTION_IDS, empty_fraction: float = EMPTY_FRACTION,
                     noise_body_fraction: float = NOISE_BODY_FRACTION,
                     dropout_fraction: float = DROPOUT_FRACTION, workers: int = 1,
                     progress: bool = True) -> dict:
    """Write simulated ``.skeleton`` files into ``out_dir``.

    One file per (setup, performer) session x action x replication x camera. Sessions are every
    pair of ``setups`` x ``performers``, unless ``sessions`` lists the (setup, performer) pairs
    explicitly (NTU has each performer in only some setups; see :func:`simulate_dataset_preset`).

    Args:
        out_dir: folder to write into (created).
        seed: dataset seed; the same seed writes byte-identical files.
        performers: actor ids (default 1..8).
        setups: setup ids (default ``(18,)``).
        sessions: explicit (setup, performer) pairs, overriding ``setups`` x ``performers``.
        replications: replication ids (default (1, 2)).
        cameras: camera ids (default (1, 2, 3)).
        actions: NTU action ids (default all seven of ``skelutils.ntu.ACTION_IDS``; any of
            :data:`SIMULATED_ACTIONS`, e.g. ``skelutils.ntu.HARMLESS_ACTION_IDS`` for the harmless ones).
        empty_fraction, noise_body_fraction, dropout_fraction: sensor event rates, see
            :func:`simulate_sample`.
        workers: processes (default 1; > 1 uses a process pool, same files either way).
        progress: show a tqdm progress bar (default True).

    Returns:
        dict with ``out_dir``, ``seed``, ``n_files``, ``n_empty``, ``names`` (file names written,
        in a fixed order) and ``empty`` (names of the files without a skeleton).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if sessions is None:
        sessions = [(int(s), int(p)) for s in setups for p in performers]
    cameras = tuple(int(c) for c in cameras)
    for c in cameras:
        _check_id(c, "camera", 1, 3)
    actions = tuple(int(a) for a in actions)
    bad = [a for a in actions if a not in SIMULATED_ACTIONS]
    if bad:
        raise ValueError(f"actions {bad}: not simulated; choose from {list(SIMULATED_ACTIONS)}")
    kw = dict(empty_fraction=empty_fraction, noise_body_fraction=noise_body_fraction,
              dropout_fraction=dropout_fraction)
    jobs = [(str(out_dir), int(seed), a, s, p, int(r), cameras, kw)
            for s, p in sessions for a in actions for r in replications]
    results: list[list[tuple[str, bool]]] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(jobs) * len(cameras), desc="simulate", unit="file")
    if workers and workers > 1:
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(max_workers=int(workers)) as pool:
            for res in pool.map(_write_performance, jobs, chunksize=4):
                results.append(res)
                if bar is not None:
                    bar.update(len(res))
    else:
        for job in jobs:
            res = _write_performance(job)
            results.append(res)
            if bar is not None:
                bar.update(len(res))
    if bar is not None:
        bar.close()
    names = [n for res in results for n, _ in res]
    empty = [n for res in results for n, e in res if e]
    return dict(out_dir=str(out_dir), seed=int(seed), n_files=len(names), n_empty=len(empty),
                names=names, empty=empty)


#: Allowed values of ``size`` in :func:`simulate_dataset_preset`.
PRESETS = ("smoke", "moderate", "full")


def preset_sessions(size: str = "smoke") -> list[tuple[int, int]]:
    """The (setup, performer) sessions of a preset.

    - ``"smoke"``: performers 1..8 (five in the NTU 120 cross-subject training set, three in
      its test set), each in one setup of S018-S032: 8 sessions, 7 x 8 x 2 x 3 = 336 files.
    - ``"moderate"``: performers 1..40, one setup each: 7 x 40 x 2 x 3 = 1,680 files (the
      ``cpu30`` profile: enough data for a GAN worth measuring on a CPU).
    - ``"full"``: all 106 performers, each in one setup of S018-S032, the even-numbered ones
      in a second setup too: 159 sessions, 7 x 159 x 2 x 3 = 6,678 files, about 954 per class
      (NTU RGB+D 120 has about 950 per class).
    """
    if size not in PRESETS:
        raise ValueError(f"size={size!r}: expected one of {PRESETS}")
    if size == "smoke":
        return [(SETUPS_120[(p - 1) % 15], p) for p in range(1, 9)]
    if size == "moderate":
        return [(SETUPS_120[(p - 1) % 15], p) for p in range(1, 41)]
    sessions = [(SETUPS_120[(p - 1) % 15], p) for p in PERFORMERS]
    sessions += [(SETUPS_120[(p + 6) % 15], p) for p in PERFORMERS if p % 2 == 0]
    return sorted(sessions, key=lambda sp: (sp[1], sp[0]))


def simulate_dataset_preset(out_dir: str | os.PathLike, size: str = "smoke", seed: int = 0,
                            workers: int = 1, progress: bool = True) -> dict:
    """Write a preset simulated dataset (see :func:`preset_sessions`); returns the summary of
    :func:`simulate_dataset`.

    Args:
        out_dir: folder to write into.
        size: ``"smoke"`` (336 files, seconds), ``"moderate"`` (1,680 files) or ``"full"``
            (6,678 files, minutes).
        seed: dataset seed (default 0).
        workers: processes (default 1).
        progress: show a progress bar.
    """
    return simulate_dataset(out_dir, seed=seed, sessions=preset_sessions(size), workers=workers,
                            progress=progress)


# ---------------------------------------------------------------------------------------------
# a long surveillance stream
# ---------------------------------------------------------------------------------------------

_TAG_STREAM = 29
#: Performer ids of the long stream: none of them appears in a simulated data set (NTU ids stop
#: at 106), so every person in the stream is unseen by the recognisers.
STREAM_PERFORMERS: tuple[int, ...] = tuple(range(201, 261))


def _held(skel: Skeleton, frame: int, n: int, rng, sd: float = 0.004) -> Skeleton:
    """``n`` frames of ``skel`` standing still at ``frame`` (a little jitter on ``xyz``)."""
    idx = np.full(n, frame)
    out = Skeleton(xyz=skel.xyz[idx].copy(), present=skel.present[idx].copy(), body_ids=skel.body_ids,
                   tracking=skel.tracking[idx].copy(), depth_xy=skel.depth_xy[idx].copy(),
                   color_xy=skel.color_xy[idx].copy(), orientation=skel.orientation[idx].copy(),
                   body_info=skel.body_info[idx].copy(), path=skel.path)
    noise = _smooth_noise(rng, out.xyz.shape, 0.9, sd).astype(np.float32)
    out.xyz = _as_written(np.where(out.present[:, :, None, None], out.xyz + noise, 0.0).astype(np.float32))
    return out


def simulate_stream(path: str | os.PathLike, *, seed: int = 0, duration_s: float = 120.0, camera: int = 1,
                    harmful_share: float = 0.5, harmful: Sequence[int] = ACTION_IDS,
                    harmless: Sequence[int] = HARMLESS_ACTION_IDS,
                    performers: Sequence[int] = STREAM_PERFORMERS, idle_s: tuple[float, float] = (1.0, 5.0),
                    empty_s: tuple[float, float] = (0.5, 3.0)) -> dict:
    """Write a long surveillance stream as one ``.skeleton`` file, with its ground truth.

    The scene alternates: nobody in view (``empty_s`` seconds, frames with 0 bodies); a pair of
    people walks in and stands still (``idle_s`` seconds); they perform one mutual action (a
    simulated sample of camera ``camera``, sensor effects included), harmful with probability
    ``harmful_share``; they stand still again (``idle_s``) and leave. Every pair is drawn from
    ``performers`` (unseen by the data sets) and a setup of S018-S032, and keeps its Kinect
    tracking ids from walking in to leaving; the next pair has new ids. This repeats until the
    stream lasts ``duration_s`` seconds at :data:`FPS`.

    Args:
        path: the ``.skeleton`` file to write (the ground truth goes next to it as ``.json``).
        seed: the stream's seed (also the data set seed the performers' bodies derive from).
        duration_s: length of the stream, seconds (at least one action is written).
        camera: 1, 2 or 3.
        harmful_share: probability that an action is harmful (0 to 1).
        harmful, harmless: the NTU action ids drawn from, uniformly.
        performers: actor and partner ids drawn from.
        idle_s, empty_s: (low, high) seconds of standing still / of an empty scene.

    Returns:
        dict (also written as ``<path>.json``): ``fps``, ``n_frames``, ``seed``, ``camera``,
        ``duration_s`` and ``events``, one per action in order, each with ``action`` (NTU id),
        ``harmful`` (bool), ``start`` and ``end`` (the action's first and last frame in the
        stream; the idle frames around it are not part of it), ``contacts`` (frames at which
        the action's contacts land) and ``performer``, ``partner``, ``setup``.
    """
    import json

    _check_id(camera, "camera", 1, 3)
    if not 0.0 <= float(harmful_share) <= 1.0:
        raise ValueError(f"harmful_share={harmful_share!r}: expected a probability in [0, 1]")
    bad = [a for a in (*harmful, *harmless) if a not in SIMULATED_ACTIONS]
    if bad:
        raise ValueError(f"actions {bad}: not simulated; choose from {list(SIMULATED_ACTIONS)}")
    if len(performers) < 2:
        raise ValueError("performers: need at least two ids (an actor and a partner)")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), _TAG_STREAM, int(camera)]))
    target = max(1, int(round(float(duration_s) * FPS)))
    pieces: list[str] = []
    events: list[dict] = []
    n = 0
    while n < target or not events:
        gap = int(round(rng.uniform(*empty_s) * FPS))
        pieces.append("0\n" * gap)
        n += gap
        is_harmful = bool(rng.random() < harmful_share) if harmful and harmless else bool(harmful)
        action = int(rng.choice(list(harmful if is_harmful else harmless)))
        actor, partner = (int(v) for v in rng.choice(list(performers), size=2, replace=False))
        setup = int(rng.choice(SETUPS_120))
        replication = int(rng.integers(1, 3))
        perf = simulate_performance(action, setup, actor, replication, seed=seed, partner=partner)
        clip = simulate_sample(action, setup, camera, actor, replication, seed=seed, partner=partner,
                               performance=perf, empty_fraction=0.0)
        lead = _held(clip, 0, int(round(rng.uniform(*idle_s) * FPS)), rng)
        trail = _held(clip, clip.n_frames - 1, int(round(rng.uniform(*idle_s) * FPS)), rng)
        start = n + lead.n_frames
        for part in (lead, clip, trail):
            text = format_skeleton(part, digits=FILE_DIGITS, newline="\n")
            pieces.append(text.split("\n", 1)[1])
        events.append({"action": action, "harmful": is_harmful, "start": start, "end": start + clip.n_frames - 1,
                       "contacts": [start + c for c in perf.contacts], "performer": actor, "partner": partner,
                       "setup": setup})
        n += lead.n_frames + clip.n_frames + trail.n_frames
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "w", newline="") as fh:
        fh.write(f"{n}\n")
        fh.writelines(pieces)
    os.replace(tmp, path)
    truth = {"fps": FPS, "n_frames": n, "seed": int(seed), "camera": int(camera), "duration_s": n / FPS,
             "harmful_share": float(harmful_share), "events": events}
    side = path.with_suffix(".json")
    side.write_text(json.dumps(truth, indent=1) + "\n")
    return truth


def cached_dataset(out_dir: str | os.PathLike, size: str = "smoke", seed: int = 0, workers: int = 1) -> Path:
    """The folder ``out_dir`` holding the simulator's files for ``size`` and ``seed``, written on first
    use and reused afterwards.

    A ``simulated.json`` marker records what wrote the folder (size, seed and a hash of this file);
    when any of them differs, the folder's ``.skeleton`` files are deleted and written anew.
    ``skelutils.config.raw_folder`` calls this for ``data.source: simulated``.

    Returns:
        ``out_dir`` as a Path.
    """
    import hashlib
    import json

    from skelutils.config import write_json
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    want = {"size": size, "seed": int(seed), "simulator": code}
    marker = d / "simulated.json"
    if not (marker.is_file() and json.loads(marker.read_text()) == want):
        for old in d.glob("*.skeleton"):
            old.unlink()
        simulate_dataset_preset(d, size=size, seed=int(seed), progress=False, workers=int(workers))
        write_json(marker, want)
    return d
