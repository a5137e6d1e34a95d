# The two README commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint services clean fuzz

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

clean:
	rm -rf $(VENV) dangjian.db dangjian.db-wal dangjian.db-shm
