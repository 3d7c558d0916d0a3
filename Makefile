# The README's two commands: `make matrix` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ARGS ?=

.PHONY: matrix seed test lint bench clean

matrix: $(INSTALLED)
	$(BIN)/lab matrix --save results $(ARGS)

seed: $(INSTALLED)
	$(BIN)/lab matrix --profile seed $(ARGS)

test: $(INSTALLED)
	$(BIN)/pytest $(ARGS)

bench: $(INSTALLED)
	$(BIN)/python -m bench $(ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check lab plugins tests examples bench
	$(BIN)/ruff format --check lab plugins tests examples bench
	$(BIN)/mypy lab plugins bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install whenever the packaging metadata changes.
$(INSTALLED): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[trio,plot,dev]'
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache
