#!/usr/bin/env bash
# Runs the gateway in the foreground: N agent processes (one per core by default, sharing one port
# with SO_REUSEPORT) and HAProxy in master-worker mode. Ctrl-C (or SIGTERM) stops everything it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/haproxy/env.sh"
: "${GATEWAY_KEY_FILE:=$root/run/pseudonym.key}"
: "${AGENT_PROCESSES:=$(nproc)}"
python="$root/.venv/bin/python"
pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT
for _ in $(seq "$AGENT_PROCESSES"); do
  "$python" -m agent serve --listen "$AGENT_ADDR" --key-file "$GATEWAY_KEY_FILE" --reuse-port \
    ${GATEWAY_PACKS_DIR:+--packs-dir "$GATEWAY_PACKS_DIR"} &
  pids+=($!)
done
haproxy -c -q -f "$root/haproxy/haproxy.cfg"
echo "gateway: http://$GATEWAY_LISTEN_ADDR:$GATEWAY_HTTP_PORT  https://localhost:$GATEWAY_HTTPS_PORT  -> $UPSTREAM_URL"
echo "         ANTHROPIC_BASE_URL=http://$GATEWAY_LISTEN_ADDR:$GATEWAY_HTTP_PORT claude"
haproxy -W -db -f "$root/haproxy/haproxy.cfg" -p "$GATEWAY_RUN_DIR/haproxy.pid" &
pids+=($!)
wait -n "${pids[@]}"
