# The two commands of the README: `make run` and `make test`. Everything else is optional.
VENV ?= .venv
PYTHON ?= python3
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | md5sum | cut -c1-8)
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/quy_test

.PHONY: install run test test-pg test-browser test-all bench bench-load db-check clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## make run: migrate, seed demo data into an empty database, then serve http://127.0.0.1:5000
## and run the background worker together (Procfile, through honcho; Ctrl-C stops both)
run: install
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	PORT=5000 $(VENV)/bin/honcho start -f Procfile

## make test: the suite on SQLite (set TEST_DATABASE_URL for PostgreSQL); browser tests apart
test: install
	$(VENV)/bin/pytest -m "not browser" -q

## make test-pg: the same suite on the local PostgreSQL (a throw-away database per run)
test-pg: install
	TEST_DATABASE_URL=$(PG_URL) $(VENV)/bin/pytest -m "not browser" -q

## make test-browser: Chromium tests (needs Debian's chromium: apt-get install -y chromium)
test-browser: install
	$(VENV)/bin/pytest -m browser -q

## make bench: every benchmark in bench/, printing figures
bench: install
	for script in bench/*.py; do echo "== $$script"; $(VENV)/bin/python $$script || exit 1; done

## make bench-load: load and fault tests against gunicorn + PostgreSQL + Redis (bench/load/)
bench-load: install
	$(VENV)/bin/python bench/load/run.py

## make db-check: models and migrations agree
db-check: install
	$(FLASK) db check

clean:
	rm -rf $(VENV) instance/*.db instance/*.db-* .pytest_cache
