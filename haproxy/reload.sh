#!/usr/bin/env bash
# `make reload`: reloads a gateway started by haproxy/run.sh without dropping a request.
#  1. HAProxy: `haproxy -c` first; if the config is broken, say why and leave HAProxy alone (it keeps
#     serving the running config). Else SIGUSR2 to the master: new workers take new connections,
#     old workers finish the requests they hold, then exit.
#  2. Agents: load the detector packs once here; if they are broken, say why and send nothing (the
#     agents would refuse them too and keep their packs). Else SIGHUP to every agent: each builds the
#     new engine, then swaps it in one assignment; requests in flight finish on the old one.
# Exit status 0 only if both reloaded.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/haproxy/env.sh" || exit 2
: "${GATEWAY_KEY_FILE:=$root/run/pseudonym.key}"
: "${GATEWAY_METRICS_PORT:=8404}"; export GATEWAY_METRICS_PORT   # same config run.sh runs
python="$root/.venv/bin/python"
cfg="${GATEWAY_HAPROXY_CFG:-$root/haproxy/haproxy.cfg}"
status=0

# pid_of FILE WORD: the pids in FILE whose command line contains WORD (guards against stale pid files).
pids_of() {
  [ -s "$1" ] || return 0
  while read -r pid; do
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$2" && echo "$pid"
  done < "$1"
}

master=$(pids_of "$GATEWAY_RUN_DIR/haproxy.pid" haproxy)
if [ -z "$master" ]; then
  echo "reload: no running HAProxy master in $GATEWAY_RUN_DIR/haproxy.pid (start it with make run)" >&2
  status=1
elif ! out=$(haproxy -c -f "$cfg" 2>&1); then
  echo "reload: $cfg is broken; HAProxy keeps running the previous configuration:" >&2
  echo "$out" | grep -E 'ALERT|WARNING' >&2 || echo "$out" >&2
  status=1
else
  kill -USR2 "$master" && echo "reload: HAProxy master $master reloading $cfg"
fi

agents=$(pids_of "$GATEWAY_RUN_DIR/agents.pid" "agent serve")
if [ -z "$agents" ]; then
  echo "reload: no running agent in $GATEWAY_RUN_DIR/agents.pid (start them with make run)" >&2
  status=1
elif ! out=$(cd "$root" && "$python" -c '
import sys
from agent.service.handlers import load_masker
try:
    load_masker(sys.argv[1], sys.argv[2] or None)
except Exception as exc:
    print(f"{type(exc).__name__}: {str(exc)[:500]}")
    sys.exit(1)
' "$GATEWAY_KEY_FILE" "${GATEWAY_PACKS_DIR:-}" 2>&1); then
  echo "reload: the detector packs (${GATEWAY_PACKS_DIR:-built-in agent/engine/packs}) are broken; the agents keep the packs they have:" >&2
  echo "  $out" >&2
  status=1
else
  # shellcheck disable=SC2086
  kill -HUP $agents && echo "reload: detector packs reloading in agents" $agents
fi
exit $status
