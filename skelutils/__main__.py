"""Command line: ``python -m skelutils check <folder>`` and ``python -m skelutils simulate <out_dir>``.

``check`` inspects an NTU RGB+D skeleton download before any notebook uses it: which of the
seven harmful two-person classes are there, how many samples per class and per setup range
(S001-S017 is in NTU 60 and 120, S018-S032 only in NTU 120), which samples have no skeleton
or cannot be parsed, which files are not NTU sample names, and how the samples without a
skeleton compare with the dataset authors' official list. Exit status: 0 when at least one of
the seven classes has a usable sample, 1 when none has, 2 for a usage error (argparse's code,
e.g. ``--workers 0``), 3 when the folder is missing or not a folder.

``simulate`` writes a synthetic NTU-format folder with the companion's simulator.

``train`` trains one recogniser on one split from a profile (``torchrun -m skelutils train``
launches it on several GPUs).

``watch`` replays a ``.skeleton`` file, a folder of them, a long stream, or frames in the same
layout from standard input (``-``) through a trained recogniser, as a live monitor
(``skelutils.stream``): it prints each alert with its time, class and score, then a summary
with the per-window latency (p50, p95). Exit status 0, 2 for a usage error, 3 when the input
or the run is missing.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_NO_CLASSES, EXIT_USAGE, EXIT_BAD_FOLDER = 0, 1, 2, 3
_LIST_LIMIT = 20


def _print_list(title: str, items: list[str], out) -> None:
    if not items:
        return
    print(f"\n{title} ({len(items)}):", file=out)
    for item in items[:_LIST_LIMIT]:
        print(f"  {item}", file=out)
    if len(items) > _LIST_LIMIT:
        print(f"  ... and {len(items) - _LIST_LIMIT} more (see --json for all)", file=out)


def format_report(summary: dict) -> str:
    """The human-readable report of :func:`skelutils.dataset.scan_summary`, verdict line last."""
    import io
    out = io.StringIO()
    ranges = list(summary["classes"][0]["by_setup_range"]) if summary["classes"] else []
    print(f"folder: {summary['folder']}", file=out)
    print(f"'.skeleton' files found: {summary['files']}  (other NTU actions skipped: "
          f"{summary['n_other_actions']}, not NTU names: {len(summary['not_ntu'])})", file=out)
    head = f"{'label':>5}  {'NTU':<5} {'class':<16} {'usable':>6}  " + "  ".join(f"{r:>26}" for r in ranges) \
        + f"  {'empty':>5}  {'malformed':>9}"
    print("\n" + head, file=out)
    print("-" * len(head), file=out)
    for row in summary["classes"]:
        cells = "  ".join(f"{row['by_setup_range'][r]:>26d}" for r in ranges)
        print(f"{row['label']:>5}  {row['action']:<5} {row['class']:<16} {row['samples']:>6d}  {cells}  "
              f"{row['empty']:>5d}  {row['malformed']:>9d}", file=out)
    if summary["frames"]:
        f = summary["frames"]
        print(f"\nframes per sample: min {f['min']}, median {f['median']:.0f}, max {f['max']}; "
              f"samples with extra (noise) bodies: {summary['samples_with_noise_bodies']}", file=out)
    _print_list("samples with no skeleton (empty)", summary["empty"], out)
    _print_list("malformed files", [f"{m['name']}: {m['message']}" for m in summary["malformed"]], out)
    _print_list("files that are not NTU sample names (ignored)", summary["not_ntu"], out)
    _print_list("duplicate sample names (later copies ignored)", summary["duplicates"], out)
    om = summary.get("official_missing")
    if om:
        print(f"\nofficial list of samples with missing skeletons ({om['listed']} of these classes listed; "
              f"{om['source']}):", file=out)
        print(f"  listed and in this folder: {len(om['listed_present'])} (read as empty: "
              f"{len(om['listed_present_empty'])}, with a readable skeleton: {len(om['listed_present_usable'])}, "
              f"malformed: {len(om['listed_present_malformed'])})", file=out)
        print(f"  empty here but not on the list: {len(om['empty_not_listed'])}", file=out)
        _print_list("listed samples with a readable skeleton (kept; the field's preparation skips them)",
                    om["listed_present_usable"], out)
        _print_list("empty files not on the official list", om["empty_not_listed"], out)
    present = [r for r in summary["classes"] if r["samples"] > 0]
    missing = [r for r in summary["classes"] if r["samples"] == 0]
    if present:
        verdict = (f"\nVERDICT: OK - {len(present)} of {len(summary['classes'])} classes usable, "
                   f"{summary['usable_samples']} samples")
        if missing:
            verdict += "; missing: " + ", ".join(f"{r['action']} {r['class']}" for r in missing)
            if any(int(r["action"][1:]) >= 61 for r in missing):
                verdict += " (A061 and above exist only in NTU RGB+D 120, setups S018-S032)"
    else:
        verdict = ("\nVERDICT: NO USABLE SAMPLES - none of the seven classes "
                   f"({', '.join(r['action'] for r in summary['classes'])}) has a readable sample here; "
                   "point to the folder holding the unpacked NTU RGB+D '*.skeleton' files")
    print(verdict, file=out)
    return out.getvalue()


def stream_precisions() -> tuple[str, ...]:
    from skelutils.stream import PRECISIONS
    return PRECISIONS


def cmd_check(args) -> int:
    from skelutils.config import write_json
    from skelutils.dataset import scan_folder, scan_summary

    folder = Path(args.folder)
    if not folder.exists():
        print(f"error: folder {folder} does not exist; pass the folder that holds the unpacked NTU RGB+D "
              "'*.skeleton' files (e.g. .../nturgb+d_skeletons)", file=sys.stderr)
        return EXIT_BAD_FOLDER
    if not folder.is_dir():
        print(f"error: {folder} is not a folder; unpack the archive and pass the folder that holds "
              "the '*.skeleton' files", file=sys.stderr)
        return EXIT_BAD_FOLDER
    scan = scan_folder(folder, workers=args.workers, progress=not args.quiet)
    summary = scan_summary(scan)
    print(format_report(summary), end="")
    code = EXIT_OK if summary["classes_present"] else EXIT_NO_CLASSES
    if args.json:
        write_json(args.json, {**summary, "exit_code": code})
        print(f"report written to {args.json}")
    return code


def cmd_simulate(args) -> int:
    from skelutils.simulate import simulate_dataset_preset

    summary = simulate_dataset_preset(args.out_dir, size=args.size, seed=args.seed, workers=args.workers,
                                      progress=not args.quiet)
    print(f"simulated dataset ({args.size}, seed {args.seed}): {summary['n_files']} files "
          f"({summary['n_empty']} without a skeleton) written to {args.out_dir}")
    return EXIT_OK


def _profile_of_run(run: Path) -> str | None:
    """The profile of a run folder ``artifacts/<profile>/runs/...`` (None if the path says nothing)."""
    parts = run.resolve().parts
    for i in range(len(parts) - 1, 0, -1):
        if parts[i] == "runs":
            return parts[i - 1]
    return None


def cmd_watch(args) -> int:
    from skelutils import config, stream

    run = Path(args.run)
    profile = args.profile or _profile_of_run(run) or "smoke"
    try:
        cfg = config.load_profile(profile)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}; pass --profile with the profile the run was trained under", file=sys.stderr)
        return EXIT_BAD_FOLDER
    try:
        sources = stream.watch_sources(args.path)
        model, names, _ = stream.load_run(run)
        scfg = stream.StreamConfig.from_profile(cfg, window=args.window, stride=args.stride, raise_at=args.threshold,
                                                clear_below=args.clear, k_on=args.k, precision=args.precision,
                                                reuse=args.reuse)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_FOLDER
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    prep = stream.Preparation.from_dict(cfg["data"])
    runner = stream.optimise_model(model, scfg.precision, threads=args.threads)
    print(f"watching {args.path} with {run} ({len(names)} classes, profile {cfg['name']}, window {scfg.window}, "
          f"stride {scfg.stride}, alert >= {scfg.raise_at:g} for {scfg.k_on} frames, cleared < {scfg.clear_below:g}, "
          f"{scfg.precision}{', frame features kept' if scfg.reuse else ''}, {'as fast as possible' if args.fast else f'{stream.FPS} frames/s'})", flush=True)
    rep = stream.replay(sources, lambda: stream.OnlineRecogniser(runner, names, prep, scfg), fast=args.fast)
    lat = rep["latency"]
    n_alerts = sum(len(r["alerts"]) for r in rep["sources"])
    lat_text = (f"p50 {lat['p50_ms']:.1f} ms, p95 {lat['p95_ms']:.1f} ms over {lat['n']} windows "
                f"(a 30 fps sensor gives {stream.FRAME_BUDGET_MS * scfg.stride:.1f} ms per window at stride "
                f"{scfg.stride})") if lat["n"] else "no window evaluated"
    print(f"summary: {len(sources)} source(s), {rep['frames']} frames, {rep['bad_frames']} bad frame(s) skipped, "
          f"{n_alerts} alert(s); per-window latency {lat_text}; {rep['seconds']:.1f} s")
    if args.json:
        config.write_json(args.json, {**rep, "run": str(run), "profile": cfg["name"],
                                      "config": vars(scfg) if hasattr(scfg, "__dict__") else None})
        print(f"report written to {args.json}")
    return EXIT_OK


def _positive_int(text: str) -> int:
    """argparse type of ``check --workers``: an integer >= 1 (a usage error otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer; pass a number of processes >= 1") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: expected at least 1 process (e.g. --workers 1)")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m skelutils", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="check an NTU RGB+D skeleton download",
                       description="Check an NTU RGB+D skeleton folder for the seven harmful two-person classes. "
                                   "Exit 0: at least one class usable; 1: none; 2: usage error; "
                                   "3: bad folder.")
    c.add_argument("folder", help="folder holding the *.skeleton files (searched recursively)")
    c.add_argument("--workers", type=_positive_int, default=2, help="parallel reader processes (>= 1, default 2)")
    c.add_argument("--json", metavar="OUT.json", help="also write the full report as JSON")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=cmd_check)
    s = sub.add_parser("simulate", help="write a simulated NTU-format skeleton folder")
    s.add_argument("out_dir", help="folder to write the .skeleton files to")
    from skelutils.simulate import PRESETS

    s.add_argument("--size", choices=PRESETS, default="smoke",
                   help=f"preset size, one of {', '.join(PRESETS)} (see skelutils.simulate.preset_sessions; "
                        "default smoke)")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.add_argument("--workers", type=_positive_int, default=2, help="parallel writer processes (>= 1, default 2)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_simulate)
    from skelutils import run as run_cmd

    t = sub.add_parser("train", help="train one recogniser on one split (also under torchrun)",
                       description="Train one recogniser on one split from a profile and notebook 01's "
                                   "dataset artifact; torchrun --nproc_per_node=N -m skelutils train ... "
                                   "runs it on N GPUs.")
    run_cmd.add_arguments(t)
    t.set_defaults(func=run_cmd.run_args)
    w = sub.add_parser("watch", help="replay skeleton frames through a trained recogniser, as a live monitor",
                       description="Replay a .skeleton file, a folder of them, a long stream, or frames in the "
                                   ".skeleton layout from standard input (-) at 30 frames/s through a trained "
                                   "recogniser; print each alert (time, class, score) and the per-window latency. "
                                   "Settings default to the profile's stream section.")
    w.add_argument("path", help="a .skeleton file, a folder of them, or - for standard input")
    w.add_argument("--run", required=True, help="run folder holding best.pt (artifacts/<profile>/runs/<run>) or a "
                                                "checkpoint file")
    w.add_argument("--profile", help="profile the run was trained under (default: read from the run's path, "
                                     "else smoke); gives the preparation and the stream settings")
    w.add_argument("--fast", action="store_true", help="as fast as possible instead of 30 frames/s")
    w.add_argument("--window", type=_positive_int, help="frames in the sliding window")
    w.add_argument("--stride", type=_positive_int, help="evaluate every k-th frame")
    w.add_argument("--threshold", type=float, help="harmful score that raises an alert (0..1)")
    w.add_argument("--clear", type=float, help="harmful score below which an alert clears (0..1)")
    w.add_argument("--k", type=_positive_int, help="frames over the threshold before an alert is raised")
    w.add_argument("--precision", choices=stream_precisions(), help="inference precision (mixed: int8 LSTMs, "
                   "bfloat16 elsewhere)")
    w.add_argument("--reuse", action="store_true", default=None,
                   help="keep each frame's features between windows (the RRN; see StreamConfig.reuse)")
    w.add_argument("--threads", type=_positive_int, help="torch threads (default: torch's)")
    w.add_argument("--json", metavar="OUT.json", help="also write alerts and latencies as JSON")
    w.set_defaults(func=cmd_watch)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    if getattr(args, "workers", 1) < 1:
        print(f"error: --workers {args.workers}: expected at least 1", file=sys.stderr)
        return EXIT_USAGE
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
