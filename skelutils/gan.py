"""Class-conditional skeleton synthesis: Kinetic-GAN as published, and a two-person design.

Kinetic-GAN (Degardin et al., WACV 2022) is a Wasserstein GAN with gradient
penalty whose generator and critic are spatio-temporal graph convolutional
networks over a *pyramid* of skeleton graphs: the generator starts from one
coarse node and a few frames and upsamples in space (graph unpooling) and time
until it reaches the full skeleton and ``T`` frames; the critic mirrors it. A
latent vector ``z`` and a class embedding pass through an MLP *mapping network*
first, and every generator layer adds per-pixel Gaussian noise scaled by a
learned per-channel weight (*noise injection*, as in StyleGAN).

Two architectures (:attr:`GANConfig.arch`):

* ``"kinetic_gan"`` (preset ``kinetic_gan``, the paper's reading, used by the ``full``
  profile): the networks of Kinetic-GAN's public code (DegardinBruno/Kinetic-GAN,
  ``models/generator.py``, ``models/discriminator.py``, ``models/init_gan/graph_ntu.py``),
  the same layers and parameter count (3,627,938 + 3,323,476 for 7 classes), for *one*
  person, as Kinetic-GAN generates: its pyramid 25 -> 11 -> 5 -> 1 made by removing leaf
  joints (:func:`kinetic_gan_graphs`), ST-GCN's 3-subset partition centred on
  SpineShoulder, a mapping network as wide as ``z`` plus the label embedding, the
  generator's seven blocks from ``w`` as one frame of one node with nearest-neighbour
  resizing, BatchNorm after three of its temporal convolutions and its residual
  convolutions, ``tanh`` on data min-max scaled to [-1, 1], a critic of six blocks that
  keeps the coarser level's nodes (node selection) and has no projection term, and
  truncation ``psi = 0.95`` in ``w`` when sampling. The critic sees person 0 (the data
  layer's actor, the one who moves most); generated samples have person 1 absent (zeros),
  as an NTU file with one body, so the recognisers receive the usual ``(N, 2, T, 25, 3)``.
  Kinetic-GAN's training data are the first ``t_size`` frames of its stored arrays; ours are
  whole sequences resampled to ``t_size`` (:func:`train_gan`).
* ``"companion"`` (presets ``smoke``, ``cpu30``, ``full_two_person``): the companion's
  own design, described below. It is not Kinetic-GAN.

In the companion design our classes are interactions, so both people are generated *jointly*, as one
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

Choices of the companion design where Kinetic-GAN's code differs or is silent (also listed
in the book's Ambiguities page; the first and the sixth hold for both architectures):

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
  classes are drawn with their training frequencies (as in Kinetic-GAN, whose
  generator step reuses the critic batch's labels).
* Options Kinetic-GAN does not have, off by default (see :class:`GANConfig`):
  ``output="bones"`` generates each person as a root trajectory plus bone
  directions and bounded length factors, joined by forward kinematics, so a
  sample is a skeleton from the first iteration on and limbs cannot stretch;
  ``aux_weight > 0`` adds an auxiliary class head (AC-GAN), whose cross-entropy
  the generator also minimises, on the critic's features or, with
  ``aux_head="separate"``, as a classifier of its own; ``class_template = k``
  makes the generator's output a residual on one of ``k`` learned templates of
  its class, started at k-means cluster means of the class's training data;
  ``gp_every > 1`` computes the gradient penalty lazily. The ``cpu30`` preset
  uses all of them (the ``smoke`` preset the first and the templates), because a
  short run otherwise learns the class late or not at all.

Only the *training* part of the real data may be passed to :func:`train_gan`;
the test split must never reach the generator.
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from skelutils.config import write_json
from skelutils.hybrid import arrays_fingerprint, resample_frames
from skelutils.ntu import BONES, NUM_JOINTS
# the training engine's device rule ("auto" is the GPU when one is visible) and atomic checkpoint write
from skelutils.train import resolve_device, save_checkpoint

__all__ = [
    "GANConfig", "GAN_PRESETS", "KINETIC_GAN_CONFIG", "gan_preset", "epochs_to_iterations", "generated_persons",
    "Normaliser", "Generator", "Critic", "person_pyramid_graphs", "kinetic_gan_graphs",
    "gradient_penalty", "train_gan", "load_generator", "sample", "class_templates", "CHECKPOINT_NAME",
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
_ARCH_CHOICES = ("companion", "kinetic_gan")
_AUX_HEAD_CHOICES = ("critic", "separate")
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
# Kinetic-GAN's one-person pyramid (arch="kinetic_gan")
# ---------------------------------------------------------------------------

#: The 24 Kinect v2 bones as Kinetic-GAN's graph lists them (0-based; its
#: ``models/init_gan/graph_ntu.py``). They differ from :data:`skelutils.ntu.BONES` in
#: the thumbs: Kinetic-GAN (like most NTU graph networks) joins each thumb to the hand,
#: the Kinect SDK to the wrist. The pyramid below depends on it, so it keeps
#: Kinetic-GAN's list.
KINETIC_GAN_EDGES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 20), (2, 20), (3, 2), (4, 20), (5, 4), (6, 5), (7, 6), (8, 20), (9, 8),
    (10, 9), (11, 10), (0, 12), (13, 12), (14, 13), (15, 14), (0, 16), (17, 16), (18, 17),
    (19, 18), (21, 7), (22, 7), (23, 11), (24, 11),
)
#: Centre of the spatial partition at level 0: SpineShoulder (joint 21 when counting from 1).
KINETIC_GAN_CENTRE = 20


def _remove_leaves(nodes: list[int], edges: set[frozenset]) -> tuple[list[int], set[frozenset]]:
    """One coarsening step of Kinetic-GAN's pyramid, on node labels of the level below.

    For ``d = 1, 2, ... 10``, in node order: a node of degree ``d`` that is not a neighbour of
    a node removed before at this level is removed, and its neighbours are joined to each
    other. When what is left is one cycle through all its nodes, the nodes that were not
    neighbours of a removed node go too (the NTU graph's third step ends in a triangle).
    """
    adj = {v: set() for v in nodes}
    for e in edges:
        a, b = tuple(e)
        adj[a].add(b)
        adj[b].add(a)
    order = list(nodes)
    stay: set[int] = set()
    for degree in range(1, 11):
        remove = []
        for v in order:
            if len(adj[v]) == degree and v not in stay:
                lost = sorted(adj[v])
                stay.update(lost)
                for i in lost:
                    adj[i].update(j for j in lost if j != i)
                remove.append(v)
        for v in remove:
            for u in adj.pop(v):
                if u in adj:
                    adj[u].discard(v)
        order = [v for v in order if v not in remove]
        ring = len(order) >= 3 and all(len(adj[v]) == 2 for v in order) and _connected(order, adj)
        if ring:
            last = [v for v in order if v not in stay]
            for v in last:
                for u in adj.pop(v):
                    if u in adj:
                        adj[u].discard(v)
            order = [v for v in order if v not in last]
    kept_edges = {frozenset((a, b)) for a in order for b in adj[a] if a != b}
    return order, kept_edges


def _connected(nodes: list[int], adj: dict[int, set]) -> bool:
    seen, todo = {nodes[0]}, [nodes[0]]
    while todo:
        for u in adj[todo.pop()]:
            if u not in seen:
                seen.add(u)
                todo.append(u)
    return len(seen) == len(nodes)


def _kinetic_partition(n: int, edges: set[frozenset], centre: int) -> np.ndarray:
    """ST-GCN's spatial partition as Kinetic-GAN builds it: (3, n, n) in its orientation
    (``A[k, v, w]`` is the weight output node ``w`` gives input node ``v``), columns
    normalised by degree (self included). Distances are those of ``max_hop=1`` (0, 1 or
    infinite), so a neighbour farther than one hop from the centre counts as "as close"."""
    hop = np.full((n, n), np.inf)
    np.fill_diagonal(hop, 0)
    for e in edges:
        a, b = tuple(e)
        hop[a, b] = hop[b, a] = 1
    adjacency = (hop <= 1).astype(np.float64)
    norm = adjacency / adjacency.sum(0, keepdims=True)
    root, close, further = (np.zeros((n, n)) for _ in range(3))
    for i in range(n):
        for j in range(n):
            if hop[j, i] > 1:
                continue
            if hop[j, centre] == hop[i, centre]:
                root[j, i] = norm[j, i]
            elif hop[j, centre] > hop[i, centre]:
                close[j, i] = norm[j, i]
            else:
                further[j, i] = norm[j, i]
    diag = np.eye(n, dtype=bool)
    return np.stack([np.where(diag, root, 0), np.where(diag, 0, root) + close, further])


def kinetic_gan_graphs(levels: int = 4) -> dict[str, list]:
    """Kinetic-GAN's pyramid of one-person graphs, 25 -> 11 -> 5 -> 1 nodes.

    Each level is made from the one below by removing leaf joints (see
    :func:`_remove_leaves`); the node kept at the top is SpineShoulder.

    Returns:
        dict of lists over levels ``l = 0 .. levels - 1``: ``n`` (nodes), ``kept``
        (``l >= 1``: the level-``l - 1`` indices of the level-``l`` nodes), ``edges``
        (sorted pairs), ``centre``, ``A`` float32 ``(3, n_l, n_l)`` (:func:`_kinetic_partition`);
        ``up[l]`` float32 ``(n_l, n_{l+1})`` for ``l < levels - 1``: a kept node copies its
        coarse node, a removed node takes the mean of its kept neighbours (halved from the
        one-node level, as Kinetic-GAN's ``upsample_s`` does); ``neighbours[l]``: those
        ``(fine node, [coarse nodes])`` pairs.
    """
    nodes = list(range(NUM_JOINTS))
    edges = {frozenset(e) for e in KINETIC_GAN_EDGES}
    centre = KINETIC_GAN_CENTRE
    out: dict[str, list] = {k: [] for k in ("n", "kept", "edges", "centre", "A", "up", "neighbours")}
    for lvl in range(levels):
        if lvl:
            kept, coarse_edges = _remove_leaves(nodes, edges)
            index = {v: i for i, v in enumerate(kept)}
            up = np.zeros((len(nodes), len(kept)))
            pairs = []
            for v in nodes:
                if v in index:
                    up[v, index[v]] = 1.0
                    continue
                hood = [index[u] for u in kept if frozenset((u, v)) in edges]
                if not hood:
                    raise ValueError(f"kinetic_gan_graphs: joint {v} of level {lvl - 1} has no kept "
                                     "neighbour to be re-inserted from")
                up[v, hood] = (0.5 if len(kept) == 1 else 1.0) / len(hood)
                pairs.append((v, hood))
            out["up"].append(up.astype(np.float32))
            out["neighbours"].append(pairs)
            out["kept"].append(kept)
            centre = index[centre]
            nodes = list(range(len(kept)))
            edges = {frozenset((index[a], index[b])) for a, b in map(tuple, coarse_edges)}
        else:
            out["kept"].append(None)
        out["n"].append(len(nodes))
        out["edges"].append(sorted(tuple(sorted(e)) for e in edges))
        out["centre"].append(centre)
        out["A"].append(_kinetic_partition(len(nodes), edges, centre).astype(np.float32))
    return out


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
        aux_head: where the class head of ``aux_weight`` sits. ``"critic"`` (default): a linear
            layer on the critic's pooled features, as in AC-GAN. ``"separate"``: a graph-conv
            classifier of the critic's shape with its own weights (:class:`_ClassNet`), trained
            only by the cross-entropy on real batches; the critic then takes the label as input
            channels again. A shared trunk serves the Wasserstein score first: in a ``cpu30`` run
            the linear head stayed at chance on real batches (cross-entropy 1.9 against
            ln 7 = 1.95 after 300 updates) although a probe fitted on the same features reached
            70% of the training samples.
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
        arch: ``"companion"`` (default: the two-person design of the module docs) or
            ``"kinetic_gan"``: Kinetic-GAN's networks as published, for *one* person (see
            :class:`Generator`). It needs ``levels=4``, ``t_size`` a multiple of 16, five
            ``g_channels`` (blocks 1-5; blocks 6 and 7 have 3), six ``d_channels`` (the last
            is Kinetic-GAN's ``latent``), ``blocks_per_stage=1``, ``output="joints"``,
            ``aux_weight=0`` and ``critic_projection=False``; ``embed_dim`` is Kinetic-GAN's
            ``n_classes``-wide label embedding, ``inter_edges`` is unused. The data are
            min-max scaled to [-1, 1] (:meth:`Normaliser.fit_minmax`), the critic reads
            person 0 and :func:`sample` returns person 1 as zeros (absent).
        truncation_psi: truncation in ``w`` when sampling, ``w_avg + psi (w - w_avg)``
            (:func:`sample`; training never truncates). 1 (default) turns it off; Kinetic-GAN's
            ``generate.py`` uses 0.95.
        stage_style: ``arch="companion"`` only: ``w`` (which carries the class) also scales and
            shifts the channels at the start of every generator stage, ``x (1 + a(w)) + b(w)``
            with ``a, b`` linear in ``w`` and zero at initialisation (StyleGAN's modulation
            without the normalisation). Off (default), ``w`` enters once, through the learned
            constant of the coarsest stage (a few frames of a few nodes).
        class_template: ``arch="companion"`` only: templates per class (0, the default: none).
            The generator's last layer then gives a residual that is added to a learned template
            of its output (both persons, every frame and joint; with ``output="bones"`` in the
            root/direction/length form), which :func:`train_gan` starts at the mean of a cluster
            of the class's training data (:func:`class_templates`: k-means, so that left- and
            right-handed strikes, say, get templates of their own instead of one blurred mean).
            Each sample draws one of its class's templates, in proportion to the clusters'
            sizes, from the noise generator, and the mapping network sees which (the label
            embedding has a row per template). The class is in the sample from the first update
            on, and the networks learn how samples differ from their template.
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
    aux_head: str = "critic"
    output: str = "joints"
    n_critic: int = 5
    lambda_gp: float = 10.0
    gp_every: int = 1
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    arch: str = "companion"
    truncation_psi: float = 1.0
    stage_style: bool = False
    class_template: int = 0

    def __post_init__(self):
        for name in ("g_channels", "d_channels", "betas"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        bad = []
        if not 1 <= self.levels <= len(PERSON_PYRAMID):
            bad.append(f"levels={self.levels} (expected 1..{len(PERSON_PYRAMID)})")
        if self.t_size <= 0 or self.t_size % (2 ** self.levels):
            bad.append(f"t_size={self.t_size} (expected a positive multiple of 2**levels = "
                       f"{2 ** self.levels})")
        kinetic = self.arch == "kinetic_gan"
        if self.arch not in _ARCH_CHOICES:
            bad.append(f"arch={self.arch!r} (expected one of {_ARCH_CHOICES})")
        for name, want in (("g_channels", 5 if kinetic else self.levels),
                           ("d_channels", 6 if kinetic else self.levels)):
            ch = getattr(self, name)
            if len(ch) != want or any(int(c) <= 0 for c in ch):
                per = "one per block of Kinetic-GAN's layout" if kinetic else "one per level"
                bad.append(f"{name}={ch} (expected {want} positive ints, {per})")
        if kinetic:
            for name, want in (("levels", 4), ("blocks_per_stage", 1), ("output", "joints"),
                               ("aux_weight", 0), ("critic_projection", False)):
                if getattr(self, name) != want:
                    bad.append(f"{name}={getattr(self, name)!r} (arch='kinetic_gan' needs {want!r})")
        if kinetic and self.stage_style:
            bad.append("stage_style=True (arch='kinetic_gan' has no such modulation)")
        if kinetic and self.class_template:
            bad.append(f"class_template={self.class_template} (arch='kinetic_gan' has no class template)")
        if isinstance(self.class_template, bool) or int(self.class_template) != self.class_template \
                or self.class_template < 0:
            bad.append(f"class_template={self.class_template!r} (expected templates per class, an int >= 0)")
        if self.aux_head not in _AUX_HEAD_CHOICES:
            bad.append(f"aux_head={self.aux_head!r} (expected one of {_AUX_HEAD_CHOICES})")
        if not 0 < self.truncation_psi <= 1:
            bad.append(f"truncation_psi={self.truncation_psi} (expected 0 < psi <= 1; 1 = none)")
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


#: Kinetic-GAN as published (its ``kinetic-gan.py`` defaults, ``models/generator.py``,
#: ``models/discriminator.py``), for the seven classes: latent 512, mapping depth 4, a
#: 7-wide label embedding, T = 64, one person.
KINETIC_GAN_CONFIG = GANConfig(
    arch="kinetic_gan", t_size=64, latent_dim=512, embed_dim=7, mapping_layers=4, levels=4,
    g_channels=(512, 256, 128, 64, 32), d_channels=(32, 64, 128, 256, 512, 512),
    blocks_per_stage=1, temporal_kernel=3, noise_injection=True, critic_projection=False,
    aux_weight=0.0, output="joints", n_critic=5, lambda_gp=10.0, gp_every=1, lr=2e-4,
    betas=(0.5, 0.999), truncation_psi=0.95)

#: Named configurations with their training length (``iterations``: generator updates, each
#: after ``n_critic`` critic batches; ``epochs``, where given, is the length as the source
#: states it, and :func:`epochs_to_iterations` turns it into updates for the real training
#: set's size; ``iterations`` is then that conversion for about 2,000 training sequences, the
#: full profile's GAN training set). ``smoke``: a minute or two on two CPU cores (checks that
#: the pipeline runs), with the bone output and class templates. ``cpu30``: about half an hour on
#: two CPU cores (the reference run: 2,091 s, 1.74 s per update), with the bone output, a separate
#: class head, lazy gradient penalty, lr 5e-4 and 16 templates per class, which a short run
#: needs: without the templates, 2,400 updates left 53% of its samples outside their class, and
#: kicking in wield knife's. ``kinetic_gan``: the paper's reading (the ``full`` profile), Kinetic-GAN as
#: published (:data:`KINETIC_GAN_CONFIG`, one person) for a GPU, trained as ``kinetic-gan.py``
#: does: 1,200 epochs at batch 32. ``full_two_person``: the companion's own two-person design
#: (module docs) at Kinetic-GAN's widths, 40,000 updates at batch 32; it is not Kinetic-GAN.
#: Kinetic-GAN's published NTU-60 cross-subject generator (``generator_ntu_xsub_mlp4_1370000``)
#: had 1,370,000 critic batches, about 274,000 generator updates, on 40,320 sequences;
#: 1,200 epochs on the full profile's ~2,000 sequences are 75,000 critic batches, 15,000 updates
#: (``full_two_person``'s 40,000 updates are about 3,200 epochs of that set).
GAN_PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"config": GANConfig(t_size=32, latent_dim=64, embed_dim=7, mapping_layers=2,
                                  levels=4, g_channels=(32, 32, 16, 16), d_channels=(16, 16, 32, 32),
                                  blocks_per_stage=1, output="bones", class_template=2),
              "iterations": 150, "batch_size": 16},
    "cpu30": {"config": GANConfig(t_size=32, latent_dim=128, embed_dim=8, mapping_layers=3,
                                  levels=4, g_channels=(128, 64, 48, 32), d_channels=(24, 48, 64, 128),
                                  blocks_per_stage=1, output="bones", aux_weight=10.0, aux_head="separate",
                                  lr=5e-4, gp_every=4, class_template=16),
              "iterations": 1200, "batch_size": 32},
    "kinetic_gan": {"config": KINETIC_GAN_CONFIG, "epochs": 1200, "iterations": 15000,
                    "batch_size": 32},
    "full_two_person": {"config": GANConfig(), "iterations": 40000, "batch_size": 32},
}


def generated_persons(cfg: GANConfig) -> int:
    """Persons a generator of ``cfg`` draws: 1 for ``arch="kinetic_gan"`` (person 1 is absent in
    its samples), 2 for the companion's two-person design."""
    return 1 if cfg.arch == "kinetic_gan" else 2


def epochs_to_iterations(epochs: float, n_train: int, batch_size: int, n_critic: int) -> int:
    """Generator updates of a run of ``epochs`` passes over ``n_train`` sequences in critic
    batches of ``batch_size``: ``ceil(epochs * n_train / (batch_size * n_critic))``."""
    return math.ceil(float(epochs) * int(n_train) / (int(batch_size) * int(n_critic)))


def gan_preset(name: str) -> tuple[GANConfig, dict[str, int]]:
    """``(config, {"iterations": .., "batch_size": ..})`` of a preset in :data:`GAN_PRESETS`;
    the dict also holds ``epochs`` for a preset whose length is given in epochs."""
    if name not in GAN_PRESETS:
        raise KeyError(f"GAN preset {name!r} unknown; choose one of {sorted(GAN_PRESETS)}")
    p = GAN_PRESETS[name]
    return p["config"], {k: p[k] for k in ("iterations", "batch_size", "epochs") if k in p}


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

    @classmethod
    def fit_minmax(cls, x: np.ndarray) -> "Normaliser":
        """Kinetic-GAN's scaling ``2 (x - min) / (max - min) - 1``, with one ``min`` and one
        ``max`` over all of ``x`` (N, 2, T, 25, 3) (persons, frames, joints and axes, as its
        ``Feeder`` takes them over the whole data file), written as ``mean = (max + min) / 2``
        and ``std = (max - min) / 2`` so that :meth:`normalise` and :meth:`denormalise` apply."""
        x64 = np.asarray(x, np.float64)
        lo, hi = float(x64.min()), float(x64.max())
        half = max((hi - lo) / 2, 1e-6)
        norm = cls.fit(x)
        norm.mean.fill_((hi + lo) / 2)
        norm.std.fill_(half)
        return norm

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """Metres (N, 2, T, 25, 3) -> standardised, same shape."""
        return (x - self.mean[None, :, None]) / self.std

    def denormalise(self, z: torch.Tensor) -> torch.Tensor:
        """Standardised (N, 2, T, 25, 3) -> metres, same shape."""
        return z * self.std + self.mean[None, :, None]


def class_templates(x: np.ndarray, y: np.ndarray, normaliser: Normaliser, output: str,
                    n_classes: int, k: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Cluster means of each class of ``x`` in a companion generator's output form, the start
    of ``GANConfig.class_template``.

    Args:
        x: (N, 2, T, 25, 3) metres, the GAN's training data at ``t_size`` frames.
        y: int (N,) labels.
        normaliser: the generator's (fitted on ``x``).
        output: ``"joints"`` (the standardised joints) or ``"bones"``: per person and frame the
            standardised root position in the root's channels, and for every other joint the
            unit direction of its bone minus the training set's mean unit direction (what
            :meth:`Generator._kinematics` adds back) and the length channel that gives the
            bone's length (clipped to the bound of the length factor); frames where a person
            is absent keep the mean direction and length.
        n_classes: classes; a class without samples gets zeros (the overall form).
        k: templates per class: the means of a k-means clustering (k-means++ start from
            ``seed``, Lloyd iterations to convergence) of the class's samples in that form.
        seed: of the clustering.

    Returns:
        ``(templates, weights)``: float32 (n_classes * k, 2, T, 25, 3 or 4), template ``c * k + j``
        the ``j``-th of class ``c``; float32 (n_classes, k), each cluster's share of its class
        (0 for an empty cluster; a class without samples has equal shares).
    """
    x64 = np.asarray(x, np.float64)
    mean = normaliser.mean.detach().cpu().numpy().astype(np.float64)[None, :, None]
    std = normaliser.std.detach().cpu().numpy().astype(np.float64)
    if output == "joints":
        form = (x64 - mean) / std
    elif output == "bones":
        child, parent = np.asarray(BONES).T
        vec = x64[..., child, :] - x64[..., parent, :]
        norm = np.linalg.norm(vec, axis=-1, keepdims=True)
        bone_mean = normaliser.bone_mean.detach().cpu().numpy().astype(np.float64)
        mean_unit = bone_mean / np.maximum(np.linalg.norm(bone_mean, axis=-1, keepdims=True), 1e-6)
        unit = np.where(norm > 1e-9, vec / np.maximum(norm, 1e-9), mean_unit[None, :, None, child])
        form = np.zeros(x64.shape[:-1] + (4,))
        form[..., child, :3] = unit - mean_unit[None, :, None, child]
        # the length channel s of exp(scale * tanh(s)): this sample's length against the mean
        mean_len = np.linalg.norm(bone_mean[:, child], axis=-1)[None, :, None, :, None]
        log_ratio = np.log(np.maximum(norm, 1e-6) / np.maximum(mean_len, 1e-6)) / _BONE_LOG_SCALE
        form[..., child, 3:] = np.where(norm > 1e-9, np.arctanh(np.clip(log_ratio, -0.95, 0.95)), 0.0)
        form[..., 0, :3] = (x64[..., 0, :] - mean[..., 0, :]) / std
    else:
        raise ValueError(f"class_templates: output={output!r} (expected 'joints' or 'bones')")
    y = np.asarray(y).astype(np.int64)
    out = np.zeros((n_classes, k) + form.shape[1:])
    weights = np.full((n_classes, k), 1.0 / k)
    rng = np.random.default_rng(seed)
    for c in range(n_classes):
        f = form[y == c].reshape(-1, form[0].size)
        if not len(f):
            continue
        assign = _kmeans(f, k, rng)
        for j in range(k):
            if (assign == j).any():
                out[c, j] = f[assign == j].mean(axis=0).reshape(form.shape[1:])
        weights[c] = np.bincount(assign, minlength=k) / len(f)
    return out.reshape((n_classes * k,) + form.shape[1:]).astype(np.float32), weights.astype(np.float32)


def _kmeans(f: np.ndarray, k: int, rng: np.random.Generator, max_iter: int = 100) -> np.ndarray:
    """Cluster index (n,) of each row of ``f`` (n, d): k-means++ start, Lloyd iterations."""
    n = len(f)
    if k >= n:
        return np.arange(n) % k
    centres = [f[rng.integers(n)]]
    for _ in range(1, k):
        d2 = np.min([((f - c) ** 2).sum(1) for c in centres], axis=0)
        centres.append(f[rng.choice(n, p=d2 / d2.sum())] if d2.sum() > 0 else f[rng.integers(n)])
    centres = np.stack(centres)
    assign = np.full(n, -1)
    for _ in range(max_iter):
        new = (((f[:, None] - centres[None]) ** 2).sum(-1)).argmin(1)
        if (new == assign).all():
            break
        assign = new
        for j in range(k):
            if (assign == j).any():
                centres[j] = f[assign == j].mean(0)
    return assign


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


# ---------------------------------------------------------------------------
# Kinetic-GAN's networks (arch="kinetic_gan")
# ---------------------------------------------------------------------------

class _KGBlock(nn.Module):
    """Kinetic-GAN's ``st_gcn`` unit: graph conv (3 subsets, no bias, learned edge
    importance) -> temporal conv (kernel ``kt``) [-> BatchNorm] + residual [-> noise] -> act.

    No activation between the graph and the temporal convolution (as in Kinetic-GAN). The
    residual is none, the identity (equal widths) or a 1x1 conv, followed by BatchNorm in
    the generator. ``A`` is in Kinetic-GAN's orientation: ``out[w] = sum_v x[v] A[k, v, w]``.
    """

    def __init__(self, c_in: int, c_out: int, adjacency: np.ndarray, kt: int, *, bn: bool,
                 residual: bool, residual_bn: bool, noise: bool, tanh: bool = False):
        super().__init__()
        k = adjacency.shape[0]
        self.k, self.c_out, self.tanh = k, c_out, tanh
        self.register_buffer("A", torch.as_tensor(adjacency))
        self.edge_importance = nn.Parameter(torch.ones(adjacency.shape))
        self.gcn = nn.Conv2d(c_in, c_out * k, 1, bias=False)
        tcn = [nn.Conv2d(c_out, c_out, (kt, 1), padding=(kt // 2, 0))]
        if bn:
            tcn.append(nn.BatchNorm2d(c_out))
        self.tcn = nn.Sequential(*tcn)
        if not residual:
            self.res = None
        elif c_in == c_out:
            self.res = nn.Identity()
        else:
            self.res = nn.Sequential(nn.Conv2d(c_in, c_out, 1),
                                     *([nn.BatchNorm2d(c_out)] if residual_bn else []))
        self.noise_scale = nn.Parameter(torch.zeros(1, c_out, 1, 1)) if noise else None

    def forward(self, x: torch.Tensor, rng: torch.Generator | None = None) -> torch.Tensor:
        n, _, t, v = x.shape
        h = self.gcn(x).view(n, self.k, self.c_out, t, v)
        h = self.tcn(torch.einsum("nkctv,kvw->nctw", h, self.A * self.edge_importance))
        if self.res is not None:
            h = h + self.res(x)
        if self.noise_scale is not None:
            noise = torch.randn((n, 1, t, v), generator=rng, dtype=h.dtype).to(h.device)
            h = h + self.noise_scale * noise
        return torch.tanh(h) if self.tanh else F.leaky_relu(h, 0.2)


class _KGGeneratorNet(nn.Module):
    """Kinetic-GAN's generator: label embedding, mapping MLP of width ``latent + embed``
    (weights N(0, 1), biases 0, as its ``Mapping_Net``), then seven blocks from ``w`` as one
    frame of one node: (width) -> g0 [1 node, 1 frame] -> g1 [1, T/16] -> g2 [5, T/16] ->
    g3 [5, T/8] -> g4 [11, T/4] -> 3 [11, T/2] -> 3 [25, T] with tanh. Before a block, the
    nodes are upsampled (``kinetic_gan_graphs()["up"]``) where the level changes and time
    is resized by nearest neighbour; BatchNorm follows the temporal conv of blocks 2, 4, 6
    and every 1x1 residual conv (blocks 2-6); block 1 has no residual."""

    def __init__(self, cfg: GANConfig):
        super().__init__()
        graphs = kinetic_gan_graphs(4)
        width = cfg.latent_dim + cfg.embed_dim
        self.label_emb = nn.Embedding(cfg.n_classes, cfg.embed_dim)
        layers = []
        for _ in range(cfg.mapping_layers):
            lin = nn.Linear(width, width)
            nn.init.normal_(lin.weight)
            nn.init.zeros_(lin.bias)
            layers += [lin, nn.LeakyReLU(0.2)]
        self.mapping = nn.Sequential(*layers)
        t = cfg.t_size
        g = cfg.g_channels
        #       (c_in,  c_out, level, upsample from level+1, frames, bn, residual)
        plan = [(width, g[0], 3, False, 1, False, False),
                (g[0], g[1], 3, False, t // 16, True, True),
                (g[1], g[2], 2, True, t // 16, False, True),
                (g[2], g[3], 2, False, t // 8, True, True),
                (g[3], g[4], 1, True, t // 4, False, True),
                (g[4], 3, 1, False, t // 2, True, True),
                (3, 3, 0, True, t, False, True)]
        self.plan = [(lvl, up, frames) for _, _, lvl, up, frames, _, _ in plan]
        self.blocks = nn.ModuleList([
            _KGBlock(ci, co, graphs["A"][lvl], cfg.temporal_kernel, bn=bn, residual=res,
                     residual_bn=True, noise=cfg.noise_injection, tanh=i == len(plan) - 1)
            for i, (ci, co, lvl, _, _, bn, res) in enumerate(plan)])
        for lvl in range(3):
            self.register_buffer(f"up_{lvl}", torch.as_tensor(graphs["up"][lvl]))

    def mapping_input(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.label_emb(labels), z], dim=1)

    def forward(self, w: torch.Tensor, rng: torch.Generator | None = None) -> torch.Tensor:
        """``w`` (N, latent + embed) -> (N, 3, T, 25) in [-1, 1]."""
        x = w[:, :, None, None]
        for block, (lvl, up, frames) in zip(self.blocks, self.plan):
            if up:
                x = _pool_nodes(x, getattr(self, f"up_{lvl}"))
            x = F.interpolate(x, size=(frames, x.shape[3]), mode="nearest")
            x = block(x, rng)
        return x


class _KGCriticNet(nn.Module):
    """Kinetic-GAN's critic: the label embedding as input channels, six blocks
    (3 + embed) -> d0 [25 nodes, T] -> d1 [11, T] -> d2 [11, T/2] -> d3 [5, T/4] ->
    d4 [5, T/8] -> d5 [1, T/16]; blocks 1, 3 and 5 end by keeping the nodes of the next level
    (node selection), time is resized by nearest neighbour (every other frame); no
    normalisation; block 1 has no residual, the others a 1x1 conv (identity at equal widths);
    then the mean over frames and nodes and a linear layer."""

    def __init__(self, cfg: GANConfig):
        super().__init__()
        graphs = kinetic_gan_graphs(4)
        t = cfg.t_size
        d = cfg.d_channels
        #       (c_in, c_out, level, select next level's nodes, frames after, residual)
        plan = [(3 + cfg.embed_dim, d[0], 0, True, t, False),
                (d[0], d[1], 1, False, t, True),
                (d[1], d[2], 1, True, t // 2, True),
                (d[2], d[3], 2, False, t // 4, True),
                (d[3], d[4], 2, True, t // 8, True),
                (d[4], d[5], 3, False, t // 16, True)]
        self.plan = [(lvl, sel, frames) for _, _, lvl, sel, frames, _ in plan]
        self.label_emb = nn.Embedding(cfg.n_classes, cfg.embed_dim)
        self.blocks = nn.ModuleList([
            _KGBlock(ci, co, graphs["A"][lvl], cfg.temporal_kernel, bn=False, residual=res,
                     residual_bn=False, noise=False)
            for ci, co, lvl, _, _, res in plan])
        for lvl in range(1, 4):
            self.register_buffer(f"keep_{lvl}", torch.as_tensor(graphs["kept"][lvl], dtype=torch.int64))
        self.fc = nn.Linear(d[5], 1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``x`` (N, 3, T, 25) scaled to [-1, 1] -> scores (N,)."""
        n, _, t, v = x.shape
        c = self.label_emb(labels)[:, :, None, None].expand(n, -1, t, v)
        h = torch.cat([c, x], dim=1)
        for block, (lvl, sel, frames) in zip(self.blocks, self.plan):
            h = block(h)
            if sel:
                h = h[..., getattr(self, f"keep_{lvl + 1}")]
            h = F.interpolate(h, size=(frames, h.shape[3]), mode="nearest")
        return self.fc(h.mean(dim=(2, 3))).squeeze(1)


class Generator(nn.Module):
    """Class-conditional skeleton generator.

    ``forward(z, labels)`` maps ``z`` float (N, latent_dim) and ``labels`` int64
    (N,) to *normalised* sequences (N, 2, T, 25, 3); :func:`sample` gives metres.
    With ``cfg.arch="companion"`` both persons are generated jointly (module docs); with
    ``"kinetic_gan"`` the network is Kinetic-GAN's (:class:`_KGGeneratorNet`) and generates
    person 0, and person 1 is the normalised value of zero metres (absent).
    """

    def __init__(self, cfg: GANConfig, normaliser: Normaliser | None = None):
        super().__init__()
        self.cfg = cfg
        self.normaliser = normaliser if normaliser is not None else Normaliser()
        self.template = None
        if cfg.arch == "kinetic_gan":
            self.net = _KGGeneratorNet(cfg)
            return
        adjacency, _, up = person_pyramid_graphs(cfg.levels, cfg.inter_edges)
        self.label_emb = nn.Embedding(cfg.n_classes * max(cfg.class_template, 1), cfg.embed_dim)
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
        # with stage_style, w scales and shifts each stage's input channels (zero at init: identity)
        self.style = nn.ModuleList([nn.Linear(cfg.latent_dim, 2 * cfg.g_channels[max(s - 1, 0)])
                                    for s in range(cfg.levels)]) if cfg.stage_style else None
        if self.style is not None:
            for lin in self.style:
                nn.init.zeros_(lin.weight)
                nn.init.zeros_(lin.bias)
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
        # with class_template, the output is a residual on a per-class template (train_gan sets it)
        k = cfg.class_template
        if k:
            self.template = nn.Parameter(torch.zeros(cfg.n_classes * k, _NUM_PERSONS, cfg.t_size,
                                                     NUM_JOINTS, self.to_xyz.out_channels))
            self.register_buffer("template_weights", torch.full((cfg.n_classes, k), 1.0 / k))
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

    def set_templates(self, templates: np.ndarray, weights: np.ndarray) -> None:
        """Start the templates of ``class_template`` at :func:`class_templates`' output."""
        with torch.no_grad():
            self.template.copy_(torch.as_tensor(templates))
            self.template_weights.copy_(torch.as_tensor(weights))

    def draw_templates(self, labels: torch.Tensor, rng: torch.Generator | None = None) -> torch.Tensor | None:
        """Template row per sample, ``label * k + j`` with ``j`` drawn from ``rng`` by the
        clusters' shares (no draw with one template per class); None without templates."""
        if self.template is None:
            return None
        k = self.cfg.class_template
        if k == 1:
            return labels
        j = torch.multinomial(self.template_weights[labels].cpu(), 1, generator=rng).squeeze(1)
        return labels * k + j.to(labels.device)

    def mapping_w(self, z: torch.Tensor, labels: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """The mapping network's output ``w`` (N, width) for ``z`` (N, latent_dim) and labels
        (``rows``: the templates of :meth:`draw_templates`, which the embedding reads instead)."""
        if self.cfg.arch == "kinetic_gan":
            return self.net.mapping(self.net.mapping_input(z, labels))
        return self.mapping(torch.cat([z, self.label_emb(labels if rows is None else rows)], dim=1))

    @torch.no_grad()
    def w_mean(self, n: int = 1000, rng: torch.Generator | None = None) -> torch.Tensor:
        """Mean ``w`` (1, width) over ``n`` random inputs, the centre of the truncation trick.

        As Kinetic-GAN's ``Generator.truncate`` does, the whole mapping input (the label
        embedding's part too) is drawn from N(0, 1) for ``arch="kinetic_gan"``; the companion
        design draws ``z`` and uniformly random labels.
        """
        dev = next(self.parameters()).device
        if self.cfg.arch == "kinetic_gan":
            inp = torch.randn((n, self.cfg.latent_dim + self.cfg.embed_dim), generator=rng).to(dev)
            return self.net.mapping(inp).mean(0, keepdim=True)
        z = torch.randn((n, self.cfg.latent_dim), generator=rng).to(dev)
        lab = torch.randint(0, self.cfg.n_classes, (n,), generator=rng).to(dev)
        return self.mapping_w(z, lab, self.draw_templates(lab, rng)).mean(0, keepdim=True)

    def forward(self, z: torch.Tensor, labels: torch.Tensor,
                rng: torch.Generator | None = None, *, psi: float = 1.0,
                w_avg: torch.Tensor | None = None) -> torch.Tensor:
        """Normalised sequences (N, 2, T, 25, 3) for ``z`` (N, latent_dim), ``labels`` (N,).

        ``rng`` (a CPU ``torch.Generator``) drives the injected noise; None uses
        torch's global generator. ``psi < 1`` truncates ``w`` towards ``w_avg``
        (:meth:`w_mean`).
        """
        rows = self.draw_templates(labels, rng)
        w = self.mapping_w(z, labels, rows)
        if psi != 1.0:
            if w_avg is None:
                raise ValueError("Generator: psi < 1 needs w_avg (Generator.w_mean)")
            w = w_avg + psi * (w - w_avg)
        if self.cfg.arch == "kinetic_gan":
            person = self.net(w, rng).permute(0, 2, 3, 1)                      # (N, T, 25, 3)
            absent = (-self.normaliser.mean[1] / self.normaliser.std).expand_as(person)
            return torch.stack([person, absent], dim=1)
        x = self.const(w).view(z.shape[0], -1, self.t0, self.v_top)
        for s, blocks in enumerate(self.stages):
            if s > 0:
                x = _pool_nodes(x, getattr(self, f"up_{s - 1}"))
            x = x + self.node_bias[s]
            if self.style is not None:
                scale, shift = self.style[s](w)[:, :, None, None].chunk(2, dim=1)
                x = x * (1 + scale) + shift
            x = F.interpolate(x, size=(x.shape[2] * 2, x.shape[3]), mode="bilinear",
                              align_corners=False)
            for block in blocks:
                x = block(x, rng)
        out = _from_internal(self.to_xyz(x))
        if rows is not None:
            out = out + self.template[rows]
        return self._kinematics(out) if self.cfg.output == "bones" else out


class Critic(nn.Module):
    """Class-conditional graph-convolutional critic: (N, 2, T, 25, 3) normalised -> (N,).

    ``arch="kinetic_gan"``: Kinetic-GAN's critic (:class:`_KGCriticNet`) of person 0 only.
    """

    def __init__(self, cfg: GANConfig):
        super().__init__()
        self.cfg = cfg
        if cfg.arch == "kinetic_gan":  # Kinetic-GAN's critic of person 0 (_KGCriticNet)
            self.net = _KGCriticNet(cfg)
            return
        separate = cfg.aux_weight > 0 and cfg.aux_head == "separate"
        self.label_input = cfg.aux_weight == 0 or separate
        self.label_emb = nn.Embedding(cfg.n_classes, cfg.embed_dim) if self.label_input else None
        c_in = _graph_encoder(self, cfg, 3 + (cfg.embed_dim if self.label_input else 0))
        self.fc = nn.Linear(c_in, 1)
        self.proj = nn.Embedding(cfg.n_classes, c_in) if cfg.critic_projection else None
        self.aux = nn.Linear(c_in, cfg.n_classes) if cfg.aux_weight > 0 and not separate else None
        self.classifier = _ClassNet(cfg) if separate else None

    def forward(self, x: torch.Tensor, labels: torch.Tensor,
                return_logits: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Scores (N,); with ``return_logits`` also the auxiliary class logits (N, n_classes)
        (only when ``cfg.aux_weight > 0``)."""
        if self.cfg.arch == "kinetic_gan":
            if return_logits:
                raise ValueError("Critic: return_logits needs GANConfig.aux_weight > 0")
            return self.net(x[:, 0].permute(0, 3, 1, 2), labels)
        h = _to_internal(x)
        n, _, t, v = h.shape
        if self.label_input:
            c = self.label_emb(labels)[:, :, None, None].expand(n, -1, t, v)
            h = torch.cat([h, c], dim=1)
        feat = _encode(self, h)
        out = self.fc(feat).squeeze(1)
        if self.proj is not None:
            out = out + (self.proj(labels) * feat).sum(1)
        if return_logits:
            if self.aux is None and self.classifier is None:
                raise ValueError("Critic: return_logits needs GANConfig.aux_weight > 0")
            return out, self.aux(feat) if self.aux is not None else self.classifier(x)
        return out


def _graph_encoder(module: nn.Module, cfg: GANConfig, c_in: int) -> int:
    """Give ``module`` the critic's graph-conv stages (``stages``, fine to coarse, ``d_channels``)
    and node-pooling buffers (``down_<level>``) for ``c_in`` input channels; returns the width of
    the pooled features that :func:`_encode` gives."""
    adjacency, down, _ = person_pyramid_graphs(cfg.levels, cfg.inter_edges)
    module.stages = nn.ModuleList()
    for lvl in range(cfg.levels):
        blocks = nn.ModuleList()
        for _ in range(cfg.blocks_per_stage):
            blocks.append(_STBlock(c_in, cfg.d_channels[lvl], adjacency[lvl], cfg.temporal_kernel, noise=False))
            c_in = cfg.d_channels[lvl]
        module.stages.append(blocks)
    for lvl in range(cfg.levels - 1):
        module.register_buffer(f"down_{lvl}", torch.as_tensor(down[lvl]))
    return c_in


def _encode(module: nn.Module, h: torch.Tensor) -> torch.Tensor:
    """(N, C, T, 50) -> (N, width): the stages of :func:`_graph_encoder`, pooling nodes and halving
    time after each level, then the mean over frames and nodes."""
    for lvl, blocks in enumerate(module.stages):
        for block in blocks:
            h = block(h)
        if lvl + 1 < len(module.stages):
            h = _pool_nodes(h, getattr(module, f"down_{lvl}"))
        h = F.avg_pool2d(h, (2, 1))
    return h.mean(dim=(2, 3))


class _ClassNet(nn.Module):
    """The class head of ``aux_head="separate"``: the critic's graph-conv stages with their own
    weights, then a linear layer to class logits; (N, 2, T, 25, 3) normalised -> (N, n_classes).
    It lives inside the :class:`Critic` (same optimiser, same checkpoint) but the Wasserstein
    score never reaches its weights."""

    def __init__(self, cfg: GANConfig):
        super().__init__()
        self.head = nn.Linear(_graph_encoder(self, cfg, 3), cfg.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(_encode(self, _to_internal(x)))


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
    # fields added after a checkpoint was written take their defaults (which it was made with)
    saved = {**{f.name: now[f.name] if f.default is dataclasses.MISSING else
                (list(f.default) if isinstance(f.default, tuple) else f.default)
                for f in dataclasses.fields(GANConfig)}, **saved}
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
        iterations = epochs_to_iterations(epochs, n, batch_size, cfg.n_critic)
    run = _start_gan_run(x, y, cfg, run_dir=Path(run_dir), iterations=int(iterations), batch_size=batch_size,
                         seed=seed, device=device)
    if resume and run.ckpt_path.is_file():
        _resume_gan_run(run)

    bar = None
    if progress and run.start < run.iterations:
        from tqdm.auto import tqdm
        bar = tqdm(total=run.iterations, initial=run.start, desc="GAN", unit="it")
    run.gen.train()
    run.critic.train()
    t_last = time.perf_counter()
    for it in range(run.start, run.iterations):
        vals = _gan_iteration(run, it)
        now = time.perf_counter()
        run.elapsed += now - t_last
        t_last = now
        done = it + 1
        mean = run.log(vals, flush=done % log_every == 0 or done == run.iterations, iteration=done)
        if bar is not None and mean is not None:
            bar.set_postfix(W=f"{mean[3]:.3f}", D=f"{mean[0]:.3f}", G=f"{mean[1]:.3f}")
        if done % checkpoint_every == 0 or done == run.iterations:
            run.save(done)
            t_last = time.perf_counter()
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    if run.start >= run.iterations and not run.ckpt_path.is_file():
        run.save(run.start)
    return run.history


@dataclasses.dataclass
class _GANRun:
    """What one call of :func:`train_gan` works with: built by :func:`_start_gan_run`, restored by
    :func:`_resume_gan_run`, advanced by :func:`_gan_iteration`; ``save`` writes the checkpoint."""

    cfg: GANConfig
    gen: nn.Module
    critic: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    rng: torch.Generator     # batches, latents, noise and penalties, in one stream
    xt: torch.Tensor
    yt: torch.Tensor
    dev: torch.device
    run_dir: Path
    run_info: dict           # what a checkpoint must match to be resumed (with the config)
    iterations: int
    batch_size: int
    perm: torch.Tensor
    pos: int = 0
    start: int = 0
    elapsed: float = 0.0
    history: dict = dataclasses.field(default_factory=dict)
    gp: torch.Tensor = dataclasses.field(default_factory=lambda: torch.tensor(float("nan")))
    acc: Any = None
    acc_n: int = 0

    @property
    def aux(self) -> bool:
        return self.cfg.aux_weight > 0

    @property
    def logged(self) -> tuple[str, ...]:
        return ("critic_loss", "generator_loss", "gradient_penalty", "wasserstein") + (
            ("aux_loss_real", "aux_loss_generated") if self.aux else ())

    @property
    def ckpt_path(self) -> Path:
        return self.run_dir / CHECKPOINT_NAME

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next real batch of the shuffled data (a new permutation when it runs out), normalised."""
        n = len(self.yt)
        if self.pos + self.batch_size > n:
            self.perm, self.pos = torch.randperm(n, generator=self.rng), 0
        idx = self.perm[self.pos:self.pos + self.batch_size]
        self.pos += self.batch_size
        return self.gen.normaliser.normalise(self.xt[idx].to(self.dev)), self.yt[idx].to(self.dev)

    def latents(self) -> torch.Tensor:
        return torch.randn((self.batch_size, self.cfg.latent_dim), generator=self.rng).to(self.dev)

    def score(self, batch: torch.Tensor, lab: torch.Tensor):
        """Mean critic score and, with a class head, its cross-entropy (else None)."""
        if not self.aux:
            return self.critic(batch, lab).mean(), None
        out, logits = self.critic(batch, lab, return_logits=True)
        return out.mean(), F.cross_entropy(logits, lab)

    def log(self, vals: list[float], *, flush: bool, iteration: int) -> np.ndarray | None:
        """Add one iteration's values; on ``flush`` append their means to the history (returned)."""
        if self.acc is None:
            self.acc = np.zeros(len(self.logged))
        self.acc += vals
        self.acc_n += 1
        if not flush:
            return None
        mean = self.acc / self.acc_n
        for key, val in zip(self.logged, mean):
            self.history[key].append(float(val))
        self.history["iteration"].append(iteration)
        self.history["seconds"].append(round(self.elapsed, 3))
        self.acc[:] = 0
        self.acc_n = 0
        return mean

    def save(self, it: int) -> None:
        """Write ``gan_last.pt`` (weights, optimisers, RNG state and data position) and ``history.json``."""
        cfg = self.cfg
        state = {"format": _FORMAT, "config": cfg.to_dict(), "run": self.run_info, "iteration": it,
                 "iterations_requested": self.iterations,
                 "seconds": self.elapsed, "generator": self.gen.state_dict(), "critic": self.critic.state_dict(),
                 "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                 "rng": {"torch": self.rng.get_state(), "perm": self.perm, "pos": self.pos},
                 "history": self.history, "torch_version": str(torch.__version__)}
        save_checkpoint(self.ckpt_path, state)
        write_json(self.run_dir / "history.json", {"config": cfg.to_dict(), "run": self.run_info,
                                                   "iteration": it, "history": self.history})


def _start_gan_run(x: np.ndarray, y: np.ndarray, cfg: GANConfig, *, run_dir: Path, iterations: int,
                   batch_size: int, seed: int, device: str) -> _GANRun:
    """Seeded generator (its normaliser fitted on ``x``), critic, optimisers and the first permutation."""
    n = x.shape[0]
    dev = resolve_device(device)
    run_dir.mkdir(parents=True, exist_ok=True)
    run_info = {"batch_size": int(batch_size), "seed": int(seed), "data_fingerprint": arrays_fingerprint(x, y),
                "n_train": int(n)}
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(int(seed))
    norm0 = Normaliser.fit_minmax(x) if cfg.arch == "kinetic_gan" else Normaliser.fit(x)
    gen = Generator(cfg, norm0)
    if gen.template is not None:
        gen.set_templates(*class_templates(x, y, norm0, cfg.output, cfg.n_classes, cfg.class_template, seed))
    gen = gen.to(dev)
    critic = Critic(cfg).to(dev)
    run = _GANRun(cfg=cfg, gen=gen, critic=critic,
                  opt_g=torch.optim.Adam(gen.parameters(), lr=cfg.lr, betas=cfg.betas),
                  opt_d=torch.optim.Adam(critic.parameters(), lr=cfg.lr, betas=cfg.betas),
                  rng=rng, xt=torch.from_numpy(x), yt=torch.from_numpy(y), dev=dev, run_dir=run_dir,
                  run_info=run_info, iterations=iterations, batch_size=int(batch_size),
                  perm=torch.randperm(n, generator=rng))
    run.history = {k: [] for k in ("iteration", *run.logged, "seconds")}
    return run


def _resume_gan_run(run: _GANRun) -> None:
    """Continue from ``gan_last.pt``: refused for another config, data, batch size or seed, or a
    longer run; restores the weights, optimiser moments, RNG state, data position and history."""
    path = run.ckpt_path
    ckpt = _load_checkpoint(path)
    diff = _config_diff(ckpt["config"], run.cfg)
    if diff:
        raise ValueError(f"{path} was made with another GANConfig ({'; '.join(diff)}). "
                         "Use a new run_dir, pass the checkpoint's config, or resume=False to "
                         "start afresh (overwrites it).")
    rdiff = [f"{k}: checkpoint {ckpt['run'].get(k)!r} vs requested {v!r}"
             for k, v in run.run_info.items() if ckpt["run"].get(k) != v]
    if rdiff:
        raise ValueError(f"{path} belongs to another run ({'; '.join(rdiff)}). Resume with "
                         "the same data, batch size and seed, use a new run_dir, or resume=False.")
    done = int(ckpt["iteration"])
    if done > run.iterations:
        raise ValueError(f"{path} holds a run of {done} generator updates, more than the "
                         f"{run.iterations} requested; a run cannot be shortened. Request iterations >= "
                         f"{done} to use (or extend) it, use a new run_dir, or resume=False to start "
                         "afresh (overwrites it).")
    _load_weights(run.gen, ckpt["generator"], path)
    _load_weights(run.critic, ckpt["critic"], path)
    run.opt_g.load_state_dict(ckpt["opt_g"])
    run.opt_d.load_state_dict(ckpt["opt_d"])
    run.rng.set_state(ckpt["rng"]["torch"])
    run.perm, run.pos = ckpt["rng"]["perm"].clone(), int(ckpt["rng"]["pos"])
    run.start, run.history, run.elapsed = done, ckpt["history"], float(ckpt["seconds"])


def _gan_iteration(run: _GANRun, it: int) -> list[float]:
    """One generator update after ``cfg.n_critic`` critic updates on fresh real batches (WGAN-GP;
    the penalty every ``cfg.gp_every`` critic updates, scaled by it).

    Returns:
        this iteration's values of ``run.logged``.
    """
    cfg, critic, gen = run.cfg, run.critic, run.gen
    for k in range(cfg.n_critic):
        real, lab = run.next_batch()
        z = run.latents()
        with torch.no_grad():
            fake = gen(z, lab, run.rng)
        d_real, aux_d = run.score(real, lab)
        d_fake = critic(fake, lab).mean()
        if (it * cfg.n_critic + k) % cfg.gp_every == 0:
            run.gp = gradient_penalty(critic, real, fake, lab, run.rng)
            loss_d = d_fake - d_real + cfg.lambda_gp * cfg.gp_every * run.gp
        else:
            loss_d = d_fake - d_real
        if run.aux:
            loss_d = loss_d + cfg.aux_weight * aux_d
        run.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        run.opt_d.step()
    z = run.latents()
    d_gen, aux_g = run.score(gen(z, lab, run.rng), lab)
    loss_g = -d_gen
    if run.aux:
        loss_g = loss_g + cfg.aux_weight * aux_g
    run.opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    run.opt_g.step()
    vals = [loss_d.item(), loss_g.item(), run.gp.item(), (d_real - d_fake).item()]
    return vals + [aux_d.item(), aux_g.item()] if run.aux else vals


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
    return gen.to(resolve_device(device)).eval()


def _class_seed(seed: int, label: int) -> int:
    return int(np.random.SeedSequence([int(seed), int(label)]).generate_state(1, np.uint64)[0] >> 1)


@torch.no_grad()
def sample(generator_or_run_dir: Generator | str | os.PathLike, n_per_class: int | dict[int, int],
           seed: int = 0, device: str = "auto", batch_size: int = 256,
           frames: int | None = None, truncation_psi: float | None = None,
           ) -> tuple[np.ndarray, np.ndarray]:
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
        truncation_psi: truncation in ``w`` (``w_avg + psi (w - w_avg)``, ``w_avg`` the mean
            ``w`` of 1,000 random inputs drawn from ``seed`` alone, as Kinetic-GAN's
            ``generate.py`` does with 0.95); default ``cfg.truncation_psi``; 1 = none.

    Returns:
        ``(x, y)``: float32 (N, 2, T, 25, 3) metres in the data layer's centred
        frame, int64 (N,) labels, sorted by class. A one-person generator
        (``arch="kinetic_gan"``) gives person 1 as exact zeros, the data layer's
        "absent", as in an NTU file with one body.
    """
    dev = resolve_device(device)
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
    psi = float(cfg.truncation_psi if truncation_psi is None else truncation_psi)
    if not 0 < psi <= 1:
        raise ValueError(f"sample: truncation_psi={psi}; expected 0 < psi <= 1 (1 = none)")
    was_training = gen.training
    gen.to(dev).eval()
    xs, ys = [], []
    try:
        w_avg = None
        if psi != 1.0:
            seq = np.random.SeedSequence([int(seed), 2**32 - 1])  # no class draws from it
            w_avg = gen.w_mean(1000, torch.Generator().manual_seed(int(seq.generate_state(1)[0])))
        for c in sorted(counts):
            rng = torch.Generator().manual_seed(_class_seed(seed, c))
            left = counts[c]
            while left > 0:
                b = min(batch_size, left)
                z = torch.randn((b, cfg.latent_dim), generator=rng).to(dev)
                lab = torch.full((b,), c, dtype=torch.int64, device=dev)
                out = gen.normaliser.denormalise(gen(z, lab, rng, psi=psi, w_avg=w_avg))
                if cfg.arch == "kinetic_gan":
                    out[:, 1] = 0.0
                xs.append(out.float().cpu().numpy())
                ys.append(np.full(b, c, np.int64))
                left -= b
    finally:
        gen.train(was_training)
    t_out = cfg.t_size if frames is None else int(frames)
    if not xs:
        return (np.zeros((0, _NUM_PERSONS, t_out, NUM_JOINTS, 3), np.float32),
                np.zeros(0, np.int64))
    return resample_frames(np.concatenate(xs), t_out), np.concatenate(ys)
