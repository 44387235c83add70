#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: kdcom-client checks every argument before it connects.
# Each bad one gets a message that names the command and the argument,
# and exit status 2 (usage), with nothing connected: the endpoint is a
# listening socket that would report a connection, and a path nobody
# listens on (whose error would be the connection's, status 3).  The
# manual has its sections and --version prints libkdcom's version.  A
# control-space read the target refuses names the read and the index.
. "$(dirname "$0")/lib.sh"

C=$BIN/kdcom-client

# A listener that reports a connection: kdcom-client waiting for one.
start l "$C" --connect-timeout 0 tcp-listen:127.0.0.1:0
port=$(sed -n 's/^listening on 127.0.0.1://p' "$T/l.out")
i=0
while [ -z "$port" ] && [ $i -lt 100 ]; do
    sleep 0.05
    i=$((i + 1))
    port=$(sed -n 's/^listening on 127.0.0.1://p' "$T/l.out")
done
[ -n "$port" ] || fail "the listener did not start"

count=0
OPT=
bad() { # MESSAGE-PATTERN COMMAND [ARGS]...  ($OPT: an option before them)
    pat=$1
    shift
    for ep in "tcp:127.0.0.1:$port" "unix:$T/nobody"; do
        # shellcheck disable=SC2086
        "$C" $OPT "$ep" "$@" >"$T/x.out" 2>&1
        got=$?
        [ "$got" = 2 ] || fail "'$*' on $ep exited $got, want 2: $(cat "$T/x.out")"
        grep -q -e "$pat" "$T/x.out" ||
            fail "'$*' did not say '$pat': $(cat "$T/x.out")"
        grep -q -e "connect" "$T/x.out" &&
            fail "'$*' tried to connect: $(cat "$T/x.out")"
    done
    count=$((count + 1))
}

bad "read: LEN '0' is out of range (1..256M)" read 0xfffff80000000000 0
bad "read: LEN '257M' is out of range" read 0xfffff80000000000 257M
bad "read: ADDR 'fffff800' is not a number" read fffff800 16
bad "read: LEN '16x' is not a size" read 0x1000 16x
bad "read: ADDR '0xfffffffffffffff0' plus the length passes the end" \
    read 0xfffffffffffffff0 0x20
bad "verify: LEN '0'" verify 0xfffff80000000000 0
bad "bench-read: LEN '0'" bench-read 0xfffff80000000000 0
bad "physical: ADDR '-1' is not a number" physical -1 16
bad "control: LEN '0' is out of range (1..3944)" control 2 0
bad "control: LEN '4000' is out of range (1..3944)" control 2 4000
bad "control: INDEX 'two' is not a number" control two 16
bad "context-ex: LEN '0' is out of range (1..3944)" context-ex 0 0
bad "context-ex: OFFSET '4294967296' is out of range" context-ex 4294967296 16
bad "write: HEXBYTES 'abc' is not an even number of hex digits" \
    write 0xfffff80000200000 abc
bad "write: HEXBYTES '0xc0ff' is not an even number of hex digits" \
    write 0xfffff80000200000 0xc0ff
bad "expect: HEXBYTES ''" expect 0xfffff80000200000 ""
bad "write-control: HEXBYTES 'zz'" write-control 2 zz
bad "bc: HANDLE '0' is out of range (1..4294967295)" bc 0
bad "bp: ADDR 'here' is not a number" bp here
bad "rdmsr: MSR '0x100000000' is out of range" rdmsr 0x100000000
bad "query: ADDR '' is not a number" query ""
bad "wait-stop: MS '0' is out of range (1..86400000)" wait-stop 0
bad "wait-stop: MS '86400001' is out of range" wait-stop 86400001
bad "wait-print: TEXT '' is empty" wait-print "" 1000
bad "wait-print: MS 'soon' is not a number" wait-print booting soon
bad "monitor: MS '-5' is not a number" monitor -5
bad "sleep: MS '1.5' is not a number" sleep 1.5
bad "db: COUNT 'L0' is out of range" db fffff800\`00000000 L0
bad "dd: ADDR 'xyz' is not a number" dd xyz
bad "dq: COUNT 'Lz' is not a count" dq 1000 Lz
bad "eb: VALUE '100' does not fit in 1 byte" eb 1000 "90 100"
bad "ew: VALUE '10000' does not fit in 2 bytes" ew 1000 10000
bad "'eb' needs an address and values" eb 1000
bad "'read' needs 2 arguments" read 0x1000
bad "unknown command 'frobnicate'" version frobnicate
bad "'k' is not supported by kdcom-client" version k
bad "'quit' is for interactive mode" version quit
# a bad argument after good commands: still nothing runs
bad "read: LEN '0'" version go read 0x1000 0
# options
OPT="--timeout x" bad "--timeout: bad argument 'x'" version
OPT="--settle 60001" bad "--settle: bad argument '60001'" version
OPT="--chunk 0" bad "--chunk: bad argument '0'" version
OPT="--bench-read 0" bad "--bench-read: bad argument '0'" version
OPT=

grep -q "target connected" "$T/l.out" && fail "a bad argument connected"
# the same port does take a connection: the checks above were no luck
"$C" --sync-timeout 300 "tcp:127.0.0.1:$port" wait-stop 100 >"$T/ok.out" 2>&1
wait_line "$T/l.out" "target connected" 5 ||
    fail "the listener did not see the good command line connect"

# The manual and the version.
"$C" --help >"$T/help.out" 2>&1 || fail "--help exited $?"
for s in NAME SYNOPSIS DESCRIPTION ENDPOINTS COMMANDS OPTIONS \
    "EXIT STATUS" EXAMPLES; do
    grep -q "^$s\$" "$T/help.out" || fail "--help has no $s section"
done
for w in "vertarget" "db|dw|dd|dq" "eb|ew|ed|eq" "r \[REG\]" "--settle" \
    "--prompt" "not supported by kdcom-client"; do
    grep -q -e "$w" "$T/help.out" || fail "--help does not mention $w"
done
v=$(sed -n 's/^#define KDCOM_VERSION_STRING "\(.*\)"$/\1/p' \
    "$(dirname "$0")/../../include/kdcom.h")
[ "$("$C" --version)" = "kdcom-client (libkdcom) $v" ] ||
    fail "--version says '$("$C" --version)', want libkdcom $v"

# control: the refused read names the control-space read and the index.
start sim "$BIN/kdcom-simkernel" -q tcp-listen:127.0.0.1:0
sport=$(wait_value "$T/sim.out" KDCOM_SIM_PORT) || fail "no port"
"$C" "tcp:127.0.0.1:$sport" wait-stop 10000 control 2 16 control 7 16 \
    >"$T/ctl.out" 2>&1
[ $? = 1 ] || fail "a refused control read did not fail with status 1"
grep -q "control: index 2 of processor 0: 16 of 16 bytes" "$T/ctl.out" ||
    fail "control 2 16 was not read"
grep -q "control: control-space read of index 7 (16 bytes): the target answered STATUS_UNSUCCESSFUL" \
    "$T/ctl.out" || fail "the refused control read: $(cat "$T/ctl.out")"
grep -q "control.* at 0x" "$T/ctl.out" && fail "control named an address"
pass "$count bad command lines refused before connecting"
