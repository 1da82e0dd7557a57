"""A live monitor: an online recogniser over a sliding window of skeleton frames, with alerts.

Frames arrive one at a time (from a ``.skeleton`` file replayed at 30 frames/s, a folder, a long
stream, or standard input fed by a sensor). :class:`OnlineRecogniser` keeps the last
``window`` frames and, every ``stride`` frames, prepares them exactly as the training data was
prepared (:func:`prepare_window`: bodies tracked by their Kinect id, the NTU denoising and actor
order of ``data.actor_method``, empty frames dropped, centring on person 0's first frame in the
window, resampling to the model's T frames), runs any checkpoint of the three recognisers
(``skelutils.train.load_checkpoint_model``) and gives per-frame class probabilities.
:class:`AlertTracker` turns them into alerts with hysteresis: raised after ``k_on`` frames whose
harmful score is at least ``on``, cleared at the first frame below ``off``.

The harmful score of a frame is the probability mass on the seven harmful classes: ``1 -
P(harmless interaction)`` for a model of the class set ``harmful7+harmless``; for a 7-way model
it is 1 by construction (every window of two people is some harmful action), so such a model
alerts whenever two people are in view.

Bad input never stops the stream: :func:`iter_frames` reports a malformed frame (source, line,
what was expected) and skips to the next frame it can read.
"""
from __future__ import annotations

import collections
import dataclasses
import io
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .ntu import BODY_VALUES, JOINT_VALUES, NUM_JOINTS, Skeleton, harmless_label
from .prepare import (DEFAULT_ACTOR_METHOD, actor_slots, actors_from_slots, drop_empty_frames, drops_empty_frames,
                      interpolation_weights, prepare_sequence)

#: Frame rate of the Kinect v2 skeleton stream (Hz) and the time budget of one frame (ms).
FPS = 30
FRAME_BUDGET_MS = 1000.0 / FPS
#: ``precision`` values of :func:`optimise_model`.
PRECISIONS = ("fp32", "bf16", "int8", "mixed")
#: Most bodies one frame may hold before it is taken as malformed.
MAX_BODIES = 16

_HINT = ("Check that the input is in the NTU RGB+D .skeleton layout (frame count, then per frame a body "
         "count, per body a 10-value body line, the joint count 25 and 25 joint lines of 12 values)")


# ----------------------------------------------------------------------------- frames

@dataclasses.dataclass
class Frame:
    """One skeleton frame as it arrives.

    Attributes:
        index: 0-based frame number in its source.
        body_ids: the Kinect tracking id of each body in the frame (B,).
        xyz: float32 (B, 25, 3), metres, camera frame.
        line: 1-based line of the frame's body count in its source (0 when not read from text).
    """

    index: int
    body_ids: tuple[int, ...]
    xyz: np.ndarray
    line: int = 0


@dataclasses.dataclass
class BadFrame:
    """A frame :func:`iter_frames` could not read: ``message`` names the source, line and problem."""

    index: int
    line: int
    message: str


class _Lines:
    """Lines of a text source with their 1-based numbers, look-ahead and push-back."""

    def __init__(self, fh: Iterable[str]):
        self._it = iter(fh)
        self.no = 0
        self._pending: list[str] = []          # a stack: the last one is the next line

    def next(self) -> str | None:
        if self._pending:
            self.no += 1
            return self._pending.pop()
        for line in self._it:
            self.no += 1
            return line
        return None

    def peek(self) -> str | None:
        if not self._pending:
            for line in self._it:
                self._pending.append(line)
                break
        return self._pending[-1] if self._pending else None

    def unread(self, line: str) -> None:
        self._pending.append(line)
        self.no -= 1


def _int_line(line: str | None) -> int | None:
    if line is None:
        return None
    parts = line.split()
    if len(parts) != 1:
        return None
    try:
        return int(parts[0])
    except ValueError:
        return None


def _read_frame(lines: _Lines, source: str, index: int) -> Frame:
    """Read one frame; raises ValueError with the line on malformed input."""
    start = lines.no + 1
    head = lines.next()
    n = _int_line(head)
    if n is None or not 0 <= n <= MAX_BODIES:
        raise ValueError(f"{source}, line {start}: expected the body count of frame {index} "
                         f"(an integer 0..{MAX_BODIES}), got {(head or '').strip()[:60]!r}")
    ids, xyz = [], np.zeros((n, NUM_JOINTS, 3), np.float32)
    for b in range(n):
        line = lines.next()
        parts = (line or "").split()
        if len(parts) != BODY_VALUES:
            raise ValueError(f"{source}, line {lines.no}: expected a body line of {BODY_VALUES} values "
                             f"(bodyID and 9 more) for body {b} of frame {index}, got {len(parts)}")
        try:
            ids.append(int(parts[0]))
        except ValueError:
            raise ValueError(f"{source}, line {lines.no}: bodyID {parts[0][:30]!r} of frame {index} is not "
                             "an integer") from None
        line = lines.next()
        if _int_line(line) != NUM_JOINTS:
            raise ValueError(f"{source}, line {lines.no}: expected the joint count {NUM_JOINTS} for body {b} "
                             f"of frame {index}, got {(line or '').strip()[:30]!r}")
        for j in range(NUM_JOINTS):
            line = lines.next()
            parts = (line or "").split()
            if len(parts) != JOINT_VALUES:
                raise ValueError(f"{source}, line {lines.no}: expected {JOINT_VALUES} values for joint {j} of "
                                 f"body {b} in frame {index}, got {len(parts)}")
            try:
                v = (float(parts[0]), float(parts[1]), float(parts[2]))
            except ValueError:
                raise ValueError(f"{source}, line {lines.no}: joint {j} of body {b} in frame {index}: "
                                 f"x y z {' '.join(parts[:3])[:50]!r} are not numbers") from None
            if not all(math.isfinite(c) for c in v):
                raise ValueError(f"{source}, line {lines.no}: joint {j} of body {b} in frame {index} has a "
                                 f"non-finite coordinate {v}")
            xyz[b, j] = v
    return Frame(index, tuple(ids), xyz, start)


def _resync(lines: _Lines) -> bool:
    """Skip lines up to the next that looks like the start of a frame (a lone body count followed
    by a body line, or by another count for an empty frame). False at the end of the input."""
    while True:
        line = lines.next()
        if line is None:
            return False
        n = _int_line(line)
        if n is None or not 0 <= n <= MAX_BODIES or n == NUM_JOINTS:
            continue
        nxt = lines.peek()
        if nxt is None or (n == 0 and _int_line(nxt) is not None) or (n > 0 and len(nxt.split()) == BODY_VALUES):
            lines.unread(line)
            return True


def iter_frames(source: str | os.PathLike | TextIO, name: str | None = None) -> Iterator[Frame | BadFrame]:
    """Frames of a ``.skeleton`` text source, as they are read (a file is not loaded whole).

    The first line is the frame count; frames are read until the input ends (a live feed may
    announce any count, and a count that does not match only gets a :class:`BadFrame` note at the
    end). A malformed frame is yielded as :class:`BadFrame` and skipped: reading resumes at the
    next line that starts a frame.

    Args:
        source: a path, ``"-"`` for standard input, or an open text stream.
        name: how messages name the source (default: the path, or ``<stdin>``).

    Yields:
        :class:`Frame` (``index`` counts the frames read, bad ones included) or :class:`BadFrame`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the first line is not a frame count (the message names the source).
    """
    own = False
    if isinstance(source, (str, os.PathLike)):
        if os.fspath(source) == "-":
            fh, name = sys.stdin, name or "<stdin>"
        else:
            path = Path(source)
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no such file; pass a .skeleton file, a folder of them, or - "
                                        "to read frames from standard input")
            fh, name, own = open(path, "r", newline=None), name or str(path), True
    else:
        fh, name = source, name or getattr(source, "name", "<stream>")
    try:
        lines = _Lines(fh)
        first = lines.next()
        if first is None:
            return
        declared = _int_line(first)
        if declared is None or declared < 0:
            raise ValueError(f"{name}, line 1: expected the frame count (a non-negative integer), got "
                             f"{first.strip()[:60]!r}. {_HINT}")
        index = 0
        while lines.peek() is not None:
            if not lines.peek().strip():
                lines.next()
                continue
            try:
                yield _read_frame(lines, name, index)
            except ValueError as e:
                yield BadFrame(index, lines.no, f"{e}; frame skipped")
                if not _resync(lines):
                    index += 1
                    break
            index += 1
        if declared != index:
            yield BadFrame(index, lines.no, f"{name}: the first line announces {declared} frames, "
                                            f"{index} were read")
    finally:
        if own:
            fh.close()


def frames_of_skeleton(skel: Skeleton) -> list[Frame]:
    """The frames of a parsed sample (``skelutils.ntu.read_skeleton``) as they would arrive."""
    out = []
    for f in range(skel.n_frames):
        slots = np.flatnonzero(skel.present[f])
        out.append(Frame(f, tuple(skel.body_ids[b] for b in slots), np.asarray(skel.xyz[f, slots], np.float32)))
    return out


# ----------------------------------------------------------------------------- preparation

@dataclasses.dataclass(frozen=True)
class Preparation:
    """How training data was prepared (a data set's ``prep`` / a profile's ``data`` section).

    Attributes:
        frames: T, frames handed to the model.
        resample, center, align, actor_method: see ``skelutils.prepare``.
    """

    frames: int = 64
    resample: str = "uniform"
    center: str = "hip0"
    align: bool = False
    actor_method: str = DEFAULT_ACTOR_METHOD

    @classmethod
    def from_dict(cls, d: dict) -> "Preparation":
        """From a data set's ``prep`` or a profile's ``data`` section (other keys ignored)."""
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls) if f.name in d})


def window_skeleton(frames: Sequence[Frame]) -> Skeleton:
    """Frames gathered into a :class:`skelutils.ntu.Skeleton` (xyz and presence only): a body keeps
    one slot by its tracking id, slots in order of first appearance, as the file reader does."""
    slot: dict[int, int] = {}
    for fr in frames:
        for bid in fr.body_ids:
            if bid not in slot:
                slot[bid] = len(slot)
    xyz = np.zeros((len(frames), len(slot), NUM_JOINTS, 3), np.float32)
    present = np.zeros((len(frames), len(slot)), bool)
    for f, fr in enumerate(frames):
        for j, bid in enumerate(fr.body_ids):
            s = slot[bid]
            xyz[f, s] = fr.xyz[j]
            present[f, s] = True
    return Skeleton(xyz=xyz, present=present, body_ids=tuple(slot), tracking=None, depth_xy=None,
                    color_xy=None, orientation=None, body_info=None)


def prepare_window(frames: Sequence[Frame], prep: Preparation) -> np.ndarray | None:
    """The model input of a window: the training preparation applied to these frames only.

    Args:
        frames: the window, oldest first.
        prep: the training data's preparation.

    Returns:
        float32 (2, T, 25, 3), or None when nobody is in the window.
    """
    skel = window_skeleton(frames)
    if skel.n_bodies == 0:
        return None
    seq = actors_from_slots(skel, actor_slots(skel, prep.actor_method))
    if drops_empty_frames(prep.actor_method):
        seq = drop_empty_frames(seq)
    if not np.any(seq):
        return None
    out = prepare_sequence(seq, prep.frames, prep.resample, prep.center, prep.align, rng=0, trim=True)
    return np.ascontiguousarray(out.transpose(1, 0, 2, 3))


# ----------------------------------------------------------------------------- models

def optimise_model(model, precision: str = "fp32", threads: int | None = None):
    """A model ready for streaming inference (eval mode, no gradients), at a precision.

    Args:
        model: a recogniser (``skelutils.models``), left unchanged.
        precision: ``"fp32"`` (default), ``"bf16"`` (weights and activations in bfloat16 through
            autocast), ``"int8"`` (dynamic int8 quantisation of the LSTM, GRU-cell and Linear
            layers; convolutions stay in fp32) or ``"mixed"``: the LSTMs in int8 (at batch 1
            each step reads all of an LSTM's weights, so storing them in eight bits is what
            speeds it up) and everything else in bfloat16 through autocast (the convolutions
            and the relational network's small matrix products gain most from it on processors
            with bfloat16 instructions).
        threads: ``torch.set_num_threads`` (None: unchanged).

    Returns:
        A callable ``(N, 2, T, 25, 3) tensor -> (N, C) logits``.
    """
    import copy

    import torch
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r}: allowed values are {PRECISIONS}")
    if threads is not None:
        torch.set_num_threads(int(threads))
    net = copy.deepcopy(model).cpu().eval()
    if precision in ("int8", "mixed"):
        from torch.ao.quantization import quantize_dynamic
        kinds = {torch.nn.LSTM, torch.nn.GRUCell, torch.nn.Linear} if precision == "int8" else {torch.nn.LSTM}
        with warnings.catch_warnings():
            # torch 2.13 announces that its quantised tensor types will go in a future release
            warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor", category=UserWarning)
            net = quantize_dynamic(net, kinds, dtype=torch.qint8)
    if precision == "mixed":
        _float32_lstms(net)

    def run(x):
        with torch.inference_mode(), _precision_context(precision):
            out = net(x)
        return out.float() if precision in ("bf16", "mixed") else out
    run.module = net
    run.precision = precision
    return run


def _float32_lstms(net) -> None:
    """Replace each (quantised) LSTM in ``net`` by a wrapper that runs it outside autocast on a
    float32 input, so that a bfloat16 activation can feed an int8 LSTM."""
    import torch

    class Float32LSTM(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner
            self.bidirectional, self.num_layers = inner.bidirectional, inner.num_layers
            self.hidden_size = inner.hidden_size

        def forward(self, x, *args):
            with torch.autocast("cpu", enabled=False):
                return self.inner(x.float(), *args)

    for parent in list(net.modules()):
        for name, child in list(parent.named_children()):
            if type(child).__name__ == "LSTM":
                setattr(parent, name, Float32LSTM(child))


def load_run(run: str | os.PathLike, device: str = "cpu"):
    """Model and class names of a trained run (a run folder holding ``best.pt``, or a checkpoint file).

    Raises:
        FileNotFoundError: no checkpoint there (the message says which notebook trains one).
    """
    from .train import load_checkpoint, load_checkpoint_model
    path = Path(run)
    if path.is_dir():
        path = path / "best.pt"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no checkpoint; pass --run a run folder artifacts/<profile>/runs/<run> "
                                "written by notebooks 03-05 (or 09 for the harmless-class models)")
    ck = load_checkpoint(path)
    model = load_checkpoint_model(path, device=device)
    from .ntu import class_set_names
    names = tuple(ck.get("class_names") or class_set_names("harmful7"))
    return model, names, ck


# ----------------------------------------------------------------------------- the recogniser

@dataclasses.dataclass
class StreamConfig:
    """Settings of the online recogniser and its alerts.

    Attributes:
        window: frames in the sliding window (default 96, 3.2 s; training clips last 1.7-5 s).
        stride: evaluate every ``stride``-th frame (1: every frame); frames in between keep the
            last probabilities, so a stride costs up to ``stride - 1`` frames of delay.
        min_frames: frames needed in the window before the first evaluation.
        raise_at, clear_below: alert thresholds on the harmful score (an alert is raised at >=
            ``raise_at`` and cleared below ``clear_below``).
        k_on: consecutive frames at or above ``raise_at`` that raise an alert.
        precision: one of :data:`PRECISIONS` (see :func:`optimise_model`).
        reuse: for a model that sees one frame at a time before its recurrent part (the RRN:
            ``frame_features`` and ``head``), compute each frame's features once, when it
            arrives, and keep them while the frame is in the window (:class:`FrameReuse`). The
            window's features are then resampled to the model's T frames by the same linear
            interpolation as the frames themselves, which approximates the exact input (a
            nonlinear function of interpolated frames); :func:`reuse_agreement` measures how
            far. Other models ignore it.
    """

    window: int = 96
    stride: int = 1
    min_frames: int = 16
    raise_at: float = 0.8
    clear_below: float = 0.5
    k_on: int = 5
    precision: str = "fp32"
    reuse: bool = False

    def __post_init__(self):
        for name in ("window", "stride", "min_frames", "k_on"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"StreamConfig.{name}={v!r}: expected an integer >= 1")
        if self.min_frames > self.window:
            raise ValueError(f"StreamConfig: min_frames={self.min_frames} exceeds window={self.window}")
        if not 0.0 <= self.clear_below <= self.raise_at <= 1.0:
            raise ValueError(f"StreamConfig: thresholds clear_below={self.clear_below}, raise_at={self.raise_at}: "
                             "expected 0 <= clear_below <= raise_at <= 1")
        if self.precision not in PRECISIONS:
            raise ValueError(f"StreamConfig.precision={self.precision!r}: allowed values are {PRECISIONS}")

    @classmethod
    def from_profile(cls, cfg: dict, **over) -> "StreamConfig":
        """From a profile's ``stream`` section (missing keys take the defaults), with overrides."""
        s = dict(cfg.get("stream") or {})
        s.update({k: v for k, v in over.items() if v is not None})
        return cls(**{f.name: s[f.name] for f in dataclasses.fields(cls) if f.name in s})


@dataclasses.dataclass
class Alert:
    """One alert: raised at frame ``start`` (``time_s`` seconds), cleared at ``end`` (None: still on).

    ``class_name`` is the harmful class with the highest mean probability while it was on;
    ``score`` the highest harmful score seen.
    """

    start: int
    time_s: float
    class_index: int
    class_name: str
    score: float
    end: int | None = None


class AlertTracker:
    """Hysteresis on per-frame harmful scores: raise after ``k_on`` frames >= ``on``, clear below ``off``."""

    def __init__(self, class_names: Sequence[str], on: float = 0.8, off: float = 0.5, k_on: int = 5, fps: float = FPS):
        self.class_names = tuple(class_names)
        self.harmless = harmless_label(self.class_names)
        self.on, self.off, self.k_on, self.fps = float(on), float(off), int(k_on), float(fps)
        self.alerts: list[Alert] = []
        self._run = 0
        self._active: Alert | None = None
        self._acc: np.ndarray | None = None

    @property
    def active(self) -> Alert | None:
        return self._active

    def update(self, frame: int, probs: np.ndarray | None) -> Alert | None:
        """Feed one frame's probabilities (None: nobody in view, which clears an alert and never
        raises one); returns a newly raised alert."""
        score = -1.0 if probs is None else harmful_score(probs, self.harmless)
        if self._active is not None:
            if score < self.off:
                self._active.end = frame
                self._active, self._run = None, 0
            else:
                self._acc += harmful_part(probs, self.harmless)
                c = int(np.argmax(self._acc))
                self._active.class_index, self._active.class_name = c, self.class_names[c]
                self._active.score = max(self._active.score, score)
                return None
        if score >= self.on:
            self._run += 1
            if self._run >= self.k_on:
                self._acc = harmful_part(probs, self.harmless).astype(np.float64)
                c = int(np.argmax(self._acc))
                self._active = Alert(frame, frame / self.fps, c, self.class_names[c], float(score))
                self.alerts.append(self._active)
                return self._active
        else:
            self._run = 0
        return None


def harmful_part(probs: np.ndarray, harmless: int | None) -> np.ndarray:
    """The probabilities with the harmless class (if any) set to 0: (C,)."""
    p = np.array(probs, np.float64)
    if harmless is not None:
        p[harmless] = 0.0
    return p


def harmful_score(probs: np.ndarray, harmless: int | None) -> float:
    """Probability mass on the harmful classes: ``1 - P(harmless)``, or 1 for a 7-way model."""
    p = np.asarray(probs, np.float64)
    return float(p.sum() - (p[harmless] if harmless is not None else 0.0))


@dataclasses.dataclass
class Step:
    """What :meth:`OnlineRecogniser.push` returns for one frame."""

    frame: int
    probs: np.ndarray | None
    evaluated: bool
    latency_ms: float | None
    alert: Alert | None


class OnlineRecogniser:
    """Sliding-window recogniser over arriving frames.

    Args:
        model: a trained recogniser (``nn.Module``) or a callable from :func:`optimise_model`.
        class_names: the model's classes in label order (7, or 8 with "harmless interaction").
        prep: the training data's :class:`Preparation`.
        config: :class:`StreamConfig`.
    """

    def __init__(self, model, class_names: Sequence[str], prep: Preparation, config: StreamConfig | None = None):
        self.config = config or StreamConfig()
        self.prep = prep
        self.class_names = tuple(class_names)
        self.run = model if callable(model) and hasattr(model, "precision") else \
            optimise_model(model, self.config.precision)
        self.reuse = FrameReuse(self.run, prep) if self.config.reuse and FrameReuse.supports(self.run, prep) else None
        self.tracker = AlertTracker(self.class_names, self.config.raise_at, self.config.clear_below, self.config.k_on)
        self.buffer: collections.deque[Frame] = collections.deque(maxlen=self.config.window)
        self.latencies_ms: list[float] = []
        self.n_frames = 0
        self._probs: np.ndarray | None = None

    @classmethod
    def from_run(cls, run: str | os.PathLike, prep: Preparation, config: StreamConfig | None = None):
        """From a run folder or checkpoint (see :func:`load_run`)."""
        model, names, _ = load_run(run)
        return cls(model, names, prep, config)

    def probabilities(self, frames: Sequence[Frame]) -> np.ndarray | None:
        """Class probabilities (C,) of one window (None: nobody in it)."""
        import torch
        if self.reuse is not None:
            logits = self.reuse.logits(frames)
        else:
            x = prepare_window(frames, self.prep)
            logits = None if x is None else self.run(torch.from_numpy(x[None]))
        if logits is None:
            return None
        return torch.softmax(logits.float(), dim=1)[0].numpy()

    def push(self, frame: Frame) -> Step:
        """Add one frame; evaluate the window when it is due; update the alerts."""
        self.buffer.append(frame)
        k = self.n_frames
        self.n_frames += 1
        cfg = self.config
        evaluated, lat = False, None
        if len(self.buffer) >= cfg.min_frames and (k - cfg.min_frames + 1) % cfg.stride == 0:
            t0 = time.perf_counter()
            self._probs = self.probabilities(list(self.buffer))
            lat = 1000.0 * (time.perf_counter() - t0)
            self.latencies_ms.append(lat)
            evaluated = True
        elif len(self.buffer) < cfg.min_frames:
            self._probs = None
        alert = self.tracker.update(k, self._probs)
        return Step(k, self._probs, evaluated, lat, alert)

    def close(self) -> None:
        """End of the stream: an alert still on ends at the last frame."""
        if self.tracker.active is not None:
            self.tracker.active.end = self.n_frames - 1


class FrameReuse:
    """Per-frame features kept between overlapping windows (``StreamConfig.reuse``).

    For a window it assigns the actors and drops empty frames as :func:`prepare_window` does,
    computes ``frame_features`` only for the frames it has not seen (keyed by the frame and the
    tracking ids of the two actors in it, so a changed actor assignment recomputes it), forgets
    the frames that left the window, resamples the features of the window's frames to the
    model's T frames by linear interpolation (endpoints kept, as ``resample="uniform"`` does with
    the frames) and runs ``head``. No centring is needed: the RRN centres every frame on its own
    (``skelutils.models.hip_centre``), so a window's translation does not change it.
    """

    def __init__(self, run, prep: Preparation):
        self.run, self.prep = run, prep
        self.net = run.module
        self.cache: dict[tuple, np.ndarray] = {}

    @staticmethod
    def supports(run, prep: Preparation) -> bool:
        net = getattr(run, "module", None)
        return (hasattr(net, "frame_features") and hasattr(net, "head") and prep.resample == "uniform"
                and not prep.align)

    def logits(self, frames: Sequence[Frame]):
        import torch
        skel = window_skeleton(frames)
        if skel.n_bodies == 0:
            return None
        slots = actor_slots(skel, self.prep.actor_method)
        seq = actors_from_slots(skel, slots)                              # (F, 2, 25, 3)
        present = np.abs(seq).sum(axis=(2, 3)) > 0                          # (F, 2)
        anyone = present.any(axis=1)
        if not anyone.any():
            return None
        if drops_empty_frames(self.prep.actor_method):
            keep = np.flatnonzero(anyone)
        else:
            first, last = np.flatnonzero(anyone)[[0, -1]]
            keep = np.arange(first, last + 1)
        ids = []
        for f in keep:
            who = []
            for a in range(2):
                b = next((b for b in slots[a] if skel.present[f, b]), None) if a < len(slots) else None
                who.append(None if b is None else skel.body_ids[b])
            ids.append((id(frames[f]), *who))
        todo = [i for i, k in enumerate(ids) if k not in self.cache]
        with torch.inference_mode(), _precision_context(self.run.precision):
            if todo:
                x = torch.from_numpy(np.ascontiguousarray(seq[keep[todo]].transpose(1, 0, 2, 3))[None])
                feats = self.net.frame_features(x, check=False)[0].float().numpy()   # (len(todo), fc)
                for i, z in zip(todo, feats):
                    self.cache[ids[i]] = z
            live = set(ids)
            self.cache = {k: v for k, v in self.cache.items() if k in live}
            z = np.stack([self.cache[k] for k in ids])                       # (n, fc)
            n, t = len(z), self.prep.frames
            if n == 1:
                zt = np.repeat(z, t, axis=0)
            else:
                lo, hi, w = interpolation_weights(n, t)
                zt = (1 - w[:, None]) * z[lo] + w[:, None] * z[hi]
            return self.net.head(torch.from_numpy(zt[None].astype(np.float32)))


def _precision_context(precision: str):
    """The autocast context :func:`optimise_model`'s callables run in."""
    import contextlib

    import torch
    if precision in ("bf16", "mixed"):
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def reuse_agreement(model, class_names: Sequence[str], prep: Preparation, frames: Sequence[Frame],
                    config: StreamConfig) -> dict[str, Any]:
    """How far :class:`FrameReuse` strays from the exact windows over a recorded stream: the share
    of evaluated windows whose most likely class is the same, and the largest change of a class
    probability (both with ``config.precision``)."""
    exact = OnlineRecogniser(model, class_names, prep, dataclasses.replace(config, reuse=False))
    fast = OnlineRecogniser(model, class_names, prep, dataclasses.replace(config, reuse=True))
    same, dp, n = 0, 0.0, 0
    for fr in frames:
        a, b = exact.push(fr), fast.push(fr)
        if a.evaluated and a.probs is not None and b.probs is not None:
            n += 1
            same += int(np.argmax(a.probs) == np.argmax(b.probs))
            dp = max(dp, float(np.abs(a.probs - b.probs).max()))
    return {"n": n, "same_decision": same / n if n else None, "max_abs_dp": dp if n else None,
            "reused": fast.reuse is not None}


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float | int | None]:
    """``{"n", "p50_ms", "p95_ms", "mean_ms", "max_ms"}`` of per-window latencies."""
    a = np.asarray(latencies_ms, float)
    if a.size == 0:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "mean_ms": None, "max_ms": None}
    return {"n": int(a.size), "p50_ms": float(np.percentile(a, 50)), "p95_ms": float(np.percentile(a, 95)),
            "mean_ms": float(a.mean()), "max_ms": float(a.max())}


# ----------------------------------------------------------------------------- offline replay, batched

@dataclasses.dataclass
class StreamWindows:
    """The prepared windows of a recorded stream, computed once and run through any model of
    the same preparation (:func:`stream_windows`, :func:`stream_probabilities`).

    Attributes:
        n_frames: F, frames in the stream.
        evaluated: bool (F,), the online recogniser evaluates its window after this frame.
        due: int (W,), the evaluated frames whose window holds somebody.
        x: float32 (W, 2, T, 25, 3), their prepared windows.
    """

    n_frames: int
    evaluated: np.ndarray
    due: np.ndarray
    x: np.ndarray


def stream_windows(frames: Sequence[Frame], prep: Preparation, config: StreamConfig) -> StreamWindows:
    """The windows :class:`OnlineRecogniser` evaluates over a recorded stream, prepared."""
    n = len(frames)
    evaluated = np.zeros(n, bool)
    due, xs = [], []
    for k in range(n):
        lo = max(0, k + 1 - config.window)
        if k + 1 - lo >= config.min_frames and (k - config.min_frames + 1) % config.stride == 0:
            evaluated[k] = True
            x = prepare_window(frames[lo:k + 1], prep)
            if x is not None:
                due.append(k)
                xs.append(x)
    x = np.stack(xs) if xs else np.zeros((0, 2, prep.frames, NUM_JOINTS, 3), np.float32)
    return StreamWindows(n, evaluated, np.asarray(due, np.int64), x)


def stream_probabilities(frames: Sequence[Frame] | StreamWindows, model, class_names: Sequence[str],
                         prep: Preparation, config: StreamConfig, batch_size: int = 64) -> np.ndarray:
    """Per-frame probabilities of a whole recorded stream, as :class:`OnlineRecogniser` gives them,
    with the windows batched through the model (much faster than frame by frame).

    Args:
        frames: the stream's frames, or its windows from :func:`stream_windows` (prepared once
            for several models).
        model, class_names, prep, config: as for :class:`OnlineRecogniser`.

    Returns:
        float32 (F, C): row f is the probabilities the online recogniser holds after frame f
        (NaN where it holds none: before ``min_frames`` frames or with nobody in the window).
    """
    win = frames if isinstance(frames, StreamWindows) else stream_windows(frames, prep, config)
    n, c = win.n_frames, len(class_names)
    out = np.full((n, c), np.nan, np.float32)
    if len(win.due):
        out[win.due] = clip_probabilities(model, win.x, config.precision, batch_size)
    evaluated = win.evaluated
    last = np.full(c, np.nan, np.float32)
    for k in range(n):           # frames between evaluations keep the last probabilities
        if evaluated[k]:
            last = out[k]
        elif k + 1 < config.min_frames:
            last = np.full(c, np.nan, np.float32)
        out[k] = last
    return out


def alerts_from_probabilities(probs: np.ndarray, class_names: Sequence[str], config: StreamConfig,
                              fps: float = FPS) -> list[Alert]:
    """The alerts :class:`AlertTracker` raises over per-frame probabilities (F, C) (NaN rows: nobody)."""
    tr = AlertTracker(class_names, config.raise_at, config.clear_below, config.k_on, fps)
    for k, p in enumerate(probs):
        tr.update(k, None if np.isnan(p).any() else p)
    if tr.active is not None:
        tr.active.end = len(probs) - 1
    return tr.alerts


def harmful_scores(probs: np.ndarray, class_names: Sequence[str]) -> np.ndarray:
    """Per-frame harmful score (F,) of per-frame probabilities (NaN rows: 0)."""
    h = harmless_label(class_names)
    s = probs.sum(axis=1) - (probs[:, h] if h is not None else 0.0)
    return np.where(np.isnan(s), 0.0, s)


# ----------------------------------------------------------------------------- measures

#: Seconds after a harmful action's end in which an alert still detects it (:func:`detection_measures`).
DETECTION_GRACE_S = 2.0


def detection_measures(alerts: Sequence[Alert], events: Sequence[dict], n_frames: int, fps: float = FPS,
                       grace_s: float = DETECTION_GRACE_S) -> dict[str, Any]:
    """Detection delay, misses and false alarms of a stream's alerts against its ground truth.

    A harmful event (``start``..``end`` frames) is detected by the first alert raised between
    its start and ``grace_s`` seconds after its end; the delay is that alert's frame minus the
    event's start. Every other alert is a false alarm (raised during a harmless action, while
    people stand idle, or a second alert during the same harmful action).

    Args:
        alerts: the alerts (their ``start`` frames).
        events: ground truth from ``skelutils.simulate.simulate_stream`` (``start``, ``end``, ``harmful``).
        n_frames: length of the stream, frames.
        fps: frame rate.
        grace_s: seconds after an event's end in which its alert still counts.

    Returns:
        dict with ``n_harmful``, ``n_detected``, ``n_missed``, ``recall``, ``delays_s`` (one per
        detected event), ``delay_median_s``, ``delay_p90_s``, ``n_false_alarms``,
        ``false_alarms_per_hour``, ``hours``, ``false_alarms_in_harmless`` (alerts raised during a
        harmless action) and ``harmless_flagged_share`` (harmless actions with at least one alert).
    """
    grace = int(round(grace_s * fps))
    used = set()
    delays = []
    for ev in events:
        if not ev["harmful"]:
            continue
        for i, a in enumerate(alerts):
            if i not in used and ev["start"] <= a.start <= ev["end"] + grace:
                used.add(i)
                delays.append((a.start - ev["start"]) / fps)
                break
    false = [a for i, a in enumerate(alerts) if i not in used]
    harmless = [ev for ev in events if not ev["harmful"]]
    in_harmless = sum(any(ev["start"] <= a.start <= ev["end"] + grace for ev in harmless) for a in false)
    flagged = sum(any(ev["start"] <= a.start <= ev["end"] + grace or (a.start < ev["start"] and
                                                                      (a.end is None or a.end > ev["start"]))
                      for a in alerts) for ev in harmless)
    n_h = sum(1 for ev in events if ev["harmful"])
    hours = n_frames / fps / 3600.0
    return {"n_harmful": n_h, "n_detected": len(delays), "n_missed": n_h - len(delays),
            "recall": len(delays) / n_h if n_h else None, "delays_s": delays,
            "delay_median_s": float(np.median(delays)) if delays else None,
            "delay_p90_s": float(np.percentile(delays, 90)) if delays else None,
            "n_false_alarms": len(false), "hours": hours,
            "false_alarms_per_hour": len(false) / hours if hours else None,
            "false_alarms_in_harmless": int(in_harmless), "n_harmless": len(harmless),
            "harmless_flagged_share": flagged / len(harmless) if harmless else None}


def clip_probabilities(model, xs: np.ndarray, precision: str = "fp32", batch_size: int = 64) -> np.ndarray:
    """Softmax probabilities (N, C) of prepared clips (N, 2, T, 25, 3)."""
    import torch
    run = model if hasattr(model, "precision") else optimise_model(model, precision)
    out = []
    for s in range(0, len(xs), batch_size):
        out.append(torch.softmax(run(torch.from_numpy(np.ascontiguousarray(xs[s:s + batch_size]))).float(),
                                 dim=1).numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


#: Harmful score at or above which :func:`harmless_measures` flags a clip (an 8-way model's argmax).
CLIP_THRESHOLD = 0.5


def harmless_measures(probs: np.ndarray, is_harmless: np.ndarray, y_harmful: np.ndarray,
                      class_names: Sequence[str], thresholds: Sequence[float] | None = None) -> dict[str, Any]:
    """Clip-level false alarms and recall of one model.

    Args:
        probs: (N, C) clip probabilities.
        is_harmless: bool (N,), the clip is a harmless interaction.
        y_harmful: int (N,), the harmful label 0..6 of harmful clips (ignored for harmless ones).
        class_names: the model's classes.
        thresholds: alert thresholds on the harmful score for the trade-off curve (default 0..1
            in steps of 0.05).

    Returns:
        dict: ``harmless_flagged`` (share of harmless clips whose harmful score is at least 0.5,
        the decision of an argmax for an 8-way model), ``harmful_recall`` (share of harmful clips
        flagged and given their right class), ``harmful_detected`` (flagged at all), and ``curve``:
        per threshold ``{threshold, harmless_flagged, harmful_detected, harmful_recall}``.
    """
    thresholds = list(np.round(np.arange(0.0, 1.0001, 0.05), 2)) if thresholds is None else list(thresholds)
    h = harmless_label(class_names)
    score = probs.sum(axis=1) - (probs[:, h] if h is not None else 0.0)
    hp = probs.copy()
    if h is not None:
        hp[:, h] = -1.0
    cls = hp.argmax(axis=1)
    harm = ~np.asarray(is_harmless, bool)
    right = cls == np.asarray(y_harmful)

    def at(t):
        flag = score >= t - 1e-9
        return {"threshold": float(t),
                "harmless_flagged": float(flag[~harm].mean()) if (~harm).any() else None,
                "harmful_detected": float(flag[harm].mean()) if harm.any() else None,
                "harmful_recall": float((flag & right)[harm].mean()) if harm.any() else None}
    mid = at(CLIP_THRESHOLD)
    return {"harmless_flagged": mid["harmless_flagged"], "harmful_detected": mid["harmful_detected"],
            "harmful_recall": mid["harmful_recall"], "n_harmless": int((~harm).sum()), "n_harmful": int(harm.sum()),
            "curve": [at(t) for t in thresholds]}


#: Observed shares of an action at which :func:`early_detection` decides (10% to 100%).
EARLY_SHARES: tuple[float, ...] = tuple(float(v) for v in np.round(np.arange(0.1, 1.01, 0.1), 1))


def early_windows(clips: Sequence[Sequence[Frame]], prep: Preparation,
                  shares: Sequence[float] = EARLY_SHARES) -> np.ndarray:
    """The first share of each clip, prepared as the stream prepares a window.

    Clip i at share s is its first ``ceil(s * F_i)`` frames through :func:`prepare_window`
    (all zeros when nobody is in them).

    Returns:
        float32 (S, N, 2, T, 25, 3).
    """
    out = np.zeros((len(shares), len(clips), 2, prep.frames, NUM_JOINTS, 3), np.float32)
    for j, share in enumerate(shares):
        for i, fr in enumerate(clips):
            x = prepare_window(fr[:max(1, int(math.ceil(share * len(fr))))], prep)
            if x is not None:
                out[j, i] = x
    return out


def early_detection(model, class_names: Sequence[str], clips: Sequence[Sequence[Frame]] | None,
                    labels: Sequence[int], prep: Preparation | None = None,
                    shares: Sequence[float] = EARLY_SHARES, precision: str = "fp32",
                    windows: np.ndarray | None = None) -> dict[str, Any]:
    """Accuracy of the decision after seeing only the first share of each clip.

    Each clip's first ``ceil(share * F)`` frames are prepared as the stream prepares a window
    (:func:`early_windows`) and classified; accuracy is the share of clips whose argmax is
    their label.

    Args:
        model: a recogniser or a callable of :func:`optimise_model`.
        class_names: its classes.
        clips: the clips' frames (ignored when ``windows`` is given).
        labels: (N,) the clips' labels in ``class_names``.
        prep: the training preparation (needed without ``windows``).
        shares: observed shares, 0 to 1.
        precision: see :func:`optimise_model`.
        windows: (S, N, 2, T, 25, 3) from :func:`early_windows` with the same ``shares``
            (prepared once for several models).

    Returns:
        ``{"shares": [...], "accuracy": [...], "n": N}``.
    """
    if windows is None:
        windows = early_windows(clips, prep, shares)
    s, n = windows.shape[:2]
    if s != len(shares):
        raise ValueError(f"windows hold {s} shares, shares lists {len(shares)}; pass the shares used to prepare them")
    probs = clip_probabilities(model, windows.reshape(s * n, *windows.shape[2:]), precision)
    pred = probs.argmax(axis=1).reshape(s, n)
    y = np.asarray(labels)
    return {"shares": [float(v) for v in shares], "accuracy": [float((p == y).mean()) for p in pred], "n": int(n)}


# ----------------------------------------------------------------------------- replay (the watch command)

def watch_sources(path: str) -> list[str]:
    """What ``watch PATH`` replays: ``["-"]``, one file, or the ``.skeleton`` files of a folder, sorted.

    Raises:
        FileNotFoundError: the path does not exist, or a folder holds no ``.skeleton`` file.
    """
    if path == "-":
        return ["-"]
    p = Path(path)
    if p.is_dir():
        files = sorted(str(f) for f in p.rglob("*.skeleton"))
        if not files:
            raise FileNotFoundError(f"{p}: the folder holds no .skeleton file; pass a .skeleton file, a folder "
                                    "of them, or - for standard input")
        return files
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file or folder; pass a .skeleton file, a folder of them, or - "
                                "for standard input")
    return [str(p)]


def replay(sources: Sequence[str], recogniser_factory: Callable[[], OnlineRecogniser], *, fast: bool = False,
           fps: float = FPS, out: TextIO | None = None, err: TextIO | None = None) -> dict[str, Any]:
    """Replay sources through a fresh recogniser each, printing alerts as they are raised.

    Args:
        sources: from :func:`watch_sources`.
        recogniser_factory: makes the :class:`OnlineRecogniser` of one source.
        fast: as fast as possible (default: paced at ``fps`` frames per second).
        out, err: where alerts / problems are printed (default stdout / stderr).

    Returns:
        ``{"sources": [{"source", "frames", "bad_frames", "alerts": [...]}], "latency": {...},
        "frames", "bad_frames", "seconds"}``.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    t_start = time.perf_counter()
    latencies: list[float] = []
    rows = []
    total = bad_total = 0
    for src in sources:
        rec = recogniser_factory()
        bad = 0
        t0 = time.perf_counter()
        try:
            frames = iter_frames(src)
            for item in frames:
                if isinstance(item, BadFrame):
                    bad += 1
                    print(f"warning: {item.message}", file=err)
                    continue
                if not fast:
                    wait = t0 + rec.n_frames / fps - time.perf_counter()
                    if wait > 0:
                        time.sleep(wait)
                step = rec.push(item)
                if step.alert is not None:
                    a = step.alert
                    print(f"{Path(src).name if src != '-' else '<stdin>'} t={a.time_s:8.2f}s frame {a.start:6d}  "
                          f"ALERT {a.class_name:<16} score {a.score:.2f}", file=out, flush=True)
        except (ValueError, FileNotFoundError) as e:
            print(f"error: {e}", file=err)
            bad += 1
        rec.close()
        latencies += rec.latencies_ms
        total += rec.n_frames
        bad_total += bad
        rows.append({"source": src, "frames": rec.n_frames, "bad_frames": bad,
                     "alerts": [dataclasses.asdict(a) for a in rec.tracker.alerts]})
    return {"sources": rows, "latency": latency_summary(latencies), "frames": total, "bad_frames": bad_total,
            "seconds": time.perf_counter() - t_start}


# ----------------------------------------------------------------------------- notebook 09 (toward real time)

#: Class set of the recognisers notebook 09 trains, and its results folder under ``artifacts/<profile>/``
#: (kept apart from ``results/``, which notebooks 06 and 08 read).
REALTIME_CLASS_SET = "harmful7+harmless"
REALTIME_DIR = "realtime"


def realtime_raw_folder(cfg: dict) -> Path:
    """The raw folder of the profile's ``harmful7+harmless`` data set.

    ``data.source: ntu``: the download itself (``data.ntu_dir``), which holds the harmless
    mutual actions. ``simulated``: ``artifacts/<profile>/realtime/raw``, holding a link
    ``harmful`` to the seven harmful classes of notebook 01 (``config.raw_folder``) and a folder
    ``harmless`` written by the simulator for every action of ``skelutils.ntu.HARMLESS_ACTION_IDS``,
    for the same (setup, performer) sessions, replications and cameras, with the same seed; a
    ``simulated.json`` marker there says what wrote it, so a changed seed, size or simulator
    writes it anew.
    """
    import hashlib
    import json

    from . import config, simulate
    from .ntu import HARMLESS_ACTION_IDS
    harmful = config.raw_folder(cfg)
    if cfg["data"].get("source", "simulated") == "ntu":
        return harmful
    d = config.artifacts_dir(cfg, REALTIME_DIR, "raw")
    link = d / "harmful"
    if link.is_symlink() and link.resolve() != harmful.resolve():
        link.unlink()                                  # the artifacts folder moved: link anew
    if not link.is_symlink():
        if link.exists():
            raise FileExistsError(f"{link} exists but is not a link to {harmful}; delete it and re-run")
        link.symlink_to(harmful.resolve(), target_is_directory=True)
    size = cfg["data"].get("simulator_size", "smoke")
    code = hashlib.sha256(Path(simulate.__file__).read_bytes()).hexdigest()[:16]
    want = {"size": size, "seed": int(cfg.get("seed", 0)), "simulator": code, "actions": list(HARMLESS_ACTION_IDS)}
    marker = d / "simulated.json"
    out = d / "harmless"
    if not (marker.is_file() and json.loads(marker.read_text()) == want):
        out.mkdir(exist_ok=True)
        for old in out.glob("*.skeleton"):
            old.unlink()
        simulate.simulate_dataset(out, seed=want["seed"], sessions=simulate.preset_sessions(size),
                                  actions=HARMLESS_ACTION_IDS, workers=int(cfg["data"].get("workers", 1)),
                                  progress=False)
        config.write_json(marker, want)
    return d


def realtime_dataset_path(cfg: dict) -> Path:
    """``artifacts/<profile>/realtime/dataset_harmless.npz``."""
    from . import config
    return config.artifacts_dir(cfg, REALTIME_DIR) / "dataset_harmless.npz"


def realtime_dataset(cfg: dict, *, progress: bool = False):
    """Build the profile's ``harmful7+harmless`` data set (:func:`realtime_raw_folder`, prepared as
    the profile's ``data`` section says) and save it to :func:`realtime_dataset_path`.

    Returns:
        ``skelutils.dataset.Dataset`` with eight classes (label 7: "harmless interaction").
    """
    from . import config
    from .dataset import build_dataset
    d = cfg["data"]
    raw = realtime_raw_folder(cfg)
    ds = build_dataset(raw, config.artifacts_dir(cfg, REALTIME_DIR, "cache"), source=d.get("source", "simulated"),
                       frames=d["frames"], resample=d["resample"], center=d["center"], align=d["align"],
                       actor_method=d["actor_method"], workers=d["workers"], progress=progress,
                       class_set=REALTIME_CLASS_SET)
    ds.save(realtime_dataset_path(cfg))
    return ds


def balanced_harmless(ds, ratio: float = 1.0, seed: int = 0):
    """``ds`` with its harmless samples thinned to ``ratio`` times the mean size of a harmful class.

    The harmless class gathers many actions (NTU RGB+D has one class's worth of samples for each),
    so it outnumbers the harmful ones together; trained on all of it for a few epochs, a
    recogniser learns to answer "harmless" always. The samples kept are drawn (seed ``seed``)
    within each (performer, camera) group in proportion to its size, so every split keeps its
    share of harmless training and test samples. The harmful samples are all kept.

    Args:
        ds: a ``harmful7+harmless`` ``skelutils.dataset.Dataset``.
        ratio: harmless samples per harmful class size (> 0; ``None`` or a ratio above what
            there is keeps every sample).
        seed: the draw's seed.

    Returns:
        ``ds.subset(...)`` (its fingerprint derives from ``ds``'s and the samples kept).
    """
    h = harmless_label(ds.class_names)
    if h is None:
        raise ValueError(f"balanced_harmless: the data set's classes {ds.class_names} hold no harmless class")
    y = np.asarray(ds.y)
    harmless = np.flatnonzero(y == h)
    target = None if ratio is None else float(ratio) * float(np.mean([(y == c).sum() for c in range(h)]))
    if target is not None and target <= 0:
        raise ValueError(f"balanced_harmless: ratio={ratio!r}; expected a number > 0")
    if target is None or target >= len(harmless):
        return ds
    rng = np.random.default_rng(seed)
    share = target / len(harmless)
    keep = [np.flatnonzero(y != h)]
    groups = np.stack([ds.meta["performer"][harmless], ds.meta["camera"][harmless]], axis=1)
    for g in np.unique(groups, axis=0):
        members = harmless[(groups == g).all(axis=1)]
        keep.append(rng.choice(members, size=max(1, int(round(share * len(members)))), replace=False))
    return ds.subset(np.sort(np.concatenate(keep)))


def train_realtime(cfg: dict, ds, model: str, split: str, *, epochs: int | None = None,
                   progress: bool = False) -> dict[str, Any]:
    """Train one ``harmful7+harmless`` recogniser (real data only, the profile's first seed,
    ``realtime.epochs`` epochs) with ``skelutils.experiments.train_recogniser`` on ``ds`` (e.g.
    :func:`balanced_harmless` of the data set): checkpoints in
    ``artifacts/<profile>/runs/realtime/<model>_<split>/``, results in
    ``artifacts/<profile>/realtime/<model>_<split>.json`` (outside ``results/``)."""
    from . import experiments
    epochs = int(epochs if epochs is not None else (cfg.get("realtime") or {}).get("epochs", cfg["train"]["epochs"]))
    return experiments.train_recogniser(cfg, model, split, ds, protocol="real-only", fraction=0.0, epochs=epochs,
                                        results_dir=REALTIME_DIR, progress=progress,
                                        meta={"class_set": REALTIME_CLASS_SET})


def realtime_run_dir(cfg: dict, model: str, split: str, class_set: str) -> Path:
    """Checkpoint folder of a recogniser: the 7-way run of notebooks 03-05 (real-only, first seed)
    for ``harmful7``, the run of :func:`train_realtime` for ``harmful7+harmless``."""
    from . import experiments
    name = experiments.run_name(model, split)
    if class_set == REALTIME_CLASS_SET:
        return experiments.run_dir(cfg, name, REALTIME_DIR)
    return experiments.run_dir(cfg, name)


def load_recognisers(cfg: dict, models: Sequence[str], splits: Sequence[str],
                     class_sets: Sequence[str] = ("harmful7", REALTIME_CLASS_SET)) -> dict[tuple, dict]:
    """``{(model, split, class_set): {"model", "class_names", "run_dir", "dataset_fingerprint"}}``
    of :func:`realtime_run_dir`, in eval mode on the CPU.

    Raises:
        FileNotFoundError: a checkpoint is missing (the message names the notebook that writes it).
    """
    out = {}
    for m in models:
        for s in splits:
            for cs in class_sets:
                d = realtime_run_dir(cfg, m, s, cs)
                if not (d / "best.pt").is_file():
                    nb = "notebook 09 (train_realtime)" if cs == REALTIME_CLASS_SET else \
                        f"the training notebook of {m} (03-05)"
                    raise FileNotFoundError(f"{d / 'best.pt'}: no checkpoint of {m} on {s} ({cs}); run {nb} "
                                            f"with PROFILE={cfg['name']} first")
                model, names, ck = load_run(d)
                out[(m, s, cs)] = {"model": model.eval(), "class_names": names, "run_dir": d,
                                   "dataset_fingerprint": ck.get("dataset_fingerprint")}
    return out


def harmless_rows(cfg: dict, ds, recognisers: Mapping[tuple, dict],
                  thresholds: Sequence[float] | None = None) -> list[dict]:
    """:func:`harmless_measures` of every recogniser on the test clips of its split of ``ds``
    (the ``harmful7+harmless`` data set): one row per model, split and class set, with the
    trade-off ``curve`` over alert thresholds."""
    from . import experiments
    rows = []
    harmless = np.asarray(ds.y) == harmless_label(ds.class_names)
    for (m, s, cs), r in recognisers.items():
        test = experiments.split_indices(ds, s, cfg)["test"]
        probs = clip_probabilities(r["model"], ds.x[test])
        mes = harmless_measures(probs, harmless[test], ds.y[test], r["class_names"], thresholds)
        rows.append({"model": m, "split": s, "class_set": cs, "n_classes": len(r["class_names"]),
                     "data_source": ds.source, **mes})
    return rows


def clip_frames(raw_dir: str | os.PathLike, names: Sequence[str]) -> list[list[Frame]]:
    """The frames of the named samples (file stems) under ``raw_dir``, as a stream delivers them
    (malformed frames skipped)."""
    from .dataset import list_skeleton_files
    where = {Path(rel).name[:-len(".skeleton")]: rel for rel, _, _ in list_skeleton_files(raw_dir)}
    missing = [n for n in names if n not in where]
    if missing:
        raise FileNotFoundError(f"{raw_dir}: no .skeleton file for {len(missing)} samples (first {missing[0]}); "
                                "rebuild the data set from this folder")
    return [[f for f in iter_frames(Path(raw_dir) / where[n]) if isinstance(f, Frame)] for n in names]


def early_rows(ds, raw_dir, recognisers: Mapping[tuple, dict], indices: np.ndarray,
               shares: Sequence[float] = EARLY_SHARES) -> list[dict]:
    """:func:`early_detection` of every recogniser on the clips ``indices`` of ``ds``: the
    8-way ones on all of them (labels 0..7), the 7-way ones on the harmful clips among them
    (labels 0..6). The windows are prepared once.

    Returns:
        One row per recogniser: ``model, split, class_set, shares, accuracy, n``.
    """
    indices = np.asarray(indices)
    prep = Preparation.from_dict(ds.prep)
    win = early_windows(clip_frames(raw_dir, [ds.names[i] for i in indices]), prep, shares)
    y = np.asarray(ds.y)[indices]
    rows = []
    for (m, s, cs), r in recognisers.items():
        h = harmless_label(r["class_names"])
        keep = np.ones(len(y), bool) if h is not None else y != harmless_label(ds.class_names)
        res = early_detection(r["model"], r["class_names"], None, y[keep], shares=shares, windows=win[:, keep])
        rows.append({"model": m, "split": s, "class_set": cs, **res})
    return rows


def simulated_stream(cfg: dict, duration_s: float | None = None, seed: int | None = None) -> tuple[list[Frame], dict]:
    """The profile's surveillance stream: ``artifacts/<profile>/realtime/stream.skeleton``, written by
    ``skelutils.simulate.simulate_stream`` (``realtime.stream_s`` seconds, seed ``seed``, camera 1,
    unseen performers) unless its ground truth there already has that seed, length and simulator
    (a hash of ``simulate.py``).

    Returns:
        (frames, ground truth) (see ``simulate_stream``).
    """
    import hashlib
    import json

    from . import config, simulate
    code = hashlib.sha256(Path(simulate.__file__).read_bytes()).hexdigest()[:16]
    duration_s = float(duration_s if duration_s is not None else (cfg.get("realtime") or {}).get("stream_s", 120))
    seed = int(seed if seed is not None else cfg.get("seed", 0))
    path = config.artifacts_dir(cfg, REALTIME_DIR) / "stream.skeleton"
    side = path.with_suffix(".json")
    truth = json.loads(side.read_text()) if side.is_file() and path.is_file() else None
    if truth is None or (truth.get("seed"), truth.get("requested_s"), truth.get("simulator")) != (seed, duration_s, code):
        truth = simulate.simulate_stream(path, seed=seed, duration_s=duration_s)
        truth.update(requested_s=duration_s, simulator=code)
        config.write_json(side, truth)
    frames = [f for f in iter_frames(path) if isinstance(f, Frame)]
    return frames, truth


def alert_coverage(alerts: Sequence[Alert], events: Sequence[dict], n_frames: int) -> dict[str, Any]:
    """How much of a stream its alerts cover, next to :func:`detection_measures` (which credits only
    alerts *raised* during an action: an alert raised earlier and never cleared detects nothing).

    Returns:
        ``alert_time_share`` (frames under an alert / all frames), ``harmful_covered_share`` and
        ``harmless_covered_share`` (actions during which an alert is on at some frame).
    """
    on = np.zeros(n_frames, bool)
    for a in alerts:
        on[a.start:(a.end if a.end is not None else n_frames - 1) + 1] = True

    def share(harmful):
        evs = [ev for ev in events if bool(ev["harmful"]) == harmful]
        return float(np.mean([on[ev["start"]:ev["end"] + 1].any() for ev in evs])) if evs else None
    return {"alert_time_share": float(on.mean()) if n_frames else None, "harmful_covered_share": share(True),
            "harmless_covered_share": share(False)}


def stream_rows(frames: Sequence[Frame], truth: dict, recognisers: Mapping[tuple, dict], prep: Preparation,
                config: StreamConfig) -> tuple[list[dict], dict[tuple, dict]]:
    """Alerts and :func:`detection_measures` of every recogniser over one recorded stream.

    Returns:
        (rows, traces): one row per recogniser (``model, split, class_set`` and the measures),
        and per recogniser ``{"score": (F,) harmful score, "alerts": [Alert]}`` for the timeline.
    """
    win = stream_windows(frames, prep, config)
    rows, traces = [], {}
    for key, r in recognisers.items():
        probs = stream_probabilities(win, r["model"], r["class_names"], prep, config)
        alerts = alerts_from_probabilities(probs, r["class_names"], config, fps=truth.get("fps", FPS))
        mes = detection_measures(alerts, truth["events"], len(frames), fps=truth.get("fps", FPS))
        rows.append({"model": key[0], "split": key[1], "class_set": key[2], **mes,
                     **alert_coverage(alerts, truth["events"], len(frames))})
        traces[key] = {"score": harmful_scores(probs, r["class_names"]), "alerts": alerts}
    return rows, traces


def measure_latency(model, class_names: Sequence[str], prep: Preparation, frames: Sequence[Frame],
                    config: StreamConfig, n_windows: int = 20, warmup: int = 3) -> dict[str, Any]:
    """Per-window latency of :class:`OnlineRecogniser` (preparation + forward pass, batch 1) over
    ``n_windows`` consecutive windows of ``frames`` after ``warmup`` untimed ones, evaluating every
    frame once the window is full; see :func:`latency_summary`."""
    cfg = dataclasses.replace(config, stride=1, min_frames=config.window)
    rec = OnlineRecogniser(model, class_names, prep, cfg)
    need = cfg.window + warmup + n_windows
    if len(frames) < need:
        raise ValueError(f"measure_latency: {len(frames)} frames, need {need} (window {cfg.window} + "
                         f"{warmup} warm-up + {n_windows} timed windows)")
    for f in frames[:cfg.window - 1 + warmup]:
        rec.push(f)
    rec.latencies_ms.clear()
    for f in frames[cfg.window - 1 + warmup:need - 1]:
        rec.push(f)
    return latency_summary(rec.latencies_ms)


def streams_per_machine(mean_ms: float, stride: int, cores: int, threads: int = 1) -> int:
    """How many 30 fps streams a machine of ``cores`` cores watches at once: each stream needs
    one window every ``stride`` frames (``stride`` x 33.3 ms) and runs on ``threads`` cores, so
    ``floor(stride * 33.3 / mean_ms)`` streams share each group of ``threads`` cores."""
    if not mean_ms or mean_ms <= 0:
        return 0
    return int((stride * FRAME_BUDGET_MS) // mean_ms) * max(1, int(cores) // max(1, int(threads)))


def latency_rows(sizes: Mapping[str, tuple[dict, Preparation]], models: Sequence[str], frames: Sequence[Frame],
                 config: StreamConfig, *, n_classes: int = 8, n_windows: int = 20, threads: int = 1,
                 cores: int | None = None, seed: int = 0,
                 variants: Sequence[tuple[str, bool]] | None = None) -> list[dict]:
    """Per-window latency of each model at each size and precision, with random weights (speed
    does not depend on the weights), on ``threads`` torch threads.

    Args:
        sizes: ``{label: (model params per model name, Preparation)}``, e.g. the smoke profile's
            and the paper's (``full``) sizes.
        models: model names.
        frames: a stream to window (at least ``window + n_windows + 3`` frames).
        config: the stream settings (window, stride, precision).
        n_classes, n_windows, threads, cores (default ``os.cpu_count()``), seed: see above.
        variants: ``(precision, reuse)`` pairs to time (default: ``config``'s alone); ``reuse``
            is ``StreamConfig.reuse`` (only the RRN reuses; the row says whether it did).

    Returns:
        One row per size, model and variant: ``size, model, precision, reuse, frames (T), params, n, p50_ms, p95_ms, mean_ms,
        max_ms, budget_ms`` (33.3 x stride), ``real_time`` (p95 within the budget),
        ``streams`` (:func:`streams_per_machine`), ``threads``, ``cores``, ``stride``.
    """
    import torch

    from .models import build_model, describe
    cores = int(cores or os.cpu_count() or 1)
    before = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    rows = []
    try:
        for label, (params, prep) in sizes.items():
            for m in models:
                net = build_model(m, num_classes=n_classes, seed=seed, **dict(params.get(m) or {})).eval()
                for precision, reuse in (variants or ((config.precision, config.reuse),)):
                    run = optimise_model(net, precision)
                    vcfg = dataclasses.replace(config, precision=precision, reuse=bool(reuse))
                    lat = measure_latency(run, [str(i) for i in range(n_classes)], prep, frames, vcfg, n_windows)
                    budget = config.stride * FRAME_BUDGET_MS
                    rows.append({"size": label, "model": m, "frames": prep.frames,
                                 "params": describe(net)["params"], **lat, "budget_ms": budget,
                                 "real_time": bool(lat["p95_ms"] <= budget),
                                 "streams": streams_per_machine(lat["mean_ms"], config.stride, cores, threads),
                                 "threads": int(threads), "cores": cores, "stride": config.stride,
                                 "precision": precision,
                                 "reuse": bool(reuse) and FrameReuse.supports(run, prep)})
    finally:
        torch.set_num_threads(before)
    return rows


def precision_rows(cfg: dict, ds, recognisers: Mapping[tuple, dict], precision: str = "int8") -> list[dict]:
    """Whether a lower precision keeps the trained models' decisions: for each recogniser, on the
    test clips of its split of ``ds``, the test accuracy at fp32 and at ``precision``, the share of
    clips whose predicted class is the same, and the largest change of any class probability."""
    from . import experiments
    rows = []
    for (m, s, cs), rec in recognisers.items():
        test = experiments.split_indices(ds, s, cfg)["test"]
        y = np.asarray(ds.y[test])
        keep = y < len(rec["class_names"])   # a seven-way model is scored on the harmful clips
        xs = ds.x[test][keep]
        p32 = clip_probabilities(rec["model"], xs, "fp32")
        plo = clip_probabilities(rec["model"], xs, precision)
        rows.append({"model": m, "split": s, "class_set": cs, "precision": precision, "n": int(len(xs)),
                     "accuracy_fp32": float((p32.argmax(1) == y[keep]).mean()) if len(xs) else None,
                     f"accuracy_{precision}": float((plo.argmax(1) == y[keep]).mean()) if len(xs) else None,
                     "same_decision": float((p32.argmax(1) == plo.argmax(1)).mean()) if len(xs) else None,
                     "max_abs_dp": float(np.abs(p32 - plo).max()) if len(xs) else None})
    return rows


def realtime_table(rows: Sequence[Mapping], columns: Mapping[str, str], percent: Sequence[str] = ()) -> list[dict]:
    """Rows for ``skelutils.results.markdown_table``: the chosen columns, shares in ``percent``
    times 100, ``class_set`` as "7-way" / "8-way"."""
    out = []
    for r in rows:
        row = {k: r.get(k) for k in columns}
        for k in percent:
            if row.get(k) is not None:
                row[k] = 100.0 * row[k]
        if "class_set" in row:
            row["class_set"] = "8-way" if row["class_set"] == REALTIME_CLASS_SET else "7-way"
        out.append(row)
    return out


# ----------------------------------------------------------------------------- figures of notebook 09

def plot_tradeoff(rows: Sequence[Mapping], split: str = "xsub"):
    """Harmless clips flagged against harmful clips detected, over the alert threshold: one curve per
    8-way model, one point per 7-way model (it flags every clip at any threshold)."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 4))
    names = sorted({x["model"] for x in rows})
    for r in rows:
        if r["split"] != split:
            continue
        colour = f"C{names.index(r['model'])}"
        point = ([100 * r["harmless_flagged"]], [100 * r["harmful_recall"]])
        if r["class_set"] == REALTIME_CLASS_SET:
            ax.plot([100 * c["harmless_flagged"] for c in r["curve"]], [100 * c["harmful_recall"] for c in r["curve"]],
                    "-", color=colour, label=f"{r['model']} 8-way")
            ax.plot(*point, "o", color=colour)
        else:
            ax.plot(*point, "x", ms=9, color=colour, label=f"{r['model']} 7-way")
    ax.set_xlabel("harmless test clips flagged (%)")
    ax.set_ylabel("harmful test clips flagged and right (%)")
    ax.set_title(f"alert threshold trade-off ({split}; markers: threshold {CLIP_THRESHOLD:g})")
    ax.set_xlim(-3, 103); ax.set_ylim(-3, 103); ax.grid(alpha=0.3); ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_early(rows: Sequence[Mapping]):
    """Accuracy against the observed share of the action, per recogniser (dashed: 7-way)."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 4))
    models = sorted({r["model"] for r in rows})
    for r in rows:
        eight = r["class_set"] == REALTIME_CLASS_SET
        ax.plot([100 * s for s in r["shares"]], [100 * a for a in r["accuracy"]], "-o" if eight else "--x",
                color=f"C{models.index(r['model'])}", ms=4,
                label=f"{r['model']} {'8-way' if eight else '7-way'} ({r['split']}, {r['n']} clips)")
    ax.set_xlabel("share of the action observed (%)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("early detection")
    ax.set_ylim(0, 100); ax.grid(alpha=0.3); ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_timeline(truth: Mapping, traces: Mapping[tuple, Mapping], config: StreamConfig, max_s: float | None = None):
    """The stream's ground truth (red: harmful actions, green: harmless) under each recogniser's
    harmful score and its alerts (shaded while on), over time."""
    import matplotlib.pyplot as plt
    fps = float(truth.get("fps", FPS))
    n = int(truth["n_frames"])
    end = n if max_s is None else min(n, int(max_s * fps))
    t = np.arange(end) / fps
    fig, axes = plt.subplots(len(traces), 1, figsize=(10, 0.95 * len(traces) + 1.0), sharex=True, squeeze=False)
    for ax, (key, tr) in zip(axes[:, 0], traces.items()):
        for ev in truth["events"]:
            if ev["start"] < end:
                ax.axvspan(ev["start"] / fps, min(ev["end"], end) / fps, color="tab:red" if ev["harmful"] else
                           "tab:green", alpha=0.18, lw=0)
        ax.plot(t, tr["score"][:end], color="k", lw=0.7)
        for a in tr["alerts"]:
            if a.start < end:
                stop = (a.end if a.end is not None else n - 1)
                ax.axvspan(a.start / fps, min(stop, end) / fps, ymin=0.85, ymax=1.0, color="tab:orange")
        ax.axhline(config.raise_at, color="tab:orange", lw=0.6, ls=":")
        ax.set_ylim(-0.05, 1.1); ax.set_yticks([0, 1])
        ax.set_ylabel(f"{key[0]}\n{'8-way' if key[2] == REALTIME_CLASS_SET else '7-way'}", fontsize=7, rotation=0,
                      ha="right", va="center")
    axes[-1, 0].set_xlabel("time (s)")
    axes[0, 0].set_title("harmful score (black), alerts (orange bars) over the ground truth "
                         "(red: harmful action, green: harmless)", fontsize=9)
    fig.tight_layout()
    return fig


def class_count_rows(cfg: dict, ds, splits: Sequence[str] = ("xsub", "xview")) -> list[dict]:
    """Samples per class of a data set of any class set, in total and per split part: one row per
    class (``class``, ``total``, ``<split>_<part>``), for ``skelutils.results.markdown_table``."""
    from . import dataset, experiments
    parts = {}
    for s in splits:
        idx = experiments.split_indices(ds, s, cfg)
        parts.update({f"{s}_{part}": idx[part] for part in ("train", "val", "test")})
    return [{k: r[k] for k in ("class", "total", *parts)} for r in dataset.class_counts(ds, parts)]
