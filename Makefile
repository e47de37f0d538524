# Two commands for a newcomer on a fresh Debian machine: `make run` and `make test`.
# Both do all set-up first: system packages (HAProxy, hey) when missing, .venv, dev certs, key.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
KEY := run/pseudonym.key
# Bytecode is cached under .cache/pycache even where the environment turns caching off
# (PYTHONDONTWRITEBYTECODE): otherwise every test worker, agent and CLI process compiles the engine
# again and pytest rewrites every test module, ~3 s of each test process's start.
export PYTHONPYCACHEPREFIX := $(CURDIR)/.cache/pycache
unexport PYTHONDONTWRITEBYTECODE

.PHONY: setup tools run reload test test-unit lint bench fuzz deps venv certs key clean haproxy32 recall-report packs corpus-report

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

# Claude Code, the truest end-to-end client (tests/integration/test_claude_code.py), pinned, into .tools/.
CLAUDE_CODE_VERSION := 2.1.332
CLAUDE := .tools/node_modules/.bin/claude
# The TypeScript SDK, pinned, for tests/integration/test_real_clients.py (its own folder: .tools-ts/).
TS_SDK_VERSION := 1.17.0
TS_SDK := .tools-ts/node_modules/@anthropic-ai/sdk/package.json
NPM_CHECK = command -v npm >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm; }
tools: $(CLAUDE) $(TS_SDK)
$(CLAUDE):
	@$(NPM_CHECK)
	npm install --silent --no-audit --no-fund --prefix .tools @anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION)
$(TS_SDK):
	@$(NPM_CHECK)
	npm install --silent --no-audit --no-fund --save-exact --prefix .tools-ts @anthropic-ai/sdk@$(TS_SDK_VERSION)

# 10 minutes at a fixed rate through the real gateway: errors, leaks, p99 drift, agent/HAProxy RSS.
soak: setup
	$(PY) -m tests.support.soak --seconds 600 --rate 20

# HAProxy 3.2.0 for the tests (Debian 12 stops at 2.6): built once from the vendored source into an
# ignored cache folder; every HAProxy-facing test then runs on both 2.6 (system) and 3.2 (this one).
# Without the tarball the 3.2 runs are skipped, and both this target and pytest say so.
HAPROXY32_TARBALL ?= ../shared/vendor/haproxy-3.2.0.tar.gz
HAPROXY32_SHA256 := 51b9cd348b48e635b24c0dc43f7b31c401f1d034464768eb7d9fdf71517dc123
HAPROXY32_DIR := .cache/haproxy-3.2.0
HAPROXY32 := $(HAPROXY32_DIR)/bin/haproxy
HAPROXY32_BUILD_DEPS := build-essential libssl-dev liblua5.3-dev libpcre2-dev zlib1g-dev
haproxy32:
	@if [ -x $(HAPROXY32) ]; then exit 0; fi; \
	if [ ! -f "$(HAPROXY32_TARBALL)" ]; then \
	  echo "*** $(HAPROXY32_TARBALL) not found: the HAProxy 3.2 test runs will be SKIPPED (2.6 only)"; exit 0; fi; \
	echo "$(HAPROXY32_SHA256)  $(HAPROXY32_TARBALL)" | sha256sum -c --quiet - \
	  || { echo "*** $(HAPROXY32_TARBALL): sha256 mismatch, not building it"; exit 1; }; \
	missing=""; for p in $(HAPROXY32_BUILD_DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi; \
	echo "building HAProxy 3.2.0 into $(HAPROXY32_DIR) (once: 2-6 min on 2 cores)"; \
	rm -rf $(HAPROXY32_DIR)/src && mkdir -p $(HAPROXY32_DIR)/src $(HAPROXY32_DIR)/bin && \
	tar -xzf "$(HAPROXY32_TARBALL)" -C $(HAPROXY32_DIR)/src --strip-components=1 && \
	$(MAKE) -s -C $(HAPROXY32_DIR)/src -j$$(nproc) TARGET=linux-glibc USE_OPENSSL=1 USE_LUA=1 \
	  LUA_INC=/usr/include/lua5.3 LUA_LIB_NAME=lua5.3 USE_PCRE2=1 USE_PROMEX=1 USE_ZLIB=1 >$(HAPROXY32_DIR)/build.log 2>&1 \
	  || { tail -30 $(HAPROXY32_DIR)/build.log; echo "*** HAProxy 3.2.0 build failed (log: $(HAPROXY32_DIR)/build.log)"; exit 1; }; \
	cp $(HAPROXY32_DIR)/src/haproxy $(HAPROXY32).tmp && mv $(HAPROXY32).tmp $(HAPROXY32) && rm -rf $(HAPROXY32_DIR)/src && \
	$(HAPROXY32) -v | head -1

# The generated packs must be what tools/gen_vocab.py and tools/gen_text_records.py write from the
# pinned botocore (6 s of model reading each: a check beside ruff, not a unit test).
test: setup tools haproxy32
	$(VENV)/bin/ruff check agent tests bench tools
	$(PY) tools/gen_vocab.py --check
	$(PY) tools/gen_text_records.py --check
	$(VENV)/bin/pytest -q

# In-process tests only (engine, codec, Lua restore via lupa), no HAProxy or subprocess, the quick
# loop while editing: on every core (pytest-xdist), property tests at a tenth of their examples
# (tests/support/effort.py), the linear-work inputs at half size and the fuzz lane for 2 s; make test
# runs them all in full (the fuzz lane 30 s).
test-unit: venv
	TEST_EFFORT=quick FUZZ_LANE_SECONDS=2 $(VENV)/bin/pytest -q -n auto tests/unit

# Recall per class on generated artifacts (tests/support/recall_artifacts.py) and negatives kept.
recall-report: venv
	$(PY) -m tests.support.recall_report

# The invariant fuzz lane run long (tests/support/fuzz_invariants.py): cases run, failures per invariant,
# failing seeds and a shrunk example of each (positions and encodings only, never a value).
# `make test` runs the same lane for 30 s with a fixed seed.
FUZZ_SECONDS ?= 1800
fuzz: venv
	$(PY) -m tests.support.fuzz_invariants --seconds $(FUZZ_SECONDS) $(if $(FUZZ_SEED),--seed $(FUZZ_SEED))

lint: venv
	$(VENV)/bin/ruff check agent tests bench tools

bench: setup
	$(PY) bench/run.py

# Regenerate agent/engine/packs/vocab.yaml (identifier labels and enum values) and text_records.yaml
# (the columns of --output text rows, read through the labels) from the pinned botocore.
packs: venv
	$(PY) tools/gen_vocab.py
	$(PY) tools/gen_text_records.py

# The AWS CLI's own examples, labelled from botocore's models: share of identifier values masked
# and of non-identifier values changed, per service and overall (tests/support/awscli_corpus.py), as plain
# text and pasted into a Messages request; the same examples printed as --output text
# (tests/support/cli_text_corpus.py), and SDK calls in five languages made from the models' input shapes
# (tests/support/sdk_code_corpus.py).
corpus-report: venv
	$(PY) -m tests.support.awscli_corpus --misses 20
	$(PY) -m tests.support.awscli_corpus --json --worst 5
	$(PY) -m tests.support.cli_text_corpus --misses 10
	$(PY) -m tests.support.cli_text_corpus --output table
	$(PY) -m tests.support.sdk_code_corpus
	$(PY) -m tests.support.code_corpus --why 3

clean:
	rm -rf $(VENV) run certs/out .pytest_cache .hypothesis .cache
