# handoutkit: every target sets up what it needs, so a fresh clone needs only
# `make pdf` or `make test`.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HANDOUTS := $(BIN)/handouts

# Debian packages the build needs: HarfBuzz subsetting (CJK PDFs are ~50x
# slower without it), Pango, the pinned Noto fonts, and poppler (pdftoppm and pdftotext: every
# warm-up render and each locale's first PDF in a build are checked for ink).
DEB_PACKAGES := libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 fontconfig \
                fonts-noto-core fonts-noto-cjk gettext poppler-utils

# Only the tests need these: the browser tests (chromium), the QR decoding (zbarimg), and a real
# PostgreSQL server for the shared print log (tests/pgserver.py runs initdb and pg_ctl in a temp folder).
TEST_DEB_PACKAGES := chromium zbar-tools postgresql

.PHONY: help setup system-deps test-deps pdf check extract update stats serve bench test test-fast clean distclean

help:
	@echo "make pdf      set up, then build every PDF under build/pdf/"
	@echo "make test     set up, then run the test suite"
	@echo "make test-fast  the tests not marked slow (no PDF renders, servers or builds), on every core"
	@echo "make check    every locale complete and safe to print; plain-language lint"
	@echo "make extract  refresh locales/handouts.pot from handouts/ and templates/"
	@echo "make update   extract, then merge the POT into every locale's PO file"
	@echo "make serve    front-desk server with personalised printing on 127.0.0.1:8000"
	@echo "make stats    translation dashboard (also build/stats.html)"
	@echo "make bench    benchmark: build speed, memory and PDF size (writes build/bench.json)"
	@echo "make setup    install system packages and the virtualenv only"
	@echo "make clean    remove build/"

setup: system-deps $(VENV)/.installed

# Installs missing Debian packages when run as root; otherwise stops and names them.
define install_debs
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    (DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing || \
	     (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing)) >/dev/null \
	    || { echo "apt-get failed; install these packages:$$missing" >&2; exit 1; }; \
	  else \
	    echo "missing Debian packages; run: sudo apt-get install$$missing" >&2; exit 1; \
	  fi; \
	fi
endef

system-deps:
	$(call install_debs,$(DEB_PACKAGES))

test-deps:
	$(call install_debs,$(TEST_DEB_PACKAGES))

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

pdf: setup
	$(HANDOUTS) build

check: setup
	$(HANDOUTS) check
	$(HANDOUTS) lint

extract: setup
	$(HANDOUTS) extract

update: setup
	$(HANDOUTS) update

serve: setup
	$(HANDOUTS) serve

stats: setup
	$(HANDOUTS) stats --html

test: setup test-deps
	$(BIN)/python -m pytest

# The fast lane while working: everything but the tests marked slow (PDF renders and builds,
# servers and render workers, the console script in a new process, Chromium, hypothesis,
# PostgreSQL). One pytest process per core (pytest-xdist); --dist loadfile keeps each module in
# one process, so a module-scoped fixture is built once. `make test` runs every test, in one process.
test-fast: setup
	$(BIN)/python -m pytest -m "not slow" -n auto --dist loadfile

# Speed, memory and size against baselines measured in the same run (about 10 minutes).
bench: setup
	$(BIN)/python tests/benchmarks/bench.py

clean:
	rm -rf build

distclean: clean
	rm -rf $(VENV)
