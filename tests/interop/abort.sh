#!/bin/sh
# abort.sh: abortive close with SO_LINGER {1, 0} in both directions: the
# other side's application sees ECONNRESET, and no TIME_WAIT is left on
# either side.
. "$(dirname "$0")/lib.sh"
setup_dev

# --- ebb aborts: a kernel echo server sees ECONNRESET.
bg peer timeout 30 $PEER echo-server --port 7
wait_for "$WORK/peer.out" listening 15
nsx "$EBB" echo-client 198.18.0.2:7 --linger0 --duration 20 -v >"$WORK/ebb1.out" 2>&1 || fail "ebb echo-client exited $?"
wait_exit "$BGPID" 15
[ "$(json "$WORK/peer.out" end)" = "ECONNRESET" ] || fail "the kernel's application saw '$(json "$WORK/peer.out" end)'"
grep -q "closed with RST (SO_LINGER 0)" "$WORK/ebb1.out" || fail "ebb did not abort"
grep -q "^state counts: none" "$WORK/ebb1.out" || fail "ebb holds: $(grep '^state counts' "$WORK/ebb1.out")"
[ "$(kernel_tw 7)" -eq 0 ] || fail "kernel TIME-WAIT left"
[ "$(ebb_counter "$WORK/ebb1.out" OutRsts)" -eq 1 ] || fail "ebb sent $(ebb_counter "$WORK/ebb1.out" OutRsts) RSTs"
ok "ebb SO_LINGER {1,0}: the kernel's recv() failed with ECONNRESET; no TIME_WAIT anywhere"

# --- The kernel aborts: ebb's echo server sees ECONNRESET.
bg ebb2 "$EBB" echo-server --port 7 --duration 30 -v
SRV=$BGPID
wait_for "$WORK/ebb2.out" "listening on" 10
nsx timeout 20 $PEER echo-client --connect 198.18.0.1:7 --linger0 >"$WORK/peer2.out" 2>&1 || fail "python client"
[ "$(json "$WORK/peer2.out" echoed)" = "true" ] || fail "no echo"
wait_for "$WORK/ebb2.out" "ECONNRESET" 10
grep -q "^conn 1 198.18.0.2:[0-9]*: error: ECONNRESET (Connection reset by peer)" "$WORK/ebb2.out" ||
	fail "ebb's application did not see ECONNRESET"
stop_ebb "$SRV" 15
grep -q "^errors by errno: ECONNRESET 1$" "$WORK/ebb2.out" || fail "$(grep '^errors' "$WORK/ebb2.out")"
grep -q "^state counts: none" "$WORK/ebb2.out" || fail "ebb holds: $(grep '^state counts' "$WORK/ebb2.out")"
[ "$(kernel_tw 7)" -eq 0 ] || fail "kernel TIME-WAIT left"
ok "kernel SO_LINGER {1,0}: ebb's recv() failed with ECONNRESET; no TIME_WAIT anywhere"
