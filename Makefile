# The two commands a new user needs: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve build test lint tools bench bench-full bench-huge bench-tools soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/feeds serve

build: $(STAMP)
	$(BIN)/feeds build

tools:
	@scripts/install-test-tools

lint: $(STAMP)
	$(BIN)/ruff check feeds tests server.py benchmarks
	$(BIN)/mypy

test: $(STAMP) tools lint
	$(BIN)/pytest

# wrk (the load generator) from Debian's packages; as root, or says what to run.
bench-tools:
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		apt-get install -y -qq wrk >/dev/null; } || { echo "bench: install wrk (apt-get install wrk)"; exit 1; }

bench: $(STAMP) bench-tools tools
	$(BIN)/python benchmarks/run.py --records 10000
	$(BIN)/python benchmarks/edge.py --records 10000

bench-full: $(STAMP) bench-tools
	$(BIN)/python benchmarks/run.py --records 10000 --records 100000

# The stretch goal: one million records built to completion (builds only, no server).
bench-huge: $(STAMP)
	$(BIN)/python benchmarks/run.py --records 1000000 --skip-server

# 256 connections for 60 s while records land; bounded, not part of `make test`.
soak: $(STAMP)
	$(BIN)/python benchmarks/soak.py --duration 60

clean:
	rm -rf output .output-builds var
