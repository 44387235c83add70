#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: what kdcom-shim says and leaves behind.  A start that fails
# (an endpoint in use, an ivshmem socket it cannot make, a file it will
# not take) leaves no channel file and no socket; an existing empty file
# is reported as grown, not created, and one with data is never changed;
# out-of-range values name their range; a malformed tcp-listen names its
# own form; a debugger that does not listen yet is retried with the
# reason said; --help says where the WinDbg line goes; the link counters
# at exit add up every debugger and every guest; a channel file deleted
# under the shim is reported with what to do.
. "$(dirname "$0")/lib.sh"

S=$BIN/kdcom-shim

expect_rc() { # RC MESSAGE-PATTERN CMD...
    want=$1 pat=$2
    shift 2
    "$@" >"$T/x.out" 2>&1
    got=$?
    [ "$got" = "$want" ] || fail "'$*' exited $got, want $want: $(cat "$T/x.out")"
    grep -q -e "$pat" "$T/x.out" || fail "'$*' did not say '$pat': $(cat "$T/x.out")"
}

# A failed start leaves nothing behind.
shim_up # holds a port
expect_rc 1 "Address already in use" \
    "$S" --shm "$T/new.shm" "tcp-listen:127.0.0.1:$PORT"
[ ! -e "$T/new.shm" ] || fail "a start refused on its port left the channel file"
start us "$S" --shm "$T/kd.shm" "unix-listen:$T/kd.sock"
US=$LAST
wait_line "$T/us.err" "served on unix socket" 5 || fail "no unix socket"
expect_rc 1 "another process is listening" \
    "$S" --shm "$T/new.shm" "unix-listen:$T/kd.sock"
[ ! -e "$T/new.shm" ] || fail "a start refused on its socket left the channel file"
stop "$US"
expect_rc 1 "ivs.sock: No such file or directory" "$S" --shm "$T/new.shm" \
    --ivshmem-server "$T/no/such/dir/ivs.sock" "unix-listen:$T/new.sock"
[ ! -e "$T/new.shm" ] || fail "a failed ivshmem server left the channel file"
[ ! -e "$T/new.sock" ] || fail "a failed ivshmem server left the debugger socket"
expect_rc 1 "not a power of two" "$S" --shm "$T/new.shm" --shm-size 12K \
    --ivshmem-server "$T/ivs.sock" "tcp-listen:127.0.0.1:0"
[ ! -e "$T/new.shm" ] || fail "a refused size left the channel file"
[ ! -e "$T/ivs.sock" ] || fail "a refused size left the ivshmem socket"

# An existing empty file is grown, and said so; so is one of zeros too
# short for a channel.  One with data in it is refused and left alone.
: >"$T/empty.shm"
start g "$S" --shm "$T/empty.shm" --shm-size 64K tcp-listen:127.0.0.1:0
G=$LAST
wait_value "$T/g.out" KDCOM_SHIM_PORT >/dev/null || fail "empty file: no start"
stop "$G"
grep -q "grew $T/empty.shm from 0 to 65536 bytes" "$T/g.err" ||
    fail "empty file not reported as grown: $(cat "$T/g.err")"
grep -q "created" "$T/g.err" && fail "an existing file was reported as created"
[ "$(stat -c %s "$T/empty.shm")" = 65536 ] || fail "empty file not grown"
head -c 4096 /dev/zero >"$T/zeros.shm"
start g "$S" --shm "$T/zeros.shm" tcp-listen:127.0.0.1:0
G=$LAST
wait_value "$T/g.out" KDCOM_SHIM_PORT >/dev/null || fail "zero file: no start"
stop "$G"
grep -q "grew $T/zeros.shm from 4096 to 1048576 bytes" "$T/g.err" ||
    fail "short zero file not reported as grown: $(cat "$T/g.err")"
printf 'data' >"$T/data.shm"
expect_rc 1 "size 4 bytes, smaller than a channel file (12K..1G, 12288..1073741824 bytes), and not empty" \
    "$S" --shm "$T/data.shm" tcp-listen:127.0.0.1:0
[ "$(cat "$T/data.shm")" = data ] || fail "a file with data was changed"
# A failed start gives a grown file its size back.
: >"$T/empty2.shm"
expect_rc 1 "Address already in use" \
    "$S" --shm "$T/empty2.shm" "tcp-listen:127.0.0.1:$PORT"
[ "$(stat -c %s "$T/empty2.shm")" = 0 ] || fail "a failed start left the file grown"

# Out-of-range values say the range; malformed endpoints name their form.
expect_rc 2 "--shm-size 1K is out of range: 12K..1G" \
    "$S" --shm "$T/r.shm" --shm-size 1K tcp-listen:0
expect_rc 2 "--shm-size 2G is out of range: 12K..1G" \
    "$S" --shm "$T/r.shm" --shm-size 2G tcp-listen:0
expect_rc 2 "--idle-poll 0 is out of range: 1..60000 ms" \
    "$S" --shm "$T/r.shm" --idle-poll 0 tcp-listen:0
expect_rc 2 "--ivshmem-vectors 17 is out of range: 1..16" \
    "$S" --shm "$T/r.shm" --ivshmem-vectors 17 tcp-listen:0
expect_rc 2 "--ack-timeout 0 is out of range: 1..3600000 ms" \
    "$S" --shm "$T/r.shm" --ack-timeout 0 tcp-listen:0
expect_rc 2 "--receive-timeout 3600001 is out of range: 1..3600000 ms" \
    "$S" --shm "$T/r.shm" --receive-timeout 3600001 tcp-listen:0
expect_rc 2 "expected tcp-listen:\[HOST:\]PORT" \
    "$S" --shm "$T/r.shm" tcp-listen::5800
expect_rc 2 "expected tcp-listen:\[HOST:\]PORT" \
    "$S" --shm "$T/r.shm" tcp-listen:127.0.0.1:x
[ ! -e "$T/r.shm" ] || fail "a usage error left a channel file"

# --help: the WinDbg line goes to stderr, the port line to stdout.
"$S" --help >"$T/help.out" 2>&1 || fail "--help failed"
tr -s ' \n' '  ' <"$T/help.out" >"$T/help.flat"
grep -q "Everything else goes to stderr: the WinDbg command line" "$T/help.flat" ||
    fail "--help does not say that the WinDbg line goes to stderr"
grep -q "stdout gets one line for scripts, once the shim serves: KDCOM_SHIM_PORT=PORT" \
    "$T/help.flat" || fail "--help does not say what goes to stdout"
grep -q "windbg -k com:ipport" "$T/shim.out" &&
    fail "the WinDbg line went to stdout"
grep -q "attach WinDbg with: windbg -k com:ipport=$PORT,port=127.0.0.1" \
    "$T/shim.err" || fail "no WinDbg line on stderr"
stop "$SHIM"

# Connecting to a debugger that is not listening: retried, and why.
start c "$S" --shm "$T/c.shm" --unlink "tcp:127.0.0.1:$PORT"
CS=$LAST
wait_line "$T/c.err" "connect to 127.0.0.1:$PORT: Connection refused; retrying" 5 ||
    fail "a failing connect was not reported: $(cat "$T/c.err")"
sleep 2.2
[ "$(grep -c "Connection refused" "$T/c.err")" = 1 ] ||
    fail "the same reason was reported more than once"
stop "$CS"

# The link counters at exit are totals: three debuggers, two guests.
shim_up
kernel_up sim1
"$BIN/kdcom-client" "tcp:127.0.0.1:$PORT" wait-stop 10000 version go \
    >"$T/k1.out" 2>&1 || fail "first session failed"
"$BIN/kdcom-client" "tcp:127.0.0.1:$PORT" version go \
    >"$T/k2.out" 2>&1 || fail "second session failed"
stop "$SIM"
kernel_up sim2
wait_line "$T/shim.err" "guest restarted" 10 || fail "second guest not seen"
"$BIN/kdcom-client" "tcp:127.0.0.1:$PORT" wait-stop 10000 version go \
    >"$T/k3.out" 2>&1 || fail "third session failed"

# The channel file deleted under the shim: reported, with what to do.
rm -f "$T/kd.shm"
wait_line "$T/shim.err" "channel file $T/kd.shm removed" 5 ||
    fail "the deletion was not reported"
grep -q "create the file again .*truncate -s 1048576 $T/kd.shm" "$T/shim.err" ||
    fail "the deletion message does not say what to do"
stop "$SIM"
stop "$SHIM"
resets=$(sed -n 's/.*kdcom-shim: link: .* resets_received=\([0-9]*\) .*/\1/p' "$T/shim.err")
received=$(sed -n 's/.*kdcom-shim: link: .* packets_received=\([0-9]*\) .*/\1/p' "$T/shim.err")
wire=$(sed -n 's/.*kdcom-shim: channel: .* wire_resets=\([0-9]*\).*/\1/p' "$T/shim.err")
[ "$wire" = 3 ] || fail "channel: wire_resets=$wire, want 3"
[ -n "$resets" ] && [ "$resets" -ge 3 ] ||
    fail "link: resets_received=$resets over 3 debuggers: not a total"
# Each session sends at least GetVersion and a continue.
[ -n "$received" ] && [ "$received" -ge 6 ] ||
    fail "link: packets_received=$received over 3 sessions: not a total"
pass "no file left by failed starts, grown not created, ranges, forms, retries, totals, deletion"
