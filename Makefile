# The two commands of the README. Both create or update .venv first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export IOCWATCH_DATA_DIR ?= $(CURDIR)/data

.PHONY: demo test venv dashboard bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -U pip setuptools wheel
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

## make demo: install, run the whole job on the bundled offline data, serve the dashboard
demo: $(STAMP)
	$(BIN)/iocwatch demo
	$(MAKE) dashboard

dashboard: $(STAMP)
	@echo "Dashboard: http://127.0.0.1:8501  (demo users are listed in the README)"
	$(BIN)/streamlit run dashboard/server.py --server.address 127.0.0.1 --server.port 8501 \
		--server.headless true --browser.gatherUsageStats false

## make test: install or update, then run the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	for b in bench/*_bench.py; do $(BIN)/python $$b --json; done

clean:
	rm -rf $(VENV) data .pytest_cache
