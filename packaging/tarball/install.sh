#!/bin/sh
# Installs QkChat from this unpacked tarball. It is meant to be read before it is run.
#
#   ./install.sh [--prefix DIR] [--sysconfdir DIR] [--destdir DIR] [--no-user]
#   ./install.sh --uninstall [--prefix DIR] [--destdir DIR]
#
#   --prefix DIR      binaries and libsodium.so in DIR/lib/qkchat, symlinks to the binaries in DIR/bin,
#                     migrations in DIR/share/qkchat, docs in DIR/share/doc/qkchat (default /usr/local)
#   --sysconfdir DIR  configuration in DIR/qkchat/server.json and DIR/default/qkchat (default /etc)
#   --destdir DIR     write everything under DIR instead of / (staging for another packager, or a test);
#                     implies --no-user and leaves systemd alone
#   --no-user         do not create the qkchat user and /var/lib/qkchat, /var/log/qkchat (e.g. not root)
#
# What it does, in order:
#   1. copies lib/qkchat (qkchatd, qkchat-loadgen, the qkchat client and the libsodium.so qkchatd loads from
#      its own directory), share/qkchat and share/doc/qkchat under the prefix, and makes bin/qkchatd,
#      bin/qkchat-loadgen and bin/qkchat relative symlinks to ../lib/qkchat;
#   2. copies etc/qkchat/server.json and etc/default/qkchat under the sysconfdir, unless they exist: an
#      existing file is never overwritten, a newer version is put beside it as *.new;
#   3. writes /etc/systemd/system/qkchat.service and the template qkchat@.service (one node of several,
#      docs/cluster.md) with ExecStart and the config paths pointing at 1 and 2;
#   4. as root: creates the system user qkchat and /var/lib/qkchat, /var/log/qkchat (mode 0750).
# It never enables, starts or restarts the service; it prints the commands for that. Running it again
# updates the binaries and changes nothing else. --uninstall removes what steps 1 and 3 wrote and keeps the
# configuration, the state and log directories and the user (it prints them).
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)
prefix=/usr/local
sysconfdir=/etc
destdir=
make_user=yes
action=install

while [ $# -gt 0 ]; do
    case $1 in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --sysconfdir) sysconfdir=${2:?--sysconfdir needs a directory}; shift 2 ;;
    --destdir) destdir=${2:?--destdir needs a directory}; make_user=no; shift 2 ;;
    --no-user) make_user=no; shift ;;
    --uninstall) action=uninstall; shift ;;
    -h | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case $prefix$sysconfdir in
*[!A-Za-z0-9/._-]*) echo "install.sh: paths may hold only letters, digits and / . _ -" >&2; exit 2 ;;
esac
unit=$destdir/etc/systemd/system/qkchat.service
node_unit=$destdir/etc/systemd/system/qkchat@.service

systemd_here() {
    [ -z "$destdir" ] && [ -d /run/systemd/system ]
}

# Copies $1 to $2 unless $2 exists; a different existing file stays and the new one goes to $2.new.
install_config() {
    if [ ! -e "$2" ]; then
        install -m 0644 "$1" "$2"
        echo "installed $2"
    elif ! cmp -s "$1" "$2"; then
        install -m 0644 "$1" "$2.new"
        echo "kept your $2; the shipped version is $2.new"
    fi
}

if [ "$action" = uninstall ]; then
    rm -f "$destdir$prefix/bin/qkchatd" "$destdir$prefix/bin/qkchat-loadgen" "$destdir$prefix/bin/qkchat"
    rm -rf "$destdir$prefix/lib/qkchat" "$destdir$prefix/share/qkchat" "$destdir$prefix/share/doc/qkchat"
    # Only our own units: a qkchat.service or qkchat@.service written by someone else stays.
    for u in "$unit" "$node_unit"; do
        if [ -f "$u" ] && grep -q "^ExecStart=$prefix/bin/qkchatd " "$u"; then
            rm -f "$u"
            if systemd_here; then systemctl daemon-reload; fi
        fi
    done
    echo "removed QkChat from $destdir$prefix; kept $destdir$sysconfdir/qkchat, $destdir$sysconfdir/default/qkchat,"
    echo "/var/lib/qkchat, /var/log/qkchat and the user qkchat (remove them by hand if you want them gone)"
    exit 0
fi

if [ "$make_user" = yes ] && [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: creating the user qkchat needs root; run as root, or add --no-user (or --destdir)" >&2
    exit 1
fi

# 1. Binaries (the real files in lib/qkchat, beside the libsodium.so qkchatd loads from there; bin/ holds
#    relative symlinks, which -f replaces along with files an older layout put there), migrations, docs.
install -d -m 0755 "$destdir$prefix/bin" "$destdir$prefix/lib/qkchat" "$destdir$prefix/share/qkchat/sql" \
    "$destdir$prefix/share/doc/qkchat"
install -m 0755 "$here/lib/qkchat/qkchatd" "$here/lib/qkchat/qkchat-loadgen" "$here/lib/qkchat/qkchat" "$destdir$prefix/lib/qkchat/"
install -m 0644 "$here/lib/qkchat/libsodium.so" "$destdir$prefix/lib/qkchat/"
for program in qkchatd qkchat-loadgen qkchat; do
    ln -sf "../lib/qkchat/$program" "$destdir$prefix/bin/$program"
done
install -m 0644 "$here"/share/qkchat/sql/*.sql "$destdir$prefix/share/qkchat/sql/"
install -m 0644 "$here"/share/doc/qkchat/* "$destdir$prefix/share/doc/qkchat/"
echo "installed $destdir$prefix/bin/qkchatd ($("$destdir$prefix/bin/qkchatd" --version))"

# 2. Configuration: server.json and the environment file, with the paths of this installation.
install -d -m 0755 "$destdir$sysconfdir/qkchat" "$destdir$sysconfdir/default"
paths="s#/etc/qkchat/#$sysconfdir/qkchat/#g; s#/etc/default/qkchat#$sysconfdir/default/qkchat#g; s#/usr/share/doc/qkchat#$prefix/share/doc/qkchat#g; s#/usr/bin/qkchatd#$prefix/bin/qkchatd#g"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "$paths" "$here/etc/qkchat/server.json" >"$tmp/server.json"
sed "$paths" "$here/etc/default/qkchat" >"$tmp/default"
install_config "$tmp/server.json" "$destdir$sysconfdir/qkchat/server.json"
install_config "$tmp/default" "$destdir$sysconfdir/default/qkchat"

# 3. The systemd units (in /etc/systemd/system, where units not owned by a package belong).
install -d -m 0755 "$(dirname "$unit")"
for name in qkchat.service qkchat@.service; do
    sed "$paths" "$here/lib/systemd/system/$name" >"$tmp/$name"
    if ! cmp -s "$tmp/$name" "$destdir/etc/systemd/system/$name"; then
        install -m 0644 "$tmp/$name" "$destdir/etc/systemd/system/$name"
        echo "installed $destdir/etc/systemd/system/$name"
        if systemd_here; then systemctl daemon-reload; fi
    fi
done

# 4. The user and its directories, as the .deb's postinst does.
if [ "$make_user" = yes ]; then
    if ! getent passwd qkchat >/dev/null; then
        if getent group qkchat >/dev/null; then group="--gid qkchat"; else group=--user-group; fi
        # shellcheck disable=SC2086 # $group is two words on purpose
        useradd --system $group --home-dir /var/lib/qkchat --no-create-home --shell /usr/sbin/nologin \
            --comment "QkChat chat server" qkchat
        echo "created the system user qkchat"
    fi
    for dir in /var/lib/qkchat /var/lib/qkchat/mail /var/log/qkchat; do
        [ -d "$dir" ] || install -d -m 0750 -o qkchat -g qkchat "$dir"
    done
fi

echo
echo "Next: create the database and its user (see $prefix/share/doc/qkchat/packaging.md), put the password in"
echo "$sysconfdir/qkchat/db_password (root:qkchat 0640) and enable QKCHAT_DB_PASSWORD_FILE in $sysconfdir/default/qkchat."
echo "Then start it when you are ready: systemctl enable --now qkchat"
