# Two commands for a fresh machine: `make run` (the cashier app on SQLite with demo data) and `make test`.
# The distribution's Python 3.11+ where there is one: Debian builds it with profile-guided optimisation and
# link-time optimisation, and the till starts 20 % sooner on it than on a self-compiled interpreter (pyenv's).
SYSTEM_PYTHON := $(shell /usr/bin/python3 -c 'import sys, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo /usr/bin/python3)
PYTHON ?= $(or $(SYSTEM_PYTHON),python3)
VENV := .venv
BIN := $(VENV)/bin
POS_CONFIG_FILE := var/pos.toml
export POS_CONFIG := $(abspath $(POS_CONFIG_FILE))

.PHONY: run test lint bench clean locale bytecode

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The app's own bytecode, as pip writes it for every installed package: an editable install leaves it to the first
# start, and with PYTHONDONTWRITEBYTECODE set every start compiled pos/ again (50 ms). Up-to-date files are skipped.
bytecode: $(VENV)/.installed
	$(BIN)/python -m compileall -q pos

$(POS_CONFIG_FILE): | $(VENV)/.installed
	mkdir -p var
	$(BIN)/pos init $(POS_CONFIG_FILE) --database "sqlite:///$(abspath var/pos.db)" --printer-file "$(abspath var/printer.bin)"

run: $(VENV)/.installed bytecode $(POS_CONFIG_FILE)
	$(BIN)/pos db upgrade
	$(BIN)/pos demo --if-empty
	$(BIN)/pos run

lint: $(VENV)/.installed
	$(BIN)/lint-imports
	$(BIN)/ruff check pos tests bench
	$(BIN)/ruff format --check pos tests bench
	$(BIN)/mypy pos/domain

# Six test processes on two cores: most tests wait (on the terminal pilot, on subprocesses, on PostgreSQL), so
# three per core keep both busy. `make test TEST_WORKERS=auto` for one per core. Work stealing: an idle process
# takes tests queued for a busy one, so the half-minute fuzz runs near the end do not leave the others waiting.
TEST_WORKERS ?= 6

test: lint
	env -u POS_CONFIG $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

bench: $(VENV)/.installed bytecode
	$(BIN)/python bench/run_all.py

# Translations: extract the source strings, merge them into pos.po, compile pos.mo (commit both).
locale: $(VENV)/.installed
	$(BIN)/pybabel extract --no-location --sort-output --project pos -k _ -k N_ -k ngettext:1,2 -k PosError -k Refused -k NotFound -k Forbidden -k Wording -k ConfigError -k DatabaseError -k TseError -k TseUnavailable -k FileRefused -k FileMissing -o pos/locale/pos.pot pos
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date -i pos/locale/pos.pot -d pos/locale -D pos
	$(BIN)/pybabel compile --statistics -d pos/locale -D pos

clean:
	rm -rf $(VENV) var
