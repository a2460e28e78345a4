# hapair: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/hapair
VENV ?= $(CACHE)/venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# Debian packages the tests use (real validators) and the lab needs (QEMU, debootstrap).
APT_TEST := python3-venv drbd-utils ocfs2-tools gfs2-utils corosync heartbeat libxml2-utils kmod fence-agents iproute2 util-linux systemd parted fdisk unison
APT_LAB := qemu-system-x86 qemu-utils debootstrap openssh-client e2fsprogs
APT_PKGS := $(APT_TEST) $(APT_LAB)

.PHONY: help deps venv test test-fast lint demo lab-build lab-up lab-down clean-venv

help:
	@echo "make demo   # orchestrated seed-000 bootstrap (DRBD + OCFS2) on two QEMU nodes, status table, tear down"
	@echo "make test   # install what the tests need (apt + pinned venv) and run every test tier"
	@echo "make lint   # ruff + salt-lint + CLI-example check"
	@echo "make docs   # the Sphinx site (modules, states, runner, beacon, pillar) with -W; part of make test"

deps:
	@missing=$$(for p in $(APT_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "hapair: need root to apt-get install: $$missing" >&2; exit 1; fi; \
	  echo "hapair: apt-get install $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(VENV)/.stamp: requirements.txt setup.py pyproject.toml
	@mkdir -p $(CACHE)
	@[ -x $(PY) ] || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps -e .
	@echo "$(CURDIR)" > $@

# the venv is shared by every clone using this cache: its editable hapair must be this checkout
venv: $(VENV)/.stamp
	@[ "$$(cat $(VENV)/.stamp)" = "$(CURDIR)" ] || { echo "hapair: venv's hapair -> $(CURDIR)"; \
	  $(VENV)/bin/pip install -q --disable-pip-version-check --no-deps -e . && echo "$(CURDIR)" > $(VENV)/.stamp; }

# CI's run: every tier; the lab scenarios past CI's budget (marked lab_full) are `make lab-full`'s
test: deps venv lint docs
	$(VENV)/bin/pytest -m "not lab_full" $(PYTEST_ARGS)

test-fast: venv
	$(VENV)/bin/pytest -m "not lab and not integration" $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	@find salt pillar -name '*.sls' -print0 | xargs -0 -r -n1 $(VENV)/bin/salt-lint
	$(PY) tests/check_cli_examples.py

demo: deps venv
	$(PY) -m lab demo $(DEMO_ARGS)

lab-build: deps venv
	$(PY) -m lab build
lab-up: deps venv
	$(PY) -m lab up
lab-down:
	$(PY) -m lab down

clean-venv:
	rm -rf $(VENV)

.PHONY: bench validators
bench: venv
	$(PY) bench/grains_drbd.py
	$(PY) bench/beacon_drbd.py

validators: deps venv
	$(VENV)/bin/pytest -m validators tests/validators

.PHONY: lab-test lab-full lab-capture
lab-test: deps venv
	$(VENV)/bin/pytest -m "lab and not lab_full" tests/lab
# every lab scenario, in one lab session (CI's plus power cycles, seed 001's file server, seed 002's power loss)
lab-full: deps venv
	$(VENV)/bin/pytest -m lab tests/lab
lab-capture: deps venv
	$(PY) -m lab capture

.PHONY: bench-lab
bench-lab: deps venv
	$(PY) bench/bootstrap_lab.py
	$(PY) bench/bootstrap_lab.py --p2

# the docs site (Sphinx: the loader modules' docstrings + docs/*.md) under the cache, never the checkout;
# warnings are errors (CI builds it so). Sphinx and MyST come from docs/requirements.txt on first use.
DOCS_OUT ?= $(CACHE)/docs
.PHONY: docs
docs: venv
	@$(PY) -c 'import sphinx, myst_parser' 2>/dev/null || \
	  $(VENV)/bin/pip install -q --disable-pip-version-check -r docs/requirements.txt
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs $(DOCS_OUT)/html
	@echo "hapair: docs in $(DOCS_OUT)/html/index.html"
