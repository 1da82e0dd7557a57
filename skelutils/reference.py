"""Reference results of a profile that CI cannot afford (``cpu30``), committed under
``book/reference/<profile>/`` so that the book shows them beside the smoke run.

``make reference`` executes notebooks 01, 02 and 07 in the profile (about 70 minutes on 2 CPU
cores for ``cpu30``), then ``python -m skelutils.reference <profile> --seconds N`` copies the small
JSON files those notebooks wrote (the data set's metrics, the GAN's quality report, the
ablation's summary) and writes ``provenance.json``: the commit, profile, seeds, machine, torch
version, date and how long the run took. :func:`load_reference` reads them back and checks that
they are complete.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import sys
from pathlib import Path
from typing import Any

from . import config

#: Where the reference files live: book/reference/<profile>/.
REFERENCE_DIR = config.repo_root() / "book" / "reference"
#: The files a reference holds: name under book/reference/<profile>/ -> parts under artifacts/<profile>/.
FILES = {"data_metrics.json": ("data", "metrics.json"), "gan_quality.json": ("gan", "quality.json"),
         "ablation_summary.json": ("ablation", "summary.json")}
SCHEMA = "skelutils.reference/1"


def reference_dir(profile: str) -> Path:
    return REFERENCE_DIR / profile


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def collect(profile: str, seconds: float | None = None, notebooks: list[str] | None = None,
            note: str | None = None) -> Path:
    """Copy the profile's reference files from ``artifacts/<profile>/`` and write their provenance.

    The provenance's commit is the one the ablation's summary records (the code that ran the
    notebooks), else the current one, and ``file_commits`` holds the commit that each file
    records itself; ``note`` says what happened during the run (a restart, another job on the
    machine, a file kept from an earlier run).

    Raises:
        FileNotFoundError: a file is missing (the message names the notebook to run).
    """
    import torch
    cfg = config.load_profile(profile)
    dest = reference_dir(profile)
    missing = [str(config.artifacts_dir(cfg, *parts, create=False)) for parts in FILES.values()
               if not config.artifacts_dir(cfg, *parts, create=False).is_file()]
    if missing:
        raise FileNotFoundError(f"reference of {profile!r}: missing {missing}; run notebooks 01, 02 and 07 with "
                                f"-p PROFILE {profile} first (make reference)")
    dest.mkdir(parents=True, exist_ok=True)
    for name, parts in FILES.items():
        shutil.copyfile(config.artifacts_dir(cfg, *parts, create=False), dest / name)
    files = {name: json.loads((dest / name).read_text()) for name in FILES}
    abl = files["ablation_summary.json"]
    # the commit each file records (in its own provenance)
    made_by = {name: (d.get("provenance") or {}).get("git_commit") or d.get("git_commit") for name, d in files.items()}
    prov = {"schema": SCHEMA, "profile": profile, "git_commit": abl.get("git_commit") or config.git_commit(),
            "file_commits": made_by,
            "seed": int(cfg.get("seed", 0)), "ablation_seeds": abl.get("seeds"),
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "duration_s": None if seconds is None else float(seconds),
            "notebooks": notebooks or ["01_data", "02_gan", "07_ablation"],
            "machine": {"cpu": _cpu(), "cores": os.cpu_count(), "platform": platform.platform()},
            "torch_version": torch.__version__, "python": platform.python_version(),
            "command": f"make reference REFERENCE_PROFILE={profile}", "note": note}
    config.write_json(dest / "provenance.json", prov)
    return dest


def load_reference(profile: str) -> dict[str, Any] | None:
    """``{"provenance": .., "data_metrics": .., "gan_quality": .., "ablation_summary": ..}`` of a
    committed reference, or None when there is none.

    Raises:
        ValueError: a reference folder exists but lacks a file or its provenance schema.
    """
    d = reference_dir(profile)
    if not d.is_dir():
        return None
    out = {}
    for name in ("provenance.json", *FILES):
        p = d / name
        if not p.is_file():
            raise ValueError(f"{d}: the reference lacks {name}; run make reference REFERENCE_PROFILE={profile}")
        out[name[:-5]] = json.loads(p.read_text())
    if out["provenance"].get("schema") != SCHEMA:
        raise ValueError(f"{d / 'provenance.json'}: schema {out['provenance'].get('schema')!r}, expected {SCHEMA!r}")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m skelutils.reference", description=collect.__doc__.split("\n")[0])
    p.add_argument("profile")
    p.add_argument("--seconds", type=float, help="how long the notebooks took (recorded)")
    p.add_argument("--note", help="what happened during the run (recorded)")
    p.add_argument("--notebooks", nargs="+", help="the notebooks this run executed (default: 01_data 02_gan 07_ablation)")
    a = p.parse_args(argv)
    try:
        print(f"reference written to {collect(a.profile, a.seconds, notebooks=a.notebooks, note=a.note)}")
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
