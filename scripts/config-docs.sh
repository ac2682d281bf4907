#!/usr/bin/env bash
# Rewrites the generated option table in docs/configuration.md (between the two markers) from the server itself:
# `qkchatd config-docs` renders it from OptionRegistry (src/QkChat.Server/Configuration). Everything outside the
# markers (precedence, secrets, reload, the unit name `qkchat` in `systemctl reload qkchat`) is written by hand in
# docs/configuration.md itself and kept as it is here: fix that prose there, fix the table in the registry.
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
