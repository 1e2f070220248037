# The two commands of the README: `make run` and `make test`. Everything else is optional.
VENV ?= .venv
PYTHON ?= python3
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | md5sum | cut -c1-8)
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/quy_test

.PHONY: install run test test-pg test-browser test-all bench bench-load db-check clean \
	translations translations-extract translations-update translations-init

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## Languages (README "Languages"): Vietnamese is the source language in the code; each other
## language is a catalog app/translations/<code>/LC_MESSAGES/messages.po, compiled to .mo here.
POT := app/translations/messages.pot
CATALOGS := $(wildcard app/translations/*/LC_MESSAGES/messages.po)
PYBABEL := $(VENV)/bin/pybabel
EXTRACT := $(PYBABEL) -q extract -F babel.cfg -k _l -k lazy_gettext --no-location --no-wrap --sort-output \
	--project="Quy Bao tro tre em Hai Phong" --copyright-holder="Quy Bao tro tre em Hai Phong" -o $(POT) .

%.mo: %.po $(STAMP)
	$(PYBABEL) -q compile -i $< -o $@

## make translations: compile every catalog (make run and make test do it first)
translations: $(CATALOGS:.po=.mo)

## make translations-extract: every string marked in the code and templates, into messages.pot
translations-extract: install
	$(EXTRACT)

## make translations-update: add new strings to every catalog (empty, to translate), drop gone ones
translations-update: translations-extract
	$(PYBABEL) -q update -i $(POT) -d app/translations --no-fuzzy-matching --ignore-obsolete --no-wrap

## make translations-init LANG_CODE=xx: start a catalog for a new language
translations-init: translations-extract
	$(PYBABEL) init -i $(POT) -d app/translations -l $(LANG_CODE)

## make run: migrate, seed demo data into an empty database, then serve http://127.0.0.1:5000
## and run the background worker together (Procfile, through honcho; Ctrl-C stops both)
run: install translations
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	PORT=5000 $(VENV)/bin/honcho start -f Procfile

## make test: the suite on SQLite (set TEST_DATABASE_URL for PostgreSQL); browser tests apart
test: install translations
	$(VENV)/bin/pytest -m "not browser" -q

## make test-pg: the same suite on the local PostgreSQL (a throw-away database per run)
test-pg: install translations
	TEST_DATABASE_URL=$(PG_URL) $(VENV)/bin/pytest -m "not browser" -q

## make test-browser: Chromium tests (needs Debian's chromium: apt-get install -y chromium)
test-browser: install translations
	$(VENV)/bin/pytest -m browser -q

## make bench: every benchmark in bench/, printing figures (disclosure_ab.py compares two
## checkouts you name, so it is run by hand: see docs/BENCHMARKS.md)
bench: install
	for script in $(filter-out bench/disclosure_ab.py,$(wildcard bench/*.py)); do echo "== $$script"; $(VENV)/bin/python $$script || exit 1; done

## make bench-load: load and fault tests against gunicorn + PostgreSQL + Redis (bench/load/)
bench-load: install
	$(VENV)/bin/python bench/load/run.py

## make db-check: models and migrations agree
db-check: install
	$(FLASK) db check

clean:
	rm -rf $(VENV) instance/*.db instance/*.db-* .pytest_cache app/translations/*/LC_MESSAGES/*.mo
