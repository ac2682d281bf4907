#!/usr/bin/env bash
# Builds OUT/qkchat-<version>-linux-x64.tar.gz from the published AOT binaries (`make tarball` publishes them
# first): the files of the .deb in a relocatable tree (lib/qkchat/ with the binaries and libsodium.so, bin/
# with relative symlinks to them, etc/, lib/systemd/system/, share/) plus install.sh, which copies them to
# a prefix of the user's choice. See docs/packaging.md.
#   scripts/package-tarball.sh [--bin-dir DIR] [--out DIR]      (both default to dist)
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=package-common.sh
source "$ROOT/scripts/package-common.sh"

pkg_args "$@" # sets BIN_DIR, OUT and version, and checks the binaries
name=qkchat-$version-linux-x64
tarball=$OUT/$name.tar.gz

stage=$(mktemp -d)
trap 'rm -rf -- "$stage"' EXIT
tree=$stage/$name
install -d -m 0755 "$tree"
pkg_stage "$tree" . etc lib/systemd/system share share/doc "$BIN_DIR"
install -m 0755 "$ROOT/packaging/tarball/install.sh" "$tree/install.sh"

mkdir -p "$OUT"
# Owned by root in the archive whoever builds it; sorted names so two builds list files alike.
tar --owner=0 --group=0 --numeric-owner --sort=name -C "$stage" -czf "$tarball" "$name"
echo "package-tarball: $tarball ($(du -k "$tarball" | cut -f1) KB)"
