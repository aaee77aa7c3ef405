# RotaGuard: `make demo` and `make test` do all the set-up on a fresh machine (Python 3.11+, make).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ROTAGUARD_HOME ?= $(CURDIR)/.rotaguard
export ROTAGUARD_HOME

.PHONY: install demo test lint chaos clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "RotaGuard needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

install: $(STAMP)

demo: install
	$(BIN)/rotaguard init
	$(BIN)/rotaguard program synth --profile internal-medicine --residents 36 --seed 1 --out $(ROTAGUARD_HOME)/demo-program.json
	$(BIN)/rotaguard program import $(ROTAGUARD_HOME)/demo-program.json
	$(BIN)/rotaguard program show
	@# The next block of the program's academic year: the year planner re-plans from it (the blocks
	@# begun stay as they are; fewest changes first, proved), then that block's duties follow the plan.
	@# (When every block has begun there is nothing to re-plan: the first block is generated on its plan.)
	block=$$($(BIN)/python -c 'import datetime as d, json, sys; blocks = json.load(open(sys.argv[1]))["year"]["blocks"]; today = d.date.today().isoformat(); later = [b for b in blocks if b["start"] > today]; b = (later or blocks)[0]; print(b["start"], b["end"], b["number"] if later else 0, blocks[0]["start"][:4])' $(ROTAGUARD_HOME)/demo-program.json); \
	set -- $$block; \
	export ROTAGUARD_ACTOR=$${ROTAGUARD_ACTOR:-C-01}; \
	{ [ "$$3" = 0 ] || $(BIN)/rotaguard plan --year $$4 --from-block $$3 --yes; } && \
	$(BIN)/rotaguard plan show && \
	$(BIN)/rotaguard generate --start $$1 --end $$2 --yes && \
	$(BIN)/rotaguard grid --start $$1 --end $$2  # C-01: the synthetic program's coordinator
	@# The local Prefect server the commands started keeps running: its UI shows the runs.
	@$(BIN)/python -c 'import os, pathlib; from rotaguard.deployments.local_api import local_api_status; \
	api = local_api_status(pathlib.Path(os.environ.get("PREFECT_HOME") or os.environ["ROTAGUARD_HOME"] + "/prefect")); \
	print(f"Prefect UI: {api.ui_url} (the local Prefect server keeps running; $(BIN)/rotaguard stop stops it)" if api \
	else "No local Prefect server runs for this home: PREFECT_API_URL names the Prefect server in use.")'

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Lint and format check over the whole tree, types (strict on domain, compliance, solver): CI runs it first.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The long variants: crash and fault runs (100 kills per operation and database kind instead of
# 10), the full swap load, many more hostile-input examples, half a gigabyte through the cipher.
chaos: install
	ROTAGUARD_CHAOS=1 $(BIN)/python -m pytest tests/chaos tests/fuzz tests/security $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis src/*.egg-info
