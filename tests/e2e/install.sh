#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# `make check-install`: install as a packager does (DESTDIR, PREFIX=/usr)
# into a temporary tree; every installed program must answer --version
# with the library's version and --help with its manual; a session must
# run with the bare program names on PATH, as the docs write them; and
# `make uninstall` must leave no file behind.  Run from the top of the
# tree by tests/e2e.mk, with MAKE, B, VERSION and PROGS (the
# installed programs' names) in the environment.
set -u
MAKE=${MAKE:-make}
B=${B:?B must name the build directory}
VERSION=${VERSION:?VERSION must be the library version}
PROGS=${PROGS:-}
NAME=install
D=$(mktemp -d "${TMPDIR:-/tmp}/kdcom-install.XXXXXX") || exit 1
PIDS=

cleanup() {
    status=$?
    for p in $PIDS; do
        kill -TERM "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$D"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

fail() {
    echo "FAIL $NAME: $*"
    for f in "$D"/*.log "$D"/*.out "$D"/*.err; do
        [ -s "$f" ] && tail -n 20 "$f" | sed "s|^|  $(basename "$f"): |"
    done
    exit 1
}

S=$D/stage
$MAKE --no-print-directory install DESTDIR="$S" PREFIX=/usr B="$B" \
    >"$D/install.log" 2>&1 || fail "make install failed"

# The programs the docs run by name, and whatever else is installed.
want="kdcom-shim kdcom-client kdcom-simkernel kdcom-simkernel-vm kdcom-simkernel-uart"
all=
for p in $want $PROGS; do
    case " $all " in *" $p "*) ;; *) all="$all $p" ;; esac
done
for p in $all; do
    f=$S/usr/bin/$p
    [ -f "$f" ] && [ -x "$f" ] || fail "$p is not installed in /usr/bin"
    v=$("$f" --version 2>"$D/v.err") || fail "$p --version exited $?"
    case "$v" in
        *"$VERSION"*) ;;
        *) fail "$p --version printed '$v', not version $VERSION" ;;
    esac
    "$f" --help >"$D/help.out" 2>&1 || fail "$p --help exited $?"
    grep -q "$p" "$D/help.out" || fail "$p --help does not name the program"
done
for f in "$S"/usr/bin/*; do
    case " $all " in
        *" $(basename "$f") "*) ;;
        *) fail "unexpected file installed: /usr/bin/$(basename "$f")" ;;
    esac
done

# docs/integrating.md section 7, with the bare names (a free port instead
# of 5800): the shim, the simulated kernel on the VM channel, a client.
PATH=$S/usr/bin:$PATH
export PATH
# Under `make asan` (instrumented programs), as in check-e2e: no leak
# checking for programs stopped with signals.
[ -n "${ASAN_OPTIONS:-}" ] && ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
kdcom-shim --shm "$D/kd.shm" tcp-listen:127.0.0.1:0 >"$D/shim.out" \
    2>"$D/shim.err" &
PIDS="$PIDS $!"
i=0
port=
while [ -z "$port" ] && [ $i -lt 100 ]; do
    port=$(sed -n 's/^KDCOM_SHIM_PORT=//p' "$D/shim.out")
    sleep 0.05
    i=$((i + 1))
done
[ -n "$port" ] || fail "the installed kdcom-shim did not start"
kdcom-simkernel-vm -q "$D/kd.shm" >"$D/sim.out" 2>"$D/sim.err" &
PIDS="$PIDS $!"
kdcom-client "tcp:127.0.0.1:$port" wait-stop 10000 version go \
    >"$D/client.out" 2>&1 || fail "a session with the installed programs failed"
for p in $PIDS; do
    kill -TERM "$p" 2>/dev/null
    wait "$p" 2>/dev/null
done
PIDS=

$MAKE --no-print-directory uninstall DESTDIR="$S" PREFIX=/usr B="$B" \
    >"$D/uninstall.log" 2>&1 || fail "make uninstall failed"
left=$(find "$S" ! -type d | sed "s|^$S||")
[ -z "$left" ] || fail "make uninstall left:" $left
echo "PASS $NAME: $(echo $all | wc -w) programs installed in /usr/bin" \
    "answer --version ($VERSION) and --help, run by name, and are removed"
