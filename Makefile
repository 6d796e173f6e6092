# Thin wrappers. `make demo` and `make test` are the two set-up commands in README.
VENV   ?= .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo dev test lint format vcsim bench clean

$(PYTHON):
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PYTHON)
	$(PYTHON) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# A rolling BIOS campaign over a simulated datacenter (examples/fleet-demo.yaml).
# DEMO_ARGS=--keep leaves the stack up afterwards to explore the Web UI.
demo: $(STAMP)
	bash scripts/system-deps.sh
	$(PYTHON) -m simulators.vcsim.harness build
	$(VENV)/bin/idrac-orch demo $(DEMO_ARGS)

dev: $(STAMP)
	$(VENV)/bin/idrac-orch dev

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Builds the vCenter simulator into its cache (only when main.go changed).
vcsim: $(STAMP)
	$(PYTHON) -m simulators.vcsim.harness build

test: lint vcsim
	$(VENV)/bin/pytest

bench: $(STAMP) vcsim
	@mkdir -p benchmarks/results
	@for b in benchmarks/*.py; do \
		name=$$(basename $$b .py); echo "== $$name"; \
		$(PYTHON) -m benchmarks.$$name | tee benchmarks/results/$$name.log | tail -n 1; \
	done

clean:
	rm -rf .idrac-orch .pytest_cache .ruff_cache
