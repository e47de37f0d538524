# Two commands for a newcomer on a fresh Debian machine: `make run` and `make test`.
# Both do all set-up first: system packages (HAProxy, hey) when missing, .venv, dev certs, key.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
KEY := run/pseudonym.key

.PHONY: setup tools run reload test lint bench fuzz deps venv certs key clean

setup: deps venv certs key

# apt only when something is missing, so a prepared machine does not need the network.
deps:
	@missing=""; \
	command -v haproxy >/dev/null || missing="$$missing haproxy"; \
	command -v hey >/dev/null || missing="$$missing hey"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

certs: certs/out/server.pem
certs/out/server.pem: certs/make-certs.sh
	bash certs/make-certs.sh

# The pseudonym key: pseudonyms are HMACs under it, so it is what keeps them stable across restarts.
key: $(KEY)
$(KEY):
	@mkdir -p run && (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > $@ && echo >> $@)
	@echo "made $@ (mode 0600): keep it, pseudonyms stay stable only with the same key"

run: setup
	GATEWAY_KEY_FILE=$(CURDIR)/$(KEY) haproxy/run.sh

# Reload a running `make run` (same environment): HAProxy config (checked first; a broken one is
# reported and the running config stays) and the agents' detector packs (SIGHUP).
reload:
	GATEWAY_KEY_FILE=$(CURDIR)/$(KEY) haproxy/reload.sh

# Claude Code, the truest end-to-end client (tests/test_claude_code.py), pinned, into .tools/.
CLAUDE_CODE_VERSION := 2.1.332
CLAUDE := .tools/node_modules/.bin/claude
tools: $(CLAUDE)
$(CLAUDE):
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm; }
	npm install --silent --no-audit --no-fund --prefix .tools @anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION)

# 10 minutes at a fixed rate through the real gateway: errors, leaks, p99 drift, agent/HAProxy RSS.
soak: setup
	$(PY) -m tests.soak --seconds 600 --rate 20

test: setup tools
	$(VENV)/bin/ruff check agent tests bench
	$(VENV)/bin/pytest -q

# The invariant fuzz lane run long (tests/fuzz_invariants.py): cases run, failures per invariant,
# failing seeds and a shrunk example of each (positions and encodings only, never a value).
# `make test` runs the same lane for 30 s with a fixed seed.
FUZZ_SECONDS ?= 1800
fuzz: venv
	$(PY) -m tests.fuzz_invariants --seconds $(FUZZ_SECONDS) $(if $(FUZZ_SEED),--seed $(FUZZ_SEED))

lint: venv
	$(VENV)/bin/ruff check agent tests bench

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) run certs/out .pytest_cache .hypothesis
