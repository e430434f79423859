# The two Quickstart commands, `make run` and `make test`, go through `make setup`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test test-deep bench clean

setup: $(STAMP)

# Reinstall only when the project's declared dependencies change.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,fast,dask,bench]"
	touch $(STAMP)

run: setup
	$(VENV)/bin/logitdescent train

# The suite runs twice: as users with Numba get it, then with the compiled
# kernels disabled (the pure-NumPy path users without Numba get).
test: setup
	$(PY) -m pytest -n 2 -q
	LOGITDESCENT_NO_NUMBA=1 $(PY) -m pytest -n 2 -q -p no:cacheprovider

# The property tests with many more Hypothesis examples (minutes, not part of CI).
test-deep: setup
	HYPOTHESIS_PROFILE=deep $(PY) -m pytest -n 2 -q -p no:cacheprovider tests/reliability

bench: setup
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) logitdescent-out .pytest_cache build src/*.egg-info
