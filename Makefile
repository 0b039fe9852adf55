# One task runner. Every target builds its own virtual environment first, so each
# command works on a fresh clone with nothing but Python 3.11+.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The runtime install of the container (Dockerfile: `make install RUNTIME=/opt/uploader`).
RUNTIME ?= build/runtime

.PHONY: demo test check lint types unit install install-check bench bench-quick simulate clean

demo: $(STAMP)            ## the main job: simulator + generated fleet + upload
	$(BIN)/uploader demo

test: $(STAMP) lint types unit install-check bench-quick   ## everything CI runs

lint: $(STAMP)
	$(BIN)/ruff check uploader tests benchmarks
	$(BIN)/ruff format --check uploader tests benchmarks
	$(BIN)/hadolint --failure-threshold error Dockerfile

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

install:                  ## the project and its pinned dependencies, as the container has them
	$(PYTHON) -m venv $(RUNTIME)
	$(RUNTIME)/bin/python -m pip install --quiet --no-cache-dir -c constraints.txt .

install-check: install    ## the container's install works and its entrypoint starts
	$(RUNTIME)/bin/uploader --version
	$(RUNTIME)/bin/uploader config init $(RUNTIME)/uploader.toml --force
	$(RUNTIME)/bin/uploader --config $(RUNTIME)/uploader.toml config check --no-secrets > /dev/null

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# CI smoke: the report goes to BENCH_OUT, so docs/ keeps the reference figures.
BENCH_OUT ?= build/bench-quick
bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks --quick --out $(BENCH_OUT)

simulate: $(STAMP)
	$(BIN)/uploader simulate --port 8080

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) $(RUNTIME) .mypy_cache .pytest_cache .ruff_cache
