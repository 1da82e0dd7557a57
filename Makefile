# Build entry point. `make` = set up + run every notebook (smoke profile) + build the book;
# `make test` = the whole test suite (it runs `make notebooks book` itself).
# PROFILE=full selects the paper-scale profile.
PROFILE ?= smoke
VENV ?= .venv
PY := $(VENV)/bin/python
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))

.PHONY: all setup notebooks book test clean

all: notebooks book

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# Executed copies go to book/executed/ (build products, never committed).
notebooks: setup
	mkdir -p book/executed
	for nb in $(NOTEBOOKS); do \
	  $(PY) -m papermill $$nb book/executed/$$(basename $$nb) -p PROFILE $(PROFILE) --cwd notebooks --log-level WARNING || exit 1; \
	done

book: setup
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

# The whole test suite for one profile, in this order: unit tests of skelutils and static checks
# of the notebooks; every notebook executed and the book built (as `make`); nbval over the
# executed copies in book/executed/, so that it re-runs each notebook with the PROFILE papermill
# injected (cheap the second time: training resumes from the checkpoints in artifacts/); the
# checks on that profile's metrics files (`--profile`, margins in tests/artifacts/conftest.py)
# and on the built HTML in headless Chromium (tests/book, which needs the chromium and
# chromium-driver packages).
test: setup
	$(PY) -m pytest tests/unit
	$(MAKE) notebooks book PROFILE=$(PROFILE)
	$(PY) -m pytest --nbval-lax book/executed tests/artifacts tests/book --profile $(PROFILE)

clean:
	rm -rf _build book/executed
