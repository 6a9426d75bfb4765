# Everything runs from a fresh clone: the venv and every dependency are set up on demand.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint format clean browser postgres graphviz

# The end-to-end tests drive Debian's chromium (never a browser downloaded by playwright); a fresh
# machine (CI, as root) gets it from apt the first time.
CHROMIUM := /usr/bin/chromium

# The PostgreSQL backend's tests and benchmark start a private throw-away server from Debian's
# PostgreSQL 15 binaries (benchmarks/postgres_cluster.py); apt installs them the first time.
INITDB := /usr/lib/postgresql/15/bin/initdb

# The hard corpus (benchmarks/hard_corpus.py) renders its template diagrams with graphviz's `dot`:
# its tests and the precision benchmark need it, and apt installs it the first time.
DOT := /usr/bin/dot

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m pixdex.demo out/demo

browser:
	test -x $(CHROMIUM) || (apt-get update -qq && apt-get install -y -qq chromium)

postgres:
	test -x $(INITDB) || (apt-get update -qq && apt-get install -y -qq postgresql)

graphviz:
	test -x $(DOT) || (apt-get update -qq && apt-get install -y -qq graphviz)

test: $(STAMP) browser postgres graphviz
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -q

# imagededup (the duplicate finder's peer) is installed for the benchmarks only, without its declared
# dependencies: they include torch and torchvision, which its hash-based finder never imports.
bench: $(STAMP) postgres graphviz
	$(PY) -m pip install -q --no-deps imagededup tqdm PyWavelets
	$(PY) -m benchmarks

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .cache .pytest_cache
