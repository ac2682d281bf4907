# Issue 21's benchmarks (file transfer), sourced by bench/loopback.sh: `bench/loopback.sh files [MIB]`.
# Uses loopback.sh's settings (OUT, PORT, QKCHATD_CMD, LOADGEN_CMD, DURATION, RAMP, CHAT_HASH, STORM_PASSWORD, ...).
# Everything on 127.0.0.1, bounded in bytes and time; a fresh database and an empty file store per run.
#   1. throughput: one client uploads a MIB (default 100) MiB file in the server's 8 MiB chunks (tus PATCH with
#      sha256; qkchat-loadgen upload --verify-download, which also downloads it back), then curl PUTs the same number
#      of bytes to a plain HTTP server (a few lines of Python that write the body to a file and fsync it, as qkchatd
#      fsyncs each chunk) and GETs them back from python3 -m http.server; MB/s each way and qkchatd / curl (target
#      >= 80 %, issue 21). The download is also measured with curl on both sides (curl GETs qkchatd's copy while the
#      server still runs; best of GETS (3) GETs each side): the same client, so that ratio is the servers' own.
#   2. chat during uploads: heartbeat p99 of HB_CONNECTIONS (default 1000) connections for DURATION s, alone, then
#      again while UPLOADERS (default 4) clients each upload a MIB MiB file (issue 21: uploads must not starve chat).
# Smoke run (proves the script, no figures): MIB=8 HB_CONNECTIONS=50 DURATION=3 RAMP=1 bench/loopback.sh files
# FILES_CHAT=0 skips part 2.

FILES_HTTP_PORT=$((PORT + 3))
REF_PUT_PORT=$((PORT + 4))
REF_GET_PORT=$((PORT + 5))
ref_pids=()

stop_refs() { for p in "${ref_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; ref_pids=(); }

wait_port() { # PORT
    for _ in $(seq 1 100); do
        (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0
        sleep 0.1
    done
    echo "files: nothing listens on $1" >&2
    exit 1
}

# The file store, HTTP listener and limits of a files run: 100 MiB files are the default cap; the daily budget is
# raised so that repeated runs on one database never meet it.
files_env() {
    export QKCHAT_DB_NAME=$CHAT_DB QKCHAT_HTTP_PORT=$FILES_HTTP_PORT QKCHAT_HTTP_HOST=127.0.0.1 \
        QKCHAT_FILES_DIR="$ROOT/$OUT/files-store" QKCHAT_FILES_PUBLIC_URL="http://127.0.0.1:$FILES_HTTP_PORT" \
        QKCHAT_FILES_MAX_MB_PER_DAY=1000000 QKCHAT_FILES_SECRET=loopback-bench
    rm -rf "$OUT/files-store"
}

# The reference servers. Download: python3 -m http.server, a plain static file server (Debian has no nginx or
# lighttpd installed by default; python3 is always there). Upload: no plain static server takes a PUT (http.server
# has none; nginx needs its dav module), so a few lines of Python on the same http.server: it reads the body into one
# reused 1 MiB buffer (readinto, no copy per read), writes it to DIR/<name> and fsyncs once at the end before
# answering 201. That is the least any durable upload does (qkchatd also checks a sha256 per chunk and of the whole
# file, fsyncs each 8 MiB chunk and records it in MariaDB), so the ratio is qkchatd against "write it and fsync".
ref_put_server() {
    cat >"$OUT/put-server.py" <<'PY'
import http.server, os, sys
root = sys.argv[2]
class Put(http.server.BaseHTTPRequestHandler):
    def do_PUT(self):
        left = int(self.headers["Content-Length"])
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        with open(os.path.join(root, os.path.basename(self.path)), "wb", buffering=0) as f:
            while left > 0:
                n = self.rfile.readinto(view[:min(left, len(buf))])
                if not n: break
                f.write(view[:n])
                left -= n
            os.fsync(f.fileno())
        self.send_response(201 if left == 0 else 400)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Put).serve_forever()
PY
    mkdir -p "$OUT/files-ref"
    python3 "$OUT/put-server.py" "$REF_PUT_PORT" "$OUT/files-ref" &
    ref_pids+=($!)
    python3 -m http.server "$REF_GET_PORT" --bind 127.0.0.1 --directory "$OUT/files-ref" >/dev/null 2>&1 &
    ref_pids+=($!)
    wait_port "$REF_PUT_PORT"
    wait_port "$REF_GET_PORT"
}

# curl GET of URL to /dev/null, best of GETS (default 3) in MB/s * 1e6 (bytes/s): one GET of 100 MiB takes a few tenths of
# a second, so one descheduling on a loaded box halves it; the best of a few is the same rule for both servers.
best_get() { # URL
    local best=0 s
    for _ in $(seq 1 "${GETS:-3}"); do
        s=$(timeout 300 curl -sf -o /dev/null -w '%{speed_download}' "$1" || echo 0)
        best=$(awk -v a="$best" -v b="$s" 'BEGIN { print (b > a ? b : a) }')
    done
    echo "$best"
}

files_throughput() { # MIB
    local mib=$1 bytes=$(($1 * 1024 * 1024))
    echo "== files: one ${mib} MiB file in 8 MiB chunks, qkchatd vs curl to a plain HTTP server"
    fresh_chat_db
    env "${CHAT_HASH[@]}" QKCHAT_LOG_LEVEL=warning QKCHAT_DB_AUTO_MIGRATE=true QKCHAT_CONFIG_PATH="$OUT/empty.json" QKCHAT_LOG_TO_FILE=false \
        "${QKCHATD_CMD[@]}" provision-users --count 1 --prefix lgf --password "$STORM_PASSWORD" >/dev/null
    export "${CHAT_HASH[@]}"
    start_server
    wait_port "$FILES_HTTP_PORT"
    # The deadline bounds the run: ramp + duration + 5 s, at least a minute for 100 MiB each way on a slow box.
    timeout 600 "${LOADGEN_CMD[@]}" upload --port $PORT --connections 1 --file-bytes "${mib}M" --verify-download --ramp-up 0 \
        --duration "${FILES_DURATION:-120}" --request-timeout 60 --prefix lgf --password "$STORM_PASSWORD" --server-pid "$server_pid" --quiet \
        --json "$OUT/files-upload.json" >"$OUT/files-upload.md" || true
    grep -E "uploads completed|throughput|chunk latency|verified|errors|verdict" "$OUT/files-upload.md" | sed "s/^/  qkchatd: /"
    # The same client both ways: curl GETs the file just uploaded from qkchatd as it GETs the reference copy below
    # (both in the page cache, just written), so the download ratio compares the servers, not .NET's HTTP client
    # with curl. The URL is signed here as get_file_url signs it (SignedTokens.DownloadSignature: HMAC-SHA256 of
    # "d|<file id>|<expires ms>" under SHA-256 of files.secret, base64url); a fresh database holds this one file.
    local file_id url qget
    file_id=$(mariadb -h "$QKCHAT_DB_HOST" -P "$QKCHAT_DB_PORT" -u "$QKCHAT_DB_USER" -p"$(cat "$QKCHAT_DB_PASSWORD_FILE")" -N \
        -e "SELECT MAX(file_id) FROM $CHAT_DB.files")
    url=$(python3 - "$file_id" "$QKCHAT_FILES_SECRET" "$FILES_HTTP_PORT" <<'PY'
import base64, hashlib, hmac, sys, time
file_id, secret, port = sys.argv[1:4]
expires = int(time.time() * 1000) + 600_000
mac = hmac.new(hashlib.sha256(secret.encode()).digest(), f"d|{file_id}|{expires}".encode(), hashlib.sha256).digest()
print(f"http://127.0.0.1:{port}/files/d/{file_id}?e={expires}&s=" + base64.urlsafe_b64encode(mac).decode().rstrip("="))
PY
)
    qget=$(best_get "$url")
    stop_server

    ref_put_server
    # Random bytes of the same size as qkchat-loadgen's file (it makes its own random file in memory): neither side
    # compresses, so only the size matters. curl reads the source from the page cache (read once here first).
    head -c "$bytes" /dev/urandom >"$OUT/files-src.bin"
    cat "$OUT/files-src.bin" >/dev/null
    local put get
    put=$(timeout 300 curl -sf -o /dev/null -w '%{speed_upload}' -T "$OUT/files-src.bin" "http://127.0.0.1:$REF_PUT_PORT/files-copy.bin" || echo 0)
    get=$(best_get "http://127.0.0.1:$REF_GET_PORT/files-copy.bin")
    stop_refs
    cmp -s "$OUT/files-src.bin" "$OUT/files-ref/files-copy.bin" || echo "  curl: the PUT copy differs from the source" >&2
    rm -f "$OUT/files-src.bin" "$OUT/files-ref/files-copy.bin"
    local up down
    up=$(grep -o '"upload_megabytes_per_s": *[0-9.]*' "$OUT/files-upload.json" | grep -o '[0-9.]*$' || echo 0)
    down=$(grep -o '"download_megabytes_per_s": *[0-9.]*' "$OUT/files-upload.json" | grep -o '[0-9.]*$' || echo 0)
    awk -v up="$up" -v down="$down" -v put="$put" -v get="$get" -v qget="$qget" 'BEGIN {
        printf "  curl PUT %.1f MB/s, GET %.1f MB/s\n", put / 1e6, get / 1e6
        printf "  upload:   qkchatd %.1f MB/s / curl %.1f MB/s = %.0f %% (target >= 80 %%)\n", up, put / 1e6, (put > 0 ? up * 1e8 / put : 0)
        printf "  download: qkchatd %.1f MB/s / curl %.1f MB/s = %.0f %% (target >= 80 %%)\n", down, get / 1e6, (get > 0 ? down * 1e8 / get : 0)
        printf "  download, curl both ways: qkchatd %.1f MB/s / reference %.1f MB/s = %.0f %% (target >= 80 %%)\n", qget / 1e6, get / 1e6, (get > 0 ? qget * 100 / get : 0)
    }' | tee "$OUT/files-ratio.txt"
}

files_chat() { # MIB
    local mib=$1 conns=${HB_CONNECTIONS:-1000} uploaders=${UPLOADERS:-4}
    echo "== files: heartbeat p99 of $conns connections, alone and while $uploaders clients upload ${mib} MiB each"
    fresh_chat_db
    env "${CHAT_HASH[@]}" QKCHAT_LOG_LEVEL=warning QKCHAT_DB_AUTO_MIGRATE=true QKCHAT_CONFIG_PATH="$OUT/empty.json" QKCHAT_LOG_TO_FILE=false \
        "${QKCHATD_CMD[@]}" provision-users --count "$uploaders" --prefix lgf --password "$STORM_PASSWORD" >/dev/null
    export "${CHAT_HASH[@]}"
    start_server
    wait_port "$FILES_HTTP_PORT"
    loadgen $PORT "$conns" "files-hb-alone"
    # The uploads start with the heartbeats' ramp and run through their window (or end earlier: the p99 then covers
    # part of the window without uploads; the upload report says how long they took).
    timeout 600 "${LOADGEN_CMD[@]}" upload --port $PORT --connections "$uploaders" --file-bytes "${mib}M" --ramp-up 0 \
        --duration "$((DURATION + RAMP))" --request-timeout 60 --prefix lgf --password "$STORM_PASSWORD" --quiet \
        --json "$OUT/files-uploads-during.json" >"$OUT/files-uploads-during.md" &
    local uploads=$!
    loadgen $PORT "$conns" "files-hb-uploading"
    wait $uploads || true
    grep -E "uploads completed|throughput|chunk latency|errors|verdict" "$OUT/files-uploads-during.md" | sed "s/^/  uploads during: /"
    stop_server
    local alone during
    alone=$(grep -o '"p99": *[0-9]*' "$OUT/files-hb-alone.json" | head -1 | grep -o '[0-9]*$' || echo 0)
    during=$(grep -o '"p99": *[0-9]*' "$OUT/files-hb-uploading.json" | head -1 | grep -o '[0-9]*$' || echo 0)
    awk -v a="$alone" -v d="$during" 'BEGIN { printf "  heartbeat p99: alone %.3f ms, during uploads %.3f ms (x%.2f)\n", a / 1000, d / 1000, (a > 0 ? d / a : 0) }' |
        tee "$OUT/files-heartbeat.txt"
}

files() { # [MIB]
    local mib=${1:-${MIB:-100}}
    files_env
    trap 'stop_server; stop_refs; true' EXIT
    files_throughput "$mib"
    # FILES_CHAT=0: the throughput part only (an A/B of the transfer path; the heartbeat part takes minutes).
    [[ ${FILES_CHAT:-1} == 0 ]] || files_chat "$mib"
}
