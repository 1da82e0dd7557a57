"""Two-person, class-conditional skeleton synthesis in the style of Kinetic-GAN.

Kinetic-GAN (Degardin et al., WACV 2022) is a Wasserstein GAN with gradient
penalty whose generator and critic are spatio-temporal graph convolutional
networks over a *pyramid* of skeleton graphs: the generator starts from one
coarse node and a few frames and upsamples in space (graph unpooling) and time
until it reaches the full skeleton and ``T`` frames; the critic mirrors it. A
latent vector ``z`` and a class embedding pass through an MLP *mapping network*
first, and every generator layer adds per-pixel Gaussian noise scaled by a
learned per-channel weight (*noise injection*, as in StyleGAN).

Our classes are interactions, so both people are generated *jointly*, as one
graph of 50 nodes (node ``m * 25 + v`` is joint ``v`` of person ``m``). The
generator maps ``w`` linearly to ``T / 2**levels`` frames of the coarsest graph
(one node per person at 4 levels) and each of its ``levels`` stages doubles the
frames; the critic halves them per stage:

* Each person's skeleton is coarsened by a fixed pyramid
  25 joints -> 11 -> 5 -> 1 (see :data:`PERSON_PYRAMID`): level 1 keeps hip
  centre, shoulder centre, head, elbows, hands, knees and feet (each cluster
  the mean of its joints); level 2 has torso, two arms and two legs; level 3
  is the whole body. Downsampling is the mean over a cluster, upsampling copies
  a coarse node to every joint of its cluster; the graph convolutions that
  follow smooth the copies. Both matrices are fixed (not learned), which keeps
  the pyramid interpretable and the parameter count small.
* Inter-person edges join the two spine bases (the people's relative position)
  and, by default, each person's hands to the other's spine (SpineMid at level
  0, the hip-centre cluster at level 1, the torso at level 2). Punching,
  pushing, slapping, knocking over, knife and object attacks are hand-to-body
  contacts, so these edges let one convolution see the hand of one person and
  the body of the other; the edges are symmetric because the receiver often
  blocks or pushes back. ``inter_edges="spine"`` keeps only the spine-base
  edge, ``"none"`` makes the two people independent except through the
  coarsest level's shared latent.
* After each spatial upsampling the generator adds a learned per-node,
  per-channel offset, so the copies of one coarse node start distinct (graph
  convolutions share their weights across nodes; without it the joints of a
  cluster differ only through edge-importance scalars). Kinetic-GAN has no
  such term.
* A graph convolution has ``K = 4`` adjacency subsets (ST-GCN's spatial
  partition plus one for the other person): self, intra-body neighbours closer
  to the body centre (SpineBase), intra-body neighbours further away, and
  inter-person neighbours, each row-normalised, each with a learned
  edge-importance mask.

Data are normalised before training by an invertible transform stored with the
generator (:class:`Normaliser`): subtract the per-(person, joint, axis) mean of
the training set, divide by the per-axis standard deviation. ``sample()``
inverts it, so generated arrays are metres in the same centred frame as the
real data.

Choices where Kinetic-GAN's code differs or is silent (also listed in the
book's Ambiguities page):

* One *iteration* is one generator update after ``n_critic = 5`` critic
  updates, each critic update on a fresh real batch. (Kinetic-GAN counts critic
  batches and updates the generator on every fifth.)
* The generator's last layer is a linear 1x1 convolution (no ``tanh``): the
  data are standardised, not scaled to [-1, 1].
* No batch normalisation anywhere (WGAN-GP forbids it in the critic; in the
  generator it would make a sample depend on its batch).
* Time is upsampled by linear interpolation (x2 per stage) and downsampled by
  average pooling; Kinetic-GAN uses nearest-neighbour resizing.
* The critic sees the class both as extra input channels (Kinetic-GAN) and
  through a projection term (Miyato & Koyama 2018); ``critic_projection=False``
  gives Kinetic-GAN's form.
* The generator's labels in an iteration are those of the last real batch, so
  classes are drawn with their training frequencies.
* Three options Kinetic-GAN does not have, off by default and on in the ``cpu30``
  preset (see :class:`GANConfig`): ``output="bones"`` generates each person as a
  root trajectory plus bone directions and bounded length factors, joined by
  forward kinematics, so a sample is a skeleton from the first iteration on and
  limbs cannot stretch; ``aux_weight > 0`` adds an auxiliary class head to the
  critic (AC-GAN), whose cross-entropy the generator also minimises, which
  strengthens the class signal that a short training run otherwise learns late;
  ``gp_every > 1`` computes the gradient penalty lazily.

Only the *training* part of the real data may be passed to :func:`train_gan`;
the test split must never reach the generator.
"""
from __future__ import annotations

import dataclasses
import io
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from skelutils.config import atomic_write_bytes, write_json
from skelutils.hybrid import dataset_fingerprint, resample_frames
from skelutils.ntu import BONES, NUM_JOINTS

__all__ = [
    "GANConfig", "GAN_PRESETS", "gan_preset", "Normaliser", "Generator", "Critic",
    "person_pyramid_graphs", "gradient_penalty", "train_gan", "load_generator", "sample",
    "CHECKPOINT_NAME",
]

#: File name of the training checkpoint inside a run folder.
CHECKPOINT_NAME = "gan_last.pt"
_FORMAT = "skelutils.gan/1"
_NUM_PERSONS = 2

# ---------------------------------------------------------------------------
# Graph pyramid
# ---------------------------------------------------------------------------

#: Per-person pyramid. For each level >= 1: ``clusters`` lists, per coarse node,
#: the nodes of the level below that it pools; ``edges`` are the coarse bones;
#: ``inter`` the (own node, other person's node) pairs joined across people when
#: ``inter_edges="spine+hands"`` (the first pair is the spine link used by
#: ``"spine"``). Level 0 is the Kinect v2 skeleton (:data:`skelutils.ntu.BONES`).
PERSON_PYRAMID: tuple[dict, ...] = (
    {"n": 25, "edges": BONES, "centre": 0,
     # SpineBase-SpineBase, HandLeft->SpineMid, HandRight->SpineMid
     "inter": ((0, 0), (7, 1), (11, 1))},
    {"n": 11,
     # 0 hip centre, 1 shoulder centre, 2 head, 3 elbow L, 4 hand L, 5 elbow R,
     # 6 hand R, 7 knee L, 8 foot L, 9 knee R, 10 foot R
     "clusters": ((0, 1, 12, 16), (20, 2, 4, 8), (3,), (5,), (6, 7, 21, 22), (9,),
                  (10, 11, 23, 24), (13,), (14, 15), (17,), (18, 19)),
     "edges": ((1, 0), (2, 1), (3, 1), (4, 3), (5, 1), (6, 5), (7, 0), (8, 7), (9, 0), (10, 9)),
     "centre": 0, "inter": ((0, 0), (4, 0), (6, 0))},
    {"n": 5,
     # 0 torso+head, 1 left arm, 2 right arm, 3 left leg, 4 right leg
     "clusters": ((0, 1, 2), (3, 4), (5, 6), (7, 8), (9, 10)),
     "edges": ((1, 0), (2, 0), (3, 0), (4, 0)), "centre": 0, "inter": ((0, 0), (1, 0), (2, 0))},
    {"n": 1, "clusters": ((0, 1, 2, 3, 4),), "edges": (), "centre": 0, "inter": ((0, 0),)},
)

_INTER_CHOICES = ("spine+hands", "spine", "none")
_OUTPUT_CHOICES = ("joints", "bones")
#: Largest log length factor of a generated bone (``output="bones"``): exp(0.2) = 1.22.
_BONE_LOG_SCALE = 0.2


def _hops_from(n: int, edges, centre: int) -> np.ndarray:
    adj = [[] for _ in range(n)]
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    dist = np.full(n, 10**6)
    dist[centre] = 0
    frontier = [centre]
    while frontier:
        nxt = []
        for u in frontier:
            for w in adj[u]:
                if dist[w] > dist[u] + 1:
                    dist[w] = dist[u] + 1
                    nxt.append(w)
        frontier = nxt
    return dist


def _row_normalise(a: np.ndarray, deg: np.ndarray) -> np.ndarray:
    out = np.zeros_like(a)
    nz = deg > 0
    out[nz] = a[nz] / deg[nz, None]
    return out


def person_pyramid_graphs(levels: int = 4, inter_edges: str = "spine+hands"):
    """The two-person graphs and pooling matrices of the pyramid.

    Args:
        levels: number of pyramid levels used, 1..4 (level 0 = 25 joints per person).
        inter_edges: ``"spine+hands"`` (default), ``"spine"`` or ``"none"``.

    Returns:
        ``(adjacency, down, up)``: ``adjacency[l]`` float32 ``(4, V_l, V_l)`` with
        ``V_l = 2 * n_l`` (subsets self, closer to centre, further, other person;
        ``A[k, i, j]`` is the weight node ``i`` gives node ``j``); ``down[l]``
        float32 ``(V_{l+1}, V_l)`` cluster means; ``up[l]`` float32
        ``(V_l, V_{l+1})`` cluster copies, for ``l = 0 .. levels - 2``.
    """
    if not 1 <= int(levels) <= len(PERSON_PYRAMID):
        raise ValueError(f"GANConfig.levels={levels!r}: expected 1..{len(PERSON_PYRAMID)}")
    if inter_edges not in _INTER_CHOICES:
        raise ValueError(f"GANConfig.inter_edges={inter_edges!r}: expected one of {_INTER_CHOICES}")
    adjacency, down, up = [], [], []
    for lvl in range(levels):
        spec = PERSON_PYRAMID[lvl]
        n = spec["n"]
        v = _NUM_PERSONS * n
        hops = _hops_from(n, spec["edges"], spec["centre"])
        full = np.eye(v)
        closer = np.zeros((v, v))
        further = np.zeros((v, v))
        inter = np.zeros((v, v))
        for m in range(_NUM_PERSONS):
            o = m * n
            for a, b in spec["edges"]:
                for i, j in ((a, b), (b, a)):
                    (closer if hops[j] < hops[i] else further)[o + i, o + j] = 1.0
                    full[o + i, o + j] = 1.0
        pairs = () if inter_edges == "none" else (
            spec["inter"][:1] if inter_edges == "spine" else spec["inter"])
        for a, b in pairs:  # own node a of person m <-> node b of the other person
            for m in range(_NUM_PERSONS):
                i, j = m * n + a, (1 - m) * n + b
                inter[i, j] = inter[j, i] = 1.0
                full[i, j] = full[j, i] = 1.0
        deg = full.sum(1)
        a_k = np.stack([_row_normalise(np.eye(v), deg), _row_normalise(closer, deg),
                        _row_normalise(further, deg), _row_normalise(inter, deg)])
        adjacency.append(a_k.astype(np.float32))
        if lvl + 1 < levels:
            clusters = PERSON_PYRAMID[lvl + 1]["clusters"]
            n_c = len(clusters)
            member = np.zeros((_NUM_PERSONS * n_c, v))
            for m in range(_NUM_PERSONS):
                for c, nodes in enumerate(clusters):
                    for j in nodes:
                        member[m * n_c + c, m * n + j] = 1.0
            down.append((member / member.sum(1, keepdims=True)).astype(np.float32))
            up.append(member.T.astype(np.float32).copy())
    return adjacency, down, up


# ---------------------------------------------------------------------------
# Configuration and presets
# ---------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class GANConfig:
    """Sizes and hyperparameters of the generator, the critic and their training.

    Attributes:
        t_size: frames per generated sequence; divisible by ``2 ** levels``. Default 64
            (the ``smoke`` and ``cpu30`` presets use 32 to halve the cost; training data
            are resampled to ``t_size`` and ``sample(frames=64)`` resamples back).
        n_classes: number of classes (7 harmful actions).
        latent_dim: size of ``z`` and of the mapping network's output ``w``. Kinetic-GAN: 512.
        embed_dim: size of the learned class embedding concatenated to ``z`` (and to
            the critic's input channels). Kinetic-GAN uses ``n_classes``.
        mapping_layers: depth of the mapping MLP (Kinetic-GAN "mlp4" on NTU cross-subject).
        levels: pyramid levels, 1..4 (4: 50 -> 22 -> 10 -> 2 nodes for two people).
        g_channels: generator channels per stage, coarse to fine (``levels`` entries).
        d_channels: critic channels per stage, fine to coarse (``levels`` entries).
        blocks_per_stage: spatio-temporal graph conv blocks per stage.
        temporal_kernel: odd temporal kernel of the blocks (Kinetic-GAN: 3).
        inter_edges: ``"spine+hands"``, ``"spine"`` or ``"none"`` (see module docs).
        noise_injection: per-layer noise with learned per-channel scale (zero at init).
        critic_projection: add the projection-discriminator class term to the critic.
        aux_weight: weight of an auxiliary classification loss (AC-GAN; Odena et al. 2017, as
            Gulrajani et al. 2017 trained their conditional WGAN-GP). If > 0 the critic gets a
            linear class head on its pooled features, trained with cross-entropy on real
            batches; the generator adds the same loss on its samples. The critic then does not
            take the label as input channels (its head could read the label off them); the
            projection term still conditions its score. Kinetic-GAN: 0 (no such head).
        output: ``"joints"`` (Kinetic-GAN: the last layer gives each joint's standardised
            position) or ``"bones"``: per person, the root (SpineBase) position plus, per bone,
            a direction (added to the training set's mean direction, then normalised) and a
            length factor ``exp(0.2 tanh(s))`` times the training set's mean length; joints follow
            by forward kinematics along :data:`skelutils.ntu.BONES`. Limbs cannot stretch by
            more than about 22%, whatever the training length.
        n_critic: critic updates per generator update (5).
        lambda_gp: gradient-penalty weight (10).
        gp_every: compute the gradient penalty on every ``gp_every``-th critic update only, with
            weight ``lambda_gp * gp_every`` (lazy regularisation, Karras et al. 2020). The
            penalty's double backward pass costs about as much as the rest of a critic update
            on CPU; 1 (Kinetic-GAN) computes it every time.
        lr: Adam learning rate for both networks (2e-4).
        betas: Adam betas ((0.5, 0.999)).
    """

    t_size: int = 64
    n_classes: int = 7
    latent_dim: int = 512
    embed_dim: int = 7
    mapping_layers: int = 4
    levels: int = 4
    g_channels: tuple[int, ...] = (512, 256, 128, 64)
    d_channels: tuple[int, ...] = (64, 128, 256, 512)
    blocks_per_stage: int = 2
    temporal_kernel: int = 3
    inter_edges: str = "spine+hands"
    noise_injection: bool = True
    critic_projection: bool = True
    aux_weight: float = 0.0
    output: str = "joints"
    n_critic: int = 5
    lambda_gp: float = 10.0
    gp_every: int = 1
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)

    def __post_init__(self):
        for name in ("g_channels", "d_channels", "betas"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        bad = []
        if not 1 <= self.levels <= len(PERSON_PYRAMID):
            bad.append(f"levels={self.levels} (expected 1..{len(PERSON_PYRAMID)})")
        if self.t_size <= 0 or self.t_size % (2 ** self.levels):
            bad.append(f"t_size={self.t_size} (expected a positive multiple of 2**levels = "
                       f"{2 ** self.levels})")
        for name in ("g_channels", "d_channels"):
            ch = getattr(self, name)
            if len(ch) != self.levels or any(int(c) <= 0 for c in ch):
                bad.append(f"{name}={ch} (expected {self.levels} positive ints, one per level)")
        if self.temporal_kernel % 2 != 1:
            bad.append(f"temporal_kernel={self.temporal_kernel} (expected odd)")
        if self.inter_edges not in _INTER_CHOICES:
            bad.append(f"inter_edges={self.inter_edges!r} (expected one of {_INTER_CHOICES})")
        for name in ("n_classes", "latent_dim", "embed_dim", "mapping_layers", "blocks_per_stage",
                     "n_critic", "gp_every"):
            if int(getattr(self, name)) < 1:
                bad.append(f"{name}={getattr(self, name)} (expected >= 1)")
        if self.output not in _OUTPUT_CHOICES:
            bad.append(f"output={self.output!r} (expected one of {_OUTPUT_CHOICES})")
        if not (self.aux_weight >= 0 and math.isfinite(self.aux_weight)):
            bad.append(f"aux_weight={self.aux_weight} (expected a finite number >= 0)")
        if bad:
            raise ValueError("invalid GANConfig: " + "; ".join(bad))

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of JSON/pickle-safe values (tuples become lists)."""
        return {k: (list(v) if isinstance(v, tuple) else v)
                for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "GANConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise a ValueError naming them."""
        names = {f.name for f in dataclasses.fields(cls)}
        extra = sorted(set(d) - names)
        if extra:
            raise ValueError(f"GANConfig: unknown fields {extra}; known: {sorted(names)}")
        return cls(**d)


#: Named configurations with their training length. ``smoke``: a minute or two on
#: two CPU cores, poor samples (checks that the pipeline runs). ``cpu30``: about
#: 30 minutes on two CPU cores, with the bone output, the auxiliary class head, lazy
#: gradient penalty and lr 5e-4, which a short run needs (in 150 updates the same
#: options leave the smoke generator at one pose, so smoke keeps Kinetic-GAN's form).
#: ``full``: Kinetic-GAN as published (latent 512, mapping depth 4, 512-channel
#: coarse layers, T = 64, batch 32, joint output, no class head) for a GPU.
GAN_PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"config": GANConfig(t_size=32, latent_dim=64, embed_dim=7, mapping_layers=2,
                                  levels=4, g_channels=(32, 32, 16, 16), d_channels=(16, 16, 32, 32),
                                  blocks_per_stage=1),
              "iterations": 150, "batch_size": 16},
    "cpu30": {"config": GANConfig(t_size=32, latent_dim=128, embed_dim=8, mapping_layers=3,
                                  levels=4, g_channels=(128, 64, 48, 32), d_channels=(24, 48, 64, 128),
                                  blocks_per_stage=1, output="bones", aux_weight=10.0, lr=5e-4,
                                  gp_every=4),
              "iterations": 2400, "batch_size": 32},
    "full": {"config": GANConfig(), "iterations": 40000, "batch_size": 32},
}


def gan_preset(name: str) -> tuple[GANConfig, dict[str, int]]:
    """``(config, {"iterations": .., "batch_size": ..})`` of a preset in :data:`GAN_PRESETS`."""
    if name not in GAN_PRESETS:
        raise KeyError(f"GAN preset {name!r} unknown; choose one of {sorted(GAN_PRESETS)}")
    p = GAN_PRESETS[name]
    return p["config"], {"iterations": p["iterations"], "batch_size": p["batch_size"]}


# ---------------------------------------------------------------------------
# Layout and normalisation
# ---------------------------------------------------------------------------

def _to_internal(x: torch.Tensor) -> torch.Tensor:
    """(N, 2, T, 25, 3) -> (N, 3, T, 50), node = person * 25 + joint."""
    n, m, t, v, c = x.shape
    return x.permute(0, 4, 2, 1, 3).reshape(n, c, t, m * v)


def _from_internal(x: torch.Tensor) -> torch.Tensor:
    """(N, C, T, 50) -> (N, 2, T, 25, C)."""
    n, c, t, _ = x.shape
    return x.reshape(n, c, t, _NUM_PERSONS, NUM_JOINTS).permute(0, 3, 2, 4, 1)


class Normaliser(nn.Module):
    """Invertible per-dataset standardisation of centred coordinates.

    ``z = (x - mean[m, v, c]) / std[c]``: the mean is taken per person, joint and
    axis over samples and frames, the standard deviation per axis over
    everything (so bone proportions are not distorted). Both are buffers and
    travel in the generator's ``state_dict``.
    """

    def __init__(self, mean: np.ndarray | None = None, std: np.ndarray | None = None,
                 bone_mean: np.ndarray | None = None):
        super().__init__()
        mean = np.zeros((_NUM_PERSONS, NUM_JOINTS, 3), np.float32) if mean is None else mean
        std = np.ones(3, np.float32) if std is None else std
        self.register_buffer("mean", torch.as_tensor(np.asarray(mean, np.float32)).clone())
        self.register_buffer("std", torch.as_tensor(np.asarray(std, np.float32)).clone())
        if bone_mean is None:  # a unit bone along +y for every joint but the root
            bone_mean = np.zeros((_NUM_PERSONS, NUM_JOINTS, 3), np.float32)
            bone_mean[:, 1:, 1] = 1.0
        self.register_buffer("bone_mean", torch.as_tensor(np.asarray(bone_mean, np.float32)).clone())

    @classmethod
    def fit(cls, x: np.ndarray) -> "Normaliser":
        """Fit on training data ``x`` (N, 2, T, 25, 3) metres (float64 accumulation).

        Besides the mean and spread it records ``bone_mean`` (2, 25, 3): per person, the mean
        vector from each joint's parent to the joint over frames where the person is present,
        and the mean bone *length* as its norm (row 0, the root, is zero). ``output="bones"``
        generators start from these directions and lengths.
        """
        x64 = np.asarray(x, np.float64)
        mean = x64.mean(axis=(0, 2))                                       # (2, 25, 3)
        std = (x64 - mean[None, :, None]).reshape(-1, 3).std(axis=0)       # (3,)
        std = np.maximum(std, 1e-6)
        child, parent = np.asarray(BONES).T
        vec = x64[..., child, :] - x64[..., parent, :]                    # (N, 2, T, B, 3)
        present = (np.abs(x64).sum(axis=(3, 4)) > 0)[..., None, None]      # (N, 2, T, 1, 1)
        cnt = np.maximum(present.sum(axis=(0, 2)), 1)                      # (2, 1, 1)
        direction = np.where(present, vec, 0).sum(axis=(0, 2)) / cnt       # (2, B, 3)
        length = np.where(present, np.linalg.norm(vec, axis=-1, keepdims=True), 0).sum(axis=(0, 2)) / cnt
        dnorm = np.linalg.norm(direction, axis=-1, keepdims=True)
        unit = np.where(dnorm < 1e-9, (0.0, 1.0, 0.0), direction / np.maximum(dnorm, 1e-9))
        bone_mean = np.zeros((_NUM_PERSONS, NUM_JOINTS, 3))
        bone_mean[:, child] = unit * np.maximum(length, 1e-3)
        return cls(mean.astype(np.float32), std.astype(np.float32), bone_mean.astype(np.float32))

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """Metres (N, 2, T, 25, 3) -> standardised, same shape."""
        return (x - self.mean[None, :, None]) / self.std

    def denormalise(self, z: torch.Tensor) -> torch.Tensor:
        """Standardised (N, 2, T, 25, 3) -> metres, same shape."""
        return z * self.std + self.mean[None, :, None]


# ---------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------

class _STBlock(nn.Module):
    """Graph conv (K subsets, learned edge importance) -> LeakyReLU -> temporal conv
    (+ residual) -> optional noise injection -> LeakyReLU."""

    def __init__(self, c_in: int, c_out: int, adjacency: np.ndarray, kt: int, noise: bool):
        super().__init__()
        k, v, _ = adjacency.shape
        self.k, self.c_out = k, c_out
        self.register_buffer("A", torch.as_tensor(adjacency))
        self.edge_importance = nn.Parameter(torch.ones(k, v, v))
        # sum_k W_k (x A_k) == sum_k (W_k x) A_k: aggregate over the graph on the
        # narrower side (fewer channels through the node matmul).
        self.aggregate_first = c_in < c_out
        self.gcn = nn.Conv2d(c_in * k, c_out, 1) if self.aggregate_first else nn.Conv2d(c_in, c_out * k, 1)
        self.tcn = nn.Conv2d(c_out, c_out, (kt, 1), padding=(kt // 2, 0))
        self.res = nn.Identity() if c_in == c_out else nn.Conv2d(c_in, c_out, 1)
        self.noise_scale = nn.Parameter(torch.zeros(1, c_out, 1, 1)) if noise else None

    def forward(self, x: torch.Tensor, rng: torch.Generator | None = None) -> torch.Tensor:
        n, c_in, t, v = x.shape
        a = self.A * self.edge_importance                                   # (K, W, V)
        if self.aggregate_first:
            h = torch.einsum("nctv,kwv->nkctw", x, a).reshape(n, self.k * c_in, t, v)
            h = self.gcn(h)
        else:
            h = self.gcn(x).view(n, self.k, self.c_out, t, v)
            h = torch.einsum("nkctv,kwv->nctw", h, a)
        h = self.tcn(F.leaky_relu(h, 0.2)) + self.res(x)
        if self.noise_scale is not None:
            noise = torch.randn((n, 1, t, v), generator=rng, dtype=h.dtype).to(h.device)
            h = h + self.noise_scale * noise
        return F.leaky_relu(h, 0.2)


def _pool_nodes(x: torch.Tensor, mat: torch.Tensor) -> torch.Tensor:
    """Apply a (V_out, V_in) node matrix to (N, C, T, V_in)."""
    return torch.einsum("nctv,wv->nctw", x, mat)


class Generator(nn.Module):
    """Class-conditional two-person skeleton generator (see module docs).

    ``forward(z, labels)`` maps ``z`` float (N, latent_dim) and ``labels`` int64
    (N,) to *standardised* sequences (N, 2, T, 25, 3); :func:`sample` gives metres.
    """

    def __init__(self, cfg: GANConfig, normaliser: Normaliser | None = None):
        super().__init__()
        self.cfg = cfg
        adjacency, _, up = person_pyramid_graphs(cfg.levels, cfg.inter_edges)
        self.normaliser = normaliser if normaliser is not None else Normaliser()
        self.label_emb = nn.Embedding(cfg.n_classes, cfg.embed_dim)
        layers, width = [], cfg.latent_dim + cfg.embed_dim
        for _ in range(cfg.mapping_layers):
            layers += [nn.Linear(width, cfg.latent_dim), nn.LeakyReLU(0.2)]
            width = cfg.latent_dim
        self.mapping = nn.Sequential(*layers)
        self.t0 = cfg.t_size // 2 ** cfg.levels
        self.v_top = adjacency[-1].shape[-1]
        self.const = nn.Linear(cfg.latent_dim, cfg.g_channels[0] * self.t0 * self.v_top)
        self.stages = nn.ModuleList()
        # a learned per-node, per-channel offset after each spatial upsampling: copies of one
        # coarse node get distinct identities (the shared graph-conv weights cannot give them)
        self.node_bias = nn.ParameterList([
            nn.Parameter(torch.zeros(1, cfg.g_channels[max(s - 1, 0)], 1, adjacency[cfg.levels - 1 - s].shape[-1]))
            for s in range(cfg.levels)])
        c_in = cfg.g_channels[0]
        for s in range(cfg.levels):
            lvl = cfg.levels - 1 - s
            blocks = nn.ModuleList()
            for _ in range(cfg.blocks_per_stage):
                blocks.append(_STBlock(c_in, cfg.g_channels[s], adjacency[lvl], cfg.temporal_kernel,
                                       cfg.noise_injection))
                c_in = cfg.g_channels[s]
            self.stages.append(blocks)
        for s in range(cfg.levels - 1):  # up[l]: level l+1 -> l
            self.register_buffer(f"up_{s}", torch.as_tensor(up[cfg.levels - 2 - s]))
        self.to_xyz = nn.Conv2d(c_in, 4 if cfg.output == "bones" else 3, 1)
        if cfg.output == "bones":
            # chain[v, u] = 1 when bone u (the bone ending at joint u) lies on the path root -> v
            parent = {c: p for c, p in BONES}
            chain = np.zeros((NUM_JOINTS, NUM_JOINTS), np.float32)
            for v in range(NUM_JOINTS):
                u = v
                while u in parent:
                    chain[v, u] = 1.0
                    u = parent[u]
            self.register_buffer("chain", torch.as_tensor(chain))
            with torch.no_grad():  # every bone starts at its mean length
                self.to_xyz.weight[3].zero_()
                self.to_xyz.bias[3].zero_()

    def _kinematics(self, out: torch.Tensor) -> torch.Tensor:
        """Four channels per node, (N, 2, T, 25, 4) -> standardised joints (N, 2, T, 25, 3)."""
        norm = self.normaliser
        root = out[..., :1, :3] * norm.std + norm.mean[None, :, None, :1]        # metres
        mean_vec = norm.bone_mean[None, :, None]                                  # (1, 2, 1, 25, 3)
        length = mean_vec.norm(dim=-1, keepdim=True)
        d = out[..., :3] + mean_vec / length.clamp_min(1e-6)
        unit = d * torch.rsqrt((d * d).sum(-1, keepdim=True) + 1e-6)
        bone = unit * length * torch.exp(_BONE_LOG_SCALE * torch.tanh(out[..., 3:]))
        joints = root + torch.einsum("vu,nmtuc->nmtvc", self.chain, bone)
        return norm.normalise(joints)

    def forward(self, z: torch.Tensor, labels: torch.Tensor,
                rng: torch.Generator | None = None) -> torch.Tensor:
        """Standardised sequences (N, 2, T, 25, 3) for ``z`` (N, latent_dim), ``labels`` (N,).

        ``rng`` (a CPU ``torch.Generator``) drives the injected noise; None uses
        torch's global generator.
        """
        w = self.mapping(torch.cat([z, self.label_emb(labels)], dim=1))
        x = self.const(w).view(z.shape[0], -1, self.t0, self.v_top)
        for s, blocks in enumerate(self.stages):
            if s > 0:
                x = _pool_nodes(x, getattr(self, f"up_{s - 1}"))
            x = x + self.node_bias[s]
            x = F.interpolate(x, size=(x.shape[2] * 2, x.shape[3]), mode="bilinear",
                              align_corners=False)
            for block in blocks:
                x = block(x, rng)
        out = _from_internal(self.to_xyz(x))
        return self._kinematics(out) if self.cfg.output == "bones" else out


class Critic(nn.Module):
    """Class-conditional graph-convolutional critic: (N, 2, T, 25, 3) standardised -> (N,)."""

    def __init__(self, cfg: GANConfig):
        super().__init__()
        self.cfg = cfg
        adjacency, down, _ = person_pyramid_graphs(cfg.levels, cfg.inter_edges)
        self.label_input = cfg.aux_weight == 0
        self.label_emb = nn.Embedding(cfg.n_classes, cfg.embed_dim) if self.label_input else None
        self.stages = nn.ModuleList()
        c_in = 3 + (cfg.embed_dim if self.label_input else 0)
        for lvl in range(cfg.levels):
            blocks = nn.ModuleList()
            for _ in range(cfg.blocks_per_stage):
                blocks.append(_STBlock(c_in, cfg.d_channels[lvl], adjacency[lvl], cfg.temporal_kernel,
                                       noise=False))
                c_in = cfg.d_channels[lvl]
            self.stages.append(blocks)
        for lvl in range(cfg.levels - 1):
            self.register_buffer(f"down_{lvl}", torch.as_tensor(down[lvl]))
        self.fc = nn.Linear(c_in, 1)
        self.proj = nn.Embedding(cfg.n_classes, c_in) if cfg.critic_projection else None
        self.aux = nn.Linear(c_in, cfg.n_classes) if cfg.aux_weight > 0 else None

    def forward(self, x: torch.Tensor, labels: torch.Tensor,
                return_logits: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Scores (N,); with ``return_logits`` also the auxiliary class logits (N, n_classes)
        (only when ``cfg.aux_weight > 0``)."""
        h = _to_internal(x)
        n, _, t, v = h.shape
        if self.label_input:
            c = self.label_emb(labels)[:, :, None, None].expand(n, -1, t, v)
            h = torch.cat([h, c], dim=1)
        for lvl, blocks in enumerate(self.stages):
            for block in blocks:
                h = block(h)
            if lvl + 1 < len(self.stages):
                h = _pool_nodes(h, getattr(self, f"down_{lvl}"))
            h = F.avg_pool2d(h, (2, 1))
        feat = h.mean(dim=(2, 3))
        out = self.fc(feat).squeeze(1)
        if self.proj is not None:
            out = out + (self.proj(labels) * feat).sum(1)
        if return_logits:
            if self.aux is None:
                raise ValueError("Critic: return_logits needs GANConfig.aux_weight > 0")
            return out, self.aux(feat)
        return out


def gradient_penalty(critic: Critic, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor,
                     rng: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP penalty ``E[(||grad_x D(x_hat)||_2 - 1)^2]`` on random interpolates.

    Args:
        critic: the critic.
        real, fake: (N, 2, T, 25, 3) standardised batches.
        labels: int64 (N,).
        rng: CPU generator for the interpolation weights (uniform in [0, 1) per sample).

    Returns:
        Scalar tensor (differentiable w.r.t. the critic's parameters).
    """
    alpha = torch.rand((real.shape[0], 1, 1, 1, 1), generator=rng, dtype=real.dtype).to(real.device)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    out = critic(x_hat, labels)
    grad, = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return ((grad.reshape(grad.shape[0], -1).norm(2, dim=1) - 1) ** 2).mean()


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------

def _resolve_device(device: str | torch.device) -> torch.device:
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _check_data(x, y, cfg: GANConfig) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 5 or x.shape[1] != _NUM_PERSONS or x.shape[3] != NUM_JOINTS or x.shape[4] != 3:
        raise ValueError(f"train_gan: x has shape {x.shape}; expected (N, 2, T, 25, 3) metres "
                         "(two persons, 25 Kinect v2 joints, xyz) from the data layer")
    if y.shape != (x.shape[0],):
        raise ValueError(f"train_gan: y has shape {y.shape}; expected ({x.shape[0]},), one label per sample")
    if y.size and (y.min() < 0 or y.max() >= cfg.n_classes):
        raise ValueError(f"train_gan: labels span {y.min()}..{y.max()}; expected 0..{cfg.n_classes - 1}")
    if not np.isfinite(x).all():
        raise ValueError("train_gan: x holds NaN or inf values; clean the data first")
    return resample_frames(x, cfg.t_size), y.astype(np.int64, copy=False)


def _save_checkpoint(path: Path, state: dict) -> None:
    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write_bytes(path, buf.getvalue())


def _load_checkpoint(path: Path) -> dict:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # corrupted or foreign file
        raise ValueError(f"{path}: not a readable GAN checkpoint ({type(e).__name__}: {e}); delete it "
                         "to start over or point run_dir elsewhere") from e
    if not isinstance(ckpt, dict) or ckpt.get("format") != _FORMAT:
        raise ValueError(f"{path}: not a {_FORMAT} checkpoint written by skelutils.gan.train_gan")
    return ckpt


def _load_weights(module: nn.Module, state: dict, path: Path) -> None:
    try:
        module.load_state_dict(state)
    except RuntimeError as e:
        first = str(e).splitlines()[1].strip() if len(str(e).splitlines()) > 1 else str(e)
        raise ValueError(f"{path}: its {type(module).__name__} weights do not fit this version of "
                         f"skelutils.gan ({first}); the checkpoint was written by older code. Retrain "
                         "in a new run_dir or with resume=False.") from e


def _config_diff(saved: dict, cfg: GANConfig) -> list[str]:
    now = cfg.to_dict()
    keys = sorted(set(saved) | set(now))
    return [f"{k}: checkpoint {saved.get(k)!r} vs requested {now.get(k)!r}"
            for k in keys if saved.get(k) != now.get(k)]


def train_gan(x: np.ndarray, y: np.ndarray, cfg: GANConfig, *, run_dir: str | os.PathLike,
              iterations: int | None = None, epochs: float | None = None, batch_size: int = 32,
              seed: int = 0, device: str = "auto", progress: bool = True, resume: bool = True,
              log_every: int = 10, checkpoint_every: int = 100) -> dict[str, list]:
    """Train the generator and critic with WGAN-GP; checkpoint and resume.

    Pass only the *training* part of the real data (never validation or test):
    generated samples may later be mixed into any split, and a generator that
    has seen test sequences would leak them.

    Args:
        x: float32 (N, 2, T, 25, 3), metres, centred by the data layer. If ``T`` differs
            from ``cfg.t_size`` the sequences are resampled linearly in time to
            ``cfg.t_size`` (``skelutils.hybrid.resample_frames``).
        y: int (N,), labels 0..n_classes-1.
        cfg: sizes and hyperparameters.
        run_dir: folder for ``gan_last.pt`` (all weights, optimiser and RNG states,
            written atomically) and ``history.json``.
        iterations: total generator updates to reach (each after ``cfg.n_critic``
            critic updates on fresh real batches). Give this or ``epochs``.
        epochs: total passes over ``x`` in critic batches; converted to
            ``ceil(epochs * N / (batch_size * n_critic))`` iterations.
        batch_size: samples per critic and generator batch (Kinetic-GAN: 32); at most N.
        seed: one seed for initialisation, batches, latents, noise and penalties.
        device: ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"``, ...
        progress: show a tqdm bar.
        resume: continue from ``run_dir/gan_last.pt`` when present (the config,
            batch size, seed and data must match). A checkpoint of fewer updates than
            ``iterations`` is extended to ``iterations`` (as an uninterrupted run of that
            length); one of exactly ``iterations`` is returned as it is; one of more is
            refused. False starts afresh and overwrites it.
        log_every: iterations per history entry (values are means over the interval).
        checkpoint_every: iterations between checkpoints (one is also written at the end).
            A killed run loses at most this many iterations: called again with the same
            arguments it reloads weights, optimiser moments, the RNG state and the
            position in the shuffled data, and continues exactly as an uninterrupted run.

    Returns:
        History dict of equal-length lists: ``iteration``, ``critic_loss``
        (``D(fake) - D(real) + lambda * GP``), ``generator_loss`` (``-D(fake)``),
        ``gradient_penalty``, ``wasserstein`` (``D(real) - D(fake)``, the critic's
        estimate of the Wasserstein-1 distance), ``seconds`` (training time so far); with
        ``cfg.aux_weight > 0`` also ``aux_loss_real`` and ``aux_loss_generated`` (the class
        head's cross-entropy on real and generated batches; the two losses above include
        them, weighted).

    Raises:
        ValueError: bad shapes or labels, both or neither of iterations/epochs,
            or a checkpoint from another config, batch size, seed or data set, or of more
            generator updates than ``iterations``.

    The generator updates a run has received are the checkpoint's ``iteration``
    (``load_generator(run_dir).meta["iteration"]``), which provenance should record.
    """
    x, y = _check_data(x, y, cfg)
    n = x.shape[0]
    if (iterations is None) == (epochs is None):
        raise ValueError("train_gan: give exactly one of iterations= or epochs=")
    if not 1 <= batch_size <= n:
        raise ValueError(f"train_gan: batch_size={batch_size} but only {n} training samples; "
                         f"use a batch size between 1 and {n}")
    if iterations is None:
        iterations = math.ceil(float(epochs) * n / (batch_size * cfg.n_critic))
    iterations = int(iterations)
    dev = _resolve_device(device)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = run_dir / CHECKPOINT_NAME
    fingerprint = dataset_fingerprint(x, y)
    run_info = {"batch_size": int(batch_size), "seed": int(seed), "data_fingerprint": fingerprint,
                "n_train": int(n)}

    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(int(seed))
    gen = Generator(cfg, Normaliser.fit(x)).to(dev)
    critic = Critic(cfg).to(dev)
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.lr, betas=cfg.betas)
    opt_d = torch.optim.Adam(critic.parameters(), lr=cfg.lr, betas=cfg.betas)
    aux = cfg.aux_weight > 0
    logged = ("critic_loss", "generator_loss", "gradient_penalty", "wasserstein") + (
        ("aux_loss_real", "aux_loss_generated") if aux else ())
    history: dict[str, list] = {k: [] for k in ("iteration", *logged, "seconds")}
    start, perm, pos, elapsed = 0, torch.randperm(n, generator=rng), 0, 0.0

    if resume and ckpt_path.is_file():
        ckpt = _load_checkpoint(ckpt_path)
        diff = _config_diff(ckpt["config"], cfg)
        if diff:
            raise ValueError(f"{ckpt_path} was made with another GANConfig ({'; '.join(diff)}). "
                             "Use a new run_dir, pass the checkpoint's config, or resume=False to "
                             "start afresh (overwrites it).")
        rdiff = [f"{k}: checkpoint {ckpt['run'].get(k)!r} vs requested {v!r}"
                 for k, v in run_info.items() if ckpt["run"].get(k) != v]
        if rdiff:
            raise ValueError(f"{ckpt_path} belongs to another run ({'; '.join(rdiff)}). Resume with "
                             "the same data, batch size and seed, use a new run_dir, or resume=False.")
        done = int(ckpt["iteration"])
        if done > iterations:
            raise ValueError(f"{ckpt_path} holds a run of {done} generator updates, more than the "
                             f"{iterations} requested; a run cannot be shortened. Request iterations >= "
                             f"{done} to use (or extend) it, use a new run_dir, or resume=False to start "
                             "afresh (overwrites it).")
        _load_weights(gen, ckpt["generator"], ckpt_path)
        _load_weights(critic, ckpt["critic"], ckpt_path)
        opt_g.load_state_dict(ckpt["opt_g"])
        opt_d.load_state_dict(ckpt["opt_d"])
        rng.set_state(ckpt["rng"]["torch"])
        perm, pos = ckpt["rng"]["perm"].clone(), int(ckpt["rng"]["pos"])
        start, history, elapsed = int(ckpt["iteration"]), ckpt["history"], float(ckpt["seconds"])

    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y)
    norm = gen.normaliser

    def next_batch():
        nonlocal perm, pos
        if pos + batch_size > n:
            perm, pos = torch.randperm(n, generator=rng), 0
        idx = perm[pos:pos + batch_size]
        pos += batch_size
        xb = xt[idx].to(dev)
        return norm.normalise(xb), yt[idx].to(dev)

    def save(it: int):
        state = {"format": _FORMAT, "config": cfg.to_dict(), "run": run_info, "iteration": it,
                 "iterations_requested": iterations,
                 "seconds": elapsed, "generator": gen.state_dict(), "critic": critic.state_dict(),
                 "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
                 "rng": {"torch": rng.get_state(), "perm": perm, "pos": pos},
                 "history": history, "torch_version": str(torch.__version__)}
        _save_checkpoint(ckpt_path, state)
        write_json(run_dir / "history.json", {"config": cfg.to_dict(), "run": run_info,
                                              "iteration": it, "history": history})

    bar = None
    if progress and start < iterations:
        from tqdm.auto import tqdm
        bar = tqdm(total=iterations, initial=start, desc="GAN", unit="it")
    acc = np.zeros(len(logged))
    acc_n = 0
    gen.train()
    critic.train()
    t_last = time.perf_counter()
    def score(batch, lab):
        """Mean critic score and, with a class head, its cross-entropy (else None)."""
        if not aux:
            return critic(batch, lab).mean(), None
        out, logits = critic(batch, lab, return_logits=True)
        return out.mean(), F.cross_entropy(logits, lab)

    gp = torch.tensor(float("nan"))  # the last computed penalty (gp_every may skip updates)
    for it in range(start, iterations):
        for k in range(cfg.n_critic):
            real, lab = next_batch()
            z = torch.randn((batch_size, cfg.latent_dim), generator=rng).to(dev)
            with torch.no_grad():
                fake = gen(z, lab, rng)
            d_real, aux_d = score(real, lab)
            d_fake = critic(fake, lab).mean()
            if (it * cfg.n_critic + k) % cfg.gp_every == 0:
                gp = gradient_penalty(critic, real, fake, lab, rng)
                loss_d = d_fake - d_real + cfg.lambda_gp * cfg.gp_every * gp
            else:
                loss_d = d_fake - d_real
            if aux:
                loss_d = loss_d + cfg.aux_weight * aux_d
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        z = torch.randn((batch_size, cfg.latent_dim), generator=rng).to(dev)
        d_gen, aux_g = score(gen(z, lab, rng), lab)
        loss_g = -d_gen
        if aux:
            loss_g = loss_g + cfg.aux_weight * aux_g
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        vals = [loss_d.item(), loss_g.item(), gp.item(), (d_real - d_fake).item()]
        acc += (vals + [aux_d.item(), aux_g.item()]) if aux else vals
        acc_n += 1
        now = time.perf_counter()
        elapsed += now - t_last
        t_last = now
        done = it + 1
        if done % log_every == 0 or done == iterations:
            m = acc / acc_n
            for key, val in zip(logged, m):
                history[key].append(float(val))
            history["iteration"].append(done)
            history["seconds"].append(round(elapsed, 3))
            acc[:] = 0
            acc_n = 0
            if bar is not None:
                bar.set_postfix(W=f"{m[3]:.3f}", D=f"{m[0]:.3f}", G=f"{m[1]:.3f}")
        if done % checkpoint_every == 0 or done == iterations:
            save(done)
            t_last = time.perf_counter()
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    if start >= iterations and not ckpt_path.is_file():
        save(start)
    return history


# ---------------------------------------------------------------------------
# Loading and sampling
# ---------------------------------------------------------------------------

def load_generator(run_dir: str | os.PathLike, device: str = "cpu") -> Generator:
    """The trained generator of a run (``run_dir/gan_last.pt``), in eval mode.

    The returned module has ``.cfg`` (:class:`GANConfig`), ``.normaliser`` and
    ``.meta`` (``iteration``: the generator updates it received; ``run``: run info; ``seconds``:
    training time).

    Raises:
        FileNotFoundError: no checkpoint; train with :func:`train_gan`
            (notebooks/02_gan.ipynb) first.
    """
    path = Path(run_dir)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no GAN checkpoint at {path}; train one with skelutils.gan.train_gan "
                                "(run notebooks/02_gan.ipynb) first")
    ckpt = _load_checkpoint(path)
    cfg = GANConfig.from_dict(ckpt["config"])
    gen = Generator(cfg)
    _load_weights(gen, ckpt["generator"], path)
    gen.meta = {"iteration": int(ckpt["iteration"]), "run": dict(ckpt["run"]),
                "seconds": float(ckpt["seconds"]), "checkpoint": str(path)}
    return gen.to(_resolve_device(device)).eval()


def _class_seed(seed: int, label: int) -> int:
    return int(np.random.SeedSequence([int(seed), int(label)]).generate_state(1, np.uint64)[0] >> 1)


@torch.no_grad()
def sample(generator_or_run_dir: Generator | str | os.PathLike, n_per_class: int | dict[int, int],
           seed: int = 0, device: str = "auto", batch_size: int = 256,
           frames: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Generate sequences in metres, deterministically for a seed.

    Each class draws its latents and noise from its own generator seeded by
    ``(seed, class)``, so a class's samples do not depend on which other
    classes are asked for; within a class they depend on ``batch_size``
    (the noise is drawn batch by batch). CPU results are bit-reproducible;
    CUDA results may differ in the last bits.

    Args:
        generator_or_run_dir: a :class:`Generator` or a run folder / checkpoint path.
        n_per_class: samples per class (int, all classes) or ``{label: count}``.
        seed: sampling seed.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...
        batch_size: samples per forward pass.
        frames: if given, resample the output linearly to this many frames
            (e.g. 64 when the generator was trained at ``t_size=32``); default
            ``cfg.t_size``.

    Returns:
        ``(x, y)``: float32 (N, 2, T, 25, 3) metres in the data layer's centred
        frame, int64 (N,) labels, sorted by class.
    """
    dev = _resolve_device(device)
    gen = (generator_or_run_dir if isinstance(generator_or_run_dir, Generator)
           else load_generator(generator_or_run_dir))
    cfg = gen.cfg
    if isinstance(n_per_class, dict):
        counts = {int(k): int(v) for k, v in n_per_class.items()}
    else:
        counts = {c: int(n_per_class) for c in range(cfg.n_classes)}
    bad = [k for k, v in counts.items() if not 0 <= k < cfg.n_classes or v < 0]
    if bad:
        raise ValueError(f"sample: n_per_class has invalid entries for labels {bad}; labels are "
                         f"0..{cfg.n_classes - 1} and counts must be >= 0")
    was_training = gen.training
    gen.to(dev).eval()
    xs, ys = [], []
    try:
        for c in sorted(counts):
            rng = torch.Generator().manual_seed(_class_seed(seed, c))
            left = counts[c]
            while left > 0:
                b = min(batch_size, left)
                z = torch.randn((b, cfg.latent_dim), generator=rng).to(dev)
                lab = torch.full((b,), c, dtype=torch.int64, device=dev)
                xs.append(gen.normaliser.denormalise(gen(z, lab, rng)).float().cpu().numpy())
                ys.append(np.full(b, c, np.int64))
                left -= b
    finally:
        gen.train(was_training)
    t_out = cfg.t_size if frames is None else int(frames)
    if not xs:
        return (np.zeros((0, _NUM_PERSONS, t_out, NUM_JOINTS, 3), np.float32),
                np.zeros(0, np.int64))
    return resample_frames(np.concatenate(xs), t_out), np.concatenate(ys)
