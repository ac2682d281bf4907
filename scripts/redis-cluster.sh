#!/usr/bin/env bash
# A local 3-master Redis Cluster for tests and benchmarks of several nodes (docs/cluster.md).
#   scripts/redis-cluster.sh up|down|status|env|help
# Debian's redis-server in cluster mode, three masters without replicas, each in its own directory under
# .run/redis-cluster/ (or $QKCHAT_CLUSTER_DIR), bound to 127.0.0.1, without persistence: a cluster that is
# brought up is always empty. Ports: $QKCHAT_CLUSTER_PORT (default 17001) and the two after it; Redis takes
# each port + 10000 for the cluster bus (27001-27003). Stopped by the PIDs it wrote, never by name.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
DIR=${QKCHAT_CLUSTER_DIR:-$ROOT/.run/redis-cluster}
BASE=${QKCHAT_CLUSTER_PORT:-17001}
[[ $BASE =~ ^[0-9]{1,5}$ ]] && ((BASE > 0 && BASE + 2 < 55536)) || { echo "redis-cluster.sh: invalid port '$BASE'" >&2; exit 1; }
PORTS=("$BASE" "$((BASE + 1))" "$((BASE + 2))")

die() { echo "redis-cluster.sh: $*" >&2; exit 1; }
say() { echo "redis-cluster: $*"; }

# True when PID is alive and is a redis-server (a recycled PID of another program is never signalled).
is_redis() {
    local cmd
    cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
    [[ ${cmd%% *} == *redis-server* ]]
}

live_pid() {
    local pid
    pid=$(cat -- "$DIR/$1/redis.pid" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] && is_redis "$pid" || return 1
    echo "$pid"
}

cli() { redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }

cluster_ok() { cli "$1" cluster info 2>/dev/null | tr -d '\r' | grep -qx 'cluster_state:ok'; }

up() {
    command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
        die "redis-server and redis-cli are missing (apt-get install redis-server)"
    local p pid all_live=1 i
    for p in "${PORTS[@]}"; do live_pid "$p" >/dev/null || all_live=0; done
    if ((all_live)) && cluster_ok "${PORTS[0]}"; then
        say "already running on ${PORTS[*]}"
        return 0
    fi
    down >/dev/null # a half-started cluster is thrown away: it holds no data worth keeping
    for p in "${PORTS[@]}"; do
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && die "port $p is in use; choose others with QKCHAT_CLUSTER_PORT"
        mkdir -p "$DIR/$p"
        redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "$DIR/$p/nodes.conf" \
            --cluster-node-timeout 5000 --save '' --appendonly no --daemonize yes --dir "$DIR/$p" \
            --pidfile "$DIR/$p/redis.pid" --logfile "$DIR/$p/redis.log" </dev/null
    done
    for p in "${PORTS[@]}"; do
        for ((i = 0; i < 100; i++)); do # 10 s
            [[ $(cli "$p" ping 2>/dev/null) == PONG ]] && break
            sleep 0.1
        done
        [[ $(cli "$p" ping 2>/dev/null) == PONG ]] || die "redis-server on port $p did not answer (log: $DIR/$p/redis.log)"
    done
    local seeds=()
    for p in "${PORTS[@]}"; do seeds+=("127.0.0.1:$p"); done
    redis-cli --cluster create "${seeds[@]}" --cluster-replicas 0 --cluster-yes >"$DIR/create.log" 2>&1 ||
        { tail -n 20 "$DIR/create.log" >&2; die "redis-cli --cluster create failed"; }
    # Every master must agree before a client can rely on the slot map (the gossip takes a second or two).
    for p in "${PORTS[@]}"; do
        for ((i = 0; i < 300; i++)); do # 30 s
            cluster_ok "$p" && break
            sleep 0.1
        done
        cluster_ok "$p" || die "node $p never reached cluster_state:ok (log: $DIR/$p/redis.log)"
    done
    say "3 masters on ${PORTS[*]} (bus ${PORTS[0]}+10000..), all 16384 slots assigned"
}

down() {
    local p pid i stopped=0
    for p in "${PORTS[@]}"; do
        if pid=$(live_pid "$p"); then
            kill -TERM "$pid"
            for ((i = 0; i < 100; i++)); do # 10 s
                is_redis "$pid" || break
                sleep 0.1
            done
            is_redis "$pid" && kill -KILL "$pid"
            stopped=$((stopped + 1))
        fi
        rm -rf "${DIR:?}/$p"
    done
    rm -f "$DIR/create.log"
    say "stopped $stopped node(s)"
}

status() {
    local p pid rc=0
    for p in "${PORTS[@]}"; do
        if pid=$(live_pid "$p"); then say "node $p running (pid $pid)"; else say "node $p not running"; rc=1; fi
    done
    ((rc == 0)) && cluster_ok "${PORTS[0]}" && say "cluster_state:ok" || { say "cluster not ok"; rc=1; }
    return $rc
}

case ${1:-help} in
    up) up ;;
    down) down ;;
    status) status ;;
    env) echo "export QKCHAT_REDIS_HOST=127.0.0.1:${PORTS[0]},127.0.0.1:${PORTS[1]},127.0.0.1:${PORTS[2]}" ;;
    help | -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command '$1' (up, down, status, env, help)" ;;
esac
