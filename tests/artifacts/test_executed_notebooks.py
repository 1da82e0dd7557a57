"""The executed copies in ``book/executed/`` (what the book shows and what nbval re-runs) were run
with the profile under test, by papermill, from every notebook of ``notebooks/``."""
import json

import pytest

from skelutils import chapters, config


def _executed_names(nb) -> list[str]:
    """The executed copies one source notebook gives: the training notebook one per chapter."""
    if nb.name == chapters.TRAINING_NOTEBOOK.split("/")[-1]:
        return [f"{c.name}.ipynb" for c in chapters.CHAPTERS.values()]
    return [nb.name]


def test_every_notebook_was_executed_with_the_profile(profile):
    root = config.repo_root()
    sources = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sources, f"no notebooks in {root / 'notebooks'}"
    wrong = []
    for nb in sources:
        for name in _executed_names(nb):
            done = root / "book" / "executed" / name
            if not done.is_file():
                pytest.fail(f"{done} is missing: run `make notebooks PROFILE={profile}`", pytrace=False)
            params = json.loads(done.read_text()).get("metadata", {}).get("papermill", {}).get("parameters", {})
            if params.get("PROFILE") != profile:
                wrong.append(f"{done.name}: PROFILE={params.get('PROFILE')!r}")
    assert not wrong, (f"executed copies of another profile than {profile!r} ({'; '.join(wrong)}): "
                       f"run `make notebooks PROFILE={profile}` before testing that profile")
