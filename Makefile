# The two commands a new user needs: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve build test lint tools bench bench-full bench-huge bench-scale bench-tools profile soak clean

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

# As root the tools are installed (or `tools` fails), so a test missing one fails, never skips.
REQUIRE_TOOLS := $(shell [ "$$(id -u)" = 0 ] && echo 1)

test: $(STAMP) tools lint
	FEEDS_REQUIRE_TOOLS=$${FEEDS_REQUIRE_TOOLS:-$(REQUIRE_TOOLS)} $(BIN)/pytest

# wrk (the load generator) and hugo (the reference build) from Debian's packages; as root, or
# says what to run. Hugo without its recommends: golang and git are not needed to build a site.
bench-tools:
	@for tool in wrk hugo; do \
		command -v $$tool >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
			apt-get install -y -qq --no-install-recommends $$tool >/dev/null; } || \
			{ echo "bench: could not install $$tool: run apt-get install $$tool as root"; exit 1; }; \
	done

bench: $(STAMP) bench-tools tools
	$(BIN)/python benchmarks/run.py --records 10000
	$(BIN)/python benchmarks/edge.py --records 10000

bench-full: $(STAMP) bench-tools
	$(BIN)/python benchmarks/run.py --records 10000 --records 100000

# The stretch goal: one million records built to completion (builds only, no server), beside
# one Hugo build per RSS limit after its warm-up (or the reason Hugo failed: over 8 GB, or
# 20 minutes). A build the free disk cannot hold (the full one takes about 60 GB) is not run,
# and the table says so.
bench-huge: $(STAMP) bench-tools
	$(BIN)/python benchmarks/run.py --records 1000000 --skip-server --hugo-runs 1 --hugo-timeout 1200

# py-spy profiles of a cold 10,000-record build, a no-op build, one-record edits and the
# Hugo-equivalent build, into docs/PROFILE.md (between its profile markers).
profile: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/profile.py --records 10000

# 1, 2 and 4 server workers beside nginx; a landed file until every worker serves it; then
# PostgreSQL beside SQLite (ingest, two nodes) on a throwaway cluster, as the tests make.
bench-scale: $(STAMP) bench-tools tools
	$(BIN)/python benchmarks/scale.py --records 10000
	$(BIN)/python benchmarks/scale_store.py --records 10000

# 256 connections for 60 s while records land; bounded, not part of `make test`.
soak: $(STAMP)
	$(BIN)/python benchmarks/soak.py --duration 60

clean:
	rm -rf output .output-builds var
