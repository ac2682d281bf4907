#!/usr/bin/env bash
# Publishes qkchatd, qkchat-loadgen and the qkchat client as Native AOT binaries into DIST and fails on any trim/AOT warning
# (TrimmerSingleWarn=false in Directory.Build.props makes each one visible instead of one per assembly).
set -euo pipefail
RID=${1:-linux-x64}
DIST=${2:-dist}
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
mkdir -p "$DIST" .run
log=.run/publish.log
: >"$log"
for project in src/QkChat.Server bench/QkChat.LoadGen src/QkChat.Cli; do
    echo "publish: $project (Native AOT, $RID)"
    # Library .pdb files stay out of dist/; the stripped binary keeps its symbols in a separate .dbg file.
    if ! dotnet publish "$project" -c Release -r "$RID" -o "$DIST" -nologo -p:CopyOutputSymbolsToPublishDirectory=false >>"$log" 2>&1; then
        grep -E 'error|warning' "$log" | sort -u | head -40 >&2
        echo "publish: $project failed (full log: $log)" >&2
        exit 1
    fi
done
warnings=$(grep -E ': warning [A-Z]+[0-9]+' "$log" | sort -u || true)
if [[ -n $warnings ]]; then
    echo "$warnings" >&2
    echo "publish: trim/AOT warnings are errors here (full log: $log)" >&2
    exit 1
fi
ls -l "$DIST"/qkchatd "$DIST"/qkchat-loadgen "$DIST"/qkchat | awk '{printf "publish: %s %.1f MB\n", $NF, $5/1048576}'
