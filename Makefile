# Two commands a new user needs: `make run` and `make test`. Everything else builds on `make venv`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv run demo test test-year-ahead test-fast lint bench package deb package-test screenshots clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# setuptools' "Editable installation ... be careful with folders" notice is a
	@# warning pip shows even with --quiet, on every fresh install: nothing to act on.
	PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: venv
	$(VENV)/bin/lifeline

demo: venv
	$(VENV)/bin/lifeline --demo

test: venv
	$(PY) -m pytest -q

# The suite again with the wall clock a year and half a day ahead in every process, monotonic
# time real: a test that reads today's date or time of day fails here (docs/reliability.md).
CLOCK_AHEAD := build/clock_ahead.so
CLOCK_AHEAD_SECONDS := 31580220

$(CLOCK_AHEAD): scripts/clock_ahead.c
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O2 -Wall -Wextra -Werror -o $@ $< -ldl

test-year-ahead: venv $(CLOCK_AHEAD)
	CLOCK_AHEAD_FROM=$$(date +%s) CLOCK_AHEAD_SECONDS=$(CLOCK_AHEAD_SECONDS) \
	  LD_PRELOAD=$(abspath $(CLOCK_AHEAD)) $(PY) -m pytest -q

test-fast: venv
	$(PY) -m pytest -q -m "not slow"

lint: venv
	$(VENV)/bin/ruff check app ui lifeline tests bench scripts packaging
	$(VENV)/bin/mypy

bench: venv
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) -m bench

package: venv
	$(PY) -m pip install --quiet -e '.[dev,package]'
	$(PY) scripts/build_package.py

# dist/lifeline_<version>_<arch>.deb from the frozen app (dpkg-deb; lintian when installed).
deb: package
	$(PY) scripts/build_deb.py

# The packaged app's tests run only here (make test skips them): build once, test once.
package-test: deb
	LIFELINE_PACKAGE_TEST=1 $(PY) -m pytest -q -m slow tests/test_package.py tests/test_deb.py

screenshots: venv
	$(PY) scripts/screenshots.py

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
