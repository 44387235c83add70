#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Decoded traces: kd_describe() line by line (tests/e2e/kddescribe), then
# a live session decoded by the simulated kernel's --trace: requests as
# requests, replies as replies with status, address and length, the
# debugger type from GetVersion, the unload of every module, FILE_IO.
. "$(dirname "$0")/lib.sh"
TOOLS=${E2E_TOOLS:-$BIN/../tests/e2e}

"$TOOLS/kddescribe" >"$T/kddescribe.out" 2>&1 ||
    fail "kd_describe: $(cat "$T/kddescribe.out")"

start sim "$BIN/kdcom-simkernel" -q --trace decode --unload-after 200 \
    --pull-file "\\SystemRoot\\x.sys" tcp-listen:127.0.0.1:0
simk=$LAST
port=$(wait_value "$T/sim.out" KDCOM_SIM_PORT) || fail "simulated kernel did not start"
"$BIN/kdcom-client" "tcp:127.0.0.1:$port" wait-stop 10000 version go \
    sleep 600 break go >"$T/c.out" 2>&1 || fail "session failed"
grep -q "unload symbols for \"\" at 0xffffffffffffffff" "$T/c.out" ||
    fail "the client did not see the unload"
"$BIN/kdcom-client" "tcp:127.0.0.1:$port" read 0xfffff800003ffff8 16 \
    >"$T/c2.out" 2>&1
[ $? = 1 ] || fail "a read across the end of the image did not fail"
stop "$simk"
want() {
    grep -q -F -e "$1" "$T/sim.err" || fail "trace lacks: $1"
}
grep -q -e "^D>T STATE_MANIPULATE id=0x8080000[01] len=56 DbgKdGetVersionApi request\$" \
    "$T/sim.err" || fail "trace lacks the GetVersion request as a request"
grep -q "DbgKdGetVersionApi request ." "$T/sim.err" &&
    fail "a GetVersion request decoded with reply fields"
want "DbgKdGetVersionApi reply status=0x00000000 (STATUS_SUCCESS) major=0xf (kernel debugger, free build) build=19041 protocol=6 flags=0x7 machine=0x8664"
want "DbgKdReadVirtualMemoryApi request addr=0xfffff800003ffff8 count=16"
want "DbgKdReadVirtualMemoryApi reply status=0xc0000001 (STATUS_UNSUCCESSFUL) addr=0xfffff800003ffff8 count=16 actual=8 data=8"
want "DbgKdLoadSymbolsStateChange unload base=0xffffffffffffffff (all modules)"
want "DbgKdLoadSymbolsStateChange load base=0xfffff80000000000 size=0x400000 path=\"\\SystemRoot\\system32\\ntoskrnl.exe\""
want "DbgKdCreateFileApi request access=0x80100080 disposition=1 file=\"\\SystemRoot\\x.sys\""
want "DbgKdCreateFileApi reply status=0xc000000f (STATUS_NO_SUCH_FILE)"
want "DbgKdExceptionStateChange code=0x80000003 (STATUS_BREAKPOINT) exception_addr=0xfffff80000001000 pc=0xfffff80000001000"
want "DbgKdContinueApi2 request continue_status=0x00010002"
pass
