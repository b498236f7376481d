# Quick start on a fresh machine with Python 3.11+:  make demo  |  make test
# Each target creates .venv and installs the project (with test extras) when needed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    ?= out
SAMPLE := sample_data/data

.PHONY: demo test install bench rules-docs clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/csc-returns validate $(SAMPLE)/cin/CIN_Census_2026.xml --previous $(SAMPLE)/cin_previous/CIN_Census_2025.xml --out $(OUT)/cin
	$(BIN)/csc-returns validate $(SAMPLE)/ssda903 --previous $(SAMPLE)/ssda903_previous --out $(OUT)/ssda903 \
		--la 999 --postcodes $(SAMPLE)/reference/postcodes.csv --ofsted $(SAMPLE)/reference/ofsted.csv
	@echo "Reports: $(abspath $(OUT))/cin/report.html and $(abspath $(OUT))/ssda903/report.html"

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

rules-docs: $(STAMP)
	$(BIN)/csc-returns rules cin --format markdown > specs/cin/RULES.md
	$(BIN)/csc-returns rules ssda903 --format markdown > specs/ssda903/RULES.md

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache build *.egg-info
