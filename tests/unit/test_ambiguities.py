"""The Ambiguities page's table (skelutils.ambiguities): every row's parameter exists, and the
default the row states is the one the code and the profiles use."""
import pytest

from skelutils import ambiguities, config
from skelutils.ambiguities import AMBIGUITIES, Ambiguity, current_default

ROWS = [r for r in AMBIGUITIES if r.where is not None]


def test_rows_are_numbered_once_in_order():
    numbers = [r.number for r in AMBIGUITIES]
    assert numbers == list(range(1, len(numbers) + 1)), f"row numbers must run 1..N without gaps: {numbers}"


def test_every_row_says_what_the_paper_says_with_a_section_or_a_source():
    vague = [r.number for r in AMBIGUITIES
             if not any(k in r.paper_says for k in ("section", "not stated", "neither", "the paper has no", "`"))]
    assert not vague, f"rows {vague}: say where in the paper (section) or in its source the reading comes from"


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"row{r.number}")
def test_parameter_exists_and_stated_default_is_the_code_s(row: Ambiguity):
    assert row.default is not ambiguities._NOTHING, f"row {row.number}: names {row.where} but states no default"
    value = current_default(row)  # KeyError when the field, argument, preset or constant is gone
    if row.where.startswith("profile:"):
        stated = row.default if isinstance(row.default, dict) else {p: row.default for p in value}
        assert set(stated) == set(value), (f"row {row.number}: states {sorted(stated)}, but "
                                           f"{row.where} is set in {sorted(value)}")
        value = {p: list(v) if isinstance(v, (list, tuple)) else v for p, v in value.items()}
        stated = {p: list(v) if isinstance(v, (list, tuple)) else v for p, v in stated.items()}
        assert value == stated, f"row {row.number} ({row.topic}) states {stated}; {row.where} is now {value}"
    else:
        norm = lambda v: list(v) if isinstance(v, (list, tuple)) else v  # noqa: E731
        assert norm(value) == norm(row.default), \
            f"row {row.number} ({row.topic}) states {row.default!r}; {row.where} is now {value!r}"


def test_profile_parameters_are_fields_of_the_schema():
    fields = set(config.PROFILE_SCHEMA)
    for r in ROWS:
        if r.where.startswith("profile:"):
            assert r.where.split(":", 1)[1] in fields, f"row {r.number}: {r.where} is not in config.PROFILE_SCHEMA"


def test_a_changed_default_shows_on_the_page_and_fails_the_check(monkeypatch):
    row = next(r for r in AMBIGUITIES if r.where == "arg:skelutils.models.RrnLstm:norm")
    assert "norm='batch'" in ambiguities.page_markdown()
    from skelutils import models

    class Changed(models.RrnLstm):  # the papers' form as the default
        def __init__(self, num_classes=7, norm="none", **kw):
            super().__init__(num_classes=num_classes, norm=norm, **kw)
    monkeypatch.setattr(models, "RrnLstm", Changed)
    monkeypatch.setattr(ambiguities, "AMBIGUITIES", [row])  # no profile is loaded with the stand-in
    assert "norm='none'" in ambiguities.page_markdown()
    with pytest.raises(AssertionError):
        test_parameter_exists_and_stated_default_is_the_code_s(row)


def test_a_parameter_that_does_not_exist_is_caught():
    for where in ("profile:data.no_such_field", "arg:skelutils.models.RrnLstm:no_such_arg",
                  "preset:no_such_preset:config.lr", "const:skelutils.quality.NO_SUCH"):
        with pytest.raises(KeyError):
            current_default(Ambiguity(99, "t", "not stated", "x", "y", where, 1))


def test_the_page_renders_every_row_in_both_layouts():
    text = ambiguities.page_markdown()
    assert [int(n) for n in __import__("re").findall(r"(?m)^\*\*(\d+)\. ", text)] == [r.number for r in AMBIGUITIES]
    assert "`data.frames`: `32` (smoke), `32` (cpu30), `64` (full)" in text
    table = ambiguities.page_markdown("table")
    assert table.count("\n") == len(AMBIGUITIES) + 1
    with pytest.raises(ValueError):
        ambiguities.page_markdown("cards")
