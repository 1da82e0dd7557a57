# Build entry point. `make` = set up + run every notebook (smoke profile) + build the book;
# `make test` = the whole test suite (it runs `make notebooks book` itself).
# PROFILE=full selects the paper-scale profile.
PROFILE ?= smoke
VENV ?= .venv
PY := $(VENV)/bin/python
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))

.PHONY: all setup notebooks book test dry-run reference clean

all: notebooks book

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# Executed copies go to book/executed/ (build products, never committed). The training notebook
# runs once per model into the chapters <chapter>:<MODEL> of skelutils.chapters.CHAPTERS (a unit
# test keeps the two lists equal). TQDM_DISABLE keeps progress bars out of the executed pages.
TRAIN_NOTEBOOK := notebooks/03_train.ipynb
TRAIN_CHAPTERS := 03_cnn3d_lstm:cnn3d_lstm 04_li2017_cnn:li2017_cnn 05_rrn_lstm:rrn_lstm
PAPERMILL := TQDM_DISABLE=1 $(PY) -m papermill --cwd notebooks --log-level WARNING -p PROFILE $(PROFILE)
notebooks: setup
	mkdir -p book/executed
	for nb in $(NOTEBOOKS); do \
	  if [ $$nb = $(TRAIN_NOTEBOOK) ]; then \
	    for ch in $(TRAIN_CHAPTERS); do \
	      $(PAPERMILL) -p MODEL $${ch#*:} $$nb book/executed/$${ch%%:*}.ipynb || exit 1; \
	    done; \
	  else \
	    $(PAPERMILL) $$nb book/executed/$$(basename $$nb) || exit 1; \
	  fi; \
	done

book: setup
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

# The whole test suite for one profile, in this order: unit tests of skelutils and static checks
# of the notebooks; every notebook executed and the book built (as `make`); nbval over the
# executed copies in book/executed/, so that it re-runs each notebook with the PROFILE papermill
# injected (cheap the second time: training resumes from the checkpoints in artifacts/); the
# checks on that profile's metrics files (`--profile`, margins in tests/artifacts/conftest.py)
# and on the built HTML in headless Chromium (tests/book, which needs the chromium and
# chromium-driver packages); then the dry run of the full profile (make dry-run), so that a
# change that breaks the paper-size path fails the suite too (DRY_RUN=0 leaves it out).
DRY_RUN ?= 1
test: setup
	$(PY) -m pytest tests/unit
	$(MAKE) notebooks book PROFILE=$(PROFILE)
	$(PY) -m pytest --nbval-lax book/executed tests/artifacts tests/book --profile $(PROFILE)
	if [ "$(DRY_RUN)" = 1 ]; then $(MAKE) dry-run; fi

# A dry run of the full profile (profiles/full-dry.yaml: full's models, T, batch, GAN preset,
# protocols, ablation grid and seeds; one step of one epoch per run, two GAN updates, the smoke
# simulator's 336 files): every notebook executed at paper size on the CPU into _build/dry/ (not
# book/executed/, which the book builds from), from fresh artifacts, then the checks on its
# artifacts that do not need learning (one step learns nothing; nor do its executed copies sit in
# book/executed/). The last step of `make test`; book/reproduce.md gives its cost.
DRY_EXECUTED := _build/dry
DRY_DESELECT := -m "not learning" -k "not executed_with_the_profile"
dry-run: PROFILE = full-dry
dry-run: setup
	rm -rf artifacts/full-dry $(DRY_EXECUTED)
	mkdir -p $(DRY_EXECUTED)
	for nb in $(NOTEBOOKS); do \
	  if [ "$$nb" = "$(TRAIN_NOTEBOOK)" ]; then \
	    for ch in $(TRAIN_CHAPTERS); do \
	      TQDM_DISABLE=1 $(PY) -m papermill --cwd notebooks --log-level WARNING -p PROFILE full-dry \
	        -p MODEL $${ch#*:} $$nb $(DRY_EXECUTED)/$${ch%%:*}.ipynb || exit 1; \
	    done; \
	  else \
	    TQDM_DISABLE=1 $(PY) -m papermill --cwd notebooks --log-level WARNING -p PROFILE full-dry \
	      $$nb $(DRY_EXECUTED)/$$(basename $$nb) || exit 1; \
	  fi; \
	done
	$(PY) -m pytest -q tests/artifacts --profile full-dry $(DRY_DESELECT)

# Reference results that CI cannot afford (skelutils/reference.py): notebooks 01, 02 and 07 in
# REFERENCE_PROFILE (about 70 minutes on 2 CPU cores for cpu30), executed into _build/reference/,
# then their small JSON files and provenance copied to book/reference/<profile>/ (committed).
REFERENCE_PROFILE ?= cpu30
REFERENCE_NOTEBOOKS := notebooks/01_data.ipynb notebooks/02_gan.ipynb notebooks/07_ablation.ipynb
reference: setup
	mkdir -p _build/reference
	start=$$(date +%s); \
	for nb in $(REFERENCE_NOTEBOOKS); do \
	  TQDM_DISABLE=1 $(PY) -m papermill --cwd notebooks --log-level WARNING -p PROFILE $(REFERENCE_PROFILE) \
	    $$nb _build/reference/$$(basename $$nb) || exit 1; \
	done; \
	$(PY) -m skelutils.reference $(REFERENCE_PROFILE) --seconds $$(( $$(date +%s) - start ))

clean:
	rm -rf _build book/executed
