"""Where the paper is ambiguous or silent, the reading the companion takes, and how to take another.

:data:`AMBIGUITIES` is the one table behind the book's Ambiguities page (``book/ambiguities.md``
renders it with :func:`page_markdown` when the book is built). Each row names the parameter that
selects the other reading and where its default lives; the page shows the value read from that
place (a profile, a function's signature, a GAN preset, a module constant), so changing a default
changes the page, and ``tests/unit/test_ambiguities.py`` fails until the row's text (``default``)
says the same. Details inside one model are listed in :data:`skelutils.models.AMBIGUITIES` and
shown in that model's training chapter.

Row numbers are stable: pages and notebooks cite them ("the Ambiguities page, row 17").
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any

from .results import markdown_table

__all__ = ["Ambiguity", "AMBIGUITIES", "PROFILES_SHOWN", "current_default", "page_rows", "page_markdown"]

#: Profiles whose values the page shows for a profile setting.
PROFILES_SHOWN = ("smoke", "cpu30", "full")
_NOTHING = object()


@dataclass(frozen=True)
class Ambiguity:
    """One row of the Ambiguities page.

    Attributes:
        number: the row's number (stable; cited as "row N").
        topic: what is ambiguous.
        paper_says: what the paper (or the work it builds on) says, with its section.
        ours: the companion's default reading.
        other: the other reading(s), and how to select them.
        where: where the default lives, or None when no parameter selects another reading:
            ``"profile:data.val_fraction"`` (a profile field, dotted),
            ``"arg:skelutils.models.RrnLstm:norm"`` (a keyword default of a function or class),
            ``"preset:kinetic_gan:config.truncation_psi"`` (a field of ``skelutils.gan.GAN_PRESETS``),
            ``"const:skelutils.quality.COPY_PERCENTILE"`` (a module constant).
        default: the default as this row states it; for a profile field either one value
            (the same in every profile of :data:`PROFILES_SHOWN`) or ``{profile: value}``.
    """

    number: int
    topic: str
    paper_says: str
    ours: str
    other: str
    where: str | None = None
    default: Any = field(default=_NOTHING)


def _profile(name: str) -> dict:
    from . import config
    return config.load_profile(name)


def _dig(d: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(d, dict) or key not in d:
            raise KeyError(dotted)
        d = d[key]
    return d


def current_default(row: Ambiguity) -> Any:
    """The value now at ``row.where``: for a profile field ``{profile: value}`` over the profiles of
    :data:`PROFILES_SHOWN` that set it, else the value.

    Raises:
        KeyError: ``row.where`` names a field, argument, preset or constant that does not exist.
        ValueError: ``row.where`` has an unknown kind.
    """
    if row.where is None:
        raise ValueError(f"row {row.number} ({row.topic}) has no parameter")
    kind, _, spec = row.where.partition(":")
    if kind == "profile":
        out = {}
        for p in PROFILES_SHOWN:
            try:
                out[p] = _dig(_profile(p), spec)
            except KeyError:
                continue
        if not out:
            raise KeyError(f"row {row.number}: no profile of {PROFILES_SHOWN} sets {spec}")
        return out
    if kind == "arg":
        target, _, arg = spec.rpartition(":")
        mod, _, obj = target.rpartition(".")
        fn = getattr(importlib.import_module(mod), obj)
        params = inspect.signature(fn).parameters
        if arg not in params or params[arg].default is inspect.Parameter.empty:
            raise KeyError(f"row {row.number}: {target} has no keyword argument {arg!r} with a default")
        return params[arg].default
    if kind == "preset":
        from .gan import GAN_PRESETS
        preset, _, dotted = spec.partition(":")
        if preset not in GAN_PRESETS:
            raise KeyError(f"row {row.number}: no GAN preset {preset!r}")
        value = GAN_PRESETS[preset]
        for key in dotted.split("."):
            value = value[key] if isinstance(value, dict) else getattr(value, key)
        return value
    if kind == "const":
        mod, _, name = spec.rpartition(".")
        m = importlib.import_module(mod)
        if not hasattr(m, name):
            raise KeyError(f"row {row.number}: {mod} has no {name}")
        return getattr(m, name)
    raise ValueError(f"row {row.number}: unknown kind {kind!r} in where={row.where!r}")


def _show(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(map(_show, v)) + "]"
    return f"{v:g}" if isinstance(v, float) else str(v)


def _where_text(row: Ambiguity) -> str:
    kind, _, spec = row.where.partition(":")
    v = current_default(row)
    if kind == "profile":
        values = set(map(_show, v.values()))
        if len(values) == 1:
            return f"`{spec}: {values.pop()}` in every profile"
        return f"`{spec}`: " + ", ".join(f"`{_show(x)}` ({p})" for p, x in v.items())
    if kind == "arg":
        target, _, arg = spec.rpartition(":")
        target = target.removeprefix("skelutils.")  # models.RrnLstm, hybrid.make_hybrid
        return f"`{target}({arg}={_show(v)!r})`" if isinstance(v, str) else f"`{target}({arg}={_show(v)})`"
    if kind == "preset":
        preset, _, dotted = spec.partition(":")
        return f"GAN preset `{preset}`: `{dotted} = {_show(v)}`"
    return f"`{spec} = {_show(v)}`"


def page_rows() -> list[dict[str, str]]:
    """The rows as the page shows them; "our default" ends with the value read from its place."""
    out = []
    for r in AMBIGUITIES:
        ours = r.ours + (f" (default: {_where_text(r)})" if r.where else "")
        out.append({"#": str(r.number), "topic": r.topic, "paper": r.paper_says, "ours": ours, "other": r.other})
    return out


def page_markdown(layout: str = "rows") -> str:
    """The Ambiguities page (MyST).

    Args:
        layout: ``"rows"`` (default): one block per row, numbered, which reads at book width;
            ``"table"``: one pipe table with the columns #, topic, the paper says, our default,
            the other reading.
    """
    rows = page_rows()
    if layout == "table":
        return markdown_table(rows, {"#": "#", "topic": "topic", "paper": "the paper says",
                                     "ours": "our default", "other": "the other reading"})
    if layout != "rows":
        raise ValueError(f"layout={layout!r}; expected 'rows' or 'table'")
    return "\n\n".join(f"**{r['#']}. {r['topic']}**\n\n"
                       f"- *The paper says:* {r['paper']}\n"
                       f"- *Our default:* {r['ours']}\n"
                       f"- *The other reading:* {r['other']}" for r in rows)


_R = Ambiguity
#: THE TABLE. Row numbers are cited elsewhere: append new rows, never renumber.
AMBIGUITIES: list[Ambiguity] = [
    _R(1, "samples per class",
       "\"106 individuals x 10 repetitions = at least 1060 samples per class\" (section 5.2)",
       "every available sample of the seven classes; real counts shown next to the claim (notebook 01)",
       "none: NTU RGB+D 120 has about 950 per class"),
    _R(2, "cross-subject split",
       "\"40 subjects\" for training (NTU 60's CS list; section 5.4)",
       "NTU 120 CSub training performers (53 ids, `skelutils.splits`), since A106-A110 exist only in NTU 120",
       "`skelutils.splits` holds the list; the first 20 ids are NTU 60's"),
    _R(3, "validation set",
       "\"training, validation and test sets following a standard split\" (section 5.2)",
       "validation taken from training performers (CS) or training samples (CV), never from test",
       "`data.val_fraction` in the profile", "profile:data.val_fraction", 0.1),
    _R(4, "3D CNN + LSTM input",
       "\"skeleton motion coordinate changes\" (section 5.1)",
       "per-frame displacement", "`input=\"position\"`", "arg:skelutils.models.Cnn3dLstm:input", "motion"),
    _R(5, "two persons in the 3D CNN", "not stated (section 5.1)",
       "joints of both persons side by side (V = 50), one channel", "-"),
    _R(6, "3D CNN filters",
       "32-64-128-256 in the text; 64-128-256-512 in Fig. 5 (section 5.1)",
       "the text's filters", "`filters=(64, 128, 256, 512)`", "arg:skelutils.models.Cnn3dLstm:filters",
       (32, 64, 128, 256)),
    _R(7, "recurrent head of ours",
       "section 5.1: one LSTM of 256 units and FC 64; Experiment 1 (section 5.3): BiLSTM 512 -> "
       "\"output 256\" -> FC 256->128",
       "Experiment 1 with a linear 1024 -> 256 projection", "`variant=\"sec5.1\"`",
       "arg:skelutils.models.Cnn3dLstm:variant", "exp1"),
    _R(8, "L2 strength",
       "\"L2 regularization on the fully connected layers\", no value (section 5.3)",
       "on FC layers only", "`train.weight_decay_fc`", "profile:train.weight_decay_fc", 1e-4),
    _R(9, "GAN data in test",
       "generated samples split 80/10/10 into train/val/test (section 5.2)",
       "real-only training by default; both protocols built: `paper` reproduces the paper, `clean` "
       "keeps validation and test real",
       "`hybrid.protocol: paper` or `clean`", "profile:hybrid.protocol", "real-only"),
    _R(10, "CS/CV for generated samples",
       "generated samples have no performer or camera (section 5.2)",
       "under `paper` they join every split's parts 80/10/10; under `clean` only training", "-"),
    _R(11, "sequence length",
       "RRN: T = 100 with zero padding / random sampling (section 5.3); others not stated",
       "one T for every model and the GAN, resampled linearly",
       "the RRN rule is `Dataset.reprepare(frames=100, resample=\"random\")`; `data.frames` sets T",
       "profile:data.frames", {"smoke": 32, "cpu30": 32, "full": 64}),
    _R(12, "RRN optimiser",
       "SGD lr 1e-3, divided by 10 on plateau; no momentum or patience given (section 5.3)",
       "momentum 0.9, patience from the profile", "`train.plateau_patience` and the training parameters",
       "profile:train.plateau_patience", 5),
    _R(13, "what the GAN learns from",
       "\"generate 3500 more action skeletons with 500 skeleton movements for each of the classes\" "
       "(section 5.2); what the generator was trained on is not stated",
       "only samples in the training part of both the cross-subject and the cross-view split, so no "
       "test or validation sequence of either split reaches the generator "
       "(`experiments.gan_training_indices`)", "`gan.train_splits` (see row 36)"),
    _R(14, "two people in Kinetic-GAN",
       "Kinetic-GAN generates one skeleton (its feeder reads person 0 of each NTU sample, "
       "`feeder/feeder.py:76`); the seven classes are interactions, and the paper calls its generated "
       "samples mutual actions without saying how (sections 4.4 and 5.2)",
       "the `full` profile reads the paper as using Kinetic-GAN as published: preset `kinetic_gan` "
       "generates person 0 (the data layer's actor, who moves most) and the recognisers receive "
       "person 1 as zeros, absent as in an NTU file with one body (`skelutils.gan.sample`)",
       "the companion's two-person design, both people generated jointly on one 50-node graph with "
       "edges between the bodies: `gan.preset: full_two_person` (Kinetic-GAN's widths) or the "
       "`smoke` / `cpu30` presets", "profile:gan.preset",
       {"smoke": "smoke", "cpu30": "cpu30", "full": "kinetic_gan"}),
    _R(15, "how much generated data",
       "500 per class, all of it (section 5.2)",
       "the share is a parameter (`hybrid.fraction`, 0 to 1 of `gan.n_per_class`); the training "
       "chapters default to real-only, notebook 07 compares shares",
       "`HYBRID_PROTOCOL`, `GAN_FRACTION` in the training notebook", "profile:hybrid.fraction", 0.0),
    _R(16, "RRN initialisation", "not stated (section 5.3)",
       "the Keras defaults of the relational-network reference code (Glorot-uniform weights, "
       "orthogonal recurrent weights, zero biases, forget-gate bias 1); with PyTorch's defaults the "
       "biases drown the hip-centred input and the model stays at chance", "-"),
    _R(17, "the GAN in a short CPU run",
       "the paper uses Kinetic-GAN as published (a free position per joint, class only through the "
       "latent and the critic's input; sections 4.4 and 5.2)",
       "`full` uses Kinetic-GAN's networks (`kinetic_gan`); `smoke` and `cpu30` use the companion's "
       "two-person networks, which generate bone directions and bounded bone lengths joined by "
       "forward kinematics (`output=\"bones\"`) as a residual on one of several learned templates of "
       "the class, started at k-means cluster means of its training sequences (`class_template`); "
       "`cpu30` adds a class head with its own weights whose cross-entropy the generator minimises "
       "(`aux_weight`, `aux_head=\"separate\"`), computes the gradient penalty on every fourth critic "
       "update (`gp_every=4`) and uses lr 5e-4. Kinetic-GAN's form learns too slowly for 30 CPU "
       "minutes: its limbs stretch and a real-trained recogniser rarely recognises its samples. "
       "Notebook 02 with `-p PROFILE cpu30` measures the chosen form",
       "`gan.config` in a profile replaces any `GANConfig` field, e.g. "
       "`{output: joints, aux_weight: 0, gp_every: 1, lr: 2.0e-4, class_template: 0}` (Kinetic-GAN's form "
       "at the cpu30 sizes)", "preset:cpu30:config.output", "bones"),
    _R(18, "GAN training length",
       "not stated; Kinetic-GAN's `kinetic-gan.py` trains 1,200 epochs at batch 32 (one generator "
       "update per five critic batches)",
       "preset `kinetic_gan`: 1,200 epochs of the GAN's training set at batch 32; on the full "
       "profile's training set of about 2,000 sequences that is about 15,000 generator updates, "
       "where Kinetic-GAN's published NTU-60 generator (checkpoint 1,370,000 batches) had about "
       "274,000 on 40,320 sequences",
       "`gan.iterations` in a profile (notebook parameter `ITERATIONS`) sets the updates directly; "
       "`full_two_person` has 40,000", "preset:kinetic_gan:epochs", 1200),
    _R(19, "frames the GAN learns from",
       "not stated; Kinetic-GAN crops the first 64 frames of its stored arrays "
       "(`kinetic-gan.py:129`), whose preparation is not in its repository",
       "whole sequences resampled linearly to the recognisers' T, as they see them (row 11)", "-"),
    _R(20, "data scale and truncation",
       "not stated; Kinetic-GAN scales its data by one global min and max to [-1, 1] for a `tanh` "
       "output (`feeder/feeder.py:57,77`) and samples with truncation psi = 0.95 in w "
       "(`generate.py:43-44`)",
       "the same in preset `kinetic_gan` (`Normaliser.fit_minmax`, `GANConfig.truncation_psi`); "
       "samples are mapped back to metres",
       "`gan.config: {truncation_psi: 1.0}` samples without truncation; the companion presets "
       "standardise per joint and do not truncate", "preset:kinetic_gan:config.truncation_psi", 0.95),
    # --- data preparation: the field's conventions (SGN / CTR-GCN data scripts) ---
    _R(21, "actor selection (which bodies are the two persons)",
       "the paper says nothing (section 4.2); the field (SGN / CTR-GCN `get_raw_denoised_data.py`) "
       "denoises by length (<= 11 frames dropped), then spread (x spread > 0.8 y spread in >= 69.754 % "
       "of a body's frames), then ranks by motion = variance over all (frame, joint) points",
       "the same three steps with the same thresholds (`skelutils.prepare.denoise_bodies`)",
       "`motion`: the companion's earlier selection (drops < 11 frames, per-joint variance over time, "
       "no spread test, keeps empty frames); `first`: the first two body slots",
       "profile:data.actor_method", "ctrgcn_first"),
    _R(22, "which actor is person 0",
       "the field: the body with the largest motion is actor 1; the models, the GAN and the contact "
       "measures here read person 0 as the one who acts (not stated in the paper)",
       "persons in order of first appearance (ties: earlier body slot), after the field's denoising "
       "(`ctrgcn_first`); on the simulator (smoke, seed 0, 334 samples) person 0 is the attacker in "
       "100 % of samples, but only because the simulator writes the attacker's body first",
       "`ctrgcn`: largest motion first, as the field; on the same data person 0 is the attacker in "
       "85.0 % (shoot with gun 50 %, hit with object 55 %, the five others 94-100 %); on real Kinect "
       "files neither rule is known to find the attacker"),
    _R(23, "frames with no selected body",
       "not stated; the field drops frames with no body at parse time and frames where neither "
       "selected actor is present (`remove_missing_frames`)",
       "the `ctrgcn` methods remove every frame in which neither actor is present "
       "(`prepare.drop_empty_frames`)",
       "`motion` / `first` keep the file's timeline with zeros (only leading/trailing empty frames "
       "are trimmed by `prepare_sequences`)"),
    _R(24, "a body that leaves and comes back with the same tracking id",
       "not stated; CTR-GCN's interval bookkeeping appends the body's frames right after its first "
       "frame (`interval.append(pre + 1)`), so frames after a gap are shifted earlier",
       "frames stay at their true frame index (body slots keep their frame mask)",
       "the reference's shifted placement"),
    _R(25, "overlap test when stitching bodies into one actor",
       "not stated; CTR-GCN compares the hulls [first, last] of intervals and treats "
       "`min(end) - max(start) <= 0` as \"no overlap\", so two bodies sharing exactly one frame are "
       "merged and the later one overwrites that frame; a body inside a gap of an actor's hull goes "
       "to the other actor",
       "a body joins an actor only if it shares no frame with the frames already in it (exact frame sets)",
       "the reference's hull test with its one-frame tolerance"),
    _R(26, "no body longer than 11 frames",
       "not stated; the reference drops them all and then fails (index error) on such a sample",
       "the longest bodies are kept", "drop the sample"),
    _R(27, "origin of the coordinates",
       "not stated; SGN / CTR-GCN `seq_transformation.py` and PySKL subtract SpineMid (joint 2, "
       "1-based) of actor 1 in its first frame",
       "SpineBase of person 0 in its first frame", "`center: spinemid0`, SpineMid of person 0 in its first frame",
       "profile:data.center", "hip0"),
    _R(28, "samples on the official missing-skeleton lists",
       "not stated; the dataset authors (shahroudy/NTURGB-D: 302 NTU 60 samples; 535 for NTU 120, "
       "which include the 302) ask to ignore them; SGN / CTR-GCN skip every listed sample",
       "the reader drops files without a skeleton; a listed file that holds a readable skeleton is "
       "kept, and `python -m skelutils check` lists such files and the empty files that are not on "
       "the list", "skip every listed sample"),
    _R(29, "bodies in a file with one body slot",
       "not stated; the reference applies no denoising when the file holds one body",
       "the same (a single body is the actor whatever its length or spread)", "-"),
    # --- validation sets and inputs ---
    _R(30, "validation set (cross-view, cross-setup)",
       "\"a part of the training samples\" (CV; section 5.4); NTU films each performance with three "
       "cameras at once",
       "whole performances (setup, performer, replication, action) are held out, about "
       "`val_fraction` of each class's training performances, so no validation clip has a twin "
       "from another camera in training",
       "a per-sample draw of `val_fraction` of the training clips (leaves the other camera's twin of "
       "most validation clips in training: inflated validation accuracy, weaker best-epoch choice)"),
    _R(31, "validation set (cross-subject)",
       "\"a part of the training performers\" (section 5.4)",
       "whole training performers held out (`round(val_fraction * P)`, at least one), which also "
       "keeps every performance on one side",
       "per-performance draw as for cross-view (people seen in training would be validated on)"),
    _R(32, "RRN-LSTM origin for two persons",
       "\"subtract the mean of the five joints adjacent to the hip joint\" (section 5.3); Zheng et "
       "al. 2019 normalise single skeletons",
       "one origin per frame for both persons, the actor's hip centre (the receiver's own where the "
       "actor is absent): the distance between the two persons, the main cue of pushing or kicking, "
       "stays in the input",
       "each person on its own hip centre (`center=\"person\"`): both stand at the origin and only "
       "their postures are left", "arg:skelutils.models.RrnLstm:center", "shared"),
    _R(33, "motion input where a person is absent",
       "\"skeleton motion coordinate changes\" / frame differences (sections 5.1 and 5.3); absent "
       "persons are zeros in NTU arrays",
       "displacement set to zero where a joint is absent in either frame, in all three models' "
       "inputs (as `prepare.to_motion`); Li et al.'s resize treats a frame that blends an absent one "
       "as absent",
       "plain `x[t] - x[t-1]`: a person entering or leaving is a jump of several metres (and a "
       "real-versus-generated tell, as generated samples never have one)"),
    # --- generated data: hybrid sets and their quality ---
    _R(34, "how the 80/10/10 split meets the clean protocol",
       "\"500 skeleton movements for each of the classes\", split 80/10/10 into train/val/test "
       "(sections 4.4 and 5.2); no clean protocol",
       "at one `hybrid.fraction`, `paper` and `clean` train on the *same* generated samples, "
       "`round(0.8 * fraction * n_per_class)` per class; `paper` adds the 10% + 10% draws to "
       "validation and test, `clean` leaves those real (`hybrid.make_hybrid`)", "-"),
    _R(35, "which generated samples are tested on", "not stated (section 5.2)",
       "the generated validation and test draws of `paper` come from a permutation seeded by "
       "`holdout_seed` and the class only, so every training seed is tested on the same generated "
       "samples; the training draw is seeded by the training seed",
       "`make_hybrid(holdout_seed=...)`", "arg:skelutils.hybrid.make_hybrid:holdout_seed", 0),
    _R(36, "the GAN and the cross-setup split", "the paper has no cross-setup split (section 5.4)",
       "the GAN learns from the training parts of `gan.train_splits` (xsub and xview when unset); "
       "hybrid data on a split whose validation or test part it learned from (xset by default) are "
       "refused", "`gan.train_splits: [xsub, xview, xset]`"),
    _R(37, "FID/MMD reference and feature network",
       "not stated; Kinetic-GAN computes FID and MMD in the features of its own ST-GCN recogniser "
       "trained on NTU",
       "features of the paper's recogniser (the real-only xsub run of chapter 03); reference = xsub "
       "test set, compared at equal size and equal class composition, several draws averaged, one "
       "RBF bandwidth (median real-real distance); the GAN's training data are scored against the "
       "same reference to show the part of the ratio due to other performers/cameras; values are "
       "not on Kinetic-GAN's scale",
       "`quality_report(repeats=...)`", "arg:skelutils.quality.quality_report:repeats", 5),
    _R(38, "memorisation", "neither paper checks it",
       "nearest-neighbour RMS coordinate distance (m) of each generated sequence to the GAN's "
       "training set, against held-out real sequences of the same performers and cameras; flagged "
       "when more than `quality.COPY_SHARE_FLAG` of generated sequences are nearer than the held-out "
       "`quality.COPY_PERCENTILE`-th percentile",
       "`quality.COPY_PERCENTILE`, `quality.COPY_SHARE_FLAG`", "const:skelutils.quality.COPY_PERCENTILE", 5.0),
    # --- models and classes ---
    _R(39, "RRN normalisation before the LSTM",
       "not stated (section 5.3: attention mask, FC to 256, then the LSTM); neither Zheng et al. "
       "2019 nor the paper normalise there",
       "BatchNorm1d after the FC to 256 (statistics over the non-padded frames): without it SGD moved "
       "all samples' outputs together until the LSTM saturated",
       "`norm=\"none\"`, the papers' form (`models.rrn_lstm.params` in a profile)",
       "arg:skelutils.models.RrnLstm:norm", "batch"),
    _R(40, "harmless actions",
       "the seven harmful classes only (section 5.2): a recogniser never sees people who do no harm",
       "the paper's seven classes",
       "`data.class_set: harmful7+harmless` adds an eighth class of harmless two-person actions "
       "(notebook parameter `CLASS_SET`)", "profile:data.class_set", "harmful7"),
]
