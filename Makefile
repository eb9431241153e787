# Two commands on a fresh machine:  make test  and  make preview STACK=local
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK ?= local
STATE_DIR := $(CURDIR)/.pulumi-state

.PHONY: setup test lint typecheck unit lint-workflows preview up destroy clean prometheus-tools

# The virtualenv is rebuilt whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# promtool and amtool from Debian's prometheus / prometheus-alertmanager, only when missing
# (rule tests, config checks, and the observability integration test run them).
prometheus-tools:
	@bash tools/install-prometheus-tools.sh

setup: $(VENV)/.installed prometheus-tools

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest

# GitHub workflows: actionlint (with shellcheck for run: scripts), zizmor (offline audits),
# and the GitHub workflow JSON Schema vendored in check-jsonschema (no network needed).
WORKFLOWS := $(wildcard .github/workflows/*.yml)
lint-workflows: setup
	$(BIN)/actionlint -shellcheck $(BIN)/shellcheck $(WORKFLOWS)
	$(BIN)/zizmor --offline --no-progress .github/workflows
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)
	$(BIN)/shellcheck .github/scripts/*.sh

test: lint typecheck lint-workflows unit

# Offline render of a stack (no Pulumi CLI needed), then its summary.
preview: setup
	$(BIN)/slm-deploy render $(STACK) --out build/$(STACK)
	@cat build/$(STACK)/SUMMARY.md

# A real deployment: needs the Pulumi CLI (and Docker for local stacks). State lives
# in a local file backend inside the repository; no Pulumi account is used.
up: setup
	mkdir -p $(STATE_DIR)
	PULUMI_BACKEND_URL=file://$(STATE_DIR) pulumi stack select --create $(STACK)
	PULUMI_BACKEND_URL=file://$(STATE_DIR) pulumi up --stack $(STACK)

destroy: setup
	PULUMI_BACKEND_URL=file://$(STATE_DIR) pulumi destroy --stack $(STACK)

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
