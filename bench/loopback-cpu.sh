# Sourced by bench/loopback.sh: issue 22 point 4, server CPU per request in one run, each server measured the same way
# (its /proc/PID/stat user + system ticks over the load, divided by the requests answered):
#   qkchatd per heartbeat round trip    qkchat-loadgen heartbeat, CONNS connections, PIPELINE (1) in flight each
#   floor per round trip                the same load against bench/floor/floor-server.c (gcc -O2): one epoll loop, a
#                                       recv and a send per readiness, a fixed answer: the physical floor on loopback
#   redis-server per PING               redis-benchmark -t ping_mbulk, CONNS connections, -P PIPELINE, as many requests
#                                       as qkchatd answered
#   qkchatd per send_message            the chat scenario, CHAT_USERS (1000) users unpaced (pipeline 8) on a fresh database
# The ratios to the floor and to Redis are what issue 22 judges ("at most redis-server's per PING in the same run").
# PERF=1 also profiles qkchatd during the measured window of the heartbeat run and of the chat run (perf record -g on
# its PID; PERF_SECONDS long, default DURATION - 2, starting PERF_DELAY s after the load starts, default RAMP + 1 for
# heartbeat and RAMP + 5 for chat, whose logins come first), and prints the top frames (perf report --no-children
# --sort sym), the CPU share by thread name (--sort comm) and each thread kind's CPU from /proc/PID/task over the same
# seconds. Needs perf and, for names in the AOT binary, a build whose symbols were not stripped (publish with
# -p:StripSymbols=false, or keep qkchatd.dbg beside the binary). The profile's data stays in $OUT/perf-NAME.data.
# REFERENCES=0 skips the floor and Redis runs, CHAT=0 the chat run, HEARTBEAT=0 qkchatd's heartbeat run.
# CHAT_RATE (messages/s per user, default 0 = unpaced with pipeline 8) paces the chat run instead (pipeline 1).

proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # PID: user + system CPU in clock ticks

# PID NAME REQUESTS TICKS: one result line, microseconds of that process's CPU per request.
per_request() {
    awk -v name="$2" -v n="$3" -v t="$4" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { if (n > 0) printf "  %-34s %8.2f us CPU per request (%d requests, %.2f s CPU)\n", name, t * 1e6 / hz / n, n, t / hz; else printf "  %-34s no requests answered\n", name }'
}

# PID: per-thread CPU ticks and voluntary context switches (each one a sleep: a wait that a hand-off ends) of PID now,
# one "tid<TAB>comm<TAB>user+system ticks<TAB>switches" line each (comm may hold spaces).
thread_ticks() {
    python3 -c 'import os, sys
base = f"/proc/{sys.argv[1]}/task"
for tid in os.listdir(base):
    try:
        s = open(f"{base}/{tid}/stat").read()
        status = open(f"{base}/{tid}/status").read()
    except OSError:
        continue
    f = s[s.rindex(")") + 2:].split()
    switches = sum(int(l.split()[1]) for l in status.splitlines() if l.startswith("voluntary_ctxt_switches"))
    print(f"{tid}\t{s[s.index(chr(40)) + 1:s.rindex(chr(41))]}\t{int(f[11]) + int(f[12])}\t{switches}")' "$1" 2>/dev/null || true
}

# PID NAME DELAY: in the background, waits DELAY s, then records PERF_SECONDS of PID's stacks and each thread's CPU
# over them; profile_report NAME prints them once the load is over. Does nothing unless PERF=1.
profile_start() {
    [[ ${PERF:-0} == 1 ]] || return 0
    local pid=$1 name=$2 delay=$3 seconds=${PERF_SECONDS:-$((DURATION > 4 ? DURATION - 2 : 2))}
    (
        sleep "$delay"
        thread_ticks "$pid" >"$OUT/threads-$name.before"
        perf record -q -g -p "$pid" -o "$OUT/perf-$name.data" -- sleep "$seconds" >/dev/null 2>&1 || true
        thread_ticks "$pid" >"$OUT/threads-$name.after"
    ) &
    profile_pid=$!
}

profile_report() {
    [[ ${PERF:-0} == 1 && -n ${profile_pid:-} ]] || return 0
    local name=$1
    wait "$profile_pid" 2>/dev/null || true
    profile_pid=""
    {
        echo "  -- $name: top frames (perf report --no-children --sort sym, self time)"
        perf report -i "$OUT/perf-$name.data" --no-children --sort sym --stdio 2>/dev/null \
            | grep -E '^ +[0-9.]+%' | head -${PERF_TOP:-25} | sed 's/^/    /' || true
        echo "  -- $name: CPU share by thread name (perf report --sort comm)"
        perf report -i "$OUT/perf-$name.data" --no-children --sort comm --stdio 2>/dev/null \
            | grep -E '^ +[0-9.]+%' | head -12 | sed 's/^/    /' || true
        echo "  -- $name: CPU and voluntary context switches by thread kind over the profile (/proc/PID/task)"
        python3 - "$OUT/threads-$name.before" "$OUT/threads-$name.after" "$(getconf CLK_TCK)" "${PERF_SECONDS:-$((DURATION > 4 ? DURATION - 2 : 2))}" <<'PY'
import sys, collections
def load(p):
    d = {}
    for line in open(p):
        tid, comm, ticks, switches = line.rstrip("\n").split("\t")
        d[tid] = (comm, int(ticks), int(switches))
    return d
before, after = load(sys.argv[1]), load(sys.argv[2])
hz, seconds = int(sys.argv[3]), float(sys.argv[4])
kinds = collections.defaultdict(lambda: [0, 0, 0])
for tid, (comm, ticks, switches) in after.items():
    _, ticks0, switches0 = before.get(tid, (comm, 0, 0))
    kinds[comm][0] += ticks - ticks0
    kinds[comm][1] += switches - switches0
    kinds[comm][2] += 1
for comm, (ticks, switches, n) in sorted(kinds.items(), key=lambda kv: (-kv[1][0], -kv[1][1])):
    if ticks or switches:
        print(f"    {comm:<18} {ticks * 100 / hz / seconds:6.1f} % of a core  {switches / seconds:9.0f} sleeps/s  ({n} threads)")
PY
    } | tee -a "$OUT/cpu-summary.txt"
}

# PID NAME: the heartbeat load against the server PID listens on (LOAD_PORT); sets $answered (round trips in the window).
# The server's CPU is the loadgen's own sample of PID over the measured window (--server-pid, as `heartbeat` uses).
heartbeat_cpu() {
    local pid=$1 name=$2
    if [[ $name == qkchatd ]]; then profile_start "$pid" heartbeat "${PERF_DELAY:-$((RAMP + 1))}"; fi
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
    if [[ $name == qkchatd ]]; then profile_report heartbeat; fi
}

cpu() {
    CONNS=${1:-1000}
    : >"$OUT/cpu-summary.txt"
    echo "== server CPU per request: $CONNS connections, pipeline ${PIPELINE:-1}, ${DURATION}s after ${RAMP}s ramp; load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/cpu-summary.txt"

    LOAD_PORT=$PORT
    local hb=0
    if [[ ${HEARTBEAT:-1} != 0 ]]; then
        start_server
        heartbeat_cpu "$server_pid" qkchatd
        hb=$answered
        stop_server
    fi

    # REFERENCES=0 skips the floor and Redis (a profiling round needs only qkchatd).
    if [[ ${REFERENCES:-1} != 0 ]]; then
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
    fi

    [[ ${CHAT:-1} == 0 ]] && return 0 # CHAT=0: the heartbeat part only
    # send_message: the chat scenario on a fresh database; its own report has the server's CPU per message.
    export QKCHAT_DB_NAME=$CHAT_DB
    fresh_chat_db
    local users=${CHAT_USERS:-1000}
    provision_chat "$users" >/dev/null
    export "${CHAT_HASH[@]}"
    PASSWORD_QUEUE=$users start_server
    local before_chat after_chat
    before_chat=$(proc_ticks "$server_pid")
    if [[ ${CHAT_RATE:-0} == 0 ]]; then mapfile -t args < <(RATE=0 PIPELINE=8 pair_args chat)
    else mapfile -t args < <(RATE=$CHAT_RATE PIPELINE=1 pair_args chat); fi
    profile_start "$server_pid" chat "${PERF_DELAY:-$((RAMP + 5))}"
    "${LOADGEN_CMD[@]}" chat --connections "$users" "${args[@]}" --json "$OUT/cpu-chat.json" >"$OUT/cpu-chat.md" || true
    after_chat=$(proc_ticks "$server_pid")
    profile_report chat
    stop_server
    unset QKCHAT_PASSWORD_MEMORY_KIB QKCHAT_PASSWORD_ITERATIONS
    local sent
    sent=$(grep -o '"sent_ok": *[0-9]*' "$OUT/cpu-chat.json" | head -1 | grep -o '[0-9]*$' || echo 0)
    [[ -n $sent ]] || sent=0
    # The whole run's server CPU (logins, acks, status pushes included) per message stored and delivered.
    per_request "$server_pid" "qkchatd per send_message (all work)" "$sent" $((after_chat - before_chat)) | tee -a "$OUT/cpu-summary.txt"
    grep -E "generator CPU per message" "$OUT/cpu-chat.md" | head -1 | sed 's/^/  chat: /' | tee -a "$OUT/cpu-summary.txt"
}
