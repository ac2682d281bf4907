# Sourced by bench/loopback.sh: issue 22 point 4, server CPU per request in one run, each server measured the same way
# (its /proc/PID/stat user + system ticks over the load, divided by the requests answered):
#   qkchatd per heartbeat round trip    qkchat-loadgen heartbeat, CONNS connections, PIPELINE (1) in flight each
#   floor per round trip                the same load against bench/floor/floor-server.c (gcc -O2): one epoll loop, a
#                                       recv and a send per readiness, a fixed answer: the physical floor on loopback
#   redis-server per PING               redis-benchmark -t ping_mbulk, CONNS connections, -P PIPELINE, as many requests
#                                       as qkchatd answered
#   qkchatd per send_message            the chat scenario, CHAT_USERS (1000) users unpaced (pipeline 8) on a fresh database
# The ratios to the floor and to Redis are what issue 22 judges ("at most redis-server's per PING in the same run").

proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # PID: user + system CPU in clock ticks

# PID NAME REQUESTS TICKS: one result line, microseconds of that process's CPU per request.
per_request() {
    awk -v name="$2" -v n="$3" -v t="$4" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { if (n > 0) printf "  %-34s %8.2f us CPU per request (%d requests, %.2f s CPU)\n", name, t * 1e6 / hz / n, n, t / hz; else printf "  %-34s no requests answered\n", name }'
}

# PID NAME: the heartbeat load against the server PID listens on (LOAD_PORT); sets $answered (round trips in the window).
# The server's CPU is the loadgen's own sample of PID over the measured window (--server-pid, as `heartbeat` uses).
heartbeat_cpu() {
    local pid=$1 name=$2
    "${ON_LOAD_CPUS[@]}" "${LOADGEN_CMD[@]}" heartbeat --port "$LOAD_PORT" --connections "$CONNS" --pipeline "${PIPELINE:-1}" \
        --duration "$DURATION" --ramp-up "$RAMP" --source-addresses "$SOURCES" --server-pid "$pid" --quiet \
        --json "$OUT/cpu-$name.json" >"$OUT/cpu-$name.md" || true
    # The server's CPU from the loadgen's samples of PID (server.cpu_percent: from all connections open to the window's
    # end) over the window's rate: both are rates, so their ratio is CPU per round trip whatever the spans.
    local line us rate percent
    line=$(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
cpu = (r.get("server") or {}).get("cpu_percent")
rate = r.get("round_trips_per_s") or 0
print(f"{cpu / 100 / rate * 1e6:.2f} {rate:.0f} {cpu}" if cpu and rate else "- 0 -")' "$OUT/cpu-$name.json" 2>/dev/null || echo "- 0 -")
    read -r us rate percent <<<"$line"
    answered=$(grep -o '"round_trips": *[0-9]*' "$OUT/cpu-$name.json" | head -1 | grep -o '[0-9]*$' || true)
    [[ -n $answered ]] || answered=0
    printf "  %-34s %8s us CPU per request (%s round trips/s at %s %% of a core)\n" "$name per heartbeat round trip" "$us" "$rate" "$percent" \
        | tee -a "$OUT/cpu-summary.txt"
}

cpu() {
    local pid=$1 name=$2 before after
    before=$(proc_ticks "$pid")
    "${ON_LOAD_CPUS[@]}" "${LOADGEN_CMD[@]}" heartbeat --port "$LOAD_PORT" --connections "$CONNS" --pipeline "${PIPELINE:-1}" \
        --duration "$DURATION" --ramp-up "$RAMP" --source-addresses "$SOURCES" --quiet --json "$OUT/cpu-$name.json" \
        >"$OUT/cpu-$name.md" || true
    after=$(proc_ticks "$pid")
    # Every answer, ramp included, against the ticks of the whole load: both sides of the division cover the same span.
    answered=$(grep -o '"round_trips_all": *[0-9]*' "$OUT/cpu-$name.json" | head -1 | grep -o '[0-9]*$' || echo 0)
    [[ -n $answered ]] || answered=0
    per_request "$pid" "$name per heartbeat round trip" "$answered" $((after - before)) | tee -a "$OUT/cpu-summary.txt"
}

cpu() {
    CONNS=${1:-1000}
    : >"$OUT/cpu-summary.txt"
    echo "== server CPU per request: $CONNS connections, pipeline ${PIPELINE:-1}, ${DURATION}s after ${RAMP}s ramp; load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/cpu-summary.txt"

    LOAD_PORT=$PORT
    start_server
    heartbeat_cpu "$server_pid" qkchatd
    local hb=$answered
    stop_server

    gcc -O2 -o "$OUT/floor-server" bench/floor/floor-server.c
    LOAD_PORT=$INLINE_PORT
    "${ON_SERVER_CPUS[@]}" "$OUT/floor-server" "$LOAD_PORT" $((DURATION + RAMP + 60)) &
    floor_pid=$!
    sleep 0.5
    heartbeat_cpu "$floor_pid" floor
    kill $floor_pid 2>/dev/null || true
    wait $floor_pid 2>/dev/null || true
    floor_pid=""

    "${ON_SERVER_CPUS[@]}" redis-server --port $REDIS_PORT --bind 127.0.0.1 --save '' --appendonly no --maxclients 20000 \
        --daemonize no --logfile "$ROOT/$OUT/redis.log" &
    redis_pid=$!
    sleep 0.5
    local n=$((hb > 0 ? hb : 1000000)) before after
    before=$(proc_ticks $redis_pid)
    "${ON_LOAD_CPUS[@]}" redis-benchmark -p $REDIS_PORT -t ping_mbulk -c "$CONNS" -P "${PIPELINE:-1}" -n "$n" -q >/dev/null 2>&1 || true
    after=$(proc_ticks $redis_pid)
    per_request "$redis_pid" "redis-server per PING" "$n" $((after - before)) | tee -a "$OUT/cpu-summary.txt"
    kill $redis_pid; wait $redis_pid 2>/dev/null || true
    redis_pid=""

    # send_message: the chat scenario on a fresh database; its own report has the server's CPU per message.
    export QKCHAT_DB_NAME=$CHAT_DB
    fresh_chat_db
    local users=${CHAT_USERS:-1000}
    provision_chat "$users" >/dev/null
    export "${CHAT_HASH[@]}"
    PASSWORD_QUEUE=$users start_server
    local before_chat after_chat
    before_chat=$(proc_ticks "$server_pid")
    mapfile -t args < <(RATE=0 PIPELINE=8 pair_args chat)
    "${LOADGEN_CMD[@]}" chat --connections "$users" "${args[@]}" --json "$OUT/cpu-chat.json" >"$OUT/cpu-chat.md" || true
    after_chat=$(proc_ticks "$server_pid")
    stop_server
    unset QKCHAT_PASSWORD_MEMORY_KIB QKCHAT_PASSWORD_ITERATIONS
    local sent
    sent=$(grep -o '"sent_ok": *[0-9]*' "$OUT/cpu-chat.json" | head -1 | grep -o '[0-9]*$' || echo 0)
    [[ -n $sent ]] || sent=0
    # The whole run's server CPU (logins, acks, status pushes included) per message stored and delivered.
    per_request "$server_pid" "qkchatd per send_message (all work)" "$sent" $((after_chat - before_chat)) | tee -a "$OUT/cpu-summary.txt"
    grep -E "generator CPU per message" "$OUT/cpu-chat.md" | head -1 | sed 's/^/  chat: /' | tee -a "$OUT/cpu-summary.txt"
}
