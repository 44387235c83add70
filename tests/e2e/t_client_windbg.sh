#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: kdcom-client -i as a WinDbg user drives it, against the
# serial simulated kernel.  help and ?, WinDbg's spellings (vertarget, r,
# db/dw/dd/dq with L, eb/ed, g) next to the client's own words, "not
# supported by kdcom-client" for other WinDbg commands, a prompt that
# tells whether the target is stopped or running, Ctrl-C breaking in,
# and an exit status of 1 exactly when a command that ran failed.
. "$(dirname "$0")/lib.sh"

C=$BIN/kdcom-client
start sim "$BIN/kdcom-simkernel" -q tcp-listen:127.0.0.1:0
port=$(wait_value "$T/sim.out" KDCOM_SIM_PORT) || fail "no port"
EP=tcp:127.0.0.1:$port

# 1. A session in WinDbg's words; mistyped and unsupported lines are
# reported but are no failed commands: exit status 0.
"$C" -i --prompt "$EP" wait-stop 10000 >"$T/s1.out" 2>"$T/s1.err" <<'EOF'
help
?
vertarget
r
r rip
read 0xfffff80000000000 16
db fffff800`00000000 L10
dw fffff800`00000000 L8
dd fffff800`00000000 L4
dq fffff800`00000000 L2
eb fffff800`00200000 c0 ff ee
db fffff800`00200000 L3
ed fffff800`00200010 0n10 deadbeef
dd fffff800`00200010 L2
expect 0xfffff80000200000 c0ffee
k
lm
!process 0 0
.sympath
frobnicate
g fffff80000001000
bp 0xfffff80000002000
bc 1
g
EOF
rc=$?
[ $rc = 0 ] || fail "session 1 exited $rc, want 0"
out=$T/s1.out
err=$T/s1.err
grep -q "db|dw|dd|dq ADDR \[L N\]" "$out" || fail "help lists no db"
[ "$(grep -c "kd> COMMANDS\$" "$out")" = 2 ] || fail "help and ? differ"
grep -q "kd> Windows Kernel Version 19041 MP (1 procs) Free x64$" "$out" ||
    fail "vertarget"
grep -q "^Kernel base = 0xfffff800\`00000000 " "$out" || fail "vertarget base"
grep -q "rip=fffff80000001000 rsp=" "$out" || fail "r: no register lines"
grep -q "efl=00000202" "$out" || fail "r: no efl"
grep -q "kd> rip=fffff80000001000\$" "$out" || fail "r rip"
# db shows what read shows, in WinDbg's layout
bytes=$(sed -n 's/^.*fffff80000000000  \(.\{47\}\).*/\1/p' "$out")
[ -n "$bytes" ] || fail "read printed nothing"
wd=$(sed -n 's/^.*fffff800`00000000  \(.\{47\}\)  .*/\1/p' "$out" | tr '-' ' ')
[ "$wd" = "$bytes" ] || fail "db shows '$wd', read '$bytes'"
set -- $bytes
grep -q "fffff800\`00000000  $2$1 $4$3 $6$5 $8$7 " "$out" || fail "dw"
grep -q "fffff800\`00000000  $4$3$2$1 $8$7$6$5 " "$out" || fail "dd"
grep -q "fffff800\`00000000  $8$7$6$5\`$4$3$2$1 " "$out" || fail "dq"
grep -q "fffff800\`00200000  c0 ff ee  " "$out" || fail "eb not read back"
grep -q "fffff800\`00200010  0000000a deadbeef\$" "$out" ||
    fail "ed not read back"
grep -q "expect: 3 bytes" "$out" || fail "eb not seen by expect"
for w in k lm '!process' .sympath; do
    grep -q "'$w' is not supported by kdcom-client" "$err" ||
        fail "'$w' not called unsupported"
done
grep -q "unknown command 'frobnicate'" "$err" || fail "frobnicate"
grep -q "going to an address is not supported" "$err" || fail "g ADDR"
grep -q "bp: breakpoint 1 at" "$out" || fail "bp"
grep -q "bc: breakpoint 1 removed" "$out" || fail "bc"
grep -q "0: kd> " "$out" || fail "no stopped prompt"
# the last prompt, after g: running
[ "$(tr -d '\n' <"$out" | sed 's/.*kd/kd/')" = "kd (running)> " ] ||
    fail "the prompt after g does not say running"

# 2. A command that runs and fails makes the exit status 1; the session
# goes on after it.
"$C" -i "$EP" >"$T/s2.out" 2>"$T/s2.err" <<'EOF'
r
db fffff800`003ffff8 L10
vertarget
EOF
rc=$?
[ $rc = 1 ] || fail "session 2 exited $rc, want 1"
grep -q "db: memory at fffff800\`00400000 is not readable" "$T/s2.err" ||
    fail "the unreadable db was not reported"
grep -q "fffff800\`003ffff8  .*-?? ?? ?? ?? ?? ?? ?? ??" "$T/s2.out" ||
    fail "db did not mark the unreadable bytes"
grep -q "^Windows Kernel Version" "$T/s2.out" ||
    fail "the session ended at the failed command"

# 3. Ctrl-C at a running prompt breaks in, and the prompt says so; the
# client goes on until q.
mkfifo "$T/in" || fail "mkfifo"
exec 3<>"$T/in" # a writer first: the client's open does not block
# (not start(): an asynchronous command's stdin would be /dev/null)
"$C" -i --prompt "$EP" <"$T/in" >"$T/s3.out" 2>"$T/s3.err" &
client=$!
PIDS="$PIDS $client"
echo g >&3
wait_line "$T/s3.out" "go: target" 10 || fail "g did not run"
wait_line "$T/s3.out" "kd (running)> " 5 || fail "no running prompt"
kill -INT "$client"
wait_line "$T/s3.out" "break: Ctrl-C, sending break-in" 5 ||
    fail "Ctrl-C did not break in"
wait_line "$T/s3.out" "target: stopped, exception" 10 ||
    fail "the target did not stop"
sleep 0.2
[ "$(tr -d '\n' <"$T/s3.out" | sed 's/.*kd/kd/')" = "kd> " ] ||
    fail "the prompt after the break-in does not say stopped"
kill -0 "$client" 2>/dev/null || fail "Ctrl-C ended the client"
echo 'r rip' >&3
wait_line "$T/s3.out" "rip=fffff80000001000" 10 || fail "r after Ctrl-C"
echo q >&3
exec 3>&-
wait_exit "$client" 10 || fail "q did not end the client"
[ "$RC" = 0 ] || fail "session 3 exited $RC, want 0"
pass "help, WinDbg spellings, unsupported commands, prompt, Ctrl-C, status"
