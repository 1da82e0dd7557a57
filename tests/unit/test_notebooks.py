"""Static checks of the committed notebooks and the book's own pages (nothing is executed).

- Notebooks are committed without outputs and with exactly one ``parameters`` cell.
- Every number in prose is computed: a digit typed into a notebook's markdown cell or into
  ``book/*.md`` fails unless it is one of the kinds listed in :data:`ALLOWED` (section, table and
  figure numbers, NTU codes, notebook numbers, citations, ...). Numbers the notebooks compute are
  ``{glue:text}`` roles, which are markup and never read as prose; so are code, links and URLs.
- Notebooks do not copy each other's code: no two share more than :data:`MAX_SHARED_CODE_CELLS`
  identical code cells (what they share belongs in ``skelutils``). The three training chapters are
  one notebook, executed once per model (``skelutils.chapters``).
- Every chapter of ``_toc.yml`` has one source, the Makefile executes each one, and the citation
  file cites the paper as its data file does.
"""
from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import yaml

from skelutils import chapters, paper

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PAGES = sorted((ROOT / "book").glob("*.md"))
MAX_SHARED_CODE_CELLS = 3


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


# ----------------------------------------------------------------------------- what may be typed

def _citation_parts() -> list[str]:
    """The volume, issue and pages and the DOI of the paper, as its cited data file writes them."""
    source = paper.paper_results()["source"]
    doi = re.search(r"doi:\s*(\S+?)\.?$", source)
    volume = re.search(r"\d+\(\d+\(\d+\)\),\s*\d+-\d+", source)
    assert doi and volume, f"{paper.PAPER_RESULTS_FILE}: 'source' no longer holds a volume and a DOI: {source!r}"
    return [volume.group(0), doi.group(1)]


#: THE ALLOW-LIST. Digits in prose are allowed only inside a match of one of these patterns; each
#: entry says why such a number is not a result that a notebook should compute and glue.
ALLOWED: dict[str, str] = {
    # References into the paper and into this book: "section 4.4", "Table 1", "Fig. 2-4",
    # "Experiment 1" ("Exp. 1"), "conclusions 3-4", "the Ambiguities page, row 17".
    "reference": r"\b(?:[Ss]ections?|[Tt]ables?|Figs?\.|[Ff]igures?|Experiments?|Exp\.|[Cc]onclusions?|rows?)"
                 r"\s+\d+(?:\.\d+)*(?:\s*(?:-|–|,|and|to)\s*\d+(?:\.\d+)*)*",
    # The number column of a numbered table (the Ambiguities page's rows, cited as "row 17").
    "table row number": r"(?m)^\|\s*\d+\s*\|",
    # Notebook numbers, always two digits 01-09: "notebook 02", "notebooks 03-05", "(01)", "# 06 - ...".
    "notebook number": r"(?<![\w.])0[1-9](?![\w.])",
    # Years of a citation: "(2024)", "Li et al. 2017", "(Zheng 2019)".
    "citation year": r"(?:\(|et al\.\s|[A-Z][a-z]+\s)(?:19|20)\d\d\b",
    # The paper's volume, issue, pages and DOI, exactly as skelutils/data/paper_results.json cites them.
    **{f"citation {i}": re.escape(part) for i, part in enumerate(_citation_parts())},
    # The data sets' names and which of them holds a class (intro's table): NTU RGB+D 60 / 120, NTU 60.
    "data set name": r"NTU(?:\s+RGB\+D)?\s+(?:60|120)(?:\s*(?:and|/|,)\s*(?:60|120))*|\|\s*(?:60 and 120|120 only)\s*\|",
    # Names of the two people by their index in the arrays (axis M): "person 0", "person 1".
    "person index": r"\bpersons?\s+[01]\b",
    # "3D skeletons", "2D".
    "dimension": r"\b[23]D\b",
    # Facts of the Kinect v2 sensor and of NTU RGB+D's recording set-up, which no run changes.
    "sensor fact": r"\b25\s+joints\b|\babout\s+30\s+times\s+a\s+second\b|-45,\s+0\s+and\s+\+45\s+degrees",
    # Facts of the NTU RGB+D release, which no run changes: its size per class.
    "data set fact": r"\bNTU\s+RGB\+D\s+120\s+has\s+about\s+950\s+per\s+class\b",
    # Values that define a measure, not results of one.
    "definition": r"\ba\s+ratio\s+near\s+1\b|\ba\s+rigid\s+body\s+has\s+0\b",
}
_ALLOWED_RE = [(name, re.compile(p)) for name, p in ALLOWED.items()]

#: TEMPORARY, to be emptied: prose owned elsewhere that still types numbers. Per notebook, the
#: phrases (each around a typed number) tolerated for now; per page, whole files. A typed number
#: outside these phrases fails, and so does an entry that no longer matches anything.
PENDING: dict[str, list[str]] = {
}
PENDING_FILES: set[str] = set()

#: Digit runs that are numbers (``2``, ``0.5``, ``1060``); runs glued to letters are names
#: (``A050``, ``cpu30``, ``S001``) and are not read as numbers.
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)*")
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
_DIRECTIVE_OPTION = re.compile(r"^\s*:?(?:name|width|height|scale|align|class|figclass|target|label)\s*:.*$")
_MARKUP = [
    re.compile(r"(?:\{[\w:.-]+\})?(`+)(?:(?!\1).)+?\1", re.S),  # inline code and roles ({glue:text}`x:.1f`)
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"<https?://[^>]*>|https?://\S+"),  # URLs
    re.compile(r"<[^>\n]+>"),  # HTML tags
    re.compile(r"^\s*\d+\.\s", re.M),  # ordered-list markers
]


def prose(text: str) -> str:
    """``text`` with code blocks, inline code, roles, link targets, URLs and list markers blanked
    out (replaced by spaces of the same length, so that offsets still point into ``text``)."""
    blank = lambda m: re.sub(r"[^\n]", " ", m.group(0))  # noqa: E731
    text = _FRONT_MATTER.sub(blank, text)  # a page's YAML header (kernel, execution settings)
    lines, out, fence, directive = text.split("\n"), [], None, False
    for line in lines:
        m = _FENCE.match(line)
        if fence is None and m:
            fence, directive = m.group(2), m.group(3).strip().startswith("{")
            out.append(" " * len(line))  # the fence line names the directive or language
        elif fence is not None and m and m.group(2).startswith(fence[0]) and len(m.group(2)) >= len(fence) \
                and not m.group(3).strip():
            fence = None
            out.append(" " * len(line))
        elif fence is not None and not directive:
            out.append(" " * len(line))  # code
        elif fence is not None and _DIRECTIVE_OPTION.match(line):
            out.append(" " * len(line))  # a directive's option (name, width, ...), not its caption
        else:
            out.append(line)
    text = "\n".join(out)
    for pattern in _MARKUP:
        text = pattern.sub(blank, text)
    return text


@dataclass(frozen=True)
class TypedNumber:
    file: str
    cell: int | None  # markdown cell index in the notebook; None for a book page
    number: str
    context: str
    pending: str | None = None  # the PENDING phrase that tolerates it for now

    def __str__(self) -> str:
        where = f"{self.file} cell {self.cell}" if self.cell is not None else self.file
        return f"{where}: {self.number!r} in {' '.join(self.context.split())!r}"


def _phrase(text: str) -> re.Pattern:
    """``text`` as a pattern in which any run of spaces also matches line breaks."""
    return re.compile(r"\s+".join(map(re.escape, text.split())))


def typed_numbers(text: str, file: str, cell: int | None = None,
                  pending: list[str] = ()) -> list[TypedNumber]:
    """The numbers in the prose of ``text`` that no pattern of :data:`ALLOWED` covers, each
    with the phrase of ``pending`` it lies in, if any."""
    clean = prose(text)
    allowed = [m.span() for _, rx in _ALLOWED_RE for m in rx.finditer(clean)]
    tolerated = [(m.span(), p) for p in pending for m in _phrase(p).finditer(text)]
    found = []
    for m in _NUMBER.finditer(clean):
        if any(a <= m.start() and m.end() <= b for a, b in allowed):
            continue
        lo, hi = max(0, m.start() - 40), min(len(text), m.end() + 40)
        why = next((p for (a, b), p in tolerated if a <= m.start() and m.end() <= b), None)
        found.append(TypedNumber(file, cell, m.group(0), text[lo:hi].strip(), why))
    return found


def all_typed_numbers() -> list[TypedNumber]:
    out = []
    for nb in NOTEBOOKS:
        for i, cell in enumerate(_cells(nb)):
            if cell["cell_type"] == "markdown":
                out += typed_numbers(_source(cell), _rel(nb), i, PENDING.get(_rel(nb), []))
    for page in PAGES:
        if _rel(page) not in PENDING_FILES:
            out += typed_numbers(page.read_text(), _rel(page), None, PENDING.get(_rel(page), []))
    return out


# ----------------------------------------------------------------------------- tests

def _toc_chapters() -> list[str]:
    def walk(entries):
        for e in entries:
            if "file" in e:
                yield e["file"]
            yield from walk(e.get("chapters", []) + e.get("sections", []))
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"], *walk(toc.get("parts", []))]


def test_sources_are_found():
    assert ROOT / "book" / "intro.md" in PAGES
    assert ROOT / chapters.TRAINING_NOTEBOOK in NOTEBOOKS, f"{chapters.TRAINING_NOTEBOOK} is missing"
    executed = [f.split("/")[-1] for f in _toc_chapters() if f.startswith("book/executed/")]
    sources = {nb.stem for nb in NOTEBOOKS} | {c.name for c in chapters.CHAPTERS.values()}
    orphans = [f for f in executed if f not in sources]
    assert not orphans, f"_toc.yml lists executed pages no notebook produces: {orphans}"
    unlisted = [nb.stem for nb in NOTEBOOKS if nb.stem not in executed and _rel(nb) != chapters.TRAINING_NOTEBOOK]
    assert not unlisted, f"notebooks not in _toc.yml: {unlisted}"
    missing = [c.name for c in chapters.CHAPTERS.values() if c.name not in executed]
    assert not missing, f"training chapters not in _toc.yml: {missing}"


def test_makefile_executes_the_training_notebook_once_per_chapter():
    text = (ROOT / "Makefile").read_text()
    nb = re.search(r"^TRAIN_NOTEBOOK\s*:=\s*(\S+)", text, re.M)
    chs = re.search(r"^TRAIN_CHAPTERS\s*:=\s*(.+)$", text, re.M)
    assert nb and chs, "Makefile: TRAIN_NOTEBOOK and TRAIN_CHAPTERS are not defined"
    assert nb.group(1) == chapters.TRAINING_NOTEBOOK
    made = [tuple(x.split(":")) for x in chs.group(1).split()]
    assert made == [(c.name, c.model) for c in chapters.CHAPTERS.values()], (
        f"Makefile TRAIN_CHAPTERS {made} differs from skelutils.chapters.CHAPTERS")


def test_training_notebook_takes_the_model_as_a_parameter():
    cells = _cells(ROOT / chapters.TRAINING_NOTEBOOK)
    params = next(_source(c) for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))
    default = re.search(r"^MODEL\s*=\s*\"(\w+)\"", params, re.M)
    assert default and default.group(1) in chapters.CHAPTERS, "the parameters cell must set MODEL to a chapter's model"
    assert _source(cells[0]).startswith("# {glue:text}`chapter_title`"), \
        "the training notebook's title is the chapter's, glued from skelutils.chapters"


def test_citation_file_cites_the_paper_as_its_data_file():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    ref = cff["preferred-citation"]
    source = paper.paper_results()["source"]
    assert ref["doi"] in source and str(ref["year"]) in source and ref["title"] in source
    assert f"{ref['volume']}({ref['issue']})" in source and f"{ref['start']}-{ref['end']}" in source
    assert all(a["family-names"] in source for a in ref["authors"])
    assert cff["license"] == "MIT" and (ROOT / "LICENSE").read_text().startswith("MIT License")


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_committed_without_outputs_and_with_one_parameters_cell(nb):
    cells = _cells(nb)
    with_outputs = [i for i, c in enumerate(cells) if c["cell_type"] == "code"
                    and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not with_outputs, f"{_rel(nb)}: cells {with_outputs} hold outputs; clear them before committing"
    params = [i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, f"{_rel(nb)}: {len(params)} cells tagged 'parameters' ({params}); exactly one is expected"
    assert cells[params[0]]["cell_type"] == "code"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_valid_nbformat(nb):
    nbformat = pytest.importorskip("nbformat")
    try:
        nbformat.validate(nbformat.read(str(nb), as_version=4))
    except nbformat.ValidationError as e:
        pytest.fail(f"{_rel(nb)} is not a valid notebook ({str(e).splitlines()[0]}); a cell 'id' needs "
                    "nbformat_minor 5", pytrace=False)


def test_every_number_in_prose_is_computed():
    bad = [v for v in all_typed_numbers() if v.pending is None]
    assert not bad, ("numbers typed into prose; glue them from the value the notebook computes (or from "
                     "skelutils/data/paper_results.json for the paper's), or, if the number is a reference "
                     "and not a result, add its kind to ALLOWED in tests/unit/test_notebooks.py:\n  "
                     + "\n  ".join(map(str, bad)))


def test_pending_list_holds_only_what_is_still_there():
    used = {(v.file, v.pending) for v in all_typed_numbers()}
    stale = [(f, p) for f, phrases in PENDING.items() for p in phrases if (f, p) not in used]
    assert not stale, f"remove these entries from PENDING (their numbers are glued now): {stale}"
    for page in PENDING_FILES:
        assert (ROOT / page).is_file(), f"PENDING_FILES names {page}, which does not exist"
        assert typed_numbers((ROOT / page).read_text(), page), \
            f"{page} types no number any more: remove it from PENDING_FILES"


def test_the_check_finds_typed_numbers_and_spares_markup():
    text = ("The model reaches 81.3% {glue:text}`acc:.1f` (section 5.4, Table 1, notebook 03, A050,\n"
            "NTU RGB+D 120, Li et al. 2017) in `epochs=40` [a](https://x.org/1) with 0.3-2 points.\n"
            "```python\nx = 12\n```\n1. first\n")
    assert [v.number for v in typed_numbers(text, "t.md")] == ["81.3", "0.3", "2"]
    assert typed_numbers("doi:" + _citation_parts()[1], "t.md") == []
    assert [v.number for v in typed_numbers("---\nkernel: python3\n---\n# Title 5\n", "t.md")] == ["5"]
    got = typed_numbers("a (chance:\n14.3%) b 2.5", "t.md", pending=["(chance: 14.3%)"])
    assert [(v.number, v.pending) for v in got] == [("14.3", "(chance: 14.3%)"), ("2.5", None)]


def _code_cells(nb: Path) -> set[str]:
    return {_source(c).strip() for c in _cells(nb) if c["cell_type"] == "code" and _source(c).strip()}


_PAIRS = list(itertools.combinations(NOTEBOOKS, 2))


@pytest.mark.parametrize("a,b", _PAIRS, ids=lambda p: p.stem[:2])
def test_notebooks_do_not_copy_code(a, b):
    shared = _code_cells(a) & _code_cells(b)
    assert len(shared) <= MAX_SHARED_CODE_CELLS, (
        f"{a.name} and {b.name} share {len(shared)} identical code cells (at most {MAX_SHARED_CODE_CELLS}): "
        "move that code into skelutils. First lines: " + "; ".join(s.splitlines()[0][:60] for s in sorted(shared)))
