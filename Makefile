# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint pytest install install-dev migrate seed clean bench-deliveries test-browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-runtime

install: $(VENV)/.installed-runtime
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --no-input

seed: migrate
	$(BIN)/python manage.py seed_demo --admin-url http://$(HOST):$(PORT)/admin/

# The web process and, beside it, the delivery loop (the embedded default has no broker).
run: seed
	@echo "Order hub on http://$(HOST):$(PORT)/admin/ (Ctrl-C stops it)"
	@trap 'kill $$loop 2>/dev/null' EXIT INT TERM; \
	(sleep 3; SANDBOX_URL=http://$(HOST):$(PORT)/sandbox exec $(BIN)/python manage.py send_deliveries --loop --interval 2 --sync-every 30) & loop=$$!; \
	SANDBOX_URL=http://$(HOST):$(PORT)/sandbox $(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

pytest: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint pytest

# The support screens in a real browser (tests/browser, docs/support-desk.md): Debian's Chromium
# through Playwright, headless; they skip, saying so, where `chromium` is not installed.
test-browser: install-dev
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

# Property-based fuzzing of the REST API against its own OpenAPI schema (tests/api/fuzz_api.py,
# docs/api.md): at least 1,000 generated requests, none may answer 5xx or off-schema. Not part
# of `make test` (about a minute); CI runs it after.
.PHONY: fuzz-api
fuzz-api: install-dev
	$(BIN)/python -m pytest -p no:cacheprovider -q -s tests/api/fuzz_api.py $(PYTEST_ARGS)

# Known vulnerabilities in the pinned runtime requirements (pip-audit against PyPI's advisory
# data; docs/security.md "Dependencies"). Not part of `make test`: it needs PyPI's JSON API, and
# says so plainly, exiting 2, when that cannot be reached.
.PHONY: audit
audit: install-dev
	@$(BIN)/python -c "$$AUDIT_DATA_PROBE"
	@out=$$($(BIN)/pip-audit --strict --progress-spinner off -r requirements.txt 2>&1); status=$$?; \
	echo "$$out"; \
	if [ $$status -ne 0 ] && echo "$$out" | grep -q "could not be audited"; then \
		echo "make audit: the vulnerability data had no answer for some packages: they were not audited."; \
		status=2; \
	fi; \
	exit $$status

# The endpoint pip-audit reads, asked for pip's own entry: no answer, no audit.
define AUDIT_DATA_PROBE
import json, sys, urllib.request
from importlib.metadata import version
url = f"https://pypi.org/pypi/pip/{version('pip')}/json"
try:
    json.load(urllib.request.urlopen(url, timeout=20))["vulnerabilities"]
except Exception as error:
    print(f"make audit: could not reach the vulnerability data ({url}: {error}); nothing was audited.")
    sys.exit(2)
endef
export AUDIT_DATA_PROBE

# Delivery throughput (docs/performance.md): 2,000 orders through the outbox against the sandbox,
# embedded loop and Celery with 1 and 2 workers, each next to a plain requests loop. Needs Redis
# on 127.0.0.1:6379; BENCH_ARGS="--postgres" uses a scratch PostgreSQL database instead of SQLite.
bench-deliveries: install-dev
	$(BIN)/python -m benchmarks.deliveries $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
