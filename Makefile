# MTD Guard developer entry points. Everything installs itself into git-ignored folders:
#   .venv/                    Python virtualenv with pinned requirements-dev.txt
#   tools/azurite/node_modules Azurite (Azure Storage emulator) from npm, pinned by package-lock.json
# A stamp file per install means a second run does not reinstall anything.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY_STAMP      := $(VENV)/.stamp
BENCH_VENV    := .venv-bench
BENCH_STAMP   := $(BENCH_VENV)/.stamp
AZURITE_STAMP := tools/azurite/node_modules/.stamp
AZURITE_VERSION := $(shell sed -n 's/.*"azurite": *"\([^"]*\)".*/\1/p' tools/azurite/package.json)
PORT ?= 7071

.PHONY: help bootstrap azurite demo serve test lint typecheck unit browser chromium screenshot bench clean

help:
	@echo "make demo        - every job locally (Azurite + Graph simulator), printed as a readable report"
	@echo "make serve       - the app on http://localhost:$(PORT) as the Functions host routes it (local stand-in)"
	@echo "make test        - lint, typecheck, unit, browser and infra-check: everything CI runs"
	@echo "make lint        - ruff check and ruff format --check"
	@echo "make typecheck   - mypy (strict)"
	@echo "make unit        - the pytest suite but the browser test (starts Azurite and the simulator itself)"
	@echo "make browser     - the status page in Debian's Chromium (Playwright); installs Chromium once"
	@echo "make chromium    - only install Debian's Chromium (apt-get, as root) when /usr/bin/chromium is missing"
	@echo "make screenshot  - docs/img/status.png: the status page for the demo scenario, in Chromium"
	@echo "make infra-check - checkov and pycep-parser over infra/ (offline, own virtualenvs)"
	@echo "make chaos       - the fault tests (tests/chaos) and their figures: faults, lost alerts, worst time"
	@echo "make bench       - cold-start and large-tenant sweep figures"
	@echo "make mutate      - mutation testing of the pure rule modules: kill rate per module, survivors"
	@echo "make azurite     - Azurite on its default ports, data in .azurite/, for func start"
	@echo "make bootstrap   - only install: .venv/ and Azurite (every target does it when needed)"
	@echo "make clean       - remove the virtualenvs, Azurite and its .azurite/ data, and the caches"
	@echo "make help        - this list"

bootstrap: $(PY_STAMP) $(AZURITE_STAMP)

$(PY_STAMP): requirements.txt requirements-dev.txt
	@echo "==> creating $(VENV) and installing the pinned Python packages of requirements-dev.txt from PyPI"
	@echo "    (once, ~1-2 min; again only when a requirements file changes)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(AZURITE_STAMP): tools/azurite/package.json tools/azurite/package-lock.json
	@echo "==> installing Azurite $(AZURITE_VERSION) (Azure Storage emulator) from npm into tools/azurite"
	@echo "    (once, ~30 s, ~190 MB; again only when tools/azurite/package*.json changes)"
	@cd tools/azurite && npm ci --no-audit --no-fund --silent
	@touch $@

# Every job once (heartbeat sweep and recovery, configure through the API, Conditional Access
# drift) against Azurite and the Graph simulator. demo and serve run Python without a shell in
# between, so Ctrl-C ends in the script's one line (a shell would add make's "Interrupt" line).
demo: bootstrap
	@$(BIN)/python -m scripts.demo

# The app on http://localhost:$(PORT) (a local stand-in for `func start`), until Ctrl-C.
serve: bootstrap
	@$(BIN)/python -m scripts.serve --port $(PORT)

# Azurite on its default ports (10000-10002) with data kept in .azurite/, for `func start`.
azurite: $(AZURITE_STAMP)
	@mkdir -p .azurite
	@tools/azurite/node_modules/.bin/azurite --location .azurite --skipApiVersionCheck --loose --disableTelemetry

lint: $(PY_STAMP)
	@echo "==> ruff"
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

typecheck: $(PY_STAMP)
	@echo "==> mypy"
	@$(BIN)/mypy

unit: bootstrap
	@echo "==> pytest"
	@rm -f .chaos-figures.json
	@$(BIN)/python -m pytest -m "not browser"
	@$(BIN)/python -m tests.chaos.report


# The status page in a real browser (tests/status/test_browser.py): Playwright (its wheel bundles
# the driver) drives Debian's Chromium; nothing is downloaded by Playwright itself. Here a missing
# Chromium is a failure, never a skip.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { \
		echo "==> installing Debian's chromium package with apt-get (for the browser test; once, ~1 min, ~300 MB)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

browser: bootstrap chromium
	@echo "==> browser test (Playwright driving $(CHROMIUM))"
	@CHROMIUM=$(CHROMIUM) BROWSER_TEST=required $(BIN)/python -m pytest -m browser tests/status

screenshot: bootstrap chromium
	@CHROMIUM=$(CHROMIUM) $(BIN)/python -m scripts.screenshot docs/img/status.png


# Fault tests (issue 11): Graph, Table Storage and receivers misbehaving under the real functions,
# generated bad inputs, overlapping runs; the figures are counted by the tests as they run.
.PHONY: chaos
chaos: bootstrap
	@echo "==> pytest tests/chaos"
	@rm -f .chaos-figures.json
	@$(BIN)/python -m pytest tests/chaos -q
	@$(BIN)/python -m tests.chaos.report

# Infra checks (issue 5). checkov and pycep-parser pin packages that conflict with the app's, so each
# gets its own git-ignored venv; the stamp names the version, so bumping a pin reinstalls.
CHECKOV_VERSION := 3.3.30
PYCEP_VERSION   := 0.7.1
CHECKOV_VENV    := .venv-checkov
PYCEP_VENV      := .venv-pycep
CHECKOV_STAMP   := $(CHECKOV_VENV)/.stamp-checkov-$(CHECKOV_VERSION)
PYCEP_STAMP     := $(PYCEP_VENV)/.stamp-pycep-parser-$(PYCEP_VERSION)

$(CHECKOV_STAMP):
	@echo "==> installing checkov $(CHECKOV_VERSION) into $(CHECKOV_VENV)"
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	@rm -f $(CHECKOV_VENV)/.stamp-*
	@touch $@

$(PYCEP_STAMP):
	@echo "==> installing pycep-parser $(PYCEP_VERSION) into $(PYCEP_VENV)"
	@test -x $(PYCEP_VENV)/bin/python || $(PYTHON) -m venv $(PYCEP_VENV)
	@$(PYCEP_VENV)/bin/python -m pip install --quiet --disable-pip-version-check pycep-parser==$(PYCEP_VERSION)
	@rm -f $(PYCEP_VENV)/.stamp-*
	@touch $@

.PHONY: infra-check
infra-check: $(PY_STAMP) $(CHECKOV_STAMP) $(PYCEP_STAMP)
	@echo "==> infra checks (checkov, pycep-parser; offline)"
	@$(BIN)/python -m scripts.infra_check --checkov $(CHECKOV_VENV)/bin/checkov \
		--pycep-old $(CHECKOV_VENV)/bin/python --pycep-new $(PYCEP_VENV)/bin/python

test: lint typecheck unit browser infra-check

# Mutation testing (issue 16): mutmut (pinned in requirements-dev.txt) mutates the pure rule modules
# named in pyproject.toml [tool.mutmut] and runs the fast pure tests listed there against each mutant;
# the report prints the kill rate per module and the survivors. Slow (minutes): not part of `make test`.
.PHONY: mutate
mutate: $(PY_STAMP)
	@rm -rf mutants && mkdir mutants
	@echo "==> mutmut over the pure rule modules (a few minutes; progress in mutants/run.log)"
	@$(BIN)/mutmut run --max-children $$(nproc 2>/dev/null || echo 2) > mutants/run.log 2>&1 \
		|| (tail -40 mutants/run.log; exit 1)
	@$(BIN)/python -m tests.mutation.report

# The bench runs in its own virtualenv with requirements.txt only: the package set Azure deploys
# (the dev virtualenv's extras, e.g. httpx's command-line tool, would skew both sides' imports).
# The harness itself needs nothing more (stdlib, graphsim, Azurite).
$(BENCH_STAMP): requirements.txt
	@echo "==> creating $(BENCH_VENV) with the deployed package set (requirements.txt only)"
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	@$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

bench: $(BENCH_STAMP) $(AZURITE_STAMP)
	@$(BENCH_VENV)/bin/python -m scripts.bench

clean:
	rm -rf $(VENV) $(BENCH_VENV) .venv-checkov .venv-pycep tools/azurite/node_modules .azurite .artifacts .pytest_cache .mypy_cache .ruff_cache .chaos-figures.json
