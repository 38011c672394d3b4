# Two commands: `make run` brings the whole stack up, `make test` runs every test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint fmt install clean token bench bench-sync bench-reports seed-demo

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,local]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python cli.py run

# make token ROLE=reviewer,assigner SUB=rita [ORG=provider-42] [HOURS=12]: prints a bearer
# token signed with the running stack's AUTH_SECRET (or AUTH_SECRET when set). Like seed-demo
# it talks to what `make run` installed and started, so it never reinstalls anything.
comma := ,
token:
	$(if $(ROLE),,$(error give ROLE=..., e.g. make token ROLE=applicant SUB=alice))
	$(if $(SUB),,$(error give SUB=..., e.g. make token ROLE=applicant SUB=alice))
	@$(BIN)/python cli.py token --sub '$(SUB)' $(foreach role,$(subst $(comma), ,$(ROLE)),--role '$(role)') \
		$(if $(ORG),--org '$(ORG)') $(if $(HOURS),--hours '$(HOURS)')

# Fills the running stack with a small demo world (cli.py seed-demo; safe to run twice).
seed-demo:
	$(BIN)/python cli.py seed-demo

# Every test, in two phases: the in-process suites on TEST_JOBS xdist workers (each with its
# own PostgreSQL and Temporal servers; whole files per worker), then the end-to-end and
# browser tests, which start and kill whole stacks (each only its own: they find processes by
# tree and data directory, on free ports), also whole files per worker. With PYTEST_ARGS
# (`make test PYTEST_ARGS="tests/api -k submit"`) it runs just those, in one process.
TEST_JOBS ?= 2
SERIAL_TESTS := tests/e2e tests/browser
test: $(STAMP)
ifeq ($(strip $(PYTEST_ARGS)),)
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile $(addprefix --ignore=,$(SERIAL_TESTS))
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile $(SERIAL_TESTS)
else
	$(BIN)/python -m pytest $(PYTEST_ARGS)
endif

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

BENCHES = bench/submit.py bench/checklist_sync.py bench/outcome_release.py bench/reports.py bench/review_cycle.py bench/request_cost.py

bench: $(STAMP)
	@for script in $(BENCHES); do echo "== $$script"; $(BIN)/python $$script || exit 1; done

bench-sync: $(STAMP)
	$(BIN)/python bench/checklist_sync.py $(N)

bench-reports: $(STAMP)
	$(BIN)/python bench/reports.py $(N)

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
