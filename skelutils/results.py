"""The training notebooks' results, gathered into the book's tables (notebooks 06 and 08).

Notebooks 03-05 (and the command line, ``skelutils.run``) write one JSON per run into
``artifacts/<profile>/results/`` (see ``skelutils.experiments.train_recogniser``). This module
reads and checks them all, groups runs by what they measured, never by file name:

    profile, data_source, model, split, protocol, gan_fraction  (one *cell*; its runs differ by seed)

and builds plain lists of dicts (no pandas) for Table 1 next to the paper's, the per-class
comparison, the full per-class tables, the seed spread, the gaps between models and the
reviewers' claims table. :func:`markdown_table` renders any of them as a MyST pipe table;
:func:`write_tables` saves them under ``artifacts/<profile>/tables/``.

Accuracies in every table are in percent (the results files hold fractions 0-1). Standard
deviations are sample standard deviations over seeds (``ddof=1``), ``None`` with one seed.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from . import config, paper

#: Fields that identify a cell; the runs of one cell differ only by ``seed``.
GROUP_KEYS = ("profile", "data_source", "model", "split", "protocol", "gan_fraction")
#: How each model's results are written: the training notebook with its ``MODEL`` parameter
#: (``skelutils.chapters`` names the book chapter each run becomes).
MODEL_NOTEBOOKS = {m: f"notebooks/03_train.ipynb with MODEL={m} (chapter {ch})"
                   for m, ch in (("cnn3d_lstm", "03_cnn3d_lstm"), ("li2017_cnn", "04_li2017_cnn"),
                                 ("rrn_lstm", "05_rrn_lstm"))}
#: Models and splits of the paper's Table 1, in its order.
PAPER_MODELS = ("cnn3d_lstm", "li2017_cnn", "rrn_lstm")
PAPER_SPLITS = ("xsub", "xview")
SPLIT_LABELS = {"xsub": "CS", "xview": "CV", "xset": "CSet"}
MODEL_LABELS = {"cnn3d_lstm": "3D CNN + LSTM (the paper's model)", "li2017_cnn": "CNN (Li 2017)",
                "rrn_lstm": "RRN + LSTM (Zheng 2019)"}
DATA_SOURCES = ("simulated", "ntu")
TRAINING_DATA = ("real-only", "paper", "clean")
#: The epochs at the end of training averaged for the "validation plateau" claim.
PLATEAU_EPOCHS = 10
#: A run has "converged" at the first epoch whose validation accuracy is within this many
#: percentage points of the run's best.
CONVERGED_WITHIN = 1.0
#: Epoch at which the paper quotes the training loss (it converges near this epoch, section 5.3).
LOSS_EPOCH = int(paper.paper_results()["training_cnn3d_lstm"]["converges_near_epoch"])

_HISTORY_KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc")


class ResultsError(ValueError):
    """A results file is unreadable, incomplete or inconsistent (the message names file and field)."""


# ----------------------------------------------------------------------------- loading

def results_folder(profile: str | dict) -> Path:
    """``artifacts/<profile>/results`` (not created)."""
    return config.artifacts_dir(profile, "results", create=False)


def tables_folder(profile: str | dict) -> Path:
    """``artifacts/<profile>/tables`` (not created)."""
    return config.artifacts_dir(profile, "tables", create=False)


def rel_path(path: str | Path) -> str:
    """``path`` relative to the repository root when it lies inside it, else as given."""
    p = Path(path).resolve()
    root = config.repo_root().resolve()
    return str(p.relative_to(root)) if p.is_relative_to(root) else str(p)


def notebook_for(model: str) -> str:
    """The notebook that writes results of ``model``."""
    return MODEL_NOTEBOOKS.get(model, "notebooks/03_train.ipynb with the model as MODEL")


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _span(epochs: Sequence) -> str:
    """``1..5`` for consecutive epochs, else the list (shortened)."""
    e = list(epochs)
    if e and e == list(range(e[0], e[0] + len(e))):
        return f"{e[0]}..{e[-1]}" if len(e) > 1 else str(e[0])
    return repr(e) if len(e) <= 8 else repr(e[:8])[:-1] + ", ...]"


def validate_run(run: Any, path: str | Path = "<results>", profile: str | None = None) -> dict:
    """Check one results dict; return it unchanged.

    Args:
        run: the parsed JSON.
        path: its file, for the messages.
        profile: the profile whose folder holds it (its ``profile`` field must match).

    Raises:
        ResultsError: naming the file, the field and what was expected.
    """
    if not isinstance(run, dict):
        raise ResultsError(f"{path}: a results file must hold a JSON object, got {type(run).__name__}; "
                           "delete it and re-run the training notebook (03-05) that wrote it")
    where = notebook_for(run.get("model")) if isinstance(run.get("model"), str) else "notebooks/03_train.ipynb"

    def bad(field: str, problem: str) -> ResultsError:
        return ResultsError(f"{path}: field {field!r} {problem}; the file was not written by "
                            f"skelutils.experiments.train_recogniser or is damaged: delete it and re-run {where}")

    def need(field: str, ok: Callable[[Any], bool], expected: str):
        if field not in run:
            raise bad(field, f"is missing (expected {expected})")
        if not ok(run[field]):
            raise bad(field, f"is {run[field]!r:.80}, expected {expected}")
        return run[field]

    for f in ("model", "split", "profile"):
        need(f, lambda v: isinstance(v, str) and v != "", "a non-empty string")
    need("data_source", lambda v: v in DATA_SOURCES, f"one of {DATA_SOURCES}")
    need("protocol", lambda v: v in TRAINING_DATA, f"one of {TRAINING_DATA}")
    need("gan_fraction", lambda v: _is_num(v) and 0 <= v <= 1, "a number from 0 to 1")
    need("seed", _is_int, "an integer")
    frac = "a fraction from 0 to 1 (not percent)"
    need("test_accuracy", lambda v: _is_num(v) and 0 <= v <= 1, frac)
    need("best_val_acc", lambda v: _is_num(v) and 0 <= v <= 1, frac)
    for f in ("n_train", "n_val", "n_test", "epochs"):
        need(f, lambda v: _is_int(v) and v >= 0, "a non-negative integer")
    if run["n_test"] == 0:
        raise bad("n_test", "is 0: the run has no test samples")
    names = need("class_names", lambda v: isinstance(v, list) and v and all(isinstance(s, str) for s in v),
                 "a non-empty list of class names")
    k = len(names)
    need("per_class_accuracy", lambda v: isinstance(v, dict) and set(v) == set(names)
         and all(_is_num(a) and 0 <= a <= 1 for a in v.values()),
         f"a mapping of each of the {k} class_names to a fraction from 0 to 1")
    need("confusion_matrix", lambda v: isinstance(v, list) and len(v) == k and all(
        isinstance(r, list) and len(r) == k and all(_is_int(c) and c >= 0 for c in r) for r in v),
        f"a {k} x {k} list of counts")
    total = sum(map(sum, run["confusion_matrix"]))
    if total != run["n_test"]:
        raise bad("confusion_matrix", f"counts {total} test samples but n_test is {run['n_test']}")
    need("history", lambda v: isinstance(v, list) and len(v) > 0, "a non-empty list of per-epoch dicts")
    for i, h in enumerate(run["history"]):
        if not isinstance(h, dict):
            raise bad(f"history[{i}]", "is not a dict")
        for key in _HISTORY_KEYS:
            if not _is_num(h.get(key)):
                raise bad(f"history[{i}].{key}", f"is {h.get(key)!r}, expected a finite number")
    epochs_seen = [h["epoch"] for h in run["history"]]
    if epochs_seen != list(range(1, run["epochs"] + 1)):
        raise bad("history", f"holds epochs {_span(epochs_seen)} but field 'epochs' is {run['epochs']} "
                             f"(expected one entry for each epoch 1..{run['epochs']})")
    need("best_epoch", lambda v: _is_int(v) and 1 <= v <= run["epochs"], "an epoch number present in history")
    if "test_accuracy_real" not in run:
        raise bad("test_accuracy_real", f"is missing (expected {frac} or null)")
    if run["test_accuracy_real"] is not None and not (_is_num(run["test_accuracy_real"])
                                                      and 0 <= run["test_accuracy_real"] <= 1):
        raise bad("test_accuracy_real", f"is {run['test_accuracy_real']!r}, expected {frac} or null")
    if profile is not None and run["profile"] != profile:
        raise ResultsError(f"{path}: field 'profile' is {run['profile']!r} but the file lies in the results "
                           f"folder of profile {profile!r}; move it to artifacts/{run['profile']}/results/ "
                           "or delete it")
    return run


def cell_key(run: Mapping) -> tuple:
    """The :data:`GROUP_KEYS` values of a run (``gan_fraction`` rounded to 6 places)."""
    return tuple(round(float(run[k]), 6) if k == "gan_fraction" else run[k] for k in GROUP_KEYS)


def load_results(profile: str | dict, folder: str | Path | None = None) -> list[dict]:
    """Read and check every ``*.json`` of a profile's results folder.

    Args:
        profile: profile name or dict.
        folder: default ``artifacts/<profile>/results``.

    Returns:
        The runs (dicts as written, plus ``source_file``: the path relative to the
        repository root), sorted by cell and seed. An empty list when the folder is
        missing or empty: :func:`missing_results` then says which notebooks to run.

    Raises:
        ResultsError: a file is not valid JSON, misses a field, holds a bad value, or two
            files hold the same cell and seed.
    """
    name = profile["name"] if isinstance(profile, dict) else str(profile)
    folder = Path(folder) if folder is not None else results_folder(profile)
    runs, seen = [], {}
    for p in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            run = json.loads(p.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ResultsError(f"{p}: not readable as JSON ({e}); delete it and re-run the training "
                               "notebook (03-05) that wrote it") from e
        validate_run(run, p, profile=name)
        key = cell_key(run) + (run["seed"],)
        if key in seen:
            raise ResultsError(f"{p} and {seen[key]} hold the same run ({dict(zip(GROUP_KEYS + ('seed',), key))}); "
                               "a cell's seed must be counted once: delete one of them")
        seen[key] = p
        runs.append({**run, "source_file": rel_path(p)})
    runs.sort(key=lambda r: (_order(cell_key(r)), r["seed"]))
    return runs


def _order(key: tuple) -> tuple:
    prof, source, model, split, protocol, frac = key
    m = PAPER_MODELS.index(model) if model in PAPER_MODELS else len(PAPER_MODELS)
    s = PAPER_SPLITS.index(split) if split in PAPER_SPLITS else len(PAPER_SPLITS)
    return (prof, DATA_SOURCES.index(source), TRAINING_DATA.index(protocol), frac, m, model, s, split)


def missing_results(runs: Sequence[Mapping], profile: str | dict,
                    models: Iterable[str] = PAPER_MODELS, splits: Iterable[str] = PAPER_SPLITS) -> list[dict]:
    """Model and split pairs with no run at all, each with the notebook that writes it and a message."""
    name = profile["name"] if isinstance(profile, dict) else str(profile)
    have = {(r["model"], r["split"]) for r in runs}
    out = []
    for m in models:
        for s in splits:
            if (m, s) not in have:
                nb = notebook_for(m)
                out.append({"model": m, "split": s, "notebook": nb,
                            "message": f"no results for {m} on {s} in {rel_path(results_folder(profile))}: "
                                       f"run {nb} with PROFILE={name!r} first"})
    return out


# ----------------------------------------------------------------------------- aggregation

def stats(values: Sequence[float]) -> dict:
    """``n``, ``mean``, ``std`` (sample, ``None`` for n < 2), ``min``, ``max`` of ``values``."""
    v = [float(x) for x in values]
    n = len(v)
    if n == 0:
        return {"n": 0, "mean": None, "std": None, "min": None, "max": None}
    mean = sum(v) / n
    std = math.sqrt(sum((x - mean) ** 2 for x in v) / (n - 1)) if n > 1 else None
    return {"n": n, "mean": mean, "std": std, "min": min(v), "max": max(v)}


def group_runs(runs: Sequence[Mapping]) -> dict[tuple, list[Mapping]]:
    """Runs grouped by :func:`cell_key`, in table order; each group sorted by seed."""
    groups: dict[tuple, list] = {}
    for r in runs:
        groups.setdefault(cell_key(r), []).append(r)
    return {k: sorted(groups[k], key=lambda r: r["seed"]) for k in sorted(groups, key=_order)}


def aggregate(runs: Sequence[Mapping]) -> list[dict]:
    """One dict per cell: the :data:`GROUP_KEYS`, ``seeds``, ``values`` (test accuracy per seed,
    percent), ``n``, ``mean``, ``std``, ``min``, ``max``, ``mean_real`` (mean accuracy on the
    real test samples alone, where the files record it), ``files``, ``dataset_fingerprints``
    and ``epochs`` (per seed)."""
    cells = []
    for key, rs in group_runs(runs).items():
        values = [100.0 * r["test_accuracy"] for r in rs]
        real = [100.0 * r["test_accuracy_real"] for r in rs if r.get("test_accuracy_real") is not None]
        cell = dict(zip(GROUP_KEYS, key))
        cell.update(seeds=[r["seed"] for r in rs], values=values, **stats(values),
                    mean_real=stats(real)["mean"] if len(real) == len(rs) else None,
                    files=[r["source_file"] for r in rs],
                    dataset_fingerprints=sorted({str(r.get("dataset_fingerprint")) for r in rs}),
                    epochs=[r["epochs"] for r in rs])
        cells.append(cell)
    return cells


def setting_of(row: Mapping) -> tuple:
    """``(data_source, protocol, gan_fraction)`` of a cell or row: what the models were trained on."""
    return (row["data_source"], row["protocol"], round(float(row["gan_fraction"]), 6))


def setting_label(row: Mapping) -> str:
    """A short text for a setting: ``simulated data, real-only`` or ``ntu data, paper protocol, 100% generated``."""
    src, protocol, frac = setting_of(row)
    if protocol == "real-only":
        return f"{src} data, real-only training"
    return f"{src} data, {protocol} protocol, {100 * frac:.0f}% of the generated samples"


def settings(rows: Iterable[Mapping]) -> list[tuple]:
    """The distinct settings of ``rows`` in table order (simulated before ntu, real-only first)."""
    s = {setting_of(r) for r in rows if r.get("data_source") is not None}
    return sorted(s, key=lambda t: (DATA_SOURCES.index(t[0]), TRAINING_DATA.index(t[1]), t[2]))


def _fmt_setting_fields(cell: Mapping) -> dict:
    return {k: cell[k] for k in ("profile", "data_source", "protocol", "gan_fraction")}


# ----------------------------------------------------------------------------- tables

def table1(cells: Sequence[Mapping], profile: str | dict | None = None) -> list[dict]:
    """The paper's Table 1 next to ours: one row per paper model, split and setting we have.

    Rows: ``model``, ``split``, ``test`` (CS/CV), ``paper`` (percent), ``ours`` (mean over
    seeds), ``std``, ``n`` (seeds), ``seeds``, ``diff`` (ours - paper, points), ``mean_real``,
    ``profile``, ``data_source``, ``protocol``, ``gan_fraction``, ``files``, ``missing``
    (``None``, or the notebook to run when we have no run of that model and split at all).
    """
    index = {(c["model"], c["split"]): [] for c in cells}
    for c in cells:
        index[(c["model"], c["split"])].append(c)
    rows = []
    for setting in settings(cells):
        for m in PAPER_MODELS:
            for s in PAPER_SPLITS:
                for c in index.get((m, s), []):
                    if setting_of(c) != setting:
                        continue
                    p = paper.table1(m, s)
                    rows.append({"model": m, "split": s, "test": SPLIT_LABELS[s], "paper": p, "ours": c["mean"],
                                 "std": c["std"], "n": c["n"], "seeds": c["seeds"], "diff": c["mean"] - p,
                                 "mean_real": c["mean_real"], **_fmt_setting_fields(c),
                                 "files": c["files"], "missing": None})
    name = None if profile is None else (profile["name"] if isinstance(profile, dict) else str(profile))
    have = {(c["model"], c["split"]) for c in cells}
    for m in PAPER_MODELS:
        for s in PAPER_SPLITS:
            if (m, s) not in have:
                rows.append({"model": m, "split": s, "test": SPLIT_LABELS[s], "paper": paper.table1(m, s),
                             "ours": None, "std": None, "n": 0, "seeds": [], "diff": None, "mean_real": None,
                             "profile": name, "data_source": None, "protocol": None, "gan_fraction": None,
                             "files": [], "missing": f"run {notebook_for(m)}"})
    return rows


def per_class(runs: Sequence[Mapping]) -> list[dict]:
    """Per-class test accuracy (percent) per cell and class: the cell's :data:`GROUP_KEYS`,
    ``class``, ``n``, ``mean``, ``std``, ``min``, ``max``, ``files``."""
    rows = []
    for key, rs in group_runs(runs).items():
        for name in rs[0]["class_names"]:
            vals = [100.0 * r["per_class_accuracy"][name] for r in rs if name in r["per_class_accuracy"]]
            rows.append({**dict(zip(GROUP_KEYS, key)), "class": name, **stats(vals),
                         "files": [r["source_file"] for r in rs]})
    return rows


def per_class_pivot(rows: Sequence[Mapping], setting: tuple, digits: int = 1) -> list[dict]:
    """Display rows of :func:`per_class` for one setting: one row per class, one column per
    ``<model> <CS|CV>`` holding ``mean ± std`` (``mean`` alone with one seed)."""
    sel = [r for r in rows if setting_of(r) == setting]
    cols = []
    for r in sel:
        col = f"{r['model']} {SPLIT_LABELS.get(r['split'], r['split'])}"
        if col not in cols:
            cols.append(col)
    out: dict[str, dict] = {}
    for r in sel:
        col = f"{r['model']} {SPLIT_LABELS.get(r['split'], r['split'])}"
        out.setdefault(r["class"], {"class": r["class"]})[col] = _pm(r["mean"], r["std"], digits)
    return [{"class": k, **{c: v.get(c) for c in cols}} for k, v in out.items()]


def _pm(mean, std, digits=1) -> str | None:
    if mean is None:
        return None
    return f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if std is not None else "")


def per_class_paper(pc_rows: Sequence[Mapping]) -> list[dict]:
    """The paper's three quoted classes (3D CNN + LSTM, CV) next to ours, per setting.

    Rows: ``class``, ``paper``, ``ours`` (mean over seeds), ``std``, ``n``, ``diff``,
    ``rank`` (ours among all classes, 1 = best; tied classes share a rank), ``n_classes``, the setting fields and ``files``.
    Settings without a ``cnn3d_lstm`` ``xview`` cell give no rows.
    """
    quoted = {k: v for k, v in paper.paper_results()["per_class_cnn3d_lstm_xview"].items()
              if k not in ("section", "unit")}
    rows = []
    for setting in settings(pc_rows):
        cell = [r for r in pc_rows if setting_of(r) == setting and r["model"] == "cnn3d_lstm" and r["split"] == "xview"]
        if not cell:
            continue
        for name, p in quoted.items():
            r = next((x for x in cell if x["class"] == name), None)
            if r is None:
                continue
            rows.append({"class": name, "paper": float(p), "ours": r["mean"], "std": r["std"], "n": r["n"],
                         "diff": r["mean"] - float(p), "rank": 1 + sum(x["mean"] > r["mean"] for x in cell),
                         "n_classes": len(cell),
                         **_fmt_setting_fields(r), "files": r["files"]})
    return rows


def model_gaps(cells: Sequence[Mapping]) -> list[dict]:
    """Whether the gap between two models on one split exceeds the spread over seeds.

    For each setting and split, each pair of models (the better one first): ``gap`` (points),
    ``se`` = sqrt(std_a^2/n_a + std_b^2/n_b), ``threshold`` = 2 ``se``, ``exceeds``
    (``gap > threshold``) and ``ranges_overlap`` (the min-max ranges over seeds overlap); the
    last three are ``None`` when a model has fewer than two seeds, as the spread is then unknown.
    """
    rows = []
    for setting in settings(cells):
        for split in sorted({c["split"] for c in cells if setting_of(c) == setting},
                            key=lambda s: (PAPER_SPLITS + (s,)).index(s)):
            cs = sorted([c for c in cells if setting_of(c) == setting and c["split"] == split],
                        key=lambda c: -c["mean"])
            for i, a in enumerate(cs):
                for b in cs[i + 1:]:
                    gap = a["mean"] - b["mean"]
                    if a["n"] >= 2 and b["n"] >= 2:
                        se = math.sqrt(a["std"] ** 2 / a["n"] + b["std"] ** 2 / b["n"])
                        exceeds = gap > 2 * se
                    else:
                        se, exceeds = None, None
                    rows.append({"split": split, "test": SPLIT_LABELS.get(split, split),
                                 "better": a["model"], "worse": b["model"], "better_mean": a["mean"],
                                 "worse_mean": b["mean"], "gap": gap, "n_better": a["n"], "n_worse": b["n"],
                                 "se": se, "threshold": None if se is None else 2 * se, "exceeds": exceeds,
                                 "ranges_overlap": None if se is None else not (b["max"] < a["min"]),
                                 **_fmt_setting_fields(a)})
    return rows


# ----------------------------------------------------------------------------- claims

def default_setting(cells: Sequence[Mapping]) -> tuple | None:
    """The setting the claims are checked on: NTU data before simulated; within it the paper's
    own (``paper`` protocol at the largest generated fraction) when it covers all six Table 1
    cells, else real-only, else the first setting there is. ``None`` without cells."""
    if not cells:
        return None
    sources = [s for s in ("ntu", "simulated") if any(c["data_source"] == s for c in cells)]
    src = sources[0]
    mine = [c for c in cells if c["data_source"] == src]

    def complete(st):
        have = {(c["model"], c["split"]) for c in mine if setting_of(c) == st}
        return all((m, s) in have for m in PAPER_MODELS for s in PAPER_SPLITS)
    paper_settings = sorted((st for st in settings(mine) if st[1] == "paper" and complete(st)), key=lambda t: -t[2])
    if paper_settings:
        return paper_settings[0]
    if any(setting_of(c) == (src, "real-only", 0.0) for c in mine):
        return (src, "real-only", 0.0)
    return settings(mine)[0]


def _history_at(run: Mapping, epoch: int) -> Mapping | None:
    return next((h for h in run["history"] if int(h["epoch"]) == epoch), None)


def converged_epoch(run: Mapping, within: float = CONVERGED_WITHIN) -> int:
    """First epoch whose validation accuracy is within ``within`` points of the run's best."""
    best = max(h["val_acc"] for h in run["history"])
    return int(next(h["epoch"] for h in run["history"] if 100 * h["val_acc"] >= 100 * best - within))


#: Decimals shown per claim unit.
CLAIM_DIGITS = {"percent": 1, "cross-entropy": 3, "epoch": 1, "epochs": 1, "samples": 1}


def claim_text(v: Any, unit: str) -> str:
    """A claim's value as text, with the decimals of :data:`CLAIM_DIGITS` (``[a, b]`` as ``a-b``)."""
    d = CLAIM_DIGITS.get(unit, 0)
    if isinstance(v, (list, tuple)) and unit == "cross-entropy" and len(v) == 2:
        return f"{fmt(float(v[0]), d)}-{fmt(float(v[1]), d)}"
    if isinstance(v, (list, tuple)):
        return " / ".join(claim_text(x, unit) for x in v)
    if isinstance(v, float) and v.is_integer() and unit not in ("percent", "cross-entropy"):
        return str(int(v))
    return fmt(v, d)


def _claim(cid, claim, section, paper_value, ours, unit, n, sources, note="", setting=None) -> dict:
    return {"id": cid, "claim": claim, "section": section, "paper": paper_value, "ours": ours, "unit": unit,
            "paper_text": claim_text(paper_value, unit), "ours_text": claim_text(ours, unit),
            "n": n, "source": sorted(sources), "note": note,
            "setting": setting_label(dict(zip(("data_source", "protocol", "gan_fraction"), setting)))
            if setting else None}


def claims_table(profile: str | dict, runs: Sequence[Mapping] | None = None,
                 setting: tuple | None = None) -> list[dict]:
    """Every numeric claim of the paper with our value and the artifact it came from.

    Args:
        profile: profile name or dict (its artifacts are read).
        runs: the runs of :func:`load_results` (read when ``None``).
        setting: ``(data_source, protocol, gan_fraction)`` of the runs the model claims are
            checked on; default :func:`default_setting`.

    Returns:
        Rows with ``id`` (letters, digits and ``_`` only: usable as a glue key), ``claim``, ``section``, ``paper`` (as printed: a number, a
        ``[low, high]`` range or a class name), ``paper_text`` and ``ours_text`` (for display), ``ours`` (``None`` where we have no comparable
        value, with the reason in ``note``), ``unit``, ``n`` (seeds or files averaged),
        ``source`` (artifact paths relative to the repository root) and ``setting``.
    """
    name = profile["name"] if isinstance(profile, dict) else str(profile)
    runs = load_results(profile) if runs is None else list(runs)
    cells = aggregate(runs)
    setting = setting if setting is not None else default_setting(cells)
    pr = paper.paper_results()
    rows = _dataset_claims(profile, pr["dataset"], runs)

    t1 = pr["table1"]
    for m in PAPER_MODELS:
        for s in PAPER_SPLITS:
            cell = next((c for c in cells if c["model"] == m and c["split"] == s and setting_of(c) == setting), None)
            note = "" if cell else (f"no {m} {s} run in this setting: run {notebook_for(m)}" if setting
                                    else f"no results: run {notebook_for(m)}")
            rows.append(_claim(f"table1_{m}_{s}", f"{SPLIT_LABELS[s]} test accuracy, {MODEL_LABELS[m]}",
                               t1["section"], float(t1[m][s]), cell["mean"] if cell else None, "percent",
                               cell["n"] if cell else 0, cell["files"] if cell else [], note, setting))

    pcq = pr["per_class_cnn3d_lstm_xview"]
    sel = [r for r in runs if r["model"] == "cnn3d_lstm" and r["split"] == "xview"
           and setting is not None and setting_of(r) == setting]
    files = [r["source_file"] for r in sel]
    no_run = "" if sel else f"no cnn3d_lstm xview run in this setting: run {notebook_for('cnn3d_lstm')}"
    for cls in ("punch/slap", "pushing", "knock over"):
        vals = [100 * r["per_class_accuracy"][cls] for r in sel if cls in r["per_class_accuracy"]]
        rows.append(_claim("per_class_" + cls.replace("/", "_").replace(" ", "_"), f"CV accuracy of class '{cls}', 3D CNN + LSTM", pcq["section"],
                           float(pcq[cls]), stats(vals)["mean"], "percent", len(vals), files, no_run, setting))
    lowest = None
    if sel:
        names = sel[0]["class_names"]
        means = {c: stats([100 * r["per_class_accuracy"][c] for r in sel])["mean"] for c in names}
        lowest = ", ".join(c for c in names if means[c] == min(means.values()))
    quoted = {k: v for k, v in pcq.items() if k not in ("section", "unit")}
    rows.append(_claim("per_class_lowest", "lowest class of the seven, 3D CNN + LSTM, CV", pcq["section"],
                       min(quoted, key=quoted.get), lowest, "class", len(sel), files, no_run, setting))

    tr = pr["training_cnn3d_lstm"]
    sec = tr["section"]
    last = [100 * r["history"][-1]["train_acc"] for r in sel]
    rows.append(_claim("train_accuracy", "training accuracy of 3D CNN + LSTM (CV), last epoch", sec,
                       float(tr["train_accuracy_percent"]), stats(last)["mean"], "percent", len(last), files,
                       no_run, setting))
    at = [(_history_at(r, LOSS_EPOCH), r) for r in sel]
    losses = [h["train_loss"] for h, _ in at if h is not None]
    note = no_run or ("" if losses else f"the runs stop before epoch {LOSS_EPOCH} "
                      f"(epochs {sorted({r['epochs'] for r in sel})})")
    rows.append(_claim("train_loss_40", f"training loss of 3D CNN + LSTM (CV) after {LOSS_EPOCH} epochs", sec,
                       list(tr["train_loss_after_40_epochs"]), stats(losses)["mean"], "cross-entropy",
                       len(losses), [r["source_file"] for h, r in at if h is not None], note, setting))
    plateau = [100 * float(np.mean([h["val_acc"] for h in r["history"][-PLATEAU_EPOCHS:]])) for r in sel]
    rows.append(_claim("validation_plateau", f"validation accuracy plateau of 3D CNN + LSTM (CV), mean of the "
                       f"last {PLATEAU_EPOCHS} epochs", sec, float(tr["validation_plateau_percent"]),
                       stats(plateau)["mean"], "percent", len(plateau), files, no_run, setting))
    epochs = [len(r["history"]) for r in sel]
    rows.append(_claim("epochs", "training epochs of 3D CNN + LSTM", sec, int(tr["epochs"]),
                       stats(epochs)["mean"], "epochs", len(epochs), files, no_run, setting))
    conv = [converged_epoch(r) for r in sel]
    rows.append(_claim("converges_epoch", f"epoch of convergence of 3D CNN + LSTM (CV): first epoch within "
                       f"{CONVERGED_WITHIN:g} point of the best validation accuracy", sec,
                       int(tr["converges_near_epoch"]), stats(conv)["mean"], "epoch", len(conv), files,
                       no_run, setting))
    return rows


def _dataset_claims(profile, ds_paper: Mapping, runs: Sequence[Mapping]) -> list[dict]:
    sec = ds_paper["section"]
    rows = []
    data_dir = config.artifacts_dir(profile, "data", create=False)
    npz, metrics_path = data_dir / "dataset.npz", data_dir / "metrics.json"
    made_by = "run notebooks/01_data.ipynb"
    performers = reps = None
    src = []
    if npz.is_file():
        with np.load(npz, allow_pickle=False) as z:
            if {"meta_performer", "y"} <= set(z.files):
                perf, y = z["meta_performer"], z["y"]
                performers = int(len(np.unique(perf)))
                per = np.unique(np.stack([perf, y]), axis=1, return_counts=True)[1]
                reps = float(np.median(per))
                src = [rel_path(npz)]
    rows.append(_claim("individuals", "individuals (performers) in the dataset", sec, int(ds_paper["individuals"]),
                       performers, "performers", 1 if src else 0, src, "" if src else f"no dataset: {made_by}"))
    rows.append(_claim("repetitions", "repetitions per individual and class (ours: median samples per performer "
                       "and class; NTU films each performance from 3 cameras)", sec,
                       int(ds_paper["repetitions_claimed"]), reps, "samples", 1 if src else 0, src,
                       "" if src else f"no dataset: {made_by}"))
    min_class = None
    msrc = []
    if metrics_path.is_file():
        m = json.loads(metrics_path.read_text())
        if isinstance(m.get("counts"), dict) and m["counts"]:
            min_class = int(min(c["total"] for c in m["counts"].values()))
            msrc = [rel_path(metrics_path)]
    rows.append(_claim("min_samples_per_class", f"samples per class, at least ({ds_paper['individuals']} x "
                       f"{ds_paper['repetitions_claimed']})", sec,
                       int(ds_paper["min_samples_per_class_claimed"]), min_class, "samples", 1 if msrc else 0, msrc,
                       "" if msrc else f"no metrics: {made_by}"))
    side = config.artifacts_dir(profile, "gan", create=False) / "synthetic.json"
    gen, gsrc, gnote = None, [], "no generated samples: run notebooks/02_gan.ipynb"
    if side.is_file():
        counts = json.loads(side.read_text()).get("counts")
        if isinstance(counts, list) and counts:
            gen, gsrc = int(min(counts)), [rel_path(side)]
            gnote = "" if min(counts) == max(counts) else f"counts range {min(counts)}-{max(counts)}"
    rows.append(_claim("generated_per_class", "generated sequences per class", sec,
                       int(ds_paper["generated_per_class"]), gen, "sequences", 1 if gsrc else 0, gsrc, gnote))
    hyb = [r for r in runs if r["protocol"] == "paper" and isinstance(r.get("hybrid"), dict)
           and sum((r["hybrid"].get("n_synthetic") or {}).values() or [0]) > 0]
    split_share, hsrc = None, []
    if hyb:
        n = hyb[0]["hybrid"]["n_synthetic"]
        tot = n["train"] + n["val"] + n["test"]
        split_share = [round(100 * n[k] / tot, 1) for k in ("train", "val", "test")]
        hsrc = [hyb[0]["source_file"]]
    rows.append(_claim("generated_split", "generated samples split into train / val / test", sec,
                       [100 * f for f in ds_paper["generated_split"]], split_share, "percent", len(hsrc), hsrc,
                       "" if hyb else "no run in the results used the paper protocol; set "
                                      "HYBRID_PROTOCOL='paper' in notebooks 03-05"))
    return rows


# ----------------------------------------------------------------------------- display and artifacts

def fmt(v: Any, digits: int = 1) -> str:
    """A cell value as text: floats with ``digits`` decimals, integers with thousands separators
    (805,399), lists joined, ``None`` as ``-``."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, float):
        return "-" if math.isnan(v) else f"{v:.{digits}f}"
    if isinstance(v, (list, tuple)):
        return ", ".join(fmt(x, digits) for x in v) if v else "-"
    return str(v)


def markdown_table(rows: Sequence[Mapping], columns: Sequence[str] | Mapping[str, str] | None = None,
                   digits: int | Mapping[str, int] = 1) -> str:
    """A MyST/GFM pipe table of ``rows``.

    Args:
        rows: dicts.
        columns: keys to show, in order, or a mapping key -> header; default the keys of the
            first row.
        digits: decimals for floats, one for all or per key (default 1).

    ``None`` shows as ``-``; ``|`` and newlines in values are escaped.
    """
    if columns is None:
        columns = list(rows[0]) if rows else []
    headers = dict(columns) if isinstance(columns, Mapping) else {c: c for c in columns}
    if not headers:
        return ""

    def cell(key, v):
        d = digits.get(key, 1) if isinstance(digits, Mapping) else digits
        return fmt(v, d).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(h.replace("|", "\\|") for h in headers.values()) + " |",
             "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(k, r.get(k)) for k in headers) + " |" for r in rows]
    return "\n".join(lines)


def simulated_banner(what: str = "these numbers") -> str:
    """A MyST ``{warning}`` admonition saying that ``what`` come from simulated data."""
    return ("```{warning}\n"
            f"**Simulated data.** {what[0].upper() + what[1:]} come from the companion's simulator, "
            "not from NTU RGB+D: they show that the pipeline works and how the models compare on the "
            "stand-in, not what NTU gives. For the real comparison run notebook 01 with `DATA_SOURCE = \"ntu\"` "
            "and `NTU_DIR`, then notebooks 02-05.\n```")


def table_markdown(rows: Sequence[Mapping], columns, title: str = "", digits: int | Mapping[str, int] = 1,
                   what: str = "the numbers in this table") -> str:
    """``title`` (bold), the :func:`simulated_banner` when any row's ``data_source`` is
    ``simulated``, and the table; a short note instead of the table when ``rows`` is empty."""
    parts = [f"**{title}**"] if title else []
    if any(r.get("data_source") == "simulated" for r in rows):
        parts.append(simulated_banner(what))
    parts.append(markdown_table(rows, columns, digits) if rows else "*(no rows: no results yet)*")
    return "\n\n".join(parts)


def claims_display(rows: Sequence[Mapping]) -> list[dict]:
    """Claims rows for :func:`markdown_table`: ``source`` as code spans, ``ours_text`` with the
    note when there is no value."""
    out = []
    for r in rows:
        ours = r["ours_text"] if r["ours"] is not None else f"no comparable value ({r['note'] or 'not measured'})"
        note = r["note"] if r["ours"] is not None else ""
        out.append({**r, "ours_text": ours, "note": note,
                    "source": ", ".join(f"`{s}`" for s in r["source"]) if r["source"] else "-"})
    return out


def build_tables(profile: str | dict, runs: Sequence[Mapping] | None = None) -> dict[str, list[dict]]:
    """All tables of notebook 06 and 08: ``table1``, ``per_class_paper``, ``per_class``,
    ``seeds`` (the aggregated cells), ``model_gaps`` and ``claims``."""
    runs = load_results(profile) if runs is None else list(runs)
    cells = aggregate(runs)
    pc = per_class(runs)
    return {"table1": table1(cells, profile), "per_class_paper": per_class_paper(pc), "per_class": pc,
            "seeds": cells, "model_gaps": model_gaps(cells), "claims": claims_table(profile, runs)}


def write_tables(profile: str | dict, tables: Mapping[str, list[dict]], runs: Sequence[Mapping]) -> dict[str, Path]:
    """Write each table to ``artifacts/<profile>/tables/<name>.json`` (atomically).

    Each file holds ``profile``, ``table``, ``unit`` (percent for accuracies),
    ``results_files`` (every results file read), ``paper_source``, ``git_commit`` and ``rows``.
    """
    name = profile["name"] if isinstance(profile, dict) else str(profile)
    out_dir = config.artifacts_dir(profile, "tables")
    files = [r["source_file"] for r in runs]
    commit = config.git_commit()
    src = paper.paper_results()["source"]
    return {t: config.write_json(out_dir / f"{t}.json", {
        "profile": name, "table": t, "unit": "percent (accuracies); see each row's unit in claims",
        "results_files": files, "paper_source": src, "git_commit": commit, "rows": list(rows)})
        for t, rows in tables.items()}


def read_table(profile: str | dict, name: str) -> dict:
    """A table written by :func:`write_tables` (``FileNotFoundError`` naming notebook 06 when missing)."""
    return config.read_json(tables_folder(profile) / f"{name}.json", what=f"table {name!r}",
                            made_by="notebooks/06_results.ipynb")


# ----------------------------------------------------------------------------- paper scale

#: What ``benchmarks/bench_paper_scale.py`` measured and projected, committed with the book.
PAPER_SCALE_FILE = config.repo_root() / "book" / "data" / "paper_scale.json"


def paper_scale(path: str | Path | None = None) -> dict:
    """``book/data/paper_scale.json`` (or ``path``), with a clear error when it is missing."""
    p = Path(path) if path is not None else PAPER_SCALE_FILE
    if not p.is_file():
        raise FileNotFoundError(f"{p} is missing: run `.venv/bin/python benchmarks/bench_paper_scale.py` to "
                                "measure the per-step costs at the paper's sizes and write it")
    return json.loads(p.read_text())


def paper_scale_steps(scale: Mapping) -> list[dict]:
    """One row per measured item (the three recognisers' training steps, the GAN's critic and
    generator updates): parameters, GFLOP counted per step, CPU seconds and peak memory."""
    rows = []
    for name, m in scale["measured"].items():
        if name == "gan":
            for part, flops, sec in (("critic update", m["critic_update_flops"], m["critic_update_seconds_cpu"]),
                                     ("generator update", m["generator_update_flops"],
                                      m["generator_update_seconds_cpu"])):
                rows.append({"item": f"GAN ({m['preset']}), {part}", "batch": m["batch_size"], "T": m["frames"],
                             "parameters": m["generator_params"] if part.startswith("generator")
                             else m["critic_params"], "gflop": flops / 1e9, "cpu_s": sec,
                             "peak_mb": m["peak_memory_mb_cpu"]})
        else:
            rows.append({"item": f"{name} training step", "batch": m["batch_size"], "T": m["frames"],
                         "parameters": m["params"], "gflop": m["train_step_flops"] / 1e9,
                         "cpu_s": m["step_seconds_cpu"], "peak_mb": m["peak_memory_mb_cpu"]})
    return rows


def paper_scale_projection(scale: Mapping) -> list[dict]:
    """One row per GPU class of the projection: assumed utilisation, hours of the whole
    ``full`` profile on one GPU (and of its arithmetic alone) and on eight, and whether it fits."""
    return [{"gpu": gpu, "assumed utilisation": g["assumed_utilisation"], "effective_tflops": g["effective_tflops"],
             "hours_1_gpu": g["hours_1_gpu"], "hours_compute_only": g["hours_1_gpu_compute_only"],
             "hours_8_gpus": g["hours_8_gpus"], "fits": "yes" if g["fits_in_memory"] else "no"}
            for gpu, g in scale["projection"]["gpus"].items()]


# ----------------------------------------------------------------------------- ablation (notebook 07)

def ablation_table(cells: Sequence[Mapping], n_per_class: int) -> list[dict]:
    """Rows of notebook 07's table from :func:`skelutils.experiments.ablation_cells`: accuracies in
    percent as mean +- standard deviation over seeds, generated samples per class."""
    rows = []
    for c in cells:
        rows.append({"model": c["model"], "split": c["split"], "training data": c["protocol"],
                     "generated per class": int(round(c["fraction"] * n_per_class)),
                     "test acc., % (own test set)": _pm(100 * c["test_accuracy_mean"],
                                                        None if c["test_accuracy_std"] is None
                                                        else 100 * c["test_accuracy_std"]),
                     "test acc., % (real test only)": _pm(100 * c["test_accuracy_real_mean"],
                                                          None if c["test_accuracy_real_std"] is None
                                                          else 100 * c["test_accuracy_real_std"]),
                     "seeds": len(c["seeds"])})
    return rows
