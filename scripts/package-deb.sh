#!/usr/bin/env bash
# Builds OUT/qkchat_<version>_amd64.deb with dpkg-deb from the published AOT binaries (`make deb` publishes
# them first). Layout, maintainer scripts and the decisions behind them: docs/packaging.md.
#   scripts/package-deb.sh [--bin-dir DIR] [--out DIR]      (both default to dist)
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=package-common.sh
source "$ROOT/scripts/package-common.sh"

pkg_args "$@" # sets BIN_DIR, OUT and version, and checks the binaries
deb=$OUT/qkchat_${version}_amd64.deb

stage=$(mktemp -d)
trap 'rm -rf -- "$stage"' EXIT
chmod 0755 "$stage"
# /lib/systemd/system, not /usr/lib: where Debian 12's own packages put units (the /usr move came later).
pkg_stage "$stage" usr etc lib/systemd/system usr/share usr/share/doc "$BIN_DIR"

# The oldest glibc the binaries accept is the newest GLIBC_x.y symbol version they or the shipped libraries
# import (what dpkg-shlibdeps would compute), read from the real files in /usr/lib/qkchat, not the symlinks.
# libssl is dlopen'ed at the first TLS handshake, so no tool can see it. libsodium is shipped, not depended
# on: Debian's libsodium23 has libsodium.so.23 only, and Geralt loads the unversioned libsodium.so.
glibc=$(for f in "${PKG_PROGRAMS[@]}" "${PKG_LIBRARIES[@]}"; do
    objdump -T "$stage/usr/lib/qkchat/$f" || die "objdump -T $f failed"
done | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
[[ -n $glibc ]] || die "could not read the glibc symbol versions of the binaries"

install -d -m 0755 "$stage/DEBIAN"
install -m 0644 "$ROOT/packaging/deb/conffiles" "$stage/DEBIAN/conffiles"
install -m 0755 "$ROOT/packaging/deb/postinst" "$ROOT/packaging/deb/prerm" "$ROOT/packaging/deb/postrm" "$stage/DEBIAN/"
installed_kb=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: qkchat
Version: $version
Architecture: amd64
Maintainer: ${QKCHAT_DEB_MAINTAINER:-QkChat developers <no-reply@qkchat.local>}
Installed-Size: $installed_kb
Depends: libc6 (>= $glibc), libssl3 | libssl3t64, passwd
Recommends: mariadb-server, redis-server
Section: net
Priority: optional
Description: fast open chat (instant messaging) server
 qkchatd serves length-prefixed JSON chat over TCP and TLS, keeps its data in
 MariaDB and its fast state in Redis. One Native AOT binary with a systemd unit
 (Type=notify, hardened); qkchat-loadgen measures what a deployment can carry,
 and qkchat is a small interactive chat client for trying it out.
 The package never enables or starts the service.
CONTROL
chmod 0644 "$stage/DEBIAN/control"

mkdir -p "$OUT"
# --root-owner-group: every file root:root without fakeroot; zstd: ~0.1 s where xz takes ~8 s.
dpkg-deb --root-owner-group -Zzstd --build "$stage" "$deb" >/dev/null
echo "package-deb: $deb ($(du -k "$deb" | cut -f1) KB)"
