# The README's two commands: `make demo` (set up, then run the main demo) and `make test`.
#
# `.venv` is checked before it is used: one made by a Python older than 3.11, one whose
# interpreter no longer runs (moved, or its Python uninstalled), or one whose install never
# finished (the stamp is written last) is deleted and built again, never reused.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH_VERSION ?= 2.13.0
# pip's progress bars and one line per package, instead of minutes of silence.
PIP := $(BIN)/python -m pip install --progress-bar on --no-input
# Fails unless the interpreter runs and is at least 3.11.
PY_OK := -c "import sys; sys.exit(sys.version_info < (3, 11))"

.PHONY: demo test setup check-venv lint bench clean

setup: check-venv $(STAMP)

# Runs before every target that uses .venv: a broken or half-built one loses its stamp.
check-venv:
	@if [ -d $(VENV) ]; then \
		if ! $(BIN)/python -c "" 2>/dev/null; then \
			why="its python no longer runs (moved, or its interpreter was uninstalled)"; \
		elif ! $(BIN)/python $(PY_OK); then \
			why="it was made by Python $$($(BIN)/python -c 'import platform; print(platform.python_version())'); Shipyard needs >= 3.11"; \
		elif [ ! -f $(STAMP) ]; then \
			why="its last install did not finish"; \
		fi; \
		if [ -n "$$why" ]; then echo "Rebuilding $(VENV): $$why."; rm -rf $(VENV); fi; \
	fi

$(STAMP): pyproject.toml | check-venv
	@$(PYTHON) $(PY_OK) 2>/dev/null || { \
		echo "Shipyard needs Python >= 3.11; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
		echo "Run: make PYTHON=python3.11 demo   (or python3.12, python3.13)"; exit 1; }
	rm -f $(STAMP)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	# PyTorch's CPU build first: a bare `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/python -c "import torch" 2>/dev/null || $(PIP) "torch==$(TORCH_VERSION)"
	# Every extra (serve, data, train, postgres, ray) and the development tools.
	$(PIP) -e ".[dev]"
	$(BIN)/shipyard --version
	touch $(STAMP)

demo: setup
	$(BIN)/shipyard run examples/penguins/pipeline.py
	@echo; cat examples/penguins/next_steps.txt

test: setup
	$(BIN)/lint-imports
	$(BIN)/ruff check shipyard tests benchmarks examples docs
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/runner_overhead.py

clean:
	rm -rf $(VENV) .shipyard .pytest_cache .mypy_cache .ruff_cache
