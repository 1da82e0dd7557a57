"""The paper's three recognisers: 3D CNN + LSTM (ours), Li et al. 2017 CNN, Zheng et al. 2019 RRN-LSTM.

Every model takes a float tensor ``x`` of shape ``(N, M=2, T, V=25, C=3)``: two persons
(actor first), ``T >= 8`` frames, the 25 Kinect v2 joints, xyz in metres, centred by the
data layer, zeros where a person is absent. Every model returns **logits** ``(N, num_classes)``;
the softmax of the paper's "SoftMax layer" lives in the loss (``torch.nn.CrossEntropyLoss``).

Every model also offers

- ``model.features(x) -> (N, D)``: the representation fed to the final classification layer
  (for FID/MMD of generated data; call ``model.eval()`` first so dropout is off),
- ``model.l2_params()``: the weights that get L2 regularisation ("L2 on the FC layers"),
  and ``model.param_groups(weight_decay)`` to hand to an optimiser,
- ``model.config``: a JSON-serialisable dict of the hyperparameters actually used.

Build models with :func:`build_model`; :func:`describe` counts parameters and
:func:`measure_latency` times a forward pass. Every place where the paper (or the paper
it cites) leaves a detail open is listed in :data:`AMBIGUITIES`.
"""
from __future__ import annotations

import inspect
import time
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from skelutils.ntu import BONES, NUM_JOINTS

__all__ = [
    "AMBIGUITIES", "MODEL_NAMES", "build_model", "describe", "measure_latency",
    "Cnn3dLstm", "Li2017Cnn", "RrnLstm", "SkeletonTransformer", "hip_centre",
]

#: Number of persons every model expects on axis 1 of its input.
NUM_PERSONS = 2
#: Shortest sequence every model accepts.
MIN_FRAMES = 8


def _as_list(v):
    return [_as_list(e) for e in v] if isinstance(v, (tuple, list)) else v


class _Recogniser(nn.Module):
    """Shared plumbing: input checks, ``forward = classifier(features)``, L2 groups, config."""

    name = "recogniser"
    #: Persons per sample the model needs (``None``: any number).
    persons: int | None = NUM_PERSONS

    def __init__(self) -> None:
        super().__init__()
        self.config: dict[str, Any] = {}
        self.classifier: nn.Linear

    def _check_input(self, x: torch.Tensor) -> None:
        m = "M" if self.persons is None else f"M={self.persons}"
        expect = (f"a float tensor of shape (N, {m}, T, V={NUM_JOINTS}, C=3) with T >= {MIN_FRAMES} "
                  "(batch, persons, frames, joints, xyz in metres)")
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{self.name}: expected {expect}, got {type(x).__name__}; "
                            "convert with torch.as_tensor(array, dtype=torch.float32)")
        if not x.is_floating_point():
            raise TypeError(f"{self.name}: expected {expect}, got dtype {x.dtype}; "
                            "cast with x.float()")
        ok = (x.dim() == 5 and x.shape[3] == NUM_JOINTS and x.shape[4] == 3
              and x.shape[2] >= MIN_FRAMES and x.shape[0] >= 1 and x.shape[1] >= 1
              and (self.persons is None or x.shape[1] == self.persons))
        if not ok:
            raise ValueError(f"{self.name}: expected {expect}, got shape {tuple(x.shape)}; "
                             "pad or resample sequences to at least "
                             f"{MIN_FRAMES} frames and put persons on axis 1")

    def features(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes)`` for ``x`` of shape ``(N, M, T, V=25, C=3)`` (softmax is in the loss)."""
        return self.classifier(self.features(x))

    def _fc_layers(self) -> list[nn.Linear]:  # pragma: no cover - abstract
        raise NotImplementedError

    def l2_params(self) -> list[nn.Parameter]:
        """The weight matrices of the model's FC layers: the parameters that get L2 (weight decay).

        Biases, convolutions, recurrent cells and normalisation-free extras (masks,
        PReLU slopes, the skeleton transformer) are excluded, as Keras' ``kernel_regularizer``
        on Dense layers would do.
        """
        return [layer.weight for layer in self._fc_layers()]

    def param_groups(self, weight_decay: float = 1e-4) -> list[dict[str, Any]]:
        """Two optimiser parameter groups: FC weights with ``weight_decay``, everything else with 0.

        Example: ``torch.optim.Adam(model.param_groups(1e-4), lr=1e-3)``. With Adam this is
        coupled L2 (a ``weight_decay * w`` term in the gradient), i.e. the paper's "L2
        regularisation", not AdamW's decoupled decay.
        """
        l2 = {id(p) for p in self.l2_params()}
        decay = [p for p in self.parameters() if id(p) in l2]
        rest = [p for p in self.parameters() if id(p) not in l2]
        return [{"params": decay, "weight_decay": float(weight_decay)},
                {"params": rest, "weight_decay": 0.0}]


def _run_lstm(lstm: nn.LSTM, seq: torch.Tensor):
    """``lstm(seq)``, on CPU through PyTorch's native kernel instead of oneDNN's.

    Same arithmetic; PyTorch 2.x's oneDNN LSTM re-packs its weights on every call, which made
    the 3D CNN + LSTM's forward pass 4x slower at batch 1 (31 ms against 8 ms for the BiLSTM).
    oneDNN is switched off only for the duration of the call (a process-wide flag; a
    convolution running at that moment in another thread would merely take the slower path).
    """
    if seq.device.type != "cpu" or not torch._C._get_mkldnn_enabled():
        return lstm(seq)
    torch.backends.mkldnn.set_flags(False, None, None, None)
    try:
        return lstm(seq)
    finally:
        torch.backends.mkldnn.set_flags(True, None, None, None)


def _present(x: torch.Tensor, xyz_dim: int = -1) -> torch.Tensor:
    """bool, ``x``'s shape with ``xyz_dim`` of size 1: whether a joint is there (any xyz non-zero)."""
    return x.detach().ne(0).any(dim=xyz_dim, keepdim=True)


def _motion(x: torch.Tensor, dim: int, present: torch.Tensor | None = None,
            xyz_dim: int = -1) -> torch.Tensor:
    """Per-frame displacement along ``dim``: ``d[t] = x[t] - x[t-1]``, ``d[0] = 0`` (same length).

    ``d[t]`` is zero where the joint is absent in frame ``t`` or ``t - 1`` (all-zero xyz on
    ``xyz_dim``, or ``present`` False), as in :func:`skelutils.prepare.to_motion`: a person
    entering or leaving, or zero padding, is not a jump of its whole position (metres).

    Args:
        x: any tensor with time on ``dim`` and xyz on ``xyz_dim``.
        dim: the time axis.
        present: optional bool mask broadcastable to ``x`` (default :func:`_present` of ``x``).
        xyz_dim: the coordinate axis (last by default).
    """
    if present is None:
        present = _present(x, xyz_dim)
    t = x.shape[dim]
    both = present.narrow(dim, 1, t - 1) & present.narrow(dim, 0, t - 1)
    step = (x.narrow(dim, 1, t - 1) - x.narrow(dim, 0, t - 1)) * both.to(x.dtype)
    return torch.cat([torch.zeros_like(x.narrow(dim, 0, 1)), step], dim=dim)


# --------------------------------------------------------------------------------------------
# Ours: 3D CNN + LSTM (Experiment 1)
# --------------------------------------------------------------------------------------------

_CNN3D_VARIANTS: dict[str, dict[str, Any]] = {
    # Experiment 1: BiLSTM 512 per direction -> "output 256" -> FC 256->128 -> classes.
    "exp1": {"lstm_hidden": 512, "bidirectional": True, "proj": 256, "fc": 128},
    # Section 5.1: one LSTM layer of 256 units -> FC 64 -> classes.
    "sec5.1": {"lstm_hidden": 256, "bidirectional": False, "proj": 0, "fc": 64},
}


class Cnn3dLstm(_Recogniser):
    """The paper's recogniser: a 3D CNN backbone, an LSTM over time and FC layers (Experiment 1).

    Paper (sections 4.5, 5.1, 5.3, Experiment 1): input "skeleton motion coordinate changes" of
    shape (sequence_length, num_joints, 3, 1), i.e. one channel; four 3D convolutions with
    3x3x3 kernels and filters 32-64-128-256 (better) or 64-128-256-512 (Fig. 5), each followed
    by max pooling, the first with stride 1 and the others with stride 2; a bidirectional LSTM of
    512 units per direction with tanh whose output is "256"; an FC layer 256 -> 128 with ReLU and
    dropout 0.5; a softmax layer over 7 classes. Section 5.1 instead says one LSTM of 256 units
    and an FC layer of 64 (``variant="sec5.1"``).

    Data flow (defaults), for ``x`` of shape (N, 2, T, 25, 3):

    1. ``input="motion"``: per-frame displacement ``x[t] - x[t-1]`` (first frame 0), metres per
       frame, zero where a joint is absent in either frame (a person entering or leaving is
       no jump); ``"position"``: the centred coordinates themselves.
    2. Persons side by side on the joint axis: (N, 1, T, 50, 3), actor's joints 0-24 first.
    3. Four blocks Conv3d(3x3x3, padding 1) -> ReLU -> MaxPool3d. Convolutions slide over
       (time, joints, xyz). Pool 1: kernel (3, 3, 1), stride 1, padding (1, 1, 0) (keeps the
       size); pools 2-4: kernel and stride (2, 2, 1) with ``ceil_mode`` over time and joints
       only; the xyz axis (size 3) is never pooled. Output (N, F4, ceil(T/8), 7, 3).
    4. LSTM over the ceil(T/8) remaining time steps, input F4 * 7 * 3 per step, tanh.
       Readout ``"last"``: the final hidden state of each direction concatenated (forward at
       the last step, backward at the first), what Keras' ``Bidirectional(LSTM(...))`` returns
       with ``return_sequences=False``; ``"mean"``: the output averaged over time.
    5. ``proj`` > 0: a linear layer 2 * 512 -> 256 (Exp. 1's "output 256"), no activation.
    6. FC -> ``fc`` units, ReLU, dropout 0.5 (the "dropout after the LSTM").
    7. Linear -> ``num_classes`` logits.

    ``features(x)`` is the output of step 6 (``fc`` units). L2 applies to the weights of the
    projection, the FC layer and the classifier.

    Speed (same arithmetic): the backbone stores its activations channels-last
    (``torch.channels_last_3d``), where oneDNN's 3D pooling is an order of magnitude faster on
    CPU, and the LSTM runs through PyTorch's native CPU kernel (see ``_run_lstm``). Together
    they took the batch-1, T = 64 CPU forward pass from 88 ms to 29 ms (median, one thread,
    PyTorch 2.13); the LSTM's 22 M input weights (5376 -> 4 x 2 x 512) are much of what is left.

    Args:
        num_classes: number of classes (7).
        input: ``"motion"`` (default) or ``"position"``.
        filters: four Conv3d widths, default (32, 64, 128, 256); (64, 128, 256, 512) is the
            paper's other setting.
        variant: ``"exp1"`` (default) or ``"sec5.1"``; sets the defaults of the next four.
        lstm_hidden: LSTM units per direction (exp1 512, sec5.1 256).
        bidirectional: bidirectional LSTM (exp1 True, sec5.1 False).
        proj: size of the linear projection after the LSTM, 0 for none (exp1 256, sec5.1 0).
        fc: width of the FC layer before the classifier (exp1 128, sec5.1 64).
        dropout: dropout after the FC layer, in [0, 1) (0.5).
        readout: ``"last"`` (default) or ``"mean"`` (see step 4).
    """

    name = "cnn3d_lstm"

    def __init__(self, num_classes: int = 7, input: str = "motion",
                 filters: tuple[int, ...] = (32, 64, 128, 256), variant: str = "exp1",
                 lstm_hidden: int | None = None, bidirectional: bool | None = None,
                 proj: int | None = None, fc: int | None = None, dropout: float = 0.5,
                 readout: str = "last") -> None:
        super().__init__()
        _check_choice(self.name, "input", input, ("motion", "position"))
        _check_choice(self.name, "variant", variant, tuple(_CNN3D_VARIANTS))
        _check_choice(self.name, "readout", readout, ("last", "mean"))
        v = _CNN3D_VARIANTS[variant]
        lstm_hidden = v["lstm_hidden"] if lstm_hidden is None else lstm_hidden
        bidirectional = v["bidirectional"] if bidirectional is None else bool(bidirectional)
        proj = v["proj"] if proj is None else proj
        fc = v["fc"] if fc is None else fc
        filters = _check_ints(self.name, "filters", filters, length=4)
        _check_ints(self.name, "lstm_hidden", [lstm_hidden])
        _check_ints(self.name, "fc", [fc])
        _check_ints(self.name, "proj", [proj], minimum=0)
        _check_ints(self.name, "num_classes", [num_classes])
        _check_dropout(self.name, dropout)

        self.input, self.readout = input, readout
        blocks: list[nn.Module] = []
        c_in = 1
        for i, c_out in enumerate(filters):
            blocks.append(nn.Conv3d(c_in, c_out, kernel_size=3, padding=1))
            blocks.append(nn.ReLU())
            if i == 0:
                blocks.append(nn.MaxPool3d((3, 3, 1), stride=1, padding=(1, 1, 0)))
            else:
                blocks.append(nn.MaxPool3d((2, 2, 1), stride=(2, 2, 1), ceil_mode=True))
            c_in = c_out
        # channels-last (N, T, V, 3, C) storage: the same arithmetic, but oneDNN's 3D pooling and
        # convolution kernels are several times faster on CPU in this layout.
        self.backbone = nn.Sequential(*blocks).to(memory_format=torch.channels_last_3d)
        joints = 2 * NUM_JOINTS
        for _ in range(3):
            joints = -(-joints // 2)
        self.lstm_input = filters[-1] * joints * 3
        self.lstm = nn.LSTM(self.lstm_input, lstm_hidden, batch_first=True,
                            bidirectional=bidirectional)
        width = lstm_hidden * (2 if bidirectional else 1)
        self.proj = nn.Linear(width, proj) if proj else None
        self.fc = nn.Linear(proj or width, fc)
        self.drop = nn.Dropout(dropout)
        self.classifier = nn.Linear(fc, num_classes)
        self.feature_dim = fc
        self.config = {
            "name": self.name, "num_classes": num_classes, "input": input,
            "filters": list(filters), "variant": variant, "lstm_hidden": lstm_hidden,
            "bidirectional": bidirectional, "proj": proj, "fc": fc, "dropout": dropout,
            "readout": readout,
        }

    def to_volume(self, x: torch.Tensor) -> torch.Tensor:
        """The backbone's input: (N, 2, T, 25, 3) -> (N, 1, T, 50, 3), motion or position."""
        self._check_input(x)
        if self.input == "motion":
            x = _motion(x, dim=2)
        n, m, t, v, c = x.shape
        return x.permute(0, 2, 1, 3, 4).reshape(n, 1, t, m * v, c)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 2, T, 25, 3) -> (N, fc): the ReLU'd (and dropped-out in training) FC output."""
        h = self.to_volume(x)
        for layer in self.backbone:
            h = layer(h)
            if isinstance(layer, nn.Conv3d):  # a 1-channel input leaves conv1's output NCDHW
                h = h.contiguous(memory_format=torch.channels_last_3d)
        n, c, t = h.shape[:3]                                     # (N, F4, T', 7, 3)
        h = h.permute(0, 2, 1, 3, 4).reshape(n, t, -1)            # (N, T', F4*7*3)
        out, (h_n, _) = _run_lstm(self.lstm, h)
        if self.readout == "last":
            z = torch.cat(list(h_n[-2:] if self.lstm.bidirectional else h_n[-1:]), dim=1)
        else:
            z = out.mean(dim=1)
        if self.proj is not None:
            z = self.proj(z)
        return self.drop(F.relu(self.fc(z)))

    def _fc_layers(self) -> list[nn.Linear]:
        return [layer for layer in (self.proj, self.fc, self.classifier) if layer is not None]


# --------------------------------------------------------------------------------------------
# Li, Zhong, Xie, Pu 2017: two-stream CNN with a skeleton transformer (Experiment 2)
# --------------------------------------------------------------------------------------------

class SkeletonTransformer(nn.Module):
    """Li et al. 2017's skeleton transformer: ``S' = (S^T W)^T``, a bias-free linear map over joints.

    For a skeleton matrix S of N joints x 3 coordinates, W is N x M and S' holds M new
    "interpolated" joints (reordered and mixed), learned end to end. Applied to every frame
    and coordinate at once: input (..., N) -> output (..., M), joints on the last axis.

    ``W`` is initialised orthogonal (as the authors' institute's public re-implementation,
    hikvision-research/skelact, does), so initially the transform loses no information.
    """

    def __init__(self, in_joints: int = NUM_JOINTS, out_joints: int = 30) -> None:
        super().__init__()
        self.in_joints, self.out_joints = in_joints, out_joints
        self.weight = nn.Parameter(torch.empty(in_joints, out_joints))
        nn.init.orthogonal_(self.weight)

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        return s @ self.weight

    def extra_repr(self) -> str:
        return f"in_joints={self.in_joints}, out_joints={self.out_joints}, bias=False"


class _Li2017Stream(nn.Module):
    """One stream: skeleton transformer, then conv (3x3, time padded) -> max pool 2 -> dropout."""

    def __init__(self, out_joints: int, channels: int, dropout: float) -> None:
        super().__init__()
        self.transformer = SkeletonTransformer(NUM_JOINTS, out_joints)
        self.conv = nn.Conv2d(3, channels, kernel_size=3, padding=(1, 0))
        self.pool = nn.MaxPool2d(2, stride=2)
        self.drop = nn.Dropout(dropout)

    def forward(self, s: torch.Tensor) -> torch.Tensor:  # (B, 3, T, 25)
        return self.drop(self.pool(self.conv(self.transformer(s))))


class Li2017Cnn(_Recogniser):
    """CNN baseline of Experiment 2: Li, Zhong, Xie, Pu (2017), ICMEW, pp. 597-600.

    Original paper ("Skeleton-based action recognition with convolutional neural networks",
    arXiv:1704.07595): a "simple 7-layer network" with a position stream (raw coordinates) and a
    motion stream (frame differences); each stream starts with a skeleton transformer
    ``S' = (S^T W)^T`` (a bias-free FC layer over joints, learned end to end) and treats the
    transformed skeleton sequence as an image of T x M' pixels with 3 (xyz) channels. The two
    streams' feature maps are concatenated along channels; persons go through the same layers
    and are merged by an element-wise maximum (Maxout) after the last convolution; FC layers and
    a softmax classifier follow. Inputs are resized to a fixed length of 32 frames.

    Layer sizes follow the original authors' institute's public re-implementation
    (hikvision-research/skelact, ``TSCNN``): per stream, transformer 25 -> 30 joints and
    conv2 (3x3, 64, padding 1 on time only) -> max pool 2 -> dropout 0.5 (no activation);
    concatenation (128 channels); conv3 (3x3, 128) -> max pool 2 -> PReLU -> dropout 0.5;
    conv4 (3x3, 256) -> max pool 2 -> PReLU; flatten, Maxout over persons, dropout 0.5;
    fc5 256 -> PReLU -> dropout 0.5; fc6 128 -> PReLU; fc7 classifier. The 7 layers are
    fc1 (transformer), conv2-4, fc5-7. With 30 transformed joints and 32 frames the last map
    is 256 x 4 x 2, so fc5 has 2048 inputs.

    Choices where the paper is open: the sequence is resized to ``clip_len`` frames *inside*
    the model (linear interpolation over time, ``align_corners=False``) so any T >= 8 is
    accepted; motion is the frame difference of the resized sequence with a zero first frame;
    a resized frame that blends an absent (all-zero) source frame counts as absent, is zero in
    the position stream and has zero motion on both sides, so a person entering or leaving
    shows no jump;
    each stream has its own transformer; the transformer weights are initialised orthogonal;
    PReLU slopes start at 0.1.

    ``features(x)`` is fc6's output (128). L2 applies to fc5, fc6 and the classifier weights.

    Args:
        num_classes: number of classes (7).
        joints_out: M, transformed joints per skeleton (30); at least 22.
        channels: (conv2 per stream, conv3, conv4) widths, default (64, 128, 256).
        fc: (fc5, fc6) widths, default (256, 128).
        clip_len: frames the input is resized to, a multiple of 8 (32).
        dropout: dropout rate, in [0, 1) (0.5).
    """

    name = "li2017_cnn"
    persons = None  # Maxout takes any number of persons

    def __init__(self, num_classes: int = 7, joints_out: int = 30,
                 channels: tuple[int, ...] = (64, 128, 256), fc: tuple[int, ...] = (256, 128),
                 clip_len: int = 32, dropout: float = 0.5) -> None:
        super().__init__()
        channels = _check_ints(self.name, "channels", channels, length=3)
        fc = _check_ints(self.name, "fc", fc, length=2)
        _check_ints(self.name, "joints_out", [joints_out], minimum=22)
        _check_ints(self.name, "clip_len", [clip_len], minimum=8)
        _check_ints(self.name, "num_classes", [num_classes])
        if clip_len % 8:
            raise ValueError(f"{self.name}: clip_len must be a multiple of 8 (three 2x poolings), "
                             f"got {clip_len}; use 32 (the paper's) or another multiple of 8")
        _check_dropout(self.name, dropout)
        c2, c3, c4 = channels
        self.clip_len = clip_len
        self.position = _Li2017Stream(joints_out, c2, dropout)
        self.motion = _Li2017Stream(joints_out, c2, dropout)
        self.conv3 = nn.Sequential(nn.Conv2d(2 * c2, c3, 3, padding=(1, 0)), nn.MaxPool2d(2, 2),
                                   nn.PReLU(init=0.1), nn.Dropout(dropout))
        self.conv4 = nn.Sequential(nn.Conv2d(c3, c4, 3, padding=(1, 0)), nn.MaxPool2d(2, 2),
                                   nn.PReLU(init=0.1))
        v = joints_out
        for _ in range(3):
            v = (v - 2) // 2
        self.flat_dim = c4 * (clip_len // 8) * v
        self.drop4 = nn.Dropout(dropout)
        self.fc5 = nn.Linear(self.flat_dim, fc[0])
        self.act5 = nn.PReLU(init=0.1)
        self.drop5 = nn.Dropout(dropout)
        self.fc6 = nn.Linear(fc[0], fc[1])
        self.act6 = nn.PReLU(init=0.1)
        self.classifier = nn.Linear(fc[1], num_classes)
        self.feature_dim = fc[1]
        self.config = {"name": self.name, "num_classes": num_classes, "joints_out": joints_out,
                       "channels": list(channels), "fc": list(fc), "clip_len": clip_len,
                       "dropout": dropout}

    def person_maps(self, x: torch.Tensor) -> torch.Tensor:
        """(N, M, T, 25, 3) -> (N, M, D): each person's flattened conv4 map, before Maxout."""
        self._check_input(x)
        n, m, t, v, c = x.shape
        s = x.reshape(n * m, t, v * c).transpose(1, 2)            # (B, 75, T)
        present = _present(x).reshape(n * m, t, v).transpose(1, 2).to(x.dtype)  # (B, 25, T)
        if t != self.clip_len:
            s = F.interpolate(s, size=self.clip_len, mode="linear", align_corners=False)
            # a resized frame is present only if every source frame it blends is
            present = F.interpolate(present, size=self.clip_len, mode="linear",
                                    align_corners=False) > 1 - 1e-4
        present = present.bool().transpose(1, 2)[:, None]          # (B, 1, T', 25)
        s = s.reshape(n * m, v, c, self.clip_len).permute(0, 2, 3, 1)  # (B, 3, T', 25)
        s = s * present.to(s.dtype)
        h = torch.cat([self.position(s), self.motion(_motion(s, dim=2, present=present))], dim=1)
        h = self.conv4(self.conv3(h))
        return h.reshape(n, m, -1)

    def merge_persons(self, x: torch.Tensor) -> torch.Tensor:
        """(N, M, T, 25, 3) -> (N, D): Maxout over persons, the element-wise maximum of their maps.

        Symmetric in the persons: their order does not matter.
        """
        return self.person_maps(x).amax(dim=1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, M, T, 25, 3) -> (N, fc[1]): fc6's PReLU output."""
        h = self.drop4(self.merge_persons(x))                     # Maxout over persons
        h = self.drop5(self.act5(self.fc5(h)))
        return self.act6(self.fc6(h))

    def _fc_layers(self) -> list[nn.Linear]:
        return [self.fc5, self.fc6, self.classifier]


# --------------------------------------------------------------------------------------------
# Zheng, Li, Zhang, Huang, Wang 2019: attentional recurrent relational network + LSTM (Exp. 3)
# --------------------------------------------------------------------------------------------

#: Kinect v2 joints whose mean is subtracted in the RRN-LSTM's normalisation: SpineBase (the hip
#: centre), SpineMid, HipLeft, HipRight, SpineShoulder; the pelvis and lower trunk, symmetric
#: left/right and not moved by the limbs (knees would inject the kick itself into the centre).
HIP_CENTRE_JOINTS: tuple[int, ...] = (0, 1, 12, 16, 20)


def hip_centre(x: torch.Tensor, joints: tuple[int, ...] = HIP_CENTRE_JOINTS,
               mode: str = "shared") -> torch.Tensor:
    """Subtract the mean of ``joints`` per frame: the RRN-LSTM's normalisation.

    Args:
        x: (N, M, T, V=25, 3) positions in metres, zeros where a person is absent.
        joints: 0-based Kinect v2 joints averaged for the centre (default
            :data:`HIP_CENTRE_JOINTS`).
        mode: ``"shared"`` (default): one origin per frame for all persons, the actor's
            (person 0) hip centre, or the first present person's where the actor is absent;
            the distance and direction between the two persons are kept. ``"person"``: each
            person is centred on its own hip centre, as the original single-skeleton
            normalisation reads when applied to each person alone; it makes every person
            stand at the origin, so how far apart the two are is lost.

    Returns:
        Same shape; absent joints (all-zero xyz) stay all zeros in both modes.
    """
    if mode not in ("person", "shared"):
        raise ValueError(f"hip_centre: mode must be one of ['person', 'shared'], got {mode!r}")
    present = _present(x)                                          # (N, M, T, V, 1)
    c = x[..., list(joints), :].mean(dim=3, keepdim=True)       # (N, M, T, 1, 3)
    if mode == "shared":
        there = present.any(dim=3, keepdim=True)                   # (N, M, T, 1, 1)
        first = torch.argmax(there.to(torch.int8), dim=1, keepdim=True)  # first present person
        c = torch.gather(c, 1, first.expand(-1, -1, -1, -1, 3))    # (N, 1, T, 1, 3)
    return (x - c) * present.to(x.dtype)


def _graph_edges(kind: str, persons: int) -> tuple[list[int], list[int]]:
    """Directed edges (src, dst) over ``persons * 25`` nodes (person p's joint j is p*25+j)."""
    n = persons * NUM_JOINTS
    if kind == "full":
        pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
    else:
        pairs = []
        for p in range(persons):
            o = p * NUM_JOINTS
            for c, q in BONES:
                pairs += [(o + c, o + q), (o + q, o + c)]
        # The two persons meet through their corresponding joints (joint j <-> joint j).
        for p in range(persons):
            for q in range(p + 1, persons):
                for j in range(NUM_JOINTS):
                    a, b = p * NUM_JOINTS + j, q * NUM_JOINTS + j
                    pairs += [(a, b), (b, a)]
    return [s for s, _ in pairs], [d for _, d in pairs]


class RrnLstm(_Recogniser):
    """LSTM baseline of Experiment 3: Zheng, Li, Zhang, Huang, Wang (2019), ICME, pp. 826-831.

    Original paper ("Relational network for skeleton-based action recognition",
    arXiv:1805.02556, ARRN-LSTM), as the companion paper summarises it: joints normalised by
    subtracting the mean of the five joints adjacent to the hip joint; sequences of T = 100
    frames (zero padding or random sampling, done by the data layer, not here); a per-frame
    embedding of every joint by an FC layer to M = 50; a Recurrent Relational Network (RRN,
    Palm et al. 2018) run for 5 iterations within each frame, node function g a GRU, message
    function f three FC layers, messages summed; an attention module with a trainable mask m
    and an FC layer reducing to 256; a 3-layer LSTM over frames (256 in, 512 hidden); a softmax
    classifier on the last output q_T.

    Data flow (defaults), for ``x`` of shape (N, 2, T, 25, 3), all frames at once:

    1. :func:`hip_centre` per frame (joints :data:`HIP_CENTRE_JOINTS`), both persons on the
       actor's hip centre (``center="shared"``): the distance between the two, the main cue
       of pushing, kicking or punching, stays in the input. Zheng et al. normalise single
       skeletons; centring each person on its own hip (``center="person"``) would put both at
       the origin and leave only their postures.
    2. Both persons form one graph of 50 nodes; each node's xyz -> ``Linear(3, embed)`` shared
       by all joints: ``e_i``.
    3. RRN, ``h_i^0 = e_i``; for k = 1..``iterations``:
       ``m_i = sum_{j -> i} f([h_i, h_j])`` with f = FC-ReLU-FC-ReLU-FC (hidden ``message_hidden``,
       output ``embed``), then ``h_i = GRUCell([e_i, m_i], h_i)``. ``graph="skeleton"``: the
       Kinect bones of each person (both directions) plus an edge between the two persons'
       corresponding joints, 146 directed edges; ``graph="full"``: all 2450 ordered pairs
       (the Relational-Network reading; 17x the cost). The first FC of f is applied to each
       node once and gathered per edge (same function, fewer operations); gathering and summing
       are products with fixed one-hot matrices, so all frames and edges go at once.
    4. Attention: node states scaled by a trainable mask ``m`` (one weight per node,
       initialised to 1), flattened (50 * embed), FC -> ``fc`` (256), batch normalisation
       over the real frames of the batch (``norm="batch"``), ReLU.
    5. ``lstm_layers``-layer LSTM over frames (``fc`` -> ``lstm_hidden``); readout ``"last"``
       (q_T, the paper's choice, taken at the last frame in which a person is present, so the
       zero padding of a short sequence never reaches the classifier) or ``"mean"`` (over the
       non-padded frames).
    6. Dropout (0.5), Linear -> ``num_classes`` logits.

    Initialisation (:meth:`reset_parameters`; the papers are silent): the Keras/TensorFlow
    defaults of the relational-network reference code (Santoro et al. 2017, Palm et al. 2018):
    Glorot-uniform FC weights and zero biases, orthogonal recurrent weights, LSTM forget-gate
    bias 1. With PyTorch's defaults the random biases (up to +-0.58 in the 3-input embedding)
    dwarfed the sample-to-sample spread of hip-centred coordinates (about 0.1 m): the
    LSTM input differed between samples by under 1/10 of its size, the gradients of the RRN
    were about 1e-3, and SGD at the paper's lr 1e-3 (momentum 0.9) stayed at chance until the
    plateau schedule had decayed the rate to nothing.

    Batch normalisation after the reduction FC (``norm="batch"``, not in the papers): the
    node states that enter that FC are mostly the same for every sample (the skeleton's shape
    after hip-centring; in the unit-test model the FC's output varied between samples by
    0.014 around a mean of 0.09 at initialisation), and the FC's fan-in is large (50 * 50 =
    2500). Under SGD its update
    then moves every sample's output together, by about ``lr * |h|^2``, far more than it
    separates them: the reduction's output mean drifts, the LSTM saturates, and training
    either waits on a plateau or jumps off a cliff (gradient norm 0.4 -> 6 within 10 steps,
    the loss from 0.37 back to 2.3) depending on the seed and on rounding (on the unit test's
    problem, SGD lr 1e-2, 120 steps, 2 of 8 seeds reached 100 % without it and 6 of 6 with it).
    Centring over the batch removes that common mode; Adam, which rescales each weight's
    step, was less affected.

    ``features(x)`` is the LSTM readout (``lstm_hidden``), before dropout. L2 applies to the
    weights of the embedding, message, reduction and classifier FC layers. Only the joint
    stream of the original two-stream (joints + lines) network is built.

    Args:
        num_classes: number of classes (7).
        iterations: RRN iterations per frame (5).
        embed: joint embedding size M (50).
        message_hidden: hidden width of the message function's FC layers (default ``embed``).
        graph: ``"skeleton"`` (default) or ``"full"``.
        fc: size after the attention module (256).
        lstm_hidden: LSTM hidden size (512).
        lstm_layers: number of stacked LSTM layers (3).
        readout: ``"last"`` (default) or ``"mean"``.
        center: ``"shared"`` (default: one origin for both persons, so their distance is
            kept) or ``"person"`` (each on its own hip), see :func:`hip_centre`.
        norm: ``"batch"`` (default): ``BatchNorm1d`` after the reduction FC, statistics over
            the non-padded frames; ``"none"``: the FC output goes straight to the ReLU (the
            papers' literal reading, which SGD trains unreliably, see above).
        dropout: dropout before the classifier, in [0, 1) (0.5).
    """

    name = "rrn_lstm"

    def __init__(self, num_classes: int = 7, iterations: int = 5, embed: int = 50,
                 message_hidden: int | None = None, graph: str = "skeleton", fc: int = 256,
                 lstm_hidden: int = 512, lstm_layers: int = 3, readout: str = "last",
                 center: str = "shared", norm: str = "batch", dropout: float = 0.5) -> None:
        super().__init__()
        message_hidden = embed if message_hidden is None else message_hidden
        _check_ints(self.name, "iterations", [iterations])
        _check_ints(self.name, "embed", [embed])
        _check_ints(self.name, "message_hidden", [message_hidden])
        _check_ints(self.name, "fc", [fc])
        _check_ints(self.name, "lstm_hidden", [lstm_hidden])
        _check_ints(self.name, "lstm_layers", [lstm_layers])
        _check_ints(self.name, "num_classes", [num_classes])
        _check_choice(self.name, "graph", graph, ("skeleton", "full"))
        _check_choice(self.name, "readout", readout, ("last", "mean"))
        _check_choice(self.name, "center", center, ("person", "shared"))
        _check_choice(self.name, "norm", norm, ("batch", "none"))
        _check_dropout(self.name, dropout)
        self.iterations, self.readout, self.center = iterations, readout, center
        self.nodes = NUM_PERSONS * NUM_JOINTS
        src, dst = _graph_edges(graph, NUM_PERSONS)
        self.register_buffer("src", torch.tensor(src, dtype=torch.long), persistent=False)
        self.register_buffer("dst", torch.tensor(dst, dtype=torch.long), persistent=False)
        # One-hot gather (E, V) and scatter (V, E) matrices: gathering and summing messages are
        # then matrix products, deterministic on CUDA in both directions (index_add is not).
        edge = torch.arange(len(dst))
        gather_src = torch.zeros(len(src), self.nodes)
        gather_src[edge, torch.tensor(src)] = 1.0
        gather_dst = torch.zeros(len(dst), self.nodes)
        gather_dst[edge, torch.tensor(dst)] = 1.0
        self.register_buffer("gather_src", gather_src, persistent=False)
        self.register_buffer("gather_dst", gather_dst, persistent=False)
        self.register_buffer("incidence", gather_dst.T.contiguous(), persistent=False)
        self.embed = nn.Linear(3, embed)
        self.msg_recv = nn.Linear(embed, message_hidden)            # f's first FC, receiver half
        self.msg_send = nn.Linear(embed, message_hidden, bias=False)  # ... and sender half
        self.msg2 = nn.Linear(message_hidden, message_hidden)
        self.msg3 = nn.Linear(message_hidden, embed)
        self.node = nn.GRUCell(2 * embed, embed)
        self.mask = nn.Parameter(torch.ones(self.nodes))
        self.reduce = nn.Linear(self.nodes * embed, fc)
        self.norm = nn.BatchNorm1d(fc) if norm == "batch" else None
        self.lstm = nn.LSTM(fc, lstm_hidden, num_layers=lstm_layers, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.classifier = nn.Linear(lstm_hidden, num_classes)
        self.feature_dim = lstm_hidden
        self.reset_parameters()
        self.config = {"name": self.name, "num_classes": num_classes, "iterations": iterations,
                       "embed": embed, "message_hidden": message_hidden, "graph": graph,
                       "edges": len(dst), "fc": fc, "lstm_hidden": lstm_hidden,
                       "lstm_layers": lstm_layers, "readout": readout, "center": center,
                       "norm": norm,
                       "center_joints": list(HIP_CENTRE_JOINTS), "dropout": dropout}

    def reset_parameters(self) -> None:
        """Initialise as the Keras/TensorFlow defaults of the cited relational-network code.

        FC layers: Glorot-uniform weights, zero biases. GRU node function and LSTM: Glorot-uniform
        input weights and orthogonal recurrent weights per gate, zero biases, and the LSTM's
        forget-gate bias at 1 (Keras' ``unit_forget_bias``). The attention mask starts at 1.
        PyTorch's own defaults (biases uniform in +-1/sqrt(fan_in), i.e. +-0.58 for the
        3-input embedding) add per-unit constants several times larger than the
        sample-to-sample spread of hip-centred coordinates (about 0.1 m), so after the RRN and
        the reduction FC the LSTM input hardly differed between samples and SGD at lr 1e-3
        did not move off chance.
        """
        for layer in (self.embed, self.msg_recv, self.msg_send, self.msg2, self.msg3, self.reduce,
                      self.classifier):
            nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)

        def recurrent(w_ih, w_hh, b_ih, b_hh, gates: int, forget: int | None) -> None:
            h = w_hh.shape[1]
            for g in range(gates):
                nn.init.xavier_uniform_(w_ih[g * h:(g + 1) * h])
                nn.init.orthogonal_(w_hh[g * h:(g + 1) * h])
            nn.init.zeros_(b_ih)
            nn.init.zeros_(b_hh)
            if forget is not None:
                b_ih[forget * h:(forget + 1) * h] = 1.0

        with torch.no_grad():
            recurrent(self.node.weight_ih, self.node.weight_hh, self.node.bias_ih, self.node.bias_hh,
                      gates=3, forget=None)
            for k in range(self.lstm.num_layers):
                # PyTorch's gate order is input, forget, cell, output: the forget gate is chunk 1.
                recurrent(getattr(self.lstm, f"weight_ih_l{k}"), getattr(self.lstm, f"weight_hh_l{k}"),
                          getattr(self.lstm, f"bias_ih_l{k}"), getattr(self.lstm, f"bias_hh_l{k}"),
                          gates=4, forget=1)
            self.mask.fill_(1.0)

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """Hip-centring of step 1 (see :func:`hip_centre`)."""
        self._check_input(x)
        return hip_centre(x, HIP_CENTRE_JOINTS, self.center)

    def frame_features(self, x: torch.Tensor, check: bool = True) -> torch.Tensor:
        """Steps 1-4: (N, 2, T, 25, 3) -> (N, T, fc), one vector per frame (each frame on its own;
        ``check=False`` skips the input check, so that a stream can pass fewer than 8 frames)."""
        if check:
            self._check_input(x)
        x = hip_centre(x, HIP_CENTRE_JOINTS, self.center)
        n, m, t, v, c = x.shape
        nodes = x.permute(0, 2, 1, 3, 4).reshape(n * t, m * v, c)   # (B=N*T, 50, 3)
        e = self.embed(nodes)                                        # (B, 50, E)
        h = e
        b, k = e.shape[0], e.shape[2]
        for _ in range(self.iterations):
            recv, send = self.msg_recv(h), self.msg_send(h)                  # (B, 50, H)
            pre = (torch.matmul(self.gather_dst.to(recv.dtype), recv)
                   + torch.matmul(self.gather_src.to(send.dtype), send))     # (B, edges, H)
            msg = self.msg3(F.relu(self.msg2(F.relu(pre))))                  # (B, edges, E)
            agg = torch.matmul(self.incidence.to(msg.dtype), msg)           # (B, 50, E)
            gi = torch.cat([e, agg.to(e.dtype)], dim=2).reshape(b * self.nodes, 2 * k)
            h = self.node(gi, h.reshape(b * self.nodes, k)).reshape(b, self.nodes, k)
        h = h * self.mask.to(h.dtype)[None, :, None]
        z = self.reduce(h.reshape(b, self.nodes * k))                   # (B, fc)
        if self.norm is not None:
            # statistics over the real frames only: trailing zero padding is left out
            real = (torch.arange(t, device=x.device)[None, :]
                    < self.valid_lengths(x)[:, None]).reshape(-1)
            if not self.training or int(real.sum()) > 1:
                z = z.clone()
                z[real] = self.norm(z[real])
        return F.relu(z).reshape(n, t, -1)

    @staticmethod
    def valid_lengths(x: torch.Tensor) -> torch.Tensor:
        """(N, M, T, V, C) -> (N,) frames up to the last one where anybody is present.

        Frames after it are the zero padding of a short sequence (``resample="pad"``); a sample
        with no person at all counts as full length.
        """
        present = x.detach().ne(0).flatten(3).any(dim=3).any(dim=1)       # (N, T)
        t = x.shape[2]
        steps = torch.arange(1, t + 1, device=x.device).expand_as(present)
        last = torch.where(present, steps, torch.zeros_like(steps)).amax(dim=1)
        return torch.where(last > 0, last, torch.full_like(last, t))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 2, T, 25, 3) -> (N, lstm_hidden): the top LSTM layer's output at the last real frame.

        ``readout="last"``: q_T at the sequence's last non-padded frame (:meth:`valid_lengths`;
        the LSTM is causal, so trailing zero padding cannot reach it); ``"mean"``: the mean over
        the non-padded frames.
        """
        out, _ = _run_lstm(self.lstm, self.frame_features(x))           # (N, T, H)
        lengths = self.valid_lengths(x)
        if self.readout == "last":
            return out[torch.arange(out.shape[0], device=out.device), lengths - 1]
        keep = (torch.arange(out.shape[1], device=out.device)[None, :] < lengths[:, None]).to(out.dtype)
        return (out * keep[..., None]).sum(dim=1) / lengths[:, None].to(out.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.drop(self.features(x)))

    def head(self, z: torch.Tensor) -> torch.Tensor:
        """Steps 5-6 on per-frame features ``z`` (N, T, fc) of :meth:`frame_features`: logits of
        sequences without trailing padding (so that ``head(frame_features(x)) == forward(x)`` for
        an ``x`` with somebody in its last frame). Steps 1-4 see one frame at a time, so a
        stream can compute them once per frame and keep them (``skelutils.stream``)."""
        out, _ = _run_lstm(self.lstm, z)
        f = out[:, -1] if self.readout == "last" else out.mean(dim=1)
        return self.classifier(self.drop(f))

    def _fc_layers(self) -> list[nn.Linear]:
        return [self.embed, self.msg_recv, self.msg_send, self.msg2, self.msg3, self.reduce,
                self.classifier]


# --------------------------------------------------------------------------------------------
# Registry, builder, description, timing
# --------------------------------------------------------------------------------------------

_MODELS: dict[str, type[_Recogniser]] = {
    "cnn3d_lstm": Cnn3dLstm,
    "li2017_cnn": Li2017Cnn,
    "rrn_lstm": RrnLstm,
}
#: Names accepted by :func:`build_model`.
MODEL_NAMES: tuple[str, ...] = tuple(_MODELS)


def _check_choice(model: str, key: str, value, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"{model}: {key} must be one of {list(allowed)}, got {value!r}")


def _check_ints(model: str, key: str, values, length: int | None = None,
                minimum: int = 1) -> tuple[int, ...]:
    try:
        vals = tuple(values)
    except TypeError:
        raise ValueError(f"{model}: {key} must be a sequence of {length} integers, got {values!r}") from None
    ok = (length is None or len(vals) == length) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= minimum for v in vals)
    if not ok:
        what = f"{length} integers" if length else "an integer"
        raise ValueError(f"{model}: {key} must be {what} >= {minimum}, got {values if length else values[0]!r}")
    return vals


def _check_dropout(model: str, p) -> None:
    if not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
        raise ValueError(f"{model}: dropout must be a float in [0, 1), got {p!r}")


def model_params(name: str) -> dict[str, Any]:
    """The keyword parameters ``build_model(name, ...)`` accepts, with their defaults."""
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {list(MODEL_NAMES)}")
    sig = inspect.signature(_MODELS[name].__init__)
    out = {k: p.default for k, p in sig.parameters.items() if k != "self"}
    out["seed"] = None
    return out


def build_model(name: str, num_classes: int = 7, **params) -> _Recogniser:
    """Build one of the paper's recognisers.

    Args:
        name: ``"cnn3d_lstm"`` (ours, Experiment 1), ``"li2017_cnn"`` (Experiment 2) or
            ``"rrn_lstm"`` (Experiment 3).
        num_classes: output size (7, the harmful mutual actions of ``skelutils.ntu.CLASSES``).
        **params: the model's hyperparameters (see each class's docstring and
            :func:`model_params`), plus ``seed``: if given, the weights are initialised from
            ``torch.manual_seed(seed)`` without disturbing the global random state.

    Returns:
        The model (in training mode) with ``config`` recording every hyperparameter used.

    Raises:
        ValueError: unknown name, unknown parameter or invalid value; the message lists the
            allowed ones.
    """
    allowed = model_params(name)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"{name}: unknown parameter(s) {unknown}; allowed: "
                         f"{sorted(k for k in allowed if k != 'num_classes')}")
    seed = params.pop("seed", None)
    cls = _MODELS[name]
    if seed is None:
        model = cls(num_classes=num_classes, **params)
    else:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(f"{name}: seed must be an int or None, got {seed!r}")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = cls(num_classes=num_classes, **params)
    model.config["seed"] = seed
    return model


def describe(model: _Recogniser) -> dict[str, Any]:
    """Parameter counts of a model built by :func:`build_model`.

    Returns:
        ``{"name", "params", "trainable_params", "fc_params", "feature_dim", "config"}``;
        ``fc_params`` counts the L2-regularised FC weights (:meth:`l2_params`).
    """
    return {
        "name": model.name,
        "params": sum(p.numel() for p in model.parameters()),
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "fc_params": sum(p.numel() for p in model.l2_params()),
        "feature_dim": model.feature_dim,
        "config": dict(model.config),
    }


def measure_latency(model: nn.Module, frames: int = 64, batch: int = 1, repeats: int = 20,
                    warmup: int = 3, threads: int | None = None,
                    device: str | torch.device = "cpu",
                    prepare: Callable[[nn.Module], nn.Module] | None = None) -> dict[str, Any]:
    """Wall-clock time of one forward pass in inference mode (eval, ``torch.inference_mode``).

    Args:
        model: the model (moved to ``device``; its mode is restored afterwards).
        frames: T of the random input (64, the canonical length).
        batch: N (1: one clip as it arrives).
        repeats: timed passes; the median is reported.
        warmup: untimed passes first (allocator and oneDNN kernel selection).
        threads: ``torch.set_num_threads`` during the measurement (restored afterwards);
            ``None`` keeps the current setting.
        device: ``"cpu"`` or a CUDA device (synchronised around each pass).
        prepare: optional function applied to the model before timing (e.g. conversion to
            channels-last); its result is what gets timed.

    Returns:
        ``{"median_ms", "min_ms", "mean_ms", "frames", "batch", "threads", "device"}``.
    """
    device = torch.device(device)
    old_threads = torch.get_num_threads()
    was_training = model.training
    if threads is not None:
        torch.set_num_threads(int(threads))
    try:
        net = model.to(device).eval()
        if prepare is not None:
            net = prepare(net)
        gen = torch.Generator().manual_seed(0)
        x = (0.3 * torch.randn(batch, NUM_PERSONS, frames, NUM_JOINTS, 3, generator=gen)).to(device)
        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        times = []
        with torch.inference_mode():
            for i in range(warmup + repeats):
                sync()
                t0 = time.perf_counter()
                net(x)
                sync()
                if i >= warmup:
                    times.append((time.perf_counter() - t0) * 1e3)
    finally:
        torch.set_num_threads(old_threads)
        model.train(was_training)
    times.sort()
    return {"median_ms": times[len(times) // 2], "min_ms": times[0],
            "mean_ms": sum(times) / len(times), "frames": frames, "batch": batch,
            "threads": torch.get_num_threads() if threads is None else int(threads),
            "device": str(device)}


#: Every point where the paper (or the paper it cites) leaves a model detail open, and the
#: companion's choice; each training chapter shows its model's rows
#: (``skelutils.chapters.choices_markdown``). Choices that concern all models are the rows of
#: ``skelutils.ambiguities.AMBIGUITIES`` (the book's Ambiguities page).
AMBIGUITIES: list[dict[str, str | None]] = [
    # --- ours ---
    {"model": "cnn3d_lstm", "topic": "LSTM and FC sizes",
     "paper_says": "Sec. 5.1: one LSTM layer of 256 units, FC of 64; Experiment 1: BiLSTM of 512 "
                   "units per direction 'with the output 256', FC 256 -> 128",
     "we_chose": "Experiment 1: BiLSTM 512 per direction, a linear projection 1024 -> 256, FC "
                 "256 -> 128; Sec. 5.1 (LSTM 256, FC 64, no projection) as variant='sec5.1'",
     "parameter": "variant, lstm_hidden, bidirectional, proj, fc"},
    {"model": "cnn3d_lstm", "topic": "input quantity",
     "paper_says": "'skeleton motion coordinate changes', shape (sequence_length, num_joints, 3, 1)",
     "we_chose": "per-frame displacement x[t] - x[t-1] (metres per frame), first frame zero, "
                 "zero where a joint is absent in either frame (no jump when a person enters "
                 "or leaves), T kept; positions as the alternative",
     "parameter": "input"},
    {"model": "cnn3d_lstm", "topic": "two persons",
     "paper_says": "not stated (one channel, num_joints joints)",
     "we_chose": "both persons side by side on the joint axis (V = 50, actor first), one channel",
     "parameter": None},
    {"model": "cnn3d_lstm", "topic": "filters",
     "paper_says": "64-128-256-512 in Fig. 5; 32-64-128-256 'show better results'",
     "we_chose": "32-64-128-256; 64-128-256-512 as the alternative",
     "parameter": "filters"},
    {"model": "cnn3d_lstm", "topic": "activation after each convolution",
     "paper_says": "not stated",
     "we_chose": "ReLU after each Conv3d, before its max pooling; Conv3d padding 1 on all axes",
     "parameter": None},
    {"model": "cnn3d_lstm", "topic": "pooling windows and axes",
     "paper_says": "max pooling after each convolution, the first with stride 1, the others stride 2",
     "we_chose": "pool 1: kernel (3, 3, 1), stride 1, padding (1, 1, 0), size kept; pools 2-4: "
                 "kernel = stride = (2, 2, 1) over time and joints with ceil_mode; the xyz axis "
                 "(size 3) is never pooled, so T -> ceil(T/8) LSTM steps and 50 -> 7 joints",
     "parameter": None},
    {"model": "cnn3d_lstm", "topic": "LSTM readout",
     "paper_says": "the BiLSTM outputs a sequence (T, 2 x 512), then FC layers",
     "we_chose": "the final hidden state of each direction concatenated (Keras' Bidirectional "
                 "LSTM with return_sequences=False, the framework the paper's input shape "
                 "suggests); the mean over time as the alternative",
     "parameter": "readout"},
    {"model": "cnn3d_lstm", "topic": "L2 strength and scope",
     "paper_says": "L2 regularisation on the fully connected layers, strength not given",
     "we_chose": "weights (not biases) of the projection, FC and classifier layers; strength "
                 "is the trainer's (1e-4 by default)",
     "parameter": "l2_params() / param_groups(weight_decay)"},
    # --- Li et al. 2017 ---
    {"model": "li2017_cnn", "topic": "layer sizes",
     "paper_says": "companion paper: skeleton transformer, position and motion streams, Maxout "
                   "after the last convolution; original: 'a simple 7-layer network'",
     "we_chose": "the authors' institute's re-implementation (hikvision-research/skelact, "
                 "TSCNN): transformer 25 -> 30 joints, conv 64 per stream, conv 128, conv 256 "
                 "(3x3), max pool 2 after each, FC 256, FC 128, dropout 0.5, PReLU",
     "parameter": "joints_out, channels, fc, dropout"},
    {"model": "li2017_cnn", "topic": "sequence length",
     "paper_says": "sequences resized to a fixed length (32 frames in the re-implementation)",
     "we_chose": "linear interpolation to clip_len = 32 frames inside the model, so any T works",
     "parameter": "clip_len"},
    {"model": "li2017_cnn", "topic": "motion stream input",
     "paper_says": "frame differences",
     "we_chose": "differences of the resized sequence, first frame zero, with its own "
                 "skeleton transformer; zero where a joint is absent in either frame (a resized "
                 "frame blending an absent one counts as absent)",
     "parameter": None},
    {"model": "li2017_cnn", "topic": "transformer initialisation",
     "paper_says": "learned end to end",
     "we_chose": "orthogonal initialisation of W (25 x 30), as the re-implementation",
     "parameter": None},
    # --- Zheng et al. 2019 ---
    {"model": "rrn_lstm", "topic": "hip-centre joints",
     "paper_says": "subtract the mean of the five joints adjacent to the hip joint",
     "we_chose": "SpineBase, SpineMid, HipLeft, HipRight, SpineShoulder (0, 1, 12, 16, 20), "
                 "per frame",
     "parameter": None},
    {"model": "rrn_lstm", "topic": "one origin or one per person",
     "paper_says": "normalise by the hip centre; Zheng et al. 2019 normalise single skeletons, "
                   "the two-person case is not stated",
     "we_chose": "one origin per frame for both persons, the actor's hip centre (the first "
                 "present person's where the actor is absent), so the distance between the two "
                 "persons, the main cue of pushing, kicking or punching, stays in the input",
     "parameter": "center"},
    {"model": "rrn_lstm", "topic": "two persons",
     "paper_says": "not stated",
     "we_chose": "one graph of 50 nodes (both persons); corresponding joints of the two persons "
                 "are connected; the attention mask and reduction FC see all 50 nodes",
     "parameter": "graph"},
    {"model": "rrn_lstm", "topic": "RRN edges",
     "paper_says": "message function over related joints, three FC layers, node function a GRU",
     "we_chose": "Kinect bones of each person plus cross-person joint pairs (146 directed "
                 "edges); all ordered pairs as the alternative",
     "parameter": "graph"},
    {"model": "rrn_lstm", "topic": "RRN inputs and outputs",
     "paper_says": "5 iterations per frame, embedding M = 50",
     "we_chose": "h^0 = embedding; GRU input is [embedding, summed messages] (Palm et al. 2018); "
                 "message FC width = 50; node output = final GRU state",
     "parameter": "iterations, embed, message_hidden"},
    {"model": "rrn_lstm", "topic": "attention module",
     "paper_says": "a trainable mask m and an FC layer reducing the product to 256",
     "we_chose": "one multiplicative weight per node, initialised to 1; FC 50*50 -> 256 with ReLU",
     "parameter": "fc"},
    {"model": "rrn_lstm", "topic": "LSTM readout and classifier dropout",
     "paper_says": "3-layer LSTM, 256 in, 512 out; classification from q_T; T = 100 with zero "
                   "padding of shorter sequences",
     "we_chose": "the top layer's output at the last frame in which a person is present (q_T of "
                 "the real sequence, so zero padding is never read); the mean over those frames "
                 "as the alternative; dropout 0.5 before the classifier (not stated)",
     "parameter": "readout, dropout"},
    {"model": "rrn_lstm", "topic": "initialisation",
     "paper_says": "not stated (neither the companion paper nor Zheng et al. 2019)",
     "we_chose": "the Keras/TensorFlow defaults of the relational-network reference code "
                 "(Santoro 2017, Palm 2018): Glorot-uniform FC and input weights, orthogonal "
                 "recurrent weights, zero biases, LSTM forget-gate bias 1, attention mask 1; "
                 "PyTorch's default random biases swamp the hip-centred input and SGD at lr "
                 "1e-3 does not leave chance",
     "parameter": None},
    {"model": "rrn_lstm", "topic": "normalisation before the LSTM",
     "paper_says": "not stated (attention mask, FC to 256, then the LSTM)",
     "we_chose": "BatchNorm1d after the FC to 256 (statistics over the non-padded frames): "
                 "its 2500 inputs are nearly the same for every sample, and without centring "
                 "SGD moved all samples' outputs together until the LSTM saturated (100 % in 2 "
                 "of 8 seeds of the unit test's problem without it, 6 of 6 with it); none as "
                 "the alternative",
     "parameter": "norm"},
    {"model": "rrn_lstm", "topic": "SGD settings",
     "paper_says": "SGD, initial learning rate 0.001, divided by 10 when accuracy plateaus; "
                   "momentum, batch size and patience not given",
     "we_chose": "lr 1e-3 in the full profile (3e-3 in the small smoke profile, whose few "
                 "steps per epoch and short patience would otherwise decay the rate before it "
                 "learns), momentum 0.9 and batch 16 (the training engine's), lr / 10 after "
                 "train.plateau_patience epochs without a better validation accuracy",
     "parameter": None},
    {"model": "rrn_lstm", "topic": "two-stream (joints and lines)",
     "paper_says": "'calculate the lines based on these normalised joint coordinates'",
     "we_chose": "the joint stream only",
     "parameter": None},
]
