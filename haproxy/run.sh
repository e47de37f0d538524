#!/usr/bin/env bash
# Runs the gateway in the foreground: N agent processes (one per core by default, sharing one port
# with SO_REUSEPORT) and HAProxy in master-worker mode. Ctrl-C (or SIGTERM) stops everything it started.
# Pids go to $GATEWAY_RUN_DIR (haproxy.pid: the master; agents.pid: one agent per line) for
# haproxy/reload.sh (`make reload`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/haproxy/env.sh"
: "${GATEWAY_KEY_FILE:=$root/run/pseudonym.key}"
: "${AGENT_PROCESSES:=$(nproc)}"
# Ops listener of HAProxy (/health, /metrics) and the agents' own metrics: agent i (0-based) serves
# http://127.0.0.1:$((AGENT_METRICS_PORT + i))/metrics. AGENT_METRICS_PORT=0 turns those off.
export GATEWAY_METRICS_PORT="${GATEWAY_METRICS_PORT:-8404}"
: "${AGENT_METRICS_PORT:=9101}"
python="$root/.venv/bin/python"
cfg="${GATEWAY_HAPROXY_CFG:-$root/haproxy/haproxy.cfg}"
pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f "$GATEWAY_RUN_DIR/agents.pid"
}
if ! out=$(haproxy -c -f "$cfg" 2>&1); then
  echo "$out" | grep -E 'ALERT|WARNING' >&2 || echo "$out" >&2
  echo "run.sh: $cfg has errors (above); not starting" >&2
  exit 1
fi
trap cleanup INT TERM EXIT
: > "$GATEWAY_RUN_DIR/agents.pid"
for i in $(seq 0 $((AGENT_PROCESSES - 1))); do
  metrics=()
  if [ "$AGENT_METRICS_PORT" != 0 ]; then metrics=(--metrics-listen "127.0.0.1:$((AGENT_METRICS_PORT + i))"); fi
  "$python" -m agent serve --listen "$AGENT_ADDR" --key-file "$GATEWAY_KEY_FILE" --reuse-port \
    ${GATEWAY_PACKS_DIR:+--packs-dir "$GATEWAY_PACKS_DIR"} "${metrics[@]}" \
    ${AGENT_DETECT_HELPER_MIN_BYTES:+--detect-helper-min-bytes "$AGENT_DETECT_HELPER_MIN_BYTES"} &
  pids+=($!)
  echo $! >> "$GATEWAY_RUN_DIR/agents.pid"
done
# HAProxy marks the agents down (and answers 503 at once) if its first health check finds nobody
# listening, so start it only once an agent accepts connections.
for _ in $(seq 300); do
  (exec 3<>"/dev/tcp/${AGENT_ADDR%:*}/${AGENT_ADDR##*:}") 2>/dev/null && break
  sleep 0.1
done
echo "gateway: http://$GATEWAY_LISTEN_ADDR:$GATEWAY_HTTP_PORT  https://localhost:$GATEWAY_HTTPS_PORT  -> $UPSTREAM_URL"
echo "         ANTHROPIC_BASE_URL=http://$GATEWAY_LISTEN_ADDR:$GATEWAY_HTTP_PORT claude"
echo "ops:     http://$GATEWAY_METRICS_ADDR:$GATEWAY_METRICS_PORT/health  .../metrics  (make reload: config + packs)"
haproxy -W -db -f "$cfg" -p "$GATEWAY_RUN_DIR/haproxy.pid" &
pids+=($!)
wait -n "${pids[@]}"
