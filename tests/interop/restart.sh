#!/bin/sh
# restart.sh: a server restarted on the same port while TIME_WAIT
# records of its connections exist, with and without SO_REUSEADDR, on
# both sides.  As Linux: without SO_REUSEADDR bind() fails with
# EADDRINUSE; with it (on the old and the new socket) it succeeds.
#  - ebb: `http-server --restart-after 1` closes its listener after one
#    connection it closed first (a TIME_WAIT record on port 80) and
#    listens again in the same stack;
#  - the kernel: a Python server that closes first, run again.
. "$(dirname "$0")/lib.sh"
need curl
setup_dev

# --- ebb without SO_REUSEADDR: the restart fails.
bg ebb1 "$EBB" http-server --restart-after 1 --duration 30
SRV=$BGPID
wait_for "$WORK/ebb1.out" "listening on" 10
nsx timeout 10 curl -s -H 'Connection: close' -o /dev/null http://198.18.0.1/ || fail "curl"
wait_exit "$SRV" 15
[ "$RC" -ne 0 ] || fail "the failed restart should end ebb with a non-zero status"
grep -q "SO_REUSEADDR off, 1 TIME_WAIT record(s) on port 80" "$WORK/ebb1.out" || fail "no TIME_WAIT record at the restart"
grep -q "^ebb http-server: cannot listen on 198.18.0.1:80: Address already in use (EADDRINUSE)$" "$WORK/ebb1.out" ||
	fail "no EADDRINUSE"
ok "ebb, SO_REUSEADDR off: listening again on port 80 fails with EADDRINUSE (a TIME_WAIT record holds it)"

# --- ebb with SO_REUSEADDR: the restart succeeds and serves again.
bg ebb2 "$EBB" http-server --restart-after 1 --reuseaddr --duration 30
SRV=$BGPID
wait_for "$WORK/ebb2.out" "listening on" 10
nsx timeout 10 curl -s -H 'Connection: close' -o /dev/null http://198.18.0.1/ || fail "curl"
wait_for "$WORK/ebb2.out" "^restart: listening again" 10
grep -q "SO_REUSEADDR on, 1 TIME_WAIT record(s) on port 80" "$WORK/ebb2.out" || fail "no TIME_WAIT record at the restart"
nsx timeout 10 curl -s http://198.18.0.1/ | grep -q "Hello from ebb" || fail "no answer after the restart"
stop_ebb "$SRV" 15
[ "$RC" -eq 0 ] || fail "ebb exited $RC"
ok "ebb, SO_REUSEADDR on: listening again succeeds with the TIME_WAIT record there, and serves"

# --- The kernel, without SO_REUSEADDR.
serve() { # NAME PORT [--reuseaddr]
	bg "$1" timeout 30 $PEER http-serve --port "$2" --count 1 ${3:-}
	wait_for "$WORK/$1.out" '"event": "(listening|bind)"' 15
}
serve k1 8080
nsx "$EBB" http-client http://198.18.0.2:8080/ --duration 20 >"$WORK/c1.out" 2>&1 || fail "ebb http-client"
wait_exit "$BGPID" 10
[ "$(kernel_tw 8080)" -eq 1 ] || fail "no kernel TIME-WAIT on 8080"
serve k2 8080
wait_exit "$BGPID" 10
[ "$(json "$WORK/k2.out" error)" = "EADDRINUSE" ] || fail "the kernel's restart without SO_REUSEADDR: $(cat "$WORK/k2.out")"
ok "kernel, SO_REUSEADDR off: the restarted server's bind() fails with EADDRINUSE"

# --- The kernel, with SO_REUSEADDR.
serve k3 8081 --reuseaddr
nsx "$EBB" http-client http://198.18.0.2:8081/ --duration 20 >"$WORK/c3.out" 2>&1 || fail "ebb http-client"
wait_exit "$BGPID" 10
[ "$(kernel_tw 8081)" -eq 1 ] || fail "no kernel TIME-WAIT on 8081"
serve k4 8081 --reuseaddr
grep -q '"event": "listening"' "$WORK/k4.out" || fail "the kernel's restart with SO_REUSEADDR: $(cat "$WORK/k4.out")"
nsx "$EBB" http-client http://198.18.0.2:8081/ --duration 20 >"$WORK/c4.out" 2>&1 || fail "no answer after the restart"
grep -q "hello from the kernel" "$WORK/c4.out" || fail "body"
ok "kernel, SO_REUSEADDR on: the restarted server binds with the TIME-WAIT there, and serves ebb again"
