#!/usr/bin/env bash
# Several qkchatd nodes of one deployment in the foreground (`make run NODES=3`, docs/cluster.md).
#   scripts/run-nodes.sh N
# Node i (0 .. N-1) serves chat on $QKCHAT_PORT+i (default 8080+i), TLS on $QKCHAT_TLS_PORT+i (8443+i, used only
# when tls.enabled), the admin listener on $QKCHAT_ADMIN_PORT+i (9100+i), the web listener (web client and WebSocket,
# docs/web.md) on $QKCHAT_HTTP_PORT+i (8180+i: the single server's 8081 would be node 1's chat port), logs to $QKCHAT_LOG_DIR/node-i (logs/node-i)
# and takes its node id from server.node_id (default auto: 0, 1, ... in the order the nodes reach Redis). Everything
# else (database, Redis, config file) comes from the caller's environment as for a single `make run`; the Makefile
# migrates once before calling this, so the nodes do not race to.
# Each output line is prefixed with "[node i] ". Ctrl-C (SIGINT) or SIGTERM stops every node gracefully (SIGTERM to
# each, as systemd does) and waits for them; a node that exits on its own stops the others too, and the script
# exits with that node's code, so a crashed node is never left unnoticed behind the live ones. (Started with `&` from
# a non-interactive shell, the script inherits SIGINT ignored, as bash does for background jobs, and cannot trap it:
# stop it with SIGTERM then.)
# The server: $QKCHAT_RUN_SERVER, a native qkchatd or a qkchatd.dll (run with dotnet); default the Release build.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
die() { echo "run-nodes.sh: $*" >&2; exit 2; }

NODES=${1:-}
# 16: a node id has 4 bits (docs/cluster.md "Node ids and the lease").
[[ $NODES =~ ^[0-9]+$ ]] && ((NODES >= 1 && NODES <= 16)) || die "usage: $0 N (N nodes, 1-16)"

SERVER=${QKCHAT_RUN_SERVER:-$ROOT/src/QkChat.Server/bin/Release/net10.0/qkchatd.dll}
[[ -f $SERVER ]] || die "$SERVER is missing: \`make build\` (or set QKCHAT_RUN_SERVER)"
if [[ $SERVER == *.dll ]]; then server=(dotnet "$SERVER"); else server=("$SERVER"); fi

port_base() {
    local value=${!1:-$2}
    [[ $value =~ ^[0-9]{1,5}$ ]] && ((value > 0 && value + NODES - 1 < 65536)) || die "$1='$value' is not a usable base port"
    echo "$value"
}
CHAT=$(port_base QKCHAT_PORT 8080)
TLS=$(port_base QKCHAT_TLS_PORT 8443)
ADMIN=$(port_base QKCHAT_ADMIN_PORT 9100)
HTTP=$(port_base QKCHAT_HTTP_PORT 8180)
LOGS=${QKCHAT_LOG_DIR:-logs}

pids=()
stopping=0

# Seconds a node gets after SIGTERM before SIGKILL: as the systemd unit (TimeoutStopSec=30s), 20 s beyond the graceful
# stop's own bound (server.shutdown_timeout_s, default 10). A node stuck past that (a backend call that never
# returns) must not keep the script, and the terminal, waiting forever.
shutdown_s=${QKCHAT_SHUTDOWN_TIMEOUT_S:-10}
[[ $shutdown_s =~ ^[0-9]{1,5}$ ]] || shutdown_s=10
STOP_GRACE=$((shutdown_s + 20))

# SIGTERM to every node still running, then wait for all of them; SIGKILL to those still there after STOP_GRACE.
stop_all() {
    local pid i alive
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for ((i = 0; i < STOP_GRACE * 10; i++)); do
        alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            echo "run-nodes: node pid $pid did not stop within ${STOP_GRACE} s of SIGTERM; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}

on_signal() {
    ((stopping)) && return
    stopping=1
    echo "run-nodes: stopping ${#pids[@]} nodes"
    stop_all
    echo "run-nodes: all nodes stopped"
    exit 0
}
trap on_signal INT TERM
# Whatever ends the script (an error included), no node outlives it.
trap 'stopping=1; stop_all' EXIT

# Job control puts every node in a process group of its own, so a Ctrl-C typed in the terminal reaches this
# script only: each node then gets exactly one SIGTERM from stop_all instead of SIGINT and SIGTERM at once.
set -m
for ((i = 0; i < NODES; i++)); do
    # The prefixing sed ignores SIGINT (inherited through exec) so it keeps carrying a node's last lines
    # while the node shuts down; it ends at EOF, when the node has exited.
    QKCHAT_PORT=$((CHAT + i)) QKCHAT_TLS_PORT=$((TLS + i)) QKCHAT_ADMIN_PORT=$((ADMIN + i)) QKCHAT_HTTP_PORT=$((HTTP + i)) \
        QKCHAT_LOG_DIR=$LOGS/node-$i "${server[@]}" run \
        > >(trap '' INT; exec sed -u "s/^/[node $i] /") 2>&1 </dev/null &
    pids+=("$!")
    echo "run-nodes: node $i pid $! chat 127.0.0.1:$((CHAT + i)) admin 127.0.0.1:$((ADMIN + i)) web 127.0.0.1:$((HTTP + i)) logs $LOGS/node-$i"
done
set +m

# wait -n returns when the first node exits (or a trapped signal interrupts it; the trap then exits).
code=0
wait -n "${pids[@]}" || code=$?
((stopping)) && exit 0
echo "run-nodes: a node exited with code $code; stopping the others" >&2
stopping=1
stop_all
exit "$code"
