# The two commands of the README, plus `make lab`. Each creates .venv if it is missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: course test lab exercises browser retarget clean-venv

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[lab,dev,real]"
	@touch $(STAMP)

## make course: run every notebook headless in the profile that fits this machine
course: $(STAMP)
	$(BIN)/faceid-lab course run

## make test: ruff, the import contracts (lint-imports), exercise and link freshness, pytest (with a real browser and a Colab-like
## install), nbval headless (the reference notebooks, and the student ones with every exercise left
## unsolved: each must reach its last cell) and nbval with every widget built (ci profile)
test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/faceid-lab exercises check
	$(BIN)/faceid-lab source check
	FACEID_LAB_PROFILE=ci FACEID_LAB_HEADLESS=1 $(BIN)/pytest -q tests notebooks/[0-9]*.ipynb notebooks/exercises/[0-9]*.ipynb --nbval-lax
	CI= FACEID_LAB_PROFILE=ci FACEID_LAB_HEADLESS=0 $(BIN)/pytest -q -p no:cacheprovider notebooks/[0-9]*.ipynb --nbval-lax

## make browser: Debian's chromium and its driver, for tests/browser (nothing is downloaded by selenium)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { echo "installing chromium and chromium-driver (apt) for the browser test"; \
	    $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver; }

## make retarget REPOSITORY=owner/name REF=tag: point every badge and install line at a fork or release
retarget: $(STAMP)
	$(BIN)/faceid-lab source set $(if $(REPOSITORY),--repository $(REPOSITORY)) $(if $(REF),--ref $(REF))

## make lab: JupyterLab on the notebooks
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

## make exercises: regenerate the student notebooks after editing a reference notebook
exercises: $(STAMP)
	$(BIN)/faceid-lab exercises build

clean-venv:
	rm -rf $(VENV)
