# One task runner. Every target builds its own virtual environment first, so each
# command works on a fresh clone with nothing but Python 3.11+.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test check lint types unit bench bench-quick simulate clean

demo: $(STAMP)            ## the main job: simulator + generated fleet + upload
	$(BIN)/uploader demo

test: $(STAMP) lint types unit   ## everything CI runs

lint: $(STAMP)
	$(BIN)/ruff check uploader tests benchmarks
	$(BIN)/ruff format --check uploader tests benchmarks

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks --quick

simulate: $(STAMP)
	$(BIN)/uploader simulate --port 8080

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
