# Shared by scripts/package-deb.sh and scripts/package-tarball.sh (sourced, not run): the version, the
# published binaries, and the one list of files both packages ship, so the .deb and the tarball cannot drift.
# Expects ROOT (the checkout) to be set.

# Docs shipped to .../share/doc/qkchat; the optional ones are added when another issue has written them.
PKG_DOCS_REQUIRED=(README.md docs/configuration.md docs/tuning.md docs/cluster.md)
PKG_DOCS_OPTIONAL=(docs/protocol.md docs/loadgen.md docs/mail.md docs/cli.md)

# What `dotnet publish` leaves in dist/ and both packages ship in <prefix>/lib/qkchat/: the AOT programs (each
# also reachable as <prefix>/bin/NAME, a relative symlink) and the native libraries they P/Invoke. qkchatd
# loads libsodium.so (Argon2id, through Geralt) from the directory of its real executable, which it finds
# through /proc/self/exe, so the symlink in bin/ works and the library must sit beside the real file.
PKG_PROGRAMS=(qkchatd qkchat-loadgen qkchat)
PKG_LIBRARIES=(libsodium.so)

die() { echo "${0##*/}: $*" >&2; exit 1; }

# The version lives in one place, <Version> in Directory.Build.props; qkchatd --version prints the same
# value (plus "+commit"), so a binary published from another version is refused below.
pkg_version() {
    local v
    v=$(sed -n 's:.*<Version>\([^<]*\)</Version>.*:\1:p' "$ROOT/Directory.Build.props" | head -n 1)
    [[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+([~.+-][0-9A-Za-z.~+-]*)?$ ]] || die "no usable <Version> in Directory.Build.props ('$v')"
    echo "$v"
}

# Fails unless BIN_DIR holds the AOT binaries and the native libraries and qkchatd reports VERSION (a stale
# dist/ is a wrong package).
pkg_check_binaries() {
    local bin_dir=$1 version=$2 reported f
    for f in "${PKG_PROGRAMS[@]}"; do
        [[ -x $bin_dir/$f ]] || die "$bin_dir/$f missing: run \`make publish\` first"
    done
    for f in "${PKG_LIBRARIES[@]}"; do
        [[ -f $bin_dir/$f ]] || die "$bin_dir/$f missing: run \`make publish\` first"
    done
    reported=$("$bin_dir/qkchatd" --version) || die "$bin_dir/qkchatd --version failed"
    [[ $reported == "qkchatd $version" || $reported == "qkchatd $version+"* ]] ||
        die "$bin_dir/qkchatd reports '$reported', Directory.Build.props says $version: run \`make publish\`"
}

# The two scripts' common command line: [--bin-dir DIR] [--out DIR], both defaulting to dist. Sets BIN_DIR,
# OUT and version, and refuses binaries that are missing or of another version.
pkg_args() {
    BIN_DIR=$ROOT/dist OUT=$ROOT/dist
    while (($#)); do
        case $1 in
            --bin-dir) BIN_DIR=${2:?}; shift 2 ;;
            --out) OUT=${2:?}; shift 2 ;;
            *) die "unknown argument '$1' (usage: $0 [--bin-dir DIR] [--out DIR])" ;;
        esac
    done
    version=$(pkg_version)
    pkg_check_binaries "$BIN_DIR" "$version"
}

# Lays out the shipped files under DEST with the given directories (each relative to DEST):
#   pkg_stage DEST PREFIX SYSCONFDIR UNITDIR DATADIR DOCDIR BIN_DIR
# The programs and libraries go to PREFIX/lib/qkchat; PREFIX/bin gets a relative symlink per program
# (../lib/qkchat/NAME), so a tree moved elsewhere still works. Binaries are the stripped AOT files only:
# their .dbg symbol files and the library .pdb files in dist/ are never shipped. Modes are set explicitly
# so a umask or a checkout's modes (dotnet publish leaves libsodium.so 0744) cannot leak into a package.
pkg_stage() {
    local dest=$1 prefix=$2 sysconfdir=$3 unitdir=$4 datadir=$5 docdir=$6 bin_dir=$7 doc f
    install -d -m 0755 "$dest/$prefix/bin" "$dest/$prefix/lib/qkchat" "$dest/$sysconfdir/qkchat" \
        "$dest/$sysconfdir/default" "$dest/$unitdir" "$dest/$datadir/qkchat/sql" "$dest/$docdir/qkchat"
    for f in "${PKG_PROGRAMS[@]}"; do
        install -m 0755 "$bin_dir/$f" "$dest/$prefix/lib/qkchat/"
        ln -s "../lib/qkchat/$f" "$dest/$prefix/bin/$f"
    done
    for f in "${PKG_LIBRARIES[@]}"; do
        install -m 0644 "$bin_dir/$f" "$dest/$prefix/lib/qkchat/"
    done
    install -m 0644 "$ROOT/packaging/etc/server.json" "$dest/$sysconfdir/qkchat/server.json"
    install -m 0644 "$ROOT/packaging/etc/default-qkchat" "$dest/$sysconfdir/default/qkchat"
    install -m 0644 "$ROOT/packaging/systemd/qkchat.service" "$dest/$unitdir/qkchat.service"
    install -m 0644 "$ROOT/packaging/systemd/qkchat@.service" "$dest/$unitdir/qkchat@.service"
    install -m 0644 "$ROOT"/sql/*.sql "$dest/$datadir/qkchat/sql/"
    for doc in "${PKG_DOCS_REQUIRED[@]}"; do
        install -m 0644 "$ROOT/$doc" "$dest/$docdir/qkchat/"
    done
    for doc in "${PKG_DOCS_OPTIONAL[@]}"; do
        [[ -f $ROOT/$doc ]] && install -m 0644 "$ROOT/$doc" "$dest/$docdir/qkchat/"
    done
    install -m 0644 "$ROOT/docs/packaging.md" "$dest/$docdir/qkchat/packaging.md"
}
