# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
PORT ?= 8000
WRITERS ?= 8
SAVES ?= 25
MODE ?= both
N ?= 10000
LOAD_N ?= 1000000
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install seed reset-seed lint format check-seed concurrency bench bench-check \
	bench-memory walk walk-after browser backup restore load-demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_seed
	DJANGO_DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# One test process a core (at most 4), each with its own test database.
test: install
	$(BIN)/python -m pytest -n auto --maxprocesses 4

# Concurrent admin saves under gunicorn on a temporary SQLite file, or on the PostgreSQL
# database DATABASE_URL names. See tests/load/concurrent_saves.py.
concurrency: install
	$(BIN)/python tests/load/concurrent_saves.py --writers $(WRITERS) --saves $(SAVES) --mode $(MODE)

# Visitors (wrk) on the public pages while editors save, under gunicorn: the seed data on a
# temporary SQLite file, or the database DATABASE_URL names. See tests/load/mixed_load.py.
load: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python tests/load/mixed_load.py

# The same on LOAD_N generated activities (a million), in the database DATABASE_URL names or
# in bench/out/demo-LOAD_N.sqlite3; an empty one is filled first (over 20 minutes at 1M).
load-demo: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python tests/load/mixed_load.py --demo $(LOAD_N)

# Page timings on a demo set of N activities, in the database DATABASE_URL names or in
# bench/out/demo-N.sqlite3. See bench/run.py.
bench: install
	$(BIN)/python bench/run.py --activities $(N)

# One gunicorn worker's memory after serving every page of the benchmark, on the set that
# make bench built. See bench/worker_memory.py.
bench-memory: install
	$(BIN)/python bench/worker_memory.py --activities $(N)

# Fails if a page's query count changes with the number of rows or a public page passes 150 KB.
bench-check: install
	$(BIN)/python bench/run.py --check

# Scripted walks through the admin in Debian's Chromium, not a browser Playwright downloads,
# counting page loads, submissions and field actions. See tests/walks/.
walk: install
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/python -m pytest -m walk -s tests/walks

# The after walk alone (the admin as it is now, counted the same way) and the browser tests
# of citing by selecting: what CI runs.
walk-after: install
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/python -m pytest -m walk -s tests/walks/test_walk_after.py tests/walks/test_citing_in_browser.py

# The public pages in Debian's Chromium with JavaScript off, on a phone's screen: the result
# count and the first results come first. See tests/browser/.
browser: install
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/python -m pytest -m browser tests/browser

# A physical copy of the database DATABASE_URL names, safe while the site runs, in backups/.
# Primary keys, history and search tables are kept. See cooperation/backups.py.
backup: install
	$(BIN)/python manage.py backup

# make restore FILE=backups/<file>; FORCE=1 replaces a database that holds records.
restore: install
	@test -n "$(FILE)" || (echo "Name the backup: make restore FILE=backups/<file>" >&2; exit 2)
	$(BIN)/python manage.py restore "$(FILE)" $(if $(FORCE),--force)

seed: install
	$(BIN)/python manage.py build_seed

# Overwrites staff edits to seeded rows and brings back seeded rows staff deleted.
reset-seed: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_seed --reset

check-seed: install
	$(BIN)/python manage.py build_seed --check

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
