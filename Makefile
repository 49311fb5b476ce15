# The two commands: `make demo` and `make test`. Both create .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test install bench lint clean chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/convier demo

# The browser tests: Debian's chromium and its driver, axe-core (npm) in .cache/ (ignored by git). Quiet, idempotent.
AXE := .cache/node_modules/axe-core/axe.min.js
chromium:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		{ apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }
	@test -f $(AXE) || { mkdir -p .cache && npm install --silent --no-audit --no-fund --prefix .cache axe-core@4 >/dev/null; }

test: $(STAMP) chromium
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml

bench: $(STAMP)
	$(BIN)/python bench/render.py

clean:
	rm -rf $(VENV) build *.egg-info .convier .pytest_cache

# `sam build` (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR: every function gets the
# installed package (templates included as package data) and its dependencies for Lambda's arm64 Python 3.12.
build-SendFunction build-CampaignFunction build-WebFunction build-FeedbackFunction:
	python3 -m pip wheel --quiet --no-deps --wheel-dir "$(ARTIFACTS_DIR)/.wheel" .
	python3 -m pip install --quiet --target "$(ARTIFACTS_DIR)" --platform manylinux2014_aarch64 \
		--implementation cp --python-version 3.12 --only-binary=:all: "$(ARTIFACTS_DIR)"/.wheel/*.whl
	rm -rf "$(ARTIFACTS_DIR)/.wheel"
