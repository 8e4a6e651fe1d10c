# One entry point for people and CI. `make test` is what .ci/run calls.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint type hadolint pytest bench mutate i18n postgres clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	scripts/install-helm $(BIN)
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/backups-bot demo

# Everything CI checks: lint, types, Dockerfile lint, the whole test suite (SQLite and PostgreSQL).
test: $(STAMP) postgres lint type hadolint pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

type: $(STAMP)
	$(BIN)/mypy

hadolint: $(STAMP)
	$(BIN)/hadolint Dockerfile

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
# catalog up to date with it (made if missing). English is the source language: its catalog is
# the ids, untranslated. tests/i18n checks that the committed .pot is current.
LOCALES ?= en
i18n: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg --no-location --sort-output --omit-header \
		-o bot/locale/messages.pot .
	@for lang in $(LOCALES); do \
		$(BIN)/pybabel -q update --init-missing --no-fuzzy-matching --ignore-obsolete \
			--omit-header -i bot/locale/messages.pot -d bot/locale -l $$lang || exit 1; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
