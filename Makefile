# The two commands of the README. Each creates .venv when needed and installs what it uses.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is pinned: the CPU wheel of 2.13.0 lies on this kind of machine; an unpinned torch pulls GBs of CUDA.
TORCH := torch==2.13.0

.PHONY: run test ingest eval clean

run: $(VENV)/.run-installed
	$(BIN)/vraagpunt ingest
	$(BIN)/streamlit run app.py --server.headless true --server.address 127.0.0.1 --server.port $${PORT:-8501} --browser.gatherUsageStats false

AXE := tests/app/axe/node_modules/.installed

test: $(VENV)/.test-installed $(AXE)
	bash scripts/ensure-chromium.sh
	$(BIN)/python -m pytest

ingest: $(VENV)/.run-installed
	$(BIN)/vraagpunt ingest

eval: $(VENV)/.run-installed
	$(BIN)/vraagpunt ingest
	$(BIN)/vraagpunt eval

$(VENV)/bin/pip:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(VENV)/bin/pip
	$(BIN)/pip install --quiet $(TORCH) -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(VENV)/bin/pip
	$(BIN)/pip install --quiet $(TORCH) -e '.[test]'
	touch $@ $(VENV)/.run-installed

# axe-core for the accessibility check in the browser test, from npm at the version the lock file names.
$(AXE): tests/app/axe/package-lock.json
	bash scripts/ensure-axe.sh

clean:
	rm -rf $(VENV) .vraagpunt tests/app/axe/node_modules
