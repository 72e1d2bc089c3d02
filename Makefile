# The cookbook's entry points. Every target sets up what it needs first (`make setup` is idempotent).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Installed imports are compiled once: this machine sets PYTHONDONTWRITEBYTECODE, and without compiled
# bytecode every engine process would recompile its imports (2-3x slower starts).
export UV_COMPILE_BYTECODE := 1
export NO_MKDOCS_2_WARNING := 1
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RECIPE ?=
MODE ?=
ARGS ?=
COOKBOOK := .venv/bin/cookbook

.PHONY: help setup compare mutate exercise list test test-stack lint format bench clean docs docs-build docs-capture pages stack stack-down stack-status deploy

help: ## this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.tools/bin/uv:
	@echo "uv not found: installing it into .tools/ with pip"
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

# Each venv carries a stamp of its last sync: `make setup` syncs again only when the lock or the project file is
# newer (or the venv is gone), so a target that runs it first pays nothing when nothing changed.
VENV_STAMPS := .venv/.cookbook-synced .venvs/airflow/.cookbook-synced .venvs/prefect/.cookbook-synced
UV_BOOTSTRAP := $(if $(filter .tools/bin/uv,$(UV)),.tools/bin/uv)

setup: $(VENV_STAMPS) ## create the three locked venvs: harness (.venv), Airflow and Prefect (.venvs/)

.venv/.cookbook-synced: uv.lock pyproject.toml | $(UV_BOOTSTRAP)
	@$(UV) sync --quiet --locked
	@touch $@

.venvs/%/.cookbook-synced: uv.lock pyproject.toml | $(UV_BOOTSTRAP)
	@UV_PROJECT_ENVIRONMENT=.venvs/$* $(UV) sync --quiet --locked --no-default-groups --group $*
	@touch $@

compare: setup ## run RECIPE on both engines and compare (all recipes when RECIPE is empty; MODE=stack: on `make stack`)
	@$(if $(filter stack,$(MODE)),$(COOKBOOK) stack compare,$(COOKBOOK) compare) $(RECIPE) $(ARGS)

mutate: setup ## mutation testing of RECIPE's Prefect flow (all when empty): does a case notice each fault? ARGS=--list
	@$(COOKBOOK) mutate $(RECIPE) $(ARGS)

# The workshop: exercises/<NN>_<topic>/ holds a DAG, a flow to finish (flow.py), its cases and a solution.
N ?=
SOLUTION ?=
EXERCISE = $(firstword $(wildcard exercises/$(N)_*/ exercises/0$(N)_*/))

exercise: setup ## grade workshop exercise N: its flow.py against its DAG on its cases (SOLUTION=1: the solution)
	@$(if $(and $(N),$(EXERCISE)),,echo "make exercise: no exercise N=$(N) (exercises: $(notdir $(patsubst %/,%,$(wildcard exercises/*_*/))))" >&2; exit 2)
	@$(COOKBOOK) verify $(EXERCISE)dag.py $(EXERCISE)$(if $(SOLUTION),solution/)flow.py --case $(EXERCISE)cases.yaml $(ARGS)

list: setup ## list the recipes
	@$(COOKBOOK) list

test: setup lint ## lint, every test (parity on both real engines), then the end-to-end suite on a real stack
	.venv/bin/pytest $(ARGS)
	@# The stack suite after the main one, not beside it: both start engine servers on two cores. Exit code 5
	@# is "no test selected" (ARGS narrowed the run to tests outside the stack suite).
	.venv/bin/pytest -m stack $(ARGS) || [ $$? -eq 5 ]

test-stack: setup ## the end-to-end suite on the real local stack (Prefect server + worker, Airflow's scheduler)
	.venv/bin/pytest -m stack $(ARGS)

lint: setup ## ruff: lint and formatting check
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: setup ## ruff: fix and format
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

bench: setup ## timings: make compare RECIPE=xcom (median of 5) and the whole test suite
	.venv/bin/python -m cookbook.bench $(ARGS)

docs: setup ## serve the docs site at http://127.0.0.1:8000
	.venv/bin/mkdocs serve --dev-addr 127.0.0.1:8000

docs-build: setup ## build the docs site into site/ (strict: any warning fails)
	.venv/bin/mkdocs build --strict

pages: setup ## regenerate the code blocks of the recipe pages from the tested files' regions
	.venv/bin/python -m cookbook.pages

docs-capture: setup ## run every recipe and save the compare output the recipe pages show
	$(COOKBOOK) compare --json runs/compare.json
	.venv/bin/python -m cookbook.docsite capture runs/compare.json

stack: setup ## start the real stack on 127.0.0.1: Prefect server + process worker, Airflow's components (runs/stack/)
	@$(COOKBOOK) stack up

stack-down: setup ## stop exactly the processes `make stack` started and drop its databases
	@$(COOKBOOK) stack down

stack-status: setup ## what the stack runs: pids, listening sockets, logs
	@$(COOKBOOK) stack status

deploy: setup ## apply prefect.yaml (a deployment per recipe flow) to the running stack's Prefect server
	@$(COOKBOOK) stack deploy

clean: ## remove venvs, caches and run logs
	rm -rf .venv .venvs .tools .cache runs .pytest_cache .ruff_cache
