"""The paper's reported numbers, read from one cited data file (``skelutils/data/paper_results.json``).

Nothing here is computed: these are the values printed in Islamgozhayev et al. (2024),
each entry carrying the section it comes from, so that the book compares our
results against them without retyping a number.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

PAPER_RESULTS_FILE = Path(__file__).with_name("data") / "paper_results.json"


@lru_cache(maxsize=1)
def paper_results() -> dict:
    """The paper's numbers as a dict (see the JSON file for sections and units)."""
    return json.loads(PAPER_RESULTS_FILE.read_text())


def table1(model: str, split: str) -> float:
    """Table 1 accuracy in percent for ``model`` (cnn3d_lstm, li2017_cnn, rrn_lstm) and ``split`` (xsub, xview)."""
    t = paper_results()["table1"]
    if model not in t or not isinstance(t[model], dict):
        raise KeyError(f"model {model!r} is not in Table 1; models there: "
                       f"{[k for k, v in t.items() if isinstance(v, dict)]}")
    if split not in t[model]:
        raise KeyError(f"split {split!r} is not in Table 1; splits there: {sorted(t[model])}")
    return float(t[model][split])
