#!/bin/sh
# ss_test.sh: `ebb ss` lists the demo's hosts as `ss -tan` does: the
# TIME-WAIT records on the active closers with their timers, the summary
# in `ss -s` form, the leak report; and 2*MSL later nothing but the
# listener.  Bad arguments give a one-line error and a non-zero exit.
set -eu
EBB=$1
out=$("$EBB" ss -o)
fail() { echo "FAIL: $*"; echo "$out"; exit 1; }
echo "$out" | grep -q "^State      Recv-Q Send-Q Local Address:Port" || fail "header"
[ "$(echo "$out" | grep -c '^TIME-WAIT .*198.18.0.1:[0-9]* *198.18.0.2:80 .*timer:(timewait,')" -eq 3 ] || fail "client TIME-WAIT rows"
[ "$(echo "$out" | grep -c '^TIME-WAIT .*198.18.0.2:80 *198.18.0.1:[0-9]* .*timer:(timewait,')" -eq 3 ] || fail "server TIME-WAIT rows"
echo "$out" | grep -q "^LISTEN .*198.18.0.2:80 *0.0.0.0:\* *fd=0" || fail "listener row"
out=$("$EBB" ss -s)
echo "$out" | grep -q "TCP:   3 (estab 0, closed 0, orphaned 0, timewait 3)" || fail "client summary"
echo "$out" | grep -q "TCP:   4 (estab 0, closed 0, orphaned 0, timewait 3)" || fail "server summary"
out=$("$EBB" ss --at 65)
echo "$out" | grep -q "TIME-WAIT" && fail "TIME-WAIT after 2*MSL"
out=$("$EBB" ss --at 0.045 --leaks)
echo "$out" | grep -q "close-wait-unread *CLOSE-WAIT" || fail "leak report"
if "$EBB" ss --at soon 2>err.txt; then fail "bad --at accepted"; fi
grep -q "ebb ss: --at wants seconds" err.txt || { cat err.txt; fail "error message"; }
rm -f err.txt
echo ok
