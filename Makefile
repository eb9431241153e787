# Two commands on a fresh machine:  make test  and  make preview STACK=local
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK ?= local
STATE_DIR := $(CURDIR)/.pulumi-state
# checkov pins packaging<24 while pulumi needs packaging>=26, so it gets its own virtualenv;
# `slm-deploy check` runs it as a program from there (or from PATH).
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .venv-tools/checkov

.PHONY: setup venv test lint typecheck unit lint-workflows preview up destroy clean check-tools prometheus-tools

# The virtualenv is rebuilt whenever pyproject.toml changes. Debian's python3 creates
# virtualenvs only with python3-venv installed; the script installs it when it is missing.
$(VENV)/.installed: pyproject.toml
	@bash tools/ensure-python-venv.sh $(PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION):
	rm -rf $(CHECKOV_VENV)
	@bash tools/ensure-python-venv.sh $(PYTHON)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

# promtool and amtool from Debian's prometheus / prometheus-alertmanager, only when missing.
prometheus-tools:
	@bash tools/install-prometheus-tools.sh

check-tools: $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION) prometheus-tools

# The project's virtualenv only: what rendering and running Pulumi (with the policy pack)
# need. CI jobs that hold credentials use this, not the validators of `make setup`.
venv: $(VENV)/.installed

setup: venv check-tools

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest

# GitHub workflows: actionlint (with shellcheck for run: scripts), zizmor (offline audits,
# auditor persona: the default audits plus the pedantic ones), the GitHub workflow JSON Schema
# vendored in check-jsonschema (no network needed), and shellcheck on the scripts they call.
WORKFLOWS := $(wildcard .github/workflows/*.yml)
lint-workflows: setup
	$(BIN)/actionlint -shellcheck $(BIN)/shellcheck $(WORKFLOWS)
	$(BIN)/zizmor --offline --no-progress --persona=auditor .github/workflows
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)
	$(BIN)/shellcheck .github/scripts/*.sh tools/*.sh

test: lint typecheck lint-workflows unit

# Offline render of a stack (no Pulumi CLI needed), then its summary.
preview: $(VENV)/.installed
	$(BIN)/slm-deploy render $(STACK) --out build/$(STACK)
	@cat build/$(STACK)/SUMMARY.md

# A real deployment: needs the Pulumi CLI (and Docker for local stacks). State lives
# in a local file backend inside the repository; no Pulumi account is used.
up: venv
	mkdir -p $(STATE_DIR)
	PULUMI_BACKEND_URL=file://$(STATE_DIR) pulumi stack select --create $(STACK)
	PULUMI_BACKEND_URL=file://$(STATE_DIR) pulumi up --stack $(STACK)

destroy: venv
	PULUMI_BACKEND_URL=file://$(STATE_DIR) pulumi destroy --stack $(STACK)

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache .venv-tools
