# The two commands: `make demo` and `make test`. Both create .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: sam-cli demo test corpus install bench lint clean chromium package-report dsfr

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/convier demo

# The test tools: Debian's chromium and its driver, SpamAssassin (local rules only), axe-core and ical.js (npm) in
# .cache/ (ignored by git). Quiet, idempotent.
AXE := .cache/node_modules/axe-core/axe.min.js
ICALJS := .cache/node_modules/ical.js/dist/ical.js  # Mozilla's parser (Thunderbird): the calendar tests read our .ics with it
chromium:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v spamassassin >/dev/null || \
		{ apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver spamassassin >/dev/null; }
	@test -f $(AXE) || { mkdir -p .cache && npm install --silent --no-audit --no-fund --prefix .cache axe-core@4 >/dev/null; }
	@test -f $(ICALJS) || { mkdir -p .cache && npm install --silent --no-audit --no-fund --prefix .cache ical.js@2 >/dev/null; }

# `sam validate --lint` for template.yaml: the SAM CLI in its own environment (its pins clash with the app's).
SAM := .cache/sam/bin/sam
sam-cli:
	@test -x $(SAM) || { $(PYTHON) -m venv .cache/sam && .cache/sam/bin/python -m pip install --quiet aws-sam-cli >/dev/null 2>&1; }

# The console's look: the État's design system (npm @gouvfr/dsfr, pinned). `make dsfr` installs it into .cache/
# (its preinstall script only nags about a project file: skipped) and writes the part the console uses into
# package data: the main CSS of core and the components the pages use, and three Marianne fonts. That copy is
# committed (about 0.6 MB), so that a clean clone, the tests and `sam build` work offline; rerun after a bump.
DSFR_VERSION := 1.15.3
DSFR := .cache/dsfr/node_modules/@gouvfr/dsfr/dist
DSFR_OUT := templates/console/static
DSFR_PARTS := core/core $(addprefix component/,button/button alert/alert badge/badge form/form input/input \
	select/select table/table header/header footer/footer upload/upload checkbox/checkbox radio/radio \
	notice/notice callout/callout logo/logo skiplink/skiplink stepper/stepper breadcrumb/breadcrumb link/link \
	tag/tag card/card)
dsfr:
	@test -f $(DSFR)/core/core.main.min.css || { mkdir -p .cache/dsfr && npm install --silent --no-audit --no-fund \
		--ignore-scripts --prefix .cache/dsfr @gouvfr/dsfr@$(DSFR_VERSION) >/dev/null; }
	mkdir -p $(DSFR_OUT)/fonts
	cat $(foreach p,$(DSFR_PARTS),$(DSFR)/$(p).main.min.css) | sed -e 's#url(\.\./fonts/#url(fonts/#g' \
		-e 's#url(\.\./\.\./icons/#url(icons/#g' > $(DSFR_OUT)/dsfr.min.css
	for icon in $$(grep -o 'url(icons/[^)]*)' $(DSFR_OUT)/dsfr.min.css | sed 's/url(icons\/\(.*\))/\1/' | sort -u); do \
		mkdir -p $(DSFR_OUT)/icons/$$(dirname $$icon) && cp $(DSFR)/icons/$$icon $(DSFR_OUT)/icons/$$icon; done
	cp $(DSFR)/fonts/Marianne-Regular.woff2 $(DSFR)/fonts/Marianne-Medium.woff2 $(DSFR)/fonts/Marianne-Bold.woff2 \
		$(DSFR_OUT)/fonts/
	@du -sh $(DSFR_OUT)

test: $(STAMP) chromium sam-cli
	$(BIN)/ruff check --quiet .
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# The sweep over the real posts (tests/corpus/): ../shared/corpus beside the checkout, or $$CONVIER_CORPUS.
# Without one, says so in one line and exits 0 (nothing is counted as a test).
CORPUS_DIR := $(or $(CONVIER_CORPUS),../shared/corpus)
corpus:
	@if [ -d "$(CORPUS_DIR)/posts" ]; then \
		$(MAKE) --no-print-directory install && \
		CONVIER_CORPUS="$$(cd "$(CORPUS_DIR)" && pwd)" $(BIN)/python -m pytest -n 2 tests/corpus $(PYTEST_ARGS); \
	else \
		echo "Pas de corpus dans $(CORPUS_DIR) (ou CONVIER_CORPUS=DOSSIER) : balayage des billets réels non lancé."; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml

bench: $(STAMP)
	$(BIN)/python bench/render.py

clean:
	rm -rf $(VENV) build *.egg-info .convier .pytest_cache

# `sam build` (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR, in the checkout
# (samconfig.toml: build_in_source): every function gets the same package, built once per change of the
# sources into $(LAMBDA_STAGE) and copied: the convier wheel (templates included as package data) and its
# dependencies for Lambda's arm64 Python 3.12, nothing else of the checkout. Any interpreter with pip
# builds it (the project's .venv when it exists, else $(PYTHON)); python3.12 (LAMBDA_COMPILER), when
# present, compiles it, so that Lambda does not compile every module at each cold start.
LAMBDA_PLATFORMS ?= manylinux_2_28_aarch64 manylinux2014_aarch64
LAMBDA_PYTHON_VERSION ?= 3.12
LAMBDA_COMPILER ?= python$(LAMBDA_PYTHON_VERSION)
BUILD_PYTHON ?= $(if $(wildcard $(BIN)/python),$(abspath $(BIN)/python),$(PYTHON))
LAMBDA_STAGE ?= .aws-sam/package-$(firstword $(LAMBDA_PLATFORMS))
LAMBDA_SOURCES := pyproject.toml $(shell find functions templates -type f -not -name '*.pyc' -not -path '*/__pycache__/*' 2>/dev/null)

$(LAMBDA_STAGE)/.built: $(LAMBDA_SOURCES)
	@$(BUILD_PYTHON) -m pip --version >/dev/null 2>&1 || { echo "$(BUILD_PYTHON) n'a pas pip : make install, ou PYTHON=/chemin/vers/python3" >&2; exit 1; }
	rm -rf "$(LAMBDA_STAGE)" "$(LAMBDA_STAGE).wheel" build/lib build/bdist.*
	$(BUILD_PYTHON) -m pip wheel --quiet --no-deps --wheel-dir "$(LAMBDA_STAGE).wheel" .
	$(BUILD_PYTHON) -m pip install --quiet --no-compile --target "$(LAMBDA_STAGE)" \
		$(foreach p,$(LAMBDA_PLATFORMS),--platform $(p)) --implementation cp \
		--python-version $(LAMBDA_PYTHON_VERSION) --only-binary=:all: "$(LAMBDA_STAGE).wheel"/*.whl
	rm -rf "$(LAMBDA_STAGE).wheel" "$(LAMBDA_STAGE)/bin"
	@if $(LAMBDA_COMPILER) -c 'import sys; assert sys.version.startswith("$(LAMBDA_PYTHON_VERSION).")' 2>/dev/null; then \
		$(LAMBDA_COMPILER) -m compileall -q -j 0 --invalidation-mode unchecked-hash "$(LAMBDA_STAGE)" >/dev/null; \
	else echo "$(LAMBDA_COMPILER) absent : paquet sans .pyc (démarrage à froid plus lent)" >&2; fi
	touch "$@"

build-SendFunction build-CampaignFunction build-WebFunction build-FeedbackFunction build-ConsoleFunction: $(LAMBDA_STAGE)/.built
	test -n "$(ARTIFACTS_DIR)"
	mkdir -p "$(ARTIFACTS_DIR)"
	cp -R "$(LAMBDA_STAGE)"/. "$(ARTIFACTS_DIR)"/
	rm -f "$(ARTIFACTS_DIR)/.built"

# The package's size and each handler's import time (the code part of a cold start), measured on
# this machine's platform with the same target.
package-report: $(STAMP)
	$(BIN)/python bench/lambda_package.py
