# Sourced (bash) before starting HAProxy: defaults for every setting haproxy.cfg reads from the
# environment, and the values derived from them. One place, used by `make run`, the tests and the bench.
# shellcheck shell=bash

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export GATEWAY_HAPROXY_DIR="${GATEWAY_HAPROXY_DIR:-$here}"
export GATEWAY_RUN_DIR="${GATEWAY_RUN_DIR:-$here/../run}"
export GATEWAY_CERT="${GATEWAY_CERT:-$here/../certs/out/server.pem}"
export GATEWAY_HTTP_PORT="${GATEWAY_HTTP_PORT:-8080}"
export GATEWAY_HTTPS_PORT="${GATEWAY_HTTPS_PORT:-8443}"
export GATEWAY_LISTEN_ADDR="${GATEWAY_LISTEN_ADDR:-127.0.0.1}"
export AGENT_ADDR="${AGENT_ADDR:-127.0.0.1:12345}"
# Time the agent may take to mask one body before the request fails closed with 503.
export GATEWAY_MASK_TIMEOUT="${GATEWAY_MASK_TIMEOUT:-10s}"
export GATEWAY_THREADS="${GATEWAY_THREADS:-2}"
# Operations listener (/health, /metrics): haproxy.cfg adds it only when GATEWAY_METRICS_PORT is
# set (run.sh sets 8404), so test gateways on random ports do not all claim one fixed port.
export GATEWAY_METRICS_ADDR="${GATEWAY_METRICS_ADDR:-127.0.0.1}"

# Largest request body the gateway inspects (bytes). Larger bodies get 413: they cannot be masked,
# so they must not be forwarded. HAProxy sizes EVERY buffer by this (see README "Memory").
export GATEWAY_MAX_BODY="${GATEWAY_MAX_BODY:-8388608}"
# The buffer must hold headers + the whole body (request), and one SPOE frame must hold the masked
# body plus the restore map (ACK). A quarter of the body for the map and 64 KiB for headers and
# framing covers the densest inventories we measured; the agent answers 413 (naming
# GATEWAY_MAX_BODY) rather than send a frame that does not fit.
export GATEWAY_BUFSIZE=$(( GATEWAY_MAX_BODY + GATEWAY_MAX_BODY / 4 + 65536 ))

# Upstream: https only (the gateway never sends provider traffic in clear text).
export UPSTREAM_URL="${UPSTREAM_URL:-https://api.anthropic.com}"
_u="${UPSTREAM_URL%/}"
case "$_u" in
  https://*) _u="${_u#https://}" ;;
  *) echo "UPSTREAM_URL must start with https:// (got '$UPSTREAM_URL')" >&2; return 2 2>/dev/null || exit 2 ;;
esac
case "$_u" in */*) echo "UPSTREAM_URL must not have a path (got '$UPSTREAM_URL')" >&2; return 2 2>/dev/null || exit 2 ;; esac
export UPSTREAM_HOST="${_u%%:*}"
if [ "$_u" != "$UPSTREAM_HOST" ]; then export UPSTREAM_PORT="${_u##*:}"; else export UPSTREAM_PORT=443; fi
# Where to connect (defaults to the URL's host); tests point a "localhost" URL at 127.0.0.1.
export UPSTREAM_ADDR="${UPSTREAM_ADDR:-$UPSTREAM_HOST:$UPSTREAM_PORT}"
# CA bundle that verifies the upstream; "@system-ca" is HAProxy's name for the system store.
export UPSTREAM_CA_FILE="${UPSTREAM_CA_FILE:-@system-ca}"
# Every HAProxy buffer is GATEWAY_BUFSIZE (~10 MiB), above glibc's default mmap threshold: each one
# was mmap'ed and unmapped per use, ~1,900 page faults per 1 MB request (bench/probe.py). Keep freed
# blocks in the heap for reuse instead (memory stays at its high-water mark; see README "Memory").
export GLIBC_TUNABLES="${GLIBC_TUNABLES:-glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456:glibc.malloc.top_pad=16777216}"
unset _u here
mkdir -p "$GATEWAY_RUN_DIR"
