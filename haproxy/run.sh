#!/usr/bin/env bash
# Runs the gateway in the foreground: N agent processes (one per core by default, sharing one port
# with SO_REUSEPORT) under their supervisor (agent/service/supervisor.py: restarts an agent that
# dies, with backoff; kills and replaces one whose event loop stalls past GATEWAY_MASK_TIMEOUT), and
# HAProxy in master-worker mode. Ctrl-C (or SIGTERM) stops everything it started: agents get
# AGENT_STOP_GRACE seconds to drain, then SIGKILL.
# Pids go to $GATEWAY_RUN_DIR (haproxy.pid: the master; agents.pid: one agent per line, kept current
# by the supervisor) for haproxy/reload.sh (`make reload`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/haproxy/env.sh"
: "${GATEWAY_KEY_FILE:=$root/run/pseudonym.key}"
: "${AGENT_PROCESSES:=$(nproc)}"
# Ops listener of HAProxy (/health, /metrics) and the agents' own metrics: agent i (0-based) serves
# http://127.0.0.1:$((AGENT_METRICS_PORT + i))/metrics. AGENT_METRICS_PORT=0 turns those off.
export GATEWAY_METRICS_PORT="${GATEWAY_METRICS_PORT:-8404}"
: "${AGENT_METRICS_PORT:=9101}"
# The supervisor's own metrics (restarts by cause): http://127.0.0.1:$SUPERVISOR_METRICS_PORT/metrics; 0: off.
: "${SUPERVISOR_METRICS_PORT:=9100}"
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
# GATEWAY_AGENT_MODULE: what `python -m` runs as the agent; only tests change it (a module with a test
# hook, e.g. tests/support/agent_stall.py).
sup=(--processes "$AGENT_PROCESSES" --mask-timeout "$GATEWAY_MASK_TIMEOUT" --pid-file "$GATEWAY_RUN_DIR/agents.pid"
     ${AGENT_STOP_GRACE:+--grace "$AGENT_STOP_GRACE"} ${AGENT_RESTART_BACKOFF:+--backoff "$AGENT_RESTART_BACKOFF"}
     ${AGENT_RESTART_BACKOFF_MAX:+--backoff-max "$AGENT_RESTART_BACKOFF_MAX"}
     --agent-module "${GATEWAY_AGENT_MODULE:-agent}")
if [ "$AGENT_METRICS_PORT" != 0 ]; then sup+=(--agent-metrics-base "127.0.0.1:$AGENT_METRICS_PORT"); fi
if [ "$SUPERVISOR_METRICS_PORT" != 0 ]; then sup+=(--metrics-listen "127.0.0.1:$SUPERVISOR_METRICS_PORT"); fi
"$python" -m agent supervise "${sup[@]}" -- --listen "$AGENT_ADDR" --key-file "$GATEWAY_KEY_FILE" --reuse-port \
  ${GATEWAY_PACKS_DIR:+--packs-dir "$GATEWAY_PACKS_DIR"} \
  ${AGENT_DETECT_HELPER_MIN_BYTES:+--detect-helper-min-bytes "$AGENT_DETECT_HELPER_MIN_BYTES"} &
pids+=($!)
supervisor=$!
# HAProxy marks the agents down (and answers 503 at once) if its first health check finds nobody
# listening, so start it only once an agent accepts connections.
for _ in $(seq 300); do
  (exec 3<>"/dev/tcp/${AGENT_ADDR%:*}/${AGENT_ADDR##*:}") 2>/dev/null && break
  kill -0 "$supervisor" 2>/dev/null || { echo "run.sh: the agents could not start (above)" >&2; exit 1; }
  sleep 0.1
done
echo "gateway: http://$GATEWAY_LISTEN_ADDR:$GATEWAY_HTTP_PORT  https://localhost:$GATEWAY_HTTPS_PORT  -> $UPSTREAM_URL"
echo "         ANTHROPIC_BASE_URL=http://$GATEWAY_LISTEN_ADDR:$GATEWAY_HTTP_PORT claude"
echo "ops:     http://$GATEWAY_METRICS_ADDR:$GATEWAY_METRICS_PORT/health  .../metrics  (make reload: config + packs)"
haproxy -W -db -f "$cfg" -p "$GATEWAY_RUN_DIR/haproxy.pid" &
pids+=($!)
wait -n "${pids[@]}"
