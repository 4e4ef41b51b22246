# spacefold: one command sets up and renders (`make demo`), one sets up and checks (`make test`).
# The venv step is idempotent: it reruns only when pyproject.toml or constraints-cpu.txt change.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.spacefold-installed
OUT    ?= out

.PHONY: help venv demo test lint bench clean

help:
	@echo "make demo   set up .venv and render the tour of every scene into $(OUT)/"
	@echo "make test   set up .venv, then ruff, mypy and pytest (what CI runs)"
	@echo "make lint   ruff and mypy only"
	@echo "make bench  run benchmarks/bench_*.py (BENCH_ARGS=... passes options)"
	@echo "make clean  remove $(OUT)/ and caches (keeps .venv)"

# torch is pinned to the CPU build in the same pip command: an unpinned torch pulls a
# multi-GB CUDA build.
$(STAMP): pyproject.toml constraints-cpu.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -c constraints-cpu.txt -e '.[dev]'
	@touch $@

venv: $(STAMP)

# The whole catalogue: out/<scene>.mp4 + out/<scene>.png + out/index.html (opens from disk).
demo: $(STAMP)
	$(BIN)/spacefold tour -o $(OUT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
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
