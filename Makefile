# The README's two commands: `make matrix` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_DEPS := $(VENV)/.installed-run
DEV_DEPS := $(VENV)/.installed-dev
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
ARGS ?=

.PHONY: matrix seed sweep test faults lint bench docs pythons browser clean

matrix: $(RUN_DEPS)
	$(BIN)/lab matrix --save results $(ARGS)

seed: $(RUN_DEPS)
	$(BIN)/lab matrix --profile seed $(ARGS)

sweep: $(RUN_DEPS)
	$(BIN)/lab sweep --save results $(ARGS)

# The tests measure nothing and mostly wait on the labs they start (a cluster starting, a
# cell's timeout): one pytest-xdist worker more than the logical CPUs keeps them busy while one
# waits, a module (or a class of the conformance kit) to a worker.
TEST_PROCESSES ?= $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)')
PYTEST := $(BIN)/pytest -n $(TEST_PROCESSES) --dist loadscope

test: $(DEV_DEPS)
	$(PYTEST) $(ARGS)

# The fault suite alone: the tests docs/faults.md lists.
faults: $(DEV_DEPS)
	$(PYTEST) -m faults $(ARGS)

bench: $(RUN_DEPS)
	$(BIN)/python -m bench $(ARGS)

# The documentation site (mkdocs.yml, the pages under docs/) built into site/; --strict makes a
# broken link, a missing page or any other warning fail the build.
docs: $(DEV_DEPS)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

lint: $(DEV_DEPS)
	$(BIN)/ruff check lab plugins tests examples bench
	$(BIN)/ruff format --check lab plugins tests examples bench
	$(BIN)/mypy lab plugins bench

# CPython with and without the GIL, built from source once into a cache outside the checkout,
# where the lab's --python finds them (a few minutes each; see .ci/build-python); then what the
# tests' environments on the free-threaded build compile from source, built once into pip's
# and uv's caches (see .ci/warm-wheels).
PYTHONS ?= $(HOME)/.cache/concurrency-lab/pythons
CPYTHON := 3.13.15

pythons:
	.ci/build-python $(CPYTHON) $(PYTHONS)/$(CPYTHON)
	.ci/build-python $(CPYTHON) $(PYTHONS)/$(CPYTHON)t --disable-gil
	.ci/warm-wheels $(PYTHONS)/$(CPYTHON)t/bin/python3

# Headless Chromium and its driver for the HTML report's browser tests, from Debian's packages
# (as root; elsewhere it says what to install, and those tests are skipped saying why).
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
		echo "chromium and chromedriver are installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	else \
		echo "install chromium and chromium-driver (Debian: apt-get install chromium chromium-driver)"; \
	fi

# The venv is made from $(PYTHON) and marked with that interpreter's identity (version and
# path): another PYTHON= makes it again rather than silently reusing one of another Python.
PYTHON_ID := $(shell $(PYTHON) -c 'import sys; print(sys.version, sys.executable)' 2>/dev/null | cksum | cut -d' ' -f1)
ifneq ($(shell $(PYTHON) -c 'import sys; print(sys.version_info >= (3, 11))' 2>/dev/null),True)
$(error PYTHON=$(PYTHON) is not Python 3.11 or later)
endif
MADE_BY := $(VENV)/.made-by-$(PYTHON_ID)

$(MADE_BY):
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	touch $@

# What running the lab needs; re-installed whenever the packaging metadata or the venv changes.
# msgspec reads large results files several times faster; where it has no wheel and cannot be
# built, the lab reads them without it.
$(RUN_DEPS): setup.cfg pyproject.toml $(MADE_BY)
	$(PIP) -e '.[trio,plot,interpreters,http]'
	$(PIP) -e '.[fast]' || echo "msgspec could not be installed: results files are read without it"
	touch $@

# What the tests and linters need besides.
$(DEV_DEPS): $(RUN_DEPS)
	$(PIP) -e '.[trio,plot,interpreters,http,dev,docs]'
	touch $@

clean:
	rm -rf $(VENV) build site *.egg-info .mypy_cache .pytest_cache .ruff_cache
