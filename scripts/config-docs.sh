#!/usr/bin/env bash
# Rewrites the generated option table in docs/configuration.md (between the two markers) from the server itself.
set -euo pipefail
dll=$1
doc=docs/configuration.md
table=$(dotnet "$dll" config-docs)
awk -v table="$table" '
    /<!-- options:begin -->/ { print; print table; skip = 1; next }
    /<!-- options:end -->/ { skip = 0 }
    !skip { print }
' "$doc" >"$doc.tmp" && mv "$doc.tmp" "$doc"
echo "config-docs: $doc updated"
