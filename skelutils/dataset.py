"""Scanning an NTU RGB+D skeleton folder, caching the parse, and the prepared ``Dataset``.

Three layers, each usable on its own:

1. :func:`scan_folder` finds every ``*.skeleton`` file under a folder (flat, or nested such
   as ``nturgb+d_skeletons/``), keeps the seven harmful two-person classes, parses the files
   in parallel and selects the two actors of each sample. Files it cannot use are reported
   (``empty``, ``malformed``, ``not_ntu``, ``duplicates``), never crash the scan.
2. :func:`load_or_scan` keeps the result of a scan in an ``.npz`` cache that is reused as
   long as the files (names, sizes, modification times) and the scan parameters are the same.
3. :func:`build_dataset` turns a scan into a :class:`Dataset`: model-ready float32
   ``x`` (N, M=2, T, V=25, C=3), labels, per-sample metadata, the raw sequences (for other
   preparations) and a fingerprint; :meth:`Dataset.save` / :func:`load_dataset` store it.
"""
from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import hashlib
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

import skelutils.ntu as ntu
from skelutils.config import atomic_write_bytes, file_sha256, write_json
from skelutils.ntu import (ACTION_IDS, ACTION_TO_LABEL, CLASS_NAMES, DEFAULT_CLASS_SET, NUM_JOINTS,
                           SkeletonFormatError, class_set_actions, class_set_labels, class_set_names)
from skelutils.prepare import (
    ACTOR_METHODS, DEFAULT_ACTOR_METHOD, actor_slots, actors_from_slots, drop_empty_frames, drops_empty_frames,
    prepare_sequences,
)

#: Bump when the cache layout or the meaning of a cached field changes.
CACHE_VERSION = 1
#: Allowed values of ``Dataset.source``.
SOURCES = ("simulated", "ntu")
#: The notebook that builds the dataset artifact (named in "not found" errors).
DATA_NOTEBOOK = "notebooks/01_data.ipynb"
#: Setup ranges of the two NTU RGB+D 120 halves: (label, first setup, last setup).
SETUP_RANGES: tuple[tuple[str, int, int], ...] = (
    ("S001-S017 (NTU 60 and 120)", 1, 17),
    ("S018-S032 (NTU 120 only)", 18, 32),
)
_META_INT = ("setup", "camera", "performer", "replication", "action", "label",
             "n_frames", "n_bodies_max", "n_noise_bodies")


# ---------------------------------------------------------------------------------------------
# scan
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class ScanResult:
    """The parsed subset of a skeleton folder. ``N`` usable samples, sorted by name.

    Attributes:
        raw_dir: the folder scanned (as given).
        names: N sample names (``SsssCcccPpppRrrrAaaa``).
        setup, camera, performer, replication, action: int64 (N,), the ids in the name.
        label: int64 (N,), 0..6 in the order of ``skelutils.ntu.CLASSES`` (-1 for an
            action outside the seven classes, if such actions were asked for).
        n_frames: int64 (N,), frames in the file (the sequence may hold fewer: the
            ``"ctrgcn"`` selections remove frames in which neither actor is present).
        n_bodies_max: int64 (N,), most bodies in one frame.
        n_noise_bodies: int64 (N,), body slots not used by the two selected actors.
        sequences: N float32 arrays (F'_i, 2, 25, 3), metres, camera frame, the two actors
            (output of :func:`skelutils.prepare.select_actors`), zeros where absent.
        empty: names of samples with no skeleton at all (0 body slots or 0 frames).
        malformed: (name, message) of files the reader rejected.
        not_ntu: paths (relative to ``raw_dir``) of ``.skeleton`` files whose name is not
            an NTU sample name.
        duplicates: relative paths of files whose sample name was already seen (the first
            in sorted path order is used).
        n_other_actions: NTU files of actions outside ``actions`` (skipped, not read).
        n_files: all ``.skeleton`` files found.
        actions: the NTU action ids kept.
        actor_method: the actor selection used.
        from_cache: True when the result came from the cache.
    """

    raw_dir: str
    names: list[str]
    setup: np.ndarray
    camera: np.ndarray
    performer: np.ndarray
    replication: np.ndarray
    action: np.ndarray
    label: np.ndarray
    n_frames: np.ndarray
    n_bodies_max: np.ndarray
    n_noise_bodies: np.ndarray
    sequences: list[np.ndarray]
    empty: list[str]
    malformed: list[tuple[str, str]]
    not_ntu: list[str]
    duplicates: list[str]
    n_other_actions: int
    n_files: int
    actions: tuple[int, ...]
    actor_method: str
    from_cache: bool = False

    def __len__(self) -> int:
        return len(self.names)

    def meta(self) -> dict:
        """Per-sample metadata as a dict: int64 arrays for the ids and counts, ``names`` a list."""
        out = {k: np.asarray(getattr(self, k), np.int64).copy() for k in _META_INT}
        out["names"] = list(self.names)
        return out


def _check_folder(raw_dir) -> Path:
    path = Path(raw_dir)
    if not path.exists():
        raise FileNotFoundError(f"skeleton folder {path} does not exist; pass the folder that holds the "
                                "unpacked NTU RGB+D '*.skeleton' files (e.g. .../nturgb+d_skeletons)")
    if not path.is_dir():
        raise NotADirectoryError(f"{path} is not a folder; pass the folder that holds the unpacked "
                                 "'*.skeleton' files, not a file or archive (unzip it first)")
    return path


def list_skeleton_files(raw_dir) -> list[tuple[str, int, int]]:
    """Every ``*.skeleton`` file under ``raw_dir`` (recursively, following folder links).

    Returns:
        Sorted list of (path relative to ``raw_dir`` with ``/`` separators, size in bytes,
        modification time in ns).

    Raises:
        FileNotFoundError / NotADirectoryError: ``raw_dir`` is missing or not a folder.
    """
    root = _check_folder(raw_dir)
    out: list[tuple[str, int, int]] = []
    seen_dirs: set[tuple[int, int]] = set()
    stack = [(root, "")]
    while stack:
        folder, rel = stack.pop()
        try:
            st = folder.stat()
            if (st.st_dev, st.st_ino) in seen_dirs:
                continue
            seen_dirs.add((st.st_dev, st.st_ino))
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            try:
                if e.is_dir():
                    stack.append((Path(e.path), f"{rel}{e.name}/"))
                elif e.name.endswith(".skeleton") and e.is_file():
                    st = e.stat()
                    out.append((rel + e.name, int(st.st_size), int(st.st_mtime_ns)))
            except OSError:
                continue
    out.sort()
    return out


def _scan_file(path: str, actor_method: str):
    """Parse one file in a worker: ("ok", seq, n_frames, n_bodies_max, n_noise) / ("empty",) / ("malformed", msg)."""
    try:
        skel = ntu.read_skeleton(path, fields="xyz")
    except (SkeletonFormatError, ValueError, OSError, EOFError) as e:
        msg = str(e) or type(e).__name__
        return ("malformed", msg if path in msg else f"{path}: {msg}")
    except Exception as e:  # a reader bug: stop, naming the file
        raise RuntimeError(f"{path}: unexpected {type(e).__name__} while reading: {e}") from e
    if skel.n_bodies == 0 or skel.n_frames == 0:
        return ("empty",)
    slots = actor_slots(skel, actor_method)
    present = np.asarray(skel.present, bool)
    seq = actors_from_slots(skel, slots)
    if drops_empty_frames(actor_method):
        seq = drop_empty_frames(seq)
    used = sum(len(s) for s in slots)
    return ("ok", seq, skel.n_frames, int(present.sum(axis=1).max()), skel.n_bodies - used)


def _scan_chunk(paths: Sequence[str], actor_method: str) -> list:
    return [_scan_file(p, actor_method) for p in paths]


def _select(listing, actions: Iterable[int]):
    """Sort the listing into (kept (name, relpath) pairs, not_ntu, duplicates, n_other)."""
    wanted = {int(a) for a in actions}
    kept: dict[str, str] = {}
    parsed: dict[str, ntu.SampleName] = {}
    not_ntu, duplicates, n_other = [], [], 0
    for rel, _size, _mtime in listing:
        try:
            sn = ntu.parse_sample_name(rel)
        except SkeletonFormatError:
            not_ntu.append(rel)
            continue
        if sn.action not in wanted:
            n_other += 1
            continue
        name = str(sn)
        if name in kept:
            duplicates.append(rel)
            continue
        kept[name] = rel
        parsed[name] = sn
    return kept, parsed, not_ntu, duplicates, n_other


def scan_folder(raw_dir, actions: Iterable[int] = ACTION_IDS, workers: int = 2, progress: bool = True,
                actor_method: str = DEFAULT_ACTOR_METHOD, _listing=None) -> ScanResult:
    """Find, filter and parse the NTU skeleton files of the seven classes under a folder.

    Files are read in parallel over files (a ``ProcessPoolExecutor`` fed with chunks of
    files; ``workers=1`` reads in this process). Each worker parses a file with
    :func:`skelutils.ntu.read_skeleton` and applies the actor selection, so only the
    (F, 2, 25, 3) float32 actors travel back.

    Args:
        raw_dir: folder holding ``*.skeleton`` files, flat or in sub-folders.
        actions: NTU action ids to keep (default the seven classes, ``ntu.ACTION_IDS``).
        workers: processes (>= 1; default 2).
        progress: show a tqdm progress bar (on stderr).
        actor_method: one of ``skelutils.prepare.ACTOR_METHODS`` (default ``"ctrgcn_first"``);
            see :func:`skelutils.prepare.select_actors`.

    Returns:
        ScanResult, samples sorted by name.

    Raises:
        FileNotFoundError / NotADirectoryError: ``raw_dir`` is missing or not a folder.
        ValueError: ``workers < 1`` or unknown ``actor_method``.
        RuntimeError: the reader failed in an unexpected way on a file (the file is named).
    """
    if int(workers) < 1:
        raise ValueError(f"workers={workers!r}: expected at least 1 process")
    if actor_method not in ACTOR_METHODS:
        raise ValueError(f"actor_method={actor_method!r} is not supported; allowed: {ACTOR_METHODS}")
    actions = tuple(sorted({int(a) for a in actions}))
    root = _check_folder(raw_dir)
    listing = list_skeleton_files(root) if _listing is None else _listing
    kept, parsed, not_ntu, duplicates, n_other = _select(listing, actions)
    names = sorted(kept)
    paths = [str(root / kept[n]) for n in names]

    results: list = [None] * len(paths)
    bar = tqdm(total=len(paths), desc="scan", unit="file", disable=not progress, leave=False)
    try:
        if int(workers) == 1 or len(paths) <= 1:
            for i, p in enumerate(paths):
                results[i] = _scan_file(p, actor_method)
                bar.update(1)
        else:
            n_workers = min(int(workers), len(paths))
            chunk = max(1, min(64, math.ceil(len(paths) / (n_workers * 8))))
            with cf.ProcessPoolExecutor(max_workers=n_workers) as pool:
                futures = {pool.submit(_scan_chunk, paths[s:s + chunk], actor_method): s
                           for s in range(0, len(paths), chunk)}
                for fut in cf.as_completed(futures):
                    s = futures[fut]
                    part = fut.result()
                    results[s:s + len(part)] = part
                    bar.update(len(part))
    finally:
        bar.close()

    ok_names, seqs, stats, empty, malformed = [], [], [], [], []
    for name, res in zip(names, results):
        if res[0] == "ok":
            ok_names.append(name)
            seqs.append(res[1])
            stats.append(res[2:])
        elif res[0] == "empty":
            empty.append(name)
        else:
            malformed.append((name, res[1]))
    ids = np.array([[getattr(parsed[n], f) for f in ("setup", "camera", "performer", "replication", "action")]
                    for n in ok_names], np.int64).reshape(-1, 5)
    st = np.array(stats, np.int64).reshape(-1, 3)
    return ScanResult(
        raw_dir=str(raw_dir), names=ok_names,
        setup=ids[:, 0].copy(), camera=ids[:, 1].copy(), performer=ids[:, 2].copy(),
        replication=ids[:, 3].copy(), action=ids[:, 4].copy(),
        label=np.array([ACTION_TO_LABEL.get(int(a), -1) for a in ids[:, 4]], np.int64),
        n_frames=st[:, 0].copy(), n_bodies_max=st[:, 1].copy(), n_noise_bodies=st[:, 2].copy(),
        sequences=seqs, empty=empty, malformed=malformed, not_ntu=not_ntu, duplicates=duplicates,
        n_other_actions=n_other, n_files=len(listing), actions=actions, actor_method=actor_method)


# ---------------------------------------------------------------------------------------------
# cache
# ---------------------------------------------------------------------------------------------

def _ragged(seqs: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate (F_i, 2, 25, 3) arrays along frames: (sum F_i, 2, 25, 3) and int64 offsets (N+1,)."""
    offsets = np.zeros(len(seqs) + 1, np.int64)
    if seqs:
        offsets[1:] = np.cumsum([len(s) for s in seqs])
        frames = np.concatenate([np.asarray(s, np.float32) for s in seqs], axis=0)
    else:
        frames = np.zeros((0, 2, NUM_JOINTS, 3), np.float32)
    return frames, offsets


def _unragged(frames: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    return [frames[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]


def _str_array(items: Sequence[str]) -> np.ndarray:
    return np.array(list(items), dtype=str) if len(items) else np.zeros(0, dtype="<U1")


def _save_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> str:
    """np.savez written atomically (through ``skelutils.config.atomic_write_bytes``).

    Returns:
        The sha256 (hex) of the bytes written.
    """
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    data = buf.getvalue()
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def cache_key(listing, actions: Iterable[int], actor_method: str) -> str:
    """Hex digest identifying a scan: the files (names, sizes, mtimes), the parameters, the format version."""
    payload = json.dumps({"version": CACHE_VERSION, "actions": sorted(int(a) for a in actions),
                          "actor_method": actor_method, "files": [list(f) for f in listing]},
                         separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def cache_path(raw_dir, cache_dir, actions: Iterable[int] = ACTION_IDS, actor_method: str = DEFAULT_ACTOR_METHOD) -> Path:
    """The cache file of a (folder, parameters) pair: ``<cache_dir>/scan_<hash>.npz``.

    One file per folder and parameter set; it is overwritten when the files change.
    """
    ident = json.dumps([str(Path(raw_dir).resolve()), sorted(int(a) for a in actions), actor_method])
    return Path(cache_dir) / f"scan_{hashlib.sha256(ident.encode()).hexdigest()[:16]}.npz"


def _scan_to_arrays(scan: ScanResult, key: str) -> dict[str, np.ndarray]:
    frames, offsets = _ragged(scan.sequences)
    arrays = {k: np.asarray(getattr(scan, k), np.int64) for k in _META_INT}
    arrays.update(
        key=np.array(key), names=_str_array(scan.names), frames=frames, offsets=offsets,
        empty=_str_array(scan.empty), not_ntu=_str_array(scan.not_ntu),
        duplicates=_str_array(scan.duplicates),
        malformed_names=_str_array([m[0] for m in scan.malformed]),
        malformed_messages=_str_array([m[1] for m in scan.malformed]),
        n_other_actions=np.array(scan.n_other_actions, np.int64), n_files=np.array(scan.n_files, np.int64),
        actions=np.array(scan.actions, np.int64), actor_method=np.array(scan.actor_method),
        raw_dir=np.array(scan.raw_dir))
    return arrays


def _scan_from_npz(z, raw_dir) -> ScanResult:
    return ScanResult(
        raw_dir=str(raw_dir), names=[str(s) for s in z["names"]],
        **{k: z[k].astype(np.int64) for k in _META_INT},
        sequences=_unragged(z["frames"], z["offsets"]),
        empty=[str(s) for s in z["empty"]],
        malformed=[(str(a), str(b)) for a, b in zip(z["malformed_names"], z["malformed_messages"])],
        not_ntu=[str(s) for s in z["not_ntu"]], duplicates=[str(s) for s in z["duplicates"]],
        n_other_actions=int(z["n_other_actions"]), n_files=int(z["n_files"]),
        actions=tuple(int(a) for a in z["actions"]), actor_method=str(z["actor_method"]), from_cache=True)


def load_or_scan(raw_dir, cache_dir, actions: Iterable[int] = ACTION_IDS, actor_method: str = DEFAULT_ACTOR_METHOD,
                 workers: int = 2, progress: bool = True) -> ScanResult:
    """:func:`scan_folder` with an on-disk cache of the result.

    The cache (``.npz``, written atomically, see :func:`cache_path`) is used when its key
    matches: a hash of the sorted relative paths, sizes and modification times of every
    ``*.skeleton`` file under ``raw_dir``, of ``actions`` and ``actor_method``, and of
    ``CACHE_VERSION``. Any touched, added or removed file or a changed parameter causes a
    rescan (and a new cache). The raw sequences are stored ragged (frames concatenated
    plus offsets). A cache file that cannot be read is ignored and rewritten.

    Args:
        raw_dir: folder of ``*.skeleton`` files.
        cache_dir: folder for the cache file (created if needed); ``None`` disables the cache.
        actions, actor_method, workers, progress: as in :func:`scan_folder`.

    Returns:
        ScanResult (``from_cache`` tells whether it came from the cache).
    """
    actions = tuple(sorted({int(a) for a in actions}))
    if actor_method not in ACTOR_METHODS:
        raise ValueError(f"actor_method={actor_method!r} is not supported; allowed: {ACTOR_METHODS}")
    listing = list_skeleton_files(raw_dir)
    if cache_dir is None:
        return scan_folder(raw_dir, actions, workers, progress, actor_method, _listing=listing)
    key = cache_key(listing, actions, actor_method)
    path = cache_path(raw_dir, cache_dir, actions, actor_method)
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["key"]) == key:
                    return _scan_from_npz(z, raw_dir)
        except (OSError, ValueError, KeyError, EOFError):
            pass  # unreadable or from an older layout: rescan and overwrite
    scan = scan_folder(raw_dir, actions, workers, progress, actor_method, _listing=listing)
    _save_npz(path, _scan_to_arrays(scan, key))
    return scan


# ---------------------------------------------------------------------------------------------
# the prepared dataset
# ---------------------------------------------------------------------------------------------

def _fingerprint(seqs: Sequence[np.ndarray], names: Sequence[str], extra: Mapping) -> str:
    h = hashlib.blake2b(digest_size=8)
    h.update(json.dumps({"names": list(names), **extra}, sort_keys=True, default=str).encode())
    for s in seqs:
        a = np.ascontiguousarray(s, np.float32)
        h.update(np.int64(len(a)).tobytes())
        h.update(a.tobytes())
    return h.hexdigest()


@dataclasses.dataclass
class Dataset:
    """Prepared samples plus everything needed to trace and re-prepare them.

    Attributes:
        x: float32 (N, M=2, T, V=25, C=3), metres, centred (see ``prep``), zeros where a
            person is absent; actor first.
        y: int64 (N,), labels 0..6 in the order of ``skelutils.ntu.CLASSES`` (0..7 for the class
            set ``harmful7+harmless``, 7 = harmless interaction; see :attr:`class_names`).
        meta: per-sample metadata: int64 (N,) arrays ``setup``, ``camera``, ``performer``,
            ``replication``, ``action``, ``n_frames``, ``n_bodies_max``, ``n_noise_bodies``
            and the list ``names``.
        raw: N float32 arrays (F_i, 2, 25, 3), the selected actors before preparation.
        source: ``"simulated"`` or ``"ntu"``.
        fingerprint: 16 hex digits identifying the raw data, names, source and ``prep``.
        empty: names of samples with no skeleton (from the scan).
        malformed: (name, message) of unreadable files (from the scan).
        prep: the preparation options (``frames``, ``resample``, ``center``, ``align``,
            ``trim``, ``seed``, ``actor_method``, ``actions``).
    """

    x: np.ndarray
    y: np.ndarray
    meta: dict
    raw: list[np.ndarray]
    source: str
    fingerprint: str
    empty: list[str]
    malformed: list[tuple[str, str]]
    prep: dict

    def __len__(self) -> int:
        return int(len(self.y))

    @property
    def names(self) -> list[str]:
        """Sample names, in the order of ``x``."""
        return list(self.meta["names"])

    @property
    def class_set(self) -> str:
        """The class set the labels follow (``prep["class_set"]``; ``"harmful7"`` for data sets
        saved before class sets existed)."""
        return str(self.prep.get("class_set", DEFAULT_CLASS_SET))

    @property
    def class_names(self) -> tuple[str, ...]:
        """Class names in label order (``skelutils.ntu.class_set_names`` of :attr:`class_set`)."""
        return class_set_names(self.class_set)

    def subset(self, idx) -> "Dataset":
        """The samples at ``idx`` (int indices or a boolean mask of length N), as a new Dataset.

        Arrays are copied. The fingerprint of a subset is derived from the parent's and the
        indices; ``empty``, ``malformed`` and ``prep`` are carried over.
        """
        idx = np.asarray(idx)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise ValueError(f"subset: boolean mask of shape {idx.shape}, expected ({len(self)},)")
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64).reshape(-1)
        if len(idx) and (idx.min() < -len(self) or idx.max() >= len(self)):
            raise IndexError(f"subset: index out of range for a dataset of {len(self)} samples")
        meta = {k: (np.asarray(v)[idx].copy() if k != "names" else [v[i] for i in idx])
                for k, v in self.meta.items()}
        h = hashlib.blake2b(digest_size=8)
        h.update(self.fingerprint.encode())
        h.update(idx.tobytes())
        return Dataset(x=self.x[idx].copy(), y=self.y[idx].copy(), meta=meta,
                       raw=[self.raw[i] for i in idx], source=self.source, fingerprint=h.hexdigest(),
                       empty=list(self.empty), malformed=list(self.malformed), prep=dict(self.prep))

    def reprepare(self, frames: int | None = None, resample: str | None = None, center: str | None = None,
                  align: bool | None = None, trim: bool | None = None, rng=None) -> np.ndarray:
        """A new ``x`` from the raw sequences with other options (e.g. ``frames=100,
        resample="random"`` for the RRN baseline); options left ``None`` keep ``prep``'s.

        Args:
            frames, resample, center, align, trim: see
                :func:`skelutils.prepare.prepare_sequences`.
            rng: numpy Generator or int seed for ``resample="random"`` (``None``: ``prep["seed"]``).

        Returns:
            float32 (N, 2, T, 25, 3). ``self`` is not modified.
        """
        p = self.prep
        return prepare_sequences(
            self.raw, frames=p["frames"] if frames is None else frames,
            resample=p["resample"] if resample is None else resample,
            center=p["center"] if center is None else center,
            align=p["align"] if align is None else align,
            trim=p["trim"] if trim is None else trim,
            rng=p.get("seed", 0) if rng is None else rng)

    def save(self, path) -> Path:
        """Write ``<path>`` (``.npz``) and a JSON sidecar ``<path>.json`` (``.npz`` replaced), atomically.

        Returns:
            The ``.npz`` path.
        """
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        frames, offsets = _ragged(self.raw)
        arrays = {"x": np.asarray(self.x, np.float32), "y": np.asarray(self.y, np.int64),
                  "names": _str_array(self.meta["names"]), "raw_frames": frames, "raw_offsets": offsets}
        for k, v in self.meta.items():
            if k != "names":
                arrays[f"meta_{k}"] = np.asarray(v, np.int64)
        npz_sha256 = _save_npz(path, arrays)
        write_json(path.with_suffix(".json"), {
            "npz_sha256": npz_sha256,
            "source": self.source, "fingerprint": self.fingerprint, "prep": self.prep,
            "n_samples": len(self), "x_shape": list(self.x.shape),
            "class_counts": {name: int((self.y == c).sum()) for c, name in enumerate(self.class_names)},
            "empty": list(self.empty), "malformed": [list(m) for m in self.malformed]})
        return path


def load_dataset(path) -> Dataset:
    """Read a :class:`Dataset` written by :meth:`Dataset.save`.

    Raises:
        FileNotFoundError: the ``.npz`` or its ``.json`` sidecar is missing (the message
            names the path and the notebook that makes it).
        ValueError: the files are unreadable or inconsistent, or the sidecar does not describe
            this ``.npz`` (its recorded sha256 differs).
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    side = path.with_suffix(".json")
    for p in (path, side):
        if not p.is_file():
            raise FileNotFoundError(f"dataset not found at {p}; run {DATA_NOTEBOOK} first "
                                    "(it builds and saves the dataset)")
    try:
        info = json.loads(side.read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"dataset sidecar {side} cannot be read ({type(e).__name__}: {e}); "
                         f"delete it and re-run {DATA_NOTEBOOK}") from e
    want, have = info.get("npz_sha256"), file_sha256(path)
    if want != have:
        why = ("records no hash of its .npz (written by an older version)" if want is None else
               f"describes an .npz with sha256 {str(want)[:16]}..., the file has {have[:16]}...")
        raise ValueError(f"{side} and {path.name} do not belong together: the sidecar {why} (one of the two "
                         f"was replaced or a write was interrupted); delete both and re-run {DATA_NOTEBOOK}")
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = {k[len("meta_"):]: z[k].astype(np.int64) for k in z.files if k.startswith("meta_")}
            meta["names"] = [str(s) for s in z["names"]]
            ds = Dataset(x=z["x"].astype(np.float32), y=z["y"].astype(np.int64), meta=meta,
                         raw=[a.copy() for a in _unragged(z["raw_frames"], z["raw_offsets"])],
                         source=info["source"], fingerprint=info["fingerprint"],
                         empty=list(info.get("empty", [])),
                         malformed=[tuple(m) for m in info.get("malformed", [])], prep=dict(info["prep"]))
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
        raise ValueError(f"dataset at {path} cannot be read ({type(e).__name__}: {e}); "
                         f"delete it and re-run {DATA_NOTEBOOK}") from e
    if not (len(ds.x) == len(ds.y) == len(ds.raw) == len(ds.meta["names"])):
        raise ValueError(f"dataset at {path} is inconsistent (x, y, raw, names differ in length); "
                         f"delete it and re-run {DATA_NOTEBOOK}")
    return ds


def no_samples_message(scan: ScanResult) -> str:
    """Why a scan holds no usable sample: what was seen in the folder, and what to do."""
    seen: dict[int, list[int]] = {}                       # action -> [empty, malformed]
    for name in scan.empty:
        seen.setdefault(ntu.parse_sample_name(name).action, [0, 0])[0] += 1
    for name, _ in scan.malformed:
        seen.setdefault(ntu.parse_sample_name(name).action, [0, 0])[1] += 1
    if seen:
        per_class = "; files of the seven classes, none usable: " + ", ".join(
            f"A{a:03d} {CLASS_NAMES[ACTION_TO_LABEL[a]] if a in ACTION_TO_LABEL else ''}: "
            f"{e + m} ({e} without a skeleton, {m} malformed)" for a, (e, m) in sorted(seen.items()))
    else:
        per_class = "; none of them is a sample of the seven classes (" + ", ".join(
            f"A{a:03d}" for a in scan.actions) + ")"
    return (f"{scan.raw_dir}: no usable sample. Saw {scan.n_files} '.skeleton' file(s): "
            f"{scan.n_other_actions} of other NTU actions, {len(scan.not_ntu)} not named as NTU samples"
            f"{per_class}. Check the folder with `python -m skelutils check {scan.raw_dir}` and point "
            "the profile's data.ntu_dir (or NTU_DIR) at the folder holding the unpacked NTU RGB+D "
            "'*.skeleton' files (the classes A106-A110 are in NTU RGB+D 120 only)")


def dataset_from_scan(scan: ScanResult, source: str, frames: int = 64, resample: str = "uniform",
                      center: str = "hip0", align: bool = False, trim: bool = True, seed: int = 0,
                      class_set: str = DEFAULT_CLASS_SET) -> Dataset:
    """Prepare the sequences of a scan (see :func:`build_dataset` for the arguments)."""
    if source not in SOURCES:
        raise ValueError(f"source={source!r}: expected one of {SOURCES}")
    allowed = class_set_actions(class_set)
    bad = sorted(set(int(a) for a in scan.action) - set(allowed))
    if bad:
        raise ValueError(f"the scan holds actions {bad} outside the class set {class_set!r} {allowed}; "
                         f"scan with actions=skelutils.ntu.class_set_actions({class_set!r})")
    if len(scan) == 0:
        raise ValueError(no_samples_message(scan))
    prep = {"frames": int(frames), "resample": resample, "center": center, "align": bool(align),
            "trim": bool(trim), "seed": int(seed), "actor_method": scan.actor_method,
            "actions": [int(a) for a in scan.actions]}
    if class_set != DEFAULT_CLASS_SET:   # harmful7 data sets keep their fingerprint
        prep["class_set"] = class_set
    x = prepare_sequences(scan.sequences, frames=frames, resample=resample, center=center, align=align,
                          trim=trim, rng=np.random.default_rng(seed))
    meta = scan.meta()
    labels = class_set_labels(class_set)
    y = np.array([labels[int(a)] for a in meta["action"]], np.int64)
    meta.pop("label")
    return Dataset(x=x, y=y, meta=meta, raw=list(scan.sequences), source=source,
                   fingerprint=_fingerprint(scan.sequences, scan.names, {"source": source, "prep": prep}),
                   empty=list(scan.empty), malformed=list(scan.malformed), prep=prep)


def build_dataset(raw_dir, cache_dir, source: str, frames: int = 64, resample: str = "uniform",
                  center: str = "hip0", align: bool = False, actor_method: str = DEFAULT_ACTOR_METHOD, workers: int = 2,
                  progress: bool = True, trim: bool = True, seed: int = 0,
                  class_set: str = DEFAULT_CLASS_SET) -> Dataset:
    """Scan (or load the cached scan of) a skeleton folder and prepare the dataset of a class set.

    Args:
        raw_dir: folder of NTU ``*.skeleton`` files (real or simulated).
        cache_dir: folder for the scan cache (``None``: no cache).
        source: ``"simulated"`` or ``"ntu"`` (recorded, so results say what they ran on).
        frames: T, frames per sample (default 64; the smoke profile may use 32).
        resample: ``"uniform"`` (default), ``"pad"``, ``"random"`` or ``"loop"``.
        center: ``"hip0"`` (default), ``"spinemid0"`` or ``"none"``; see
            :func:`skelutils.prepare.center`.
        align: rotate each sample so person 0's hips are parallel to x (default False).
        actor_method: one of ``skelutils.prepare.ACTOR_METHODS`` (default ``"ctrgcn_first"``,
            the SGN / CTR-GCN denoising with the persons in order of appearance).
        workers: scan processes (default 2).
        progress: show a progress bar while scanning.
        trim: drop leading/trailing frames with nobody present (default True).
        seed: seed of ``resample="random"`` (default 0).
        class_set: ``"harmful7"`` (default: the seven harmful classes, labels 0..6) or
            ``"harmful7+harmless"`` (also every action of ``skelutils.ntu.HARMLESS_ACTION_IDS``,
            label 7 "harmless interaction"); see ``skelutils.ntu.CLASS_SETS``.

    Returns:
        Dataset with ``x`` float32 (N, 2, T, 25, 3) and ``y`` int64 (N,).

    Raises:
        FileNotFoundError / NotADirectoryError: ``raw_dir`` is missing or not a folder.
        ValueError: the folder holds no usable sample of the seven classes (the message
            counts the files seen, by class, and points at ``python -m skelutils check``).
    """
    if source not in SOURCES:
        raise ValueError(f"source={source!r}: expected one of {SOURCES}")
    scan = load_or_scan(raw_dir, cache_dir, class_set_actions(class_set), actor_method, workers, progress)
    return dataset_from_scan(scan, source, frames, resample, center, align, trim, seed, class_set)


# ---------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------

def _labels_of(ds) -> np.ndarray:
    if isinstance(ds, Dataset):
        return np.asarray(ds.y, np.int64)
    if isinstance(ds, ScanResult):
        return np.asarray(ds.label, np.int64)
    return np.asarray(ds, np.int64).reshape(-1)


def class_counts(ds, split: Mapping[str, np.ndarray] | None = None) -> list[dict]:
    """Samples per class, optionally per split part: one row (dict) per class, for tables.

    Args:
        ds: a Dataset (of any class set), a ScanResult or an int array of labels 0..6.
        split: optional mapping of part name -> index array (``make_split`` or
            ``named_splits`` output); each part becomes a column.

    Returns:
        One row per class of ``ds.class_names`` (the seven harmful classes for a ScanResult or
        labels), ``{"label": i, "class": name, "action": "A050", "total": n, <part>: n, ...}``
        in label order; ``action`` is ``"-"`` for a class of several actions.
    """
    y = _labels_of(ds)
    actions = dict(ntu.CLASSES)
    names = ds.class_names if isinstance(ds, Dataset) else tuple(actions)
    rows = []
    for c, name in enumerate(names):
        action = f"A{actions[name]:03d}" if name in actions else "-"
        row = {"label": c, "class": name, "action": action, "total": int((y == c).sum())}
        for part, idx in (split or {}).items():
            row[part] = int((y[np.asarray(idx, np.int64)] == c).sum())
        rows.append(row)
    return rows


def setup_range_of(setup: int) -> str:
    """The label of the NTU half a setup id belongs to (see ``SETUP_RANGES``), or ``"S###"``."""
    for label, lo, hi in SETUP_RANGES:
        if lo <= setup <= hi:
            return label
    return f"S{setup:03d} (unknown setup)"


#: The dataset authors' lists of samples with missing or incomplete skeletons (NTU RGB+D 60: 302;
#: NTU RGB+D 120: 535, which include the 302), with their source.
MISSING_SKELETONS_FILE = Path(__file__).with_name("data") / "ntu_missing_skeletons.json"


def official_missing_skeletons() -> dict:
    """The official lists of NTU samples with missing skeletons, from ``MISSING_SKELETONS_FILE``.

    Returns:
        ``{"ntu60": [302 names], "ntu120": [535 names], "repository": ..., "source_commit": ...}``;
        ``ntu120`` is the whole NTU RGB+D 120 list (it holds the ``ntu60`` names too).
    """
    return json.loads(MISSING_SKELETONS_FILE.read_text())


def missing_skeletons_report(scan: ScanResult) -> dict:
    """The official missing-skeleton list next to what the reader found in a scan.

    Only samples of the scanned actions count. The field's preparation (SGN, CTR-GCN) skips
    every listed sample; the companion keeps a listed sample whose file holds a readable skeleton.

    Returns:
        dict with ``listed`` (listed samples of the scanned actions), ``listed_present`` (of those,
        the ones in the folder), ``listed_present_empty`` / ``listed_present_usable`` /
        ``listed_present_malformed`` (what the reader made of them), ``empty_not_listed``
        (files the reader found empty that the list does not name) and ``source``.
    """
    official = official_missing_skeletons()
    actions = set(scan.actions)
    listed = sorted(n for n in official["ntu120"] if ntu.parse_sample_name(n).action in actions)
    listed_set = set(listed)
    bad = [m[0] for m in scan.malformed]
    present = set(scan.names) | set(scan.empty) | set(bad)
    return {
        "source": f"{official['repository']} at {official['source_commit'][:12]}",
        "listed": len(listed),
        "listed_present": sorted(listed_set & present),
        "listed_present_empty": sorted(listed_set & set(scan.empty)),
        "listed_present_usable": sorted(listed_set & set(scan.names)),
        "listed_present_malformed": sorted(listed_set & set(bad)),
        "empty_not_listed": sorted(set(scan.empty) - listed_set),
    }


def scan_summary(scan: ScanResult) -> dict:
    """A JSON-ready report of a scan: per-class counts by setup range and the problem lists."""
    labels = np.asarray(scan.label)
    ranges = sorted({setup_range_of(int(s)) for s in scan.setup} | {r[0] for r in SETUP_RANGES})
    empty_by_action: dict[int, int] = {}
    for name in scan.empty:
        a = ntu.parse_sample_name(name).action
        empty_by_action[a] = empty_by_action.get(a, 0) + 1
    bad_by_action: dict[int, int] = {}
    for name, _ in scan.malformed:
        a = ntu.parse_sample_name(name).action
        bad_by_action[a] = bad_by_action.get(a, 0) + 1
    classes = []
    for action in sorted(scan.actions, key=lambda a: (ACTION_TO_LABEL.get(a, len(ACTION_IDS)), a)):
        c = ACTION_TO_LABEL.get(action, -1)
        mask = np.asarray(scan.action) == action
        classes.append({
            "label": c, "action": f"A{action:03d}", "class": CLASS_NAMES[c] if c >= 0 else "",
            "samples": int(mask.sum()),
            "by_setup_range": {r: int(sum(1 for s in np.asarray(scan.setup)[mask] if setup_range_of(int(s)) == r))
                               for r in ranges},
            "empty": empty_by_action.get(action, 0), "malformed": bad_by_action.get(action, 0)})
    return {
        "folder": scan.raw_dir, "files": scan.n_files, "usable_samples": len(scan),
        "classes": classes, "classes_present": [r["action"] for r in classes if r["samples"] > 0],
        "n_other_actions": scan.n_other_actions, "empty": list(scan.empty),
        "malformed": [{"name": n, "message": m} for n, m in scan.malformed],
        "not_ntu": list(scan.not_ntu), "duplicates": list(scan.duplicates),
        "frames": ({"min": int(scan.n_frames.min()), "median": float(np.median(scan.n_frames)),
                    "max": int(scan.n_frames.max())} if len(scan) else None),
        "samples_with_noise_bodies": int((np.asarray(scan.n_noise_bodies) > 0).sum()),
        "labels_present": sorted(int(v) for v in np.unique(labels) if v >= 0),
        "official_missing": missing_skeletons_report(scan),
    }


# ---------------------------------------------------------------------------------------------
# who is person 0? (simulated folders, where the simulator knows who attacks)
# ---------------------------------------------------------------------------------------------

def person0_is_attacker(skel, truth: np.ndarray, method: str) -> bool | None:
    """Whether the actor selection ``method`` puts the attacker in person 0.

    Each frame of a body slot of person 0 votes for the true person it lies nearer to
    (mean joint distance to ``truth``); person 0 is the attacker when the attacker's votes
    are more than the receiver's.

    Args:
        skel: a parsed sample, ``xyz`` (F, B, 25, 3) metres.
        truth: float (F, 2, 25, 3), the true attacker (index 0) and receiver (index 1) in
            the same frames and camera frame, e.g. ``simulate_sample(..., sensor_noise=False).xyz``.
        method: one of ``skelutils.prepare.ACTOR_METHODS``.

    Returns:
        True or False; None when person 0 is empty (a file with no body).
    """
    truth = np.asarray(truth, np.float64)
    if truth.shape != (skel.n_frames, 2, NUM_JOINTS, 3):
        raise ValueError(f"truth: expected shape ({skel.n_frames}, 2, {NUM_JOINTS}, 3) (the frames of the "
                         f"sample, attacker then receiver), got {truth.shape}")
    slots = actor_slots(skel, method)[0]
    if not slots:
        return None
    present = np.asarray(skel.present, bool)
    votes = 0
    for b in slots:
        pts = np.asarray(skel.xyz, np.float64)[present[:, b], b]
        d = np.linalg.norm(pts[:, None] - truth[present[:, b]], axis=-1).mean(axis=-1)   # (frames, 2)
        votes += int((d[:, 0] < d[:, 1]).sum()) - int((d[:, 0] > d[:, 1]).sum())
    return votes > 0


def actor_order_share(raw_dir, seed: int, methods: Sequence[str] = ACTOR_METHODS,
                      progress: bool = False) -> dict:
    """How often person 0 is the attacker, per actor selection method, on a simulated folder.

    Every readable file of the seven classes under ``raw_dir`` is read, its true attacker and
    receiver are recomputed with :func:`skelutils.simulate.simulate_sample` (no sensor
    noise, same ids and ``seed``), and :func:`person0_is_attacker` is asked for each method.

    Args:
        raw_dir: a folder written by ``skelutils.simulate`` (``python -m skelutils simulate``).
        seed: the seed the folder was simulated with.
        methods: actor selection methods to compare (default all of ``ACTOR_METHODS``).
        progress: show a progress bar.

    Returns:
        ``{"n_samples": N, "seed": seed, "methods": {method: {"share": s, "attacker_first": k,
        "by_class": {class name: share}}}}``, shares in [0, 1] over the N samples with a body.

    Raises:
        ValueError: a file whose frame count differs from the simulator's for its ids (the
            folder was not simulated with ``seed``).
    """
    from skelutils.simulate import simulate_performance, simulate_sample

    for m in methods:
        if m not in ACTOR_METHODS:
            raise ValueError(f"methods: {m!r} is not supported; allowed: {ACTOR_METHODS}")
    root = _check_folder(raw_dir)
    kept, parsed, _, _, _ = _select(list_skeleton_files(root), ACTION_IDS)
    hits = {m: [] for m in methods}
    labels: list[int] = []
    perf_cache: dict = {}
    for name in tqdm(sorted(kept), desc="actor order", unit="file", disable=not progress, leave=False):
        try:
            skel = ntu.read_skeleton(str(root / kept[name]), fields="xyz")
        except (SkeletonFormatError, ValueError, OSError, EOFError):
            continue
        if skel.n_bodies == 0:
            continue
        sn = parsed[name]
        key = (sn.action, sn.setup, sn.performer, sn.replication)
        if key not in perf_cache:
            perf_cache.clear()
            perf_cache[key] = simulate_performance(*key, seed=seed)
        truth = simulate_sample(sn.action, sn.setup, sn.camera, sn.performer, sn.replication, seed=seed,
                                sensor_noise=False, performance=perf_cache[key]).xyz
        if len(truth) != skel.n_frames:
            raise ValueError(f"{root / kept[name]}: {skel.n_frames} frames, but the simulator with seed {seed} "
                             f"gives {len(truth)} for these ids; pass the seed the folder was simulated with")
        for m in methods:
            hits[m].append(bool(person0_is_attacker(skel, truth[:, :2], m)))
        labels.append(ACTION_TO_LABEL[sn.action])
    y = np.asarray(labels, np.int64)
    out = {"n_samples": len(labels), "seed": int(seed), "methods": {}}
    for m in methods:
        h = np.asarray(hits[m], bool)
        out["methods"][m] = {
            "share": float(h.mean()) if len(h) else float("nan"), "attacker_first": int(h.sum()),
            "by_class": {CLASS_NAMES[c]: (float(h[y == c].mean()) if (y == c).any() else float("nan"))
                         for c in range(len(CLASS_NAMES))}}
    return out
