# newsdesk: `make demo` and `make test` are all a newcomer needs (Python 3.11 + make).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo run test clean-data help

help:
	@echo "make install  create .venv and install newsdesk with its test extras"
	@echo "make demo     crawl the bundled offline copy of the outlet sites into the embedded database"
	@echo "make run      start the scheduler against the real outlets"
	@echo "make test     run the whole test suite (no internet needed)"

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 not found (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: install
	$(BIN)/newsdesk demo

run: install
	$(BIN)/newsdesk run

test: install
	$(BIN)/lint-imports
	NEWSDESK_ENV=test $(BIN)/python -m pytest

clean-data:
	-$(BIN)/newsdesk db stop
	rm -rf data
