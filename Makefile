# The README's commands. Everything installs into .venv and node_modules on first use.
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: install run test lint bench translations

CATALOGUES := $(wildcard inbox/translations/*/LC_MESSAGES/messages.po)

install: $(VENV)/.installed node_modules/.installed $(CATALOGUES:.po=.mo)

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# The UI's translations are compiled from the .po files in the repo at install time.
%.mo: %.po $(VENV)/.installed
	$(VENV)/bin/pybabel -q compile -i $< -o $@

# Gather the English texts (templates, Python, scripts; the API's ApiError sentences and the N_-marked platform
# reasons) and add the new ones to every language's .po. The sandbox, a developer's tool, stays in English.
translations: install
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k t -k N_ -k ApiError:3 -o inbox/translations/messages.pot --omit-header .
	$(VENV)/bin/pybabel -q update -i inbox/translations/messages.pot -d inbox/translations --no-fuzzy-matching
	rm inbox/translations/messages.pot

run: install
	$(PY) -m inbox.launcher

lint: install
	$(VENV)/bin/ruff check .

test: lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: install
	$(PY) -m bench.run
