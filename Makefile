# The two commands of the README, plus `make lab`. Each creates .venv if it is missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: course test lab exercises clean-venv

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,real]"
	@touch $(STAMP)

## make course: run every notebook headless in the profile that fits this machine
course: $(STAMP)
	$(BIN)/faceid-lab course run

## make test: ruff, exercise freshness, pytest and nbval (ci profile)
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/faceid-lab exercises check
	FACEID_LAB_PROFILE=ci FACEID_LAB_HEADLESS=1 $(BIN)/pytest -q tests notebooks/[0-9]*.ipynb --nbval-lax

## make lab: JupyterLab on the notebooks
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

## make exercises: regenerate the student notebooks after editing a reference notebook
exercises: $(STAMP)
	$(BIN)/faceid-lab exercises build

clean-venv:
	rm -rf $(VENV)
