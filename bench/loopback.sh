#!/usr/bin/env bash
# Loopback measurements for bench/RESULTS.md. Every run is bounded and targets 127.0.0.x only.
#   bench/loopback.sh heartbeat [CONNECTIONS...]   qkchatd vs redis-benchmark PING vs the inline design
#   bench/loopback.sh metrics-overhead [CONNECTIONS]  heartbeat round trips/s with metrics.enabled on vs off (ROUNDS, default 5)
#   bench/loopback.sh idle-rss [LOW HIGH]          server RSS per idle connection (slope between LOW and HIGH)
#   bench/loopback.sh login-storm [N...]           N password logins at once, then N token resumes (default 2000 5000)
#   bench/loopback.sh chat [N...]                  N users in N/2 friend pairs messaging each other (default 2000 10000)
#   bench/loopback.sh mixed [N...]                 the same pairs doing the mixed blend (MIX, default the tool's)
#   bench/loopback.sh levels chat|mixed [N...]     one server, one --levels sweep, the table by level (default 2000 5000 10000)
#   bench/loopback.sh group fanout|small|hot       issue 18's group benchmarks (docs/loadgen.md "group"), fresh database each
#   bench/loopback.sh cluster connections [TOTAL]  issue 19: TOTAL (45000) logged-in connections over NODES (3) nodes, RSS per
#                                                  connection per node (slope from each node's idle RSS)
#   bench/loopback.sh cluster chat [N]             issue 19: N users (10000) chatting on one node, then every pair split over
#                                                  NODES nodes (--cross-node): messages/s, p99, the ratio (>= 60 %)
#   bench/loopback.sh files [MIB]                  issue 21: upload/download MB/s of a MIB (100) MiB file in 8 MiB chunks
#                                                  vs curl to/from a plain HTTP server (ratio), and heartbeat p99 of
#                                                  HB_CONNECTIONS (1000) alone vs while UPLOADERS (4) upload MIB MiB each
#   bench/loopback.sh cluster publish              issue 19: pushes/s crossing nodes through Redis (PUBLISH_GROUPS (6) groups
#                                                  of MEMBERS (1000) spread over NODES nodes, SENDERS (3) per group) against
#                                                  redis-benchmark PUBLISH on that Redis
#   bench/loopback.sh ws heartbeat [CONNS]         issue 20: heartbeat round trips/s over WebSocket and TCP in one run, server
#                                                  CPU per round trip each (bench/loopback-ws.sh)
#   bench/loopback.sh ws idle-rss [LOW HIGH]       issue 20: RSS per idle WebSocket connection (slope), TCP beside it
#   bench/loopback.sh ws chat [N]                  issue 20: the N-user (2000) chat run over TCP, then over WebSocket
#   bench/loopback.sh cpu [CONNS]                  issue 22: server CPU per request in one run: qkchatd per heartbeat and per
#                                                  send_message, redis-server per PING, a C epoll floor (bench/loopback-cpu.sh)
# Needs: make publish (dist/qkchatd, dist/qkchat-loadgen), the private stack (make services-up), redis-benchmark.
# QKCHATD and LOADGEN pick other builds (a native binary or a .dll, run with dotnet): e.g. the Release build,
# QKCHATD=src/QkChat.Server/bin/Release/net10.0/qkchatd.dll LOADGEN=bench/QkChat.LoadGen/bin/Release/net10.0/qkchat-loadgen.dll.
# Tunables through the environment: DURATION (s, default 15), RAMP (s, default 5), REACTORS (default 0 = cores),
# PIN (true/false), INLINE=0 to skip the inline-design run; chat: RATE (messages/s per user, default 1, 0 = unpaced),
# PIPELINE (sends in flight per connection, default 1), MESSAGE_BYTES (default 100); mixed: MIX (--mix weights).
# QKCHAT_IDLE_TIMEOUT_S: the servers' idle timeout (a ramp past it needs the generator's keepalive, which then runs at
# a third of it; KEEPALIVE sets --keepalive itself).
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
OUT=.run/bench
mkdir -p "$OUT"
echo "{}" >"$OUT/empty.json" # built-in defaults, not the checkout's config/server.json
DURATION=${DURATION:-15}
RAMP=${RAMP:-5}
# BENCH_PORT moves every port: PORT, PORT+1 (inline server), PORT+2 (Redis), PORT+3 (the web listener, which would
# otherwise take 8081 and fail to start beside another server), PORT+10+i and PORT+20+i (the cluster
# family's node i: chat, admin).
PORT=${BENCH_PORT:-18181}
INLINE_PORT=$((PORT + 1))
REDIS_PORT=$((PORT + 2))
QKCHATD=${QKCHATD:-dist/qkchatd} # another build for A/B runs
LOADGEN=${LOADGEN:-dist/qkchat-loadgen}
# A .dll runs under dotnet (a Release build instead of the Native AOT one; slower to start, same protocol).
QKCHATD_CMD=("$QKCHATD")
[[ $QKCHATD == *.dll ]] && QKCHATD_CMD=(dotnet "$QKCHATD")
LOADGEN_CMD=("$LOADGEN")
[[ $LOADGEN == *.dll ]] && LOADGEN_CMD=(dotnet "$LOADGEN")
# SERVER_CPUS / LOAD_CPUS (taskset lists, e.g. 0 and 1): keep the server under test and the load on separate CPUs,
# so a figure is the server's own ceiling rather than what the load generator leaves it. Unset: shared CPUs.
ON_SERVER_CPUS=(${SERVER_CPUS:+taskset -c "$SERVER_CPUS"})
ON_LOAD_CPUS=(${LOAD_CPUS:+taskset -c "$LOAD_CPUS"})
SOURCES=127.0.0.2-127.0.0.9
# A server idle timeout given here (QKCHAT_IDLE_TIMEOUT_S, which the servers inherit) gets the load generator's keepalive
# at a third of it (its default, 20 s, is a third of the default 60 s; docs/loadgen.md "Keepalive"); KEEPALIVE overrides.
KEEPALIVE=${KEEPALIVE:-${QKCHAT_IDLE_TIMEOUT_S:+$(awk -v t="$QKCHAT_IDLE_TIMEOUT_S" 'BEGIN { printf "%.3g", t / 3 }')}}
KEEPALIVE_ARGS=(${KEEPALIVE:+--keepalive "$KEEPALIVE"})
# STACK_SCRIPT: another checkout's stack (a git worktree uses the main checkout's running stack).
eval "$(${STACK_SCRIPT:-scripts/stack.sh} env)"
# BENCH_DB: another database of the private stack, so an A/B run can give an older build a schema it knows.
export QKCHAT_DB_NAME=${BENCH_DB:-$QKCHAT_DB_NAME}

server_pid=""
# A password login holds a place in its address's failed-login budget while it is evaluated (docs/accounts.md), so
# a login storm of thousands from 8 source addresses needs that budget raised like the connection and rate limits.
start_server() {
    QKCHAT_PORT=$PORT QKCHAT_REACTORS=${REACTORS:-0} QKCHAT_PIN_REACTORS=${PIN:-false} \
    QKCHAT_MAX_CLIENTS=19500 QKCHAT_MAX_CLIENTS_PER_IP=19500 QKCHAT_LOGIN_TIMEOUT_S=3600 \
    QKCHAT_RATE_LIMIT_RPS=1000000 QKCHAT_RATE_LIMIT_BURST=1000000 QKCHAT_LOG_TO_FILE=false QKCHAT_ADMIN_PORT=${METRICS_PORT:-0} \
    QKCHAT_LOG_LEVEL=${LOG_LEVEL:-warning} QKCHAT_DB_AUTO_MIGRATE=true QKCHAT_CONFIG_PATH="$OUT/empty.json" \
    QKCHAT_PASSWORD_QUEUE=${PASSWORD_QUEUE:-0} \
    QKCHAT_LOGIN_FAILURES_PER_IP=1000000 QKCHAT_HTTP_PORT=${QKCHAT_HTTP_PORT:-$((PORT + 3))} \
        "${ON_SERVER_CPUS[@]}" "${QKCHATD_CMD[@]}" >"$OUT/server.log" 2>&1 &
    server_pid=$!
    # START_WAIT (s, default 60): a loaded 2-core box (builds beside the run) takes well over 10 s to reach the listen.
    for _ in $(seq 1 $((${START_WAIT:-60} * 10))); do
        (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && return 0
        sleep 0.1
    done
    cat "$OUT/server.log" >&2
    exit 1
}
stop_server() { kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
stop_nodes() { :; } # the cluster family (bench/loopback-cluster.sh) replaces it
trap 'stop_server; stop_nodes; [[ -n ${floor_pid:-} ]] && kill $floor_pid 2>/dev/null; [[ -n ${inline_pid:-} ]] && kill $inline_pid 2>/dev/null; [[ -n ${redis_pid:-} ]] && kill $redis_pid 2>/dev/null; true' EXIT

loadgen() { # PORT CONNECTIONS NAME [extra...]
    local port=$1 conns=$2 name=$3
    shift 3
    "${ON_LOAD_CPUS[@]}" "${LOADGEN_CMD[@]}" heartbeat --port "$port" --connections "$conns" --duration "$DURATION" --ramp-up "$RAMP" \
        --source-addresses "$SOURCES" --quiet --json "$OUT/$name.json" "$@" >"$OUT/$name.md" || true
    grep -E "round trips|p50|p99|rt/s|throughput" "$OUT/$name.md" | head -8 | sed "s/^/  $name: /"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # PID: user + system CPU in clock ticks

# One field of a loadgen JSON report by its path (server.cpu_percent, round_trips): FILE PATH. Fails, saying which,
# when the field is absent or null: the report also has the generator's own cpu_percent (generator.cpu_percent), and
# reading the first "cpu_percent" in the file took that one whenever the server's was missing (no --server-pid, or no
# samples of it).
json_path() {
    python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v.get(k) if isinstance(v, dict) else None
if v is None:
    sys.exit(f"{sys.argv[1]}: no {sys.argv[2]} in the load generator report")
print(v)' "$1" "$2"
}

heartbeat() {
    local conns_list=("$@")
    ((${#conns_list[@]})) || conns_list=(1000 10000)
    for conns in "${conns_list[@]}"; do
        echo "== $conns connections, ${DURATION}s measured after ${RAMP}s ramp"
        start_server
        loadgen $PORT "$conns" "qkchatd-$conns" --server-pid "$server_pid"
        stop_server

        if [[ ${INLINE:-1} == 1 ]]; then
            dotnet build bench/QkChat.Benchmarks -c Release -v quiet -nologo >/dev/null
            DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_TieredPGO=1 \
                "${ON_SERVER_CPUS[@]}" dotnet bench/QkChat.Benchmarks/bin/Release/net10.0/QkChat.Benchmarks.dll inline-server $INLINE_PORT $((DURATION + RAMP + 60)) >"$OUT/inline.log" 2>&1 &
            inline_pid=$!
            sleep 2
            loadgen $INLINE_PORT "$conns" "inline-$conns" --server-pid "$inline_pid"
            kill $inline_pid 2>/dev/null || true
            wait $inline_pid 2>/dev/null || true
            inline_pid=""
        fi

        # Redis on its own port with no persistence: the reference single-loop C server.
        "${ON_SERVER_CPUS[@]}" redis-server --port $REDIS_PORT --bind 127.0.0.1 --save '' --appendonly no --maxclients 20000 \
            --daemonize no --logfile "$ROOT/$OUT/redis.log" &
        redis_pid=$!
        sleep 0.5
        local total
        total=$(grep -o '"round_trips": *[0-9]*' "$OUT/qkchatd-$conns.json" | head -1 | grep -o '[0-9]*$' || echo 1000000)
        ((total > 0)) || total=1000000
        echo "  redis-benchmark -t ping -c $conns -n $total:"
        local cpu_before cpu_after
        cpu_before=$(cpu_ticks $redis_pid)
        "${ON_LOAD_CPUS[@]}" redis-benchmark -p $REDIS_PORT -t ping -c "$conns" -n "$total" -q 2>/dev/null | tr '\r' '\n' | grep -E "requests per second" | sed 's/^/    /' | tee "$OUT/redis-$conns.txt"
        cpu_after=$(cpu_ticks $redis_pid)
        # Server CPU per round trip does not depend on how fast the client is (qkchat-loadgen and redis-benchmark
        # differ): redis-benchmark ran PING_INLINE and PING_MBULK, $total requests each.
        awk -v t=$((cpu_after - cpu_before)) -v hz="$(getconf CLK_TCK)" -v n=$((2 * total)) \
            'BEGIN { printf "    redis-server CPU per round trip: %.2f us\n", t * 1e6 / hz / n }'
        local cpu trips
        cpu=$(json_path "$OUT/qkchatd-$conns.json" server.cpu_percent) || exit 1
        trips=$(json_path "$OUT/qkchatd-$conns.json" round_trips) || exit 1
        awk -v c="$cpu" -v d="$DURATION" -v n="$trips" \
            'BEGIN { if (n > 0) printf "    qkchatd CPU per round trip (measured window): %.2f us\n", c / 100 * d * 1e6 / n; else print "    qkchatd answered no round trips" }'
        kill $redis_pid; wait $redis_pid 2>/dev/null || true
        redis_pid=""
    done
}

# The cost of the request metrics (issue 8: under 3 %): the same heartbeat load against qkchatd with
# QKCHAT_METRICS_ENABLED=true and =false, ROUNDS times each, one fresh server per run and the order swapped every
# round so a drift of the machine (thermal, page cache) weighs on both sides alike; prints every run and the medians.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
metrics_overhead() {
    local conns=${1:-1000} rounds=${ROUNDS:-5}
    local on=() off=()
    echo "== metrics on vs off: $conns connections, $rounds rounds, ${DURATION}s measured after ${RAMP}s ramp each"
    for round in $(seq 1 "$rounds"); do
        local order=(true false)
        ((round % 2)) || order=(false true)
        for enabled in "${order[@]}"; do
            QKCHAT_METRICS_ENABLED=$enabled start_server
            local name="metrics-$enabled-$conns-$round"
            "${ON_LOAD_CPUS[@]}" "${LOADGEN_CMD[@]}" heartbeat --port $PORT --connections "$conns" --duration "$DURATION" \
                --ramp-up "$RAMP" --source-addresses "$SOURCES" --server-pid "$server_pid" --quiet --json "$OUT/$name.json" \
                >"$OUT/$name.md" || true
            stop_server
            local rate
            rate=$(grep -o '"round_trips_per_s": *[0-9.]*' "$OUT/$name.json" 2>/dev/null | head -1 | grep -o '[0-9.]*$' || echo 0)
            echo "  round $round, metrics.enabled=$enabled: $rate round trips/s"
            if [[ $enabled == true ]]; then on+=("$rate"); else off+=("$rate"); fi
        done
    done
    local m_on m_off
    m_on=$(printf '%s\n' "${on[@]}" | median)
    m_off=$(printf '%s\n' "${off[@]}" | median)
    echo "  median on:  $m_on round trips/s"
    echo "  median off: $m_off round trips/s"
    awk -v on="$m_on" -v off="$m_off" 'BEGIN { if (off > 0) printf "  overhead: %.2f %% (target: under 3 %%)\n", (off - on) * 100 / off }'
}

idle_rss() {
    local low=${1:-1000} high=${2:-19000}
    start_server
    for conns in "$low" "$high"; do
        "${LOADGEN_CMD[@]}" connect --port $PORT --connections "$conns" --duration 10 --ramp-up 10 \
            --heartbeat-interval 0 --source-addresses "$SOURCES" --server-pid "$server_pid" --quiet \
            --json "$OUT/idle-$conns.json" >"$OUT/idle-$conns.md" || true
        grep -iE "rss|opened|failed" "$OUT/idle-$conns.md" | head -8 | sed "s/^/  idle $conns: /"
    done
    stop_server
}

# The accounts' shared password: load-test accounts only (docs/loadgen.md "Accounts for load tests").
STORM_PASSWORD=loadgen-storm-1
login_storm() {
    local sizes=("$@")
    ((${#sizes[@]})) || sizes=(2000 5000)
    for n in "${sizes[@]}"; do
        echo "== login storm of $n"
        QKCHAT_LOG_LEVEL=warning QKCHAT_DB_AUTO_MIGRATE=true QKCHAT_CONFIG_PATH="$OUT/empty.json" QKCHAT_LOG_TO_FILE=false \
            "${QKCHATD_CMD[@]}" provision-users --count "$n" --prefix lg --password "$STORM_PASSWORD"
        # A queue of N: every login of the storm waits for its hash instead of an early SERVER_BUSY.
        PASSWORD_QUEUE=$n start_server
        "${LOADGEN_CMD[@]}" login-storm --port $PORT --connections "$n" --ramp-up "$RAMP" --prefix lg \
            --password "$STORM_PASSWORD" --source-addresses "$SOURCES" --server-pid "$server_pid" --quiet \
            --json "$OUT/storm-$n.json" >"$OUT/storm-$n.md" || true
        grep -E "logins|resumes|observer|verdict" "$OUT/storm-$n.md" | sed "s/^/  storm $n: /"
        stop_server
    done
}

# Chat accounts have their own prefix and a cheap password hash (load-test database only): every chat connection
# logs in with a password first, and with the default Argon2id cost N logins would take N / 115 seconds on 2 cores.
# The server runs with the same cost, or it would upgrade each hash at login (docs/loadgen.md "chat").
CHAT_HASH=(QKCHAT_PASSWORD_MEMORY_KIB=1024 QKCHAT_PASSWORD_ITERATIONS=1)
# Each chat run starts from an empty database of its own: throughput depends on how much the messages table
# already holds (index pages in memory or not), so runs on a growing table would not compare.
CHAT_DB=${BENCH_CHAT_DB:-qkchat_test_loopback_chat}
fresh_chat_db() {
    mariadb -h "$QKCHAT_DB_HOST" -P "$QKCHAT_DB_PORT" -u "$QKCHAT_DB_USER" -p"$(cat "$QKCHAT_DB_PASSWORD_FILE")" \
        -e "DROP DATABASE IF EXISTS $CHAT_DB; CREATE DATABASE $CHAT_DB CHARACTER SET utf8mb4"
}
provision_chat() { # N
    env "${CHAT_HASH[@]}" QKCHAT_LOG_LEVEL=warning QKCHAT_DB_AUTO_MIGRATE=true QKCHAT_CONFIG_PATH="$OUT/empty.json" \
        QKCHAT_LOG_TO_FILE=false "${QKCHATD_CMD[@]}" provision-users --count "$1" --prefix lgc --password "$STORM_PASSWORD" --friends pairs
}
pair_args() { # SCENARIO: the options chat and mixed share here
    local args=(--port $PORT --rate "${RATE:-1}" --pipeline "${PIPELINE:-1}" --message-bytes "${MESSAGE_BYTES:-100}"
        --ramp-up "$RAMP" --duration "$DURATION" --prefix lgc --password "$STORM_PASSWORD" --source-addresses "$SOURCES"
        --server-pid "$server_pid" --quiet "${KEEPALIVE_ARGS[@]}")
    [[ $1 == mixed && -n ${MIX:-} ]] && args+=(--mix "$MIX")
    printf '%s\n' "${args[@]}"
}
pairs() { # SCENARIO N...
    local scenario=$1
    shift
    local sizes=("$@")
    ((${#sizes[@]})) || sizes=(2000 10000)
    export QKCHAT_DB_NAME=$CHAT_DB
    for n in "${sizes[@]}"; do
        fresh_chat_db
        echo "== $scenario: $n users, rate ${RATE:-1}/s each, pipeline ${PIPELINE:-1}, ${DURATION}s measured after ${RAMP}s ramp"
        provision_chat "$n"
        export "${CHAT_HASH[@]}"
        # Information level: the server logs its message and ack batch counts at shutdown.
        LOG_LEVEL=information PASSWORD_QUEUE=$n start_server
        mapfile -t args < <(pair_args "$scenario")
        "${LOADGEN_CMD[@]}" "$scenario" --connections "$n" "${args[@]}" \
            --json "$OUT/$scenario-$n.json" >"$OUT/$scenario-$n.md" || true
        grep -E "pairs|messages|latency|lost|errors|success|generator CPU|server CPU|verdict" "$OUT/$scenario-$n.md" | sed "s/^/  $scenario $n: /"
        [[ -n ${METRICS_PORT:-} ]] && server_latency_split "$scenario $n"
        stop_server
        grep -o "stored since start.*" "$OUT/server.log" | sed "s/^/  $scenario $n: server /" || true
        unset QKCHAT_PASSWORD_MEMORY_KIB QKCHAT_PASSWORD_ITERATIONS
    done
}
# METRICS_PORT=P serves the admin listener on P during pair runs and prints, from the server's own histograms, where a
# send's time went: request_duration (receive to answer, inside qkchatd) and batch_commit (one batch's statements and
# COMMIT). A client-side p99 far above the server's says the queueing is outside qkchatd's request path.
server_latency_split() { # LABEL
    curl -s "http://127.0.0.1:$METRICS_PORT/metrics" >"$OUT/metrics.txt" || return 0
    for family in 'qkchat_request_duration_seconds_bucket{action="send_message"' 'qkchat_batch_commit_seconds_bucket{batcher="messages"'; do
        awk -v f="$family" -v label="$1" 'index($0, f) == 1 {
                match($0, /le="[^"]+"/); le = substr($0, RSTART + 4, RLENGTH - 5); n = $NF + 0
                les[++k] = le; cum[k] = n }
            END { if (!k) exit; total = cum[k]; split("0.5 0.9 0.99", qs, " "); out = ""
                for (q = 1; q <= 3; q++) { for (i = 1; i <= k; i++) if (cum[i] >= qs[q] * total) break
                    out = out sprintf(" p%s<=%ss", qs[q] * 100, les[i]) }
                sub(/_bucket.*/, "", f); printf "  %s: server %s (%d observed):%s\n", label, f, total, out }' "$OUT/metrics.txt"
    done
}
# One server and one database for the whole sweep (levels follow each other 3 s apart), so later levels run on a
# messages table the earlier ones filled: compare levels of one sweep, not with single runs.
levels() { # SCENARIO N...
    local scenario=${1:-chat}
    shift || true
    local sizes=("$@")
    ((${#sizes[@]})) || sizes=(2000 5000 10000)
    local max list
    max=$(printf '%s\n' "${sizes[@]}" | sort -n | tail -1)
    list=$(IFS=,; echo "${sizes[*]}")
    export QKCHAT_DB_NAME=$CHAT_DB
    fresh_chat_db
    echo "== $scenario by level: $list users, rate ${RATE:-1}/s each, ${DURATION}s measured after ${RAMP}s ramp"
    provision_chat "$max"
    export "${CHAT_HASH[@]}"
    LOG_LEVEL=information PASSWORD_QUEUE=$max start_server
    mapfile -t args < <(pair_args "$scenario")
    "${LOADGEN_CMD[@]}" "$scenario" --levels "$list" "${args[@]}" --json "$OUT/$scenario-levels.json" \
        >"$OUT/$scenario-levels-run.md" || true
    cat "$OUT/$scenario-levels-levels.md"
    stop_server
    unset QKCHAT_PASSWORD_MEMORY_KIB QKCHAT_PASSWORD_ITERATIONS
}

# Group chat (issue 18): each shape on a fresh database with its own friend layout (groups:SIZE), one server.
#   fanout: one group of 1,000 online members, SENDERS (default 10) senders at RATES per sender (default 1,2,5,10)
#   small:  10,000 users in 1,000 groups of 10, every user RATE (default 1) entry/s
#   hot:    one group of HOT (default 100) members all sending back to back, PIPELINE (default 4) in flight each
group() { # SHAPE
    local shape=${1:-fanout} n size
    local extra=()
    case $shape in
        fanout) n=1000; size=1000
                extra=(--senders-per-group "${SENDERS:-10}" --rate-levels "${RATES:-1,2,5,10}" --pipeline "${PIPELINE:-4}") ;;
        small) n=10000; size=10; extra=(--rate "${RATE:-1}") ;;
        hot) n=${HOT:-100}; size=$n; extra=(--rate 0 --pipeline "${PIPELINE:-4}") ;;
        *) echo "group: fanout, small or hot" >&2; exit 2 ;;
    esac
    export QKCHAT_DB_NAME=$CHAT_DB
    fresh_chat_db
    echo "== group $shape: $n users in groups of $size, ${DURATION}s measured after ${RAMP}s ramp"
    env "${CHAT_HASH[@]}" QKCHAT_LOG_LEVEL=warning QKCHAT_DB_AUTO_MIGRATE=true QKCHAT_CONFIG_PATH="$OUT/empty.json" \
        QKCHAT_LOG_TO_FILE=false "${QKCHATD_CMD[@]}" provision-users --count "$n" --prefix lgg --password "$STORM_PASSWORD" --friends "groups:$size"
    export "${CHAT_HASH[@]}"
    LOG_LEVEL=information PASSWORD_QUEUE=$n start_server
    # --send-after-ramp: the groups ready early would otherwise flood the box while thousands still log in (the hash
    # workers run at nice 19), and the run would measure the logins (bench/RESULTS.md, session 10). RAMP must cover them.
    "${ON_LOAD_CPUS[@]}" "${LOADGEN_CMD[@]}" group --port $PORT --connections "$n" --group-size "$size" "${extra[@]}" \
        --send-after-ramp --ramp-up "$RAMP" --duration "$DURATION" --prefix lgg --password "$STORM_PASSWORD" --source-addresses "$SOURCES" \
        "${KEEPALIVE_ARGS[@]}" --server-pid "$server_pid" --json "$OUT/group-$shape.json" >"$OUT/group-$shape.md" || true
    cat "$OUT/group-$shape.md"
    stop_server
    grep -o "stored since start.*" "$OUT/server.log" | sed "s/^/  group $shape: server /" || true
    unset QKCHAT_PASSWORD_MEMORY_KIB QKCHAT_PASSWORD_ITERATIONS
}

case ${1:-} in
    heartbeat) shift; heartbeat "$@" ;;
    metrics-overhead) shift; metrics_overhead "$@" ;;
    idle-rss) shift; idle_rss "$@" ;;
    login-storm) shift; login_storm "$@" ;;
    chat) shift; pairs chat "$@" ;;
    mixed) shift; pairs mixed "$@" ;;
    levels) shift; levels "$@" ;;
    group) shift; group "$@" ;;
    cluster) shift; source "$ROOT/bench/loopback-cluster.sh"; cluster "$@" ;;
    files) shift; source "$ROOT/bench/loopback-files.sh"; files "$@" ;;
    ws) shift; source "$ROOT/bench/loopback-ws.sh"; ws "$@" ;;
    cpu) shift; source "$ROOT/bench/loopback-cpu.sh"; cpu "$@" ;;
    *) sed -n '2,34p' "$0"; exit 2 ;;
esac
