# The two README commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint services clean fuzz bench

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/dangjian demo

services:
	@scripts/ensure-services

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) services
	@# the console's browser tests drive Debian's chromium (never a downloaded browser)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update && apt-get install -y chromium fonts-noto-cjk; } || true
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The callback parser under atheris (by hand, not in CI): FUZZ_SECONDS bounds the run; a finding stops it
# and its input is written to .fuzz/ (replay: $(BIN)/python fuzz/fuzz_callback.py .fuzz/crash-...).
FUZZ_SECONDS ?= 60
fuzz: $(STAMP)
	$(BIN)/python -c "import atheris" 2>/dev/null || $(BIN)/pip install --quiet atheris==3.0.0
	mkdir -p .fuzz
	$(BIN)/python fuzz/fuzz_callback.py -max_total_time=$(FUZZ_SECONDS) -dict=fuzz/callback.dict -artifact_prefix=.fuzz/

# Benchmarks of issue 14 (figures, targets and the core count; bench/RESULTS.md records a run). Moderate sizes
# by default; the full ones: make bench BENCH_FANOUT_N=300000 BENCH_LEDGER_ROWS=8000000 BENCH_ROSTER_ROWS=200000
export BENCH_FANOUT_N ?= 30000
export BENCH_LEDGER_ROWS ?= 1000000
export BENCH_ROSTER_ROWS ?= 20000
export BENCH_CALLBACK_REQUESTS ?= 1000
bench: $(STAMP) services
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/callback.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/roster_import.py

clean:
	rm -rf $(VENV) dangjian.db dangjian.db-wal dangjian.db-shm
