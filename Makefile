# spacefold: one command sets up and renders (`make demo`), one sets up and checks (`make test`).
# The venv step is idempotent: it reruns only when pyproject.toml or constraints-cpu.txt change.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.spacefold-installed
OUT    ?= out

.PHONY: help venv viewer sysdeps sysdeps-test demo test lint bench clean

help:
	@echo "make demo   set up .venv and render the tour of every scene into $(OUT)/"
	@echo "make test   set up .venv, then ruff, mypy and pytest (what CI runs)"
	@echo "make lint   ruff and mypy only"
	@echo "make bench  run benchmarks/bench_*.py (BENCH_ARGS=... passes options)"
	@echo "make clean  remove $(OUT)/ and caches (keeps .venv)"

# torch is pinned to the CPU build in the same pip command: an unpinned torch pulls a
# multi-GB CUDA build.
$(STAMP): pyproject.toml constraints-cpu.txt setup.py src/spacefold/render/_kernels.c
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -c constraints-cpu.txt -e '.[dev]'
	@touch $@

venv: $(STAMP) viewer

# The web viewer's bundle is committed, so pip users need no Node; where npm exists it is
# rebuilt from web/ (a fresh clone has no web/node_modules, so `npm ci` runs, then the build).
VIEWER  := src/spacefold/server/static/viewer.js
WEB_SRC := $(wildcard web/src/*.ts) web/vite.config.ts web/tsconfig.json web/package.json

web/node_modules/.package-lock.json: web/package-lock.json
	@if command -v npm >/dev/null; then cd web && npm ci; \
	else echo "npm not found: using the committed $(VIEWER)"; fi

$(VIEWER): web/node_modules/.package-lock.json $(WEB_SRC)
	@if command -v npm >/dev/null; then cd web && npm run build; \
	else echo "npm not found: using the committed $(VIEWER)"; fi

viewer: $(VIEWER)

# System packages (Debian names) installed when missing: GL for the 3-D scenes; the browser
# for the viewer's tests too. See scripts/sysdeps.sh.
sysdeps:
	@scripts/sysdeps.sh

sysdeps-test:
	@scripts/sysdeps.sh --browser

# The whole catalogue: out/<scene>.mp4 + out/<scene>.png + out/index.html (opens from disk).
demo: sysdeps $(STAMP)
	$(BIN)/spacefold tour -o $(OUT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: sysdeps-test lint viewer
	$(BIN)/pytest

bench: $(STAMP)
	@set -e; found=0; \
	for f in benchmarks/bench_*.py; do \
		[ -e "$$f" ] || continue; found=1; \
		echo "== $$f"; $(BIN)/python "$$f" $(BENCH_ARGS); \
	done; \
	[ $$found = 1 ] || echo "no benchmarks in benchmarks/ yet"

clean:
	rm -rf $(OUT) .pytest_cache .mypy_cache .ruff_cache .hypothesis
