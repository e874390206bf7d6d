# The two commands of the README: `make run` (the embedded stack) and `make test` (everything CI checks).
# Both create .venv and install warroom into it; nothing needs to be installed by hand.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The Web UI test drives Debian's chromium (never a browser download); installed once, as root or via sudo.
CHROMIUM := /usr/bin/chromium
# The intake's real-sender test drives Debian's Prometheus Alertmanager, installed the same way.
ALERTMANAGER := /usr/bin/prometheus-alertmanager
# The containment tests and the demo drive Debian's HAProxy through its Runtime API.
HAPROXY := /usr/sbin/haproxy
# Debian's package prometheus: its promtool checks the compose deployment's Prometheus config and warroom's
# alert rules, and its prometheus scrapes `warroom run` in the self-monitoring test.
PROMTOOL := /usr/bin/promtool
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run demo test lint typecheck install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/warroom run

# The demo tour of the README: the shop behind HAProxy, its policy and adapters, and the whole warroom stack.
demo: install $(HAPROXY)
	$(BIN)/warroom run --demo

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-test
	$(BIN)/mypy

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

$(ALERTMANAGER):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq prometheus-alertmanager

$(HAPROXY):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq haproxy

$(PROMTOOL):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq prometheus

test: lint typecheck $(CHROMIUM) $(ALERTMANAGER) $(PROMTOOL) $(HAPROXY)
	$(BIN)/pytest -n 2 --dist loadfile --durations=20

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
