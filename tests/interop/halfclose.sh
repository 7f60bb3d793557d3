#!/bin/sh
# halfclose.sh: half-close in both directions; the side that sent its
# FIN first keeps receiving, the other keeps sending after the FIN:
#  - ebb sends 1 MiB then FIN; the kernel reads to EOF, only then sends
#    4 MiB and its FIN; ebb receives all of it (TIME_WAIT on ebb);
#  - the kernel sends 1 MiB then FIN; ebb reads to EOF, only then sends
#    4 MiB; the kernel receives all of it (TIME-WAIT on the kernel).
. "$(dirname "$0")/lib.sh"
setup_dev

hashes() { # EBB_OUT PEER_OUT SENT RECEIVED
	es=$(sed -n 's/^  sent     \([0-9]*\) bytes sha256 \([0-9a-f]*\).*/\1 \2/p' "$1")
	er=$(sed -n 's/^  received \([0-9]*\) bytes sha256 \([0-9a-f]*\).*/\1 \2/p' "$1")
	[ "$es" = "$(json "$2" received) $(json "$2" recv_sha)" ] || fail "ebb -> kernel: ebb '$es', kernel $(json "$2" received)"
	[ "$er" = "$(json "$2" sent) $(json "$2" sent_sha)" ] || fail "kernel -> ebb: ebb '$er', kernel $(json "$2" sent)"
	[ "${es%% *}" -eq "$3" ] && [ "${er%% *}" -eq "$4" ] || fail "sizes: sent ${es%% *}, received ${er%% *}"
	[ "$(json "$2" error)" = "null" ] || fail "kernel side: $(json "$2" error)"
}

# --- ebb's FIN first.
bg peer1 timeout 60 $PEER bulk-server --port 5001 --send 4194304 --after-eof
wait_for "$WORK/peer1.out" listening 15
nsx "$EBB" bulk-client 198.18.0.2:5001 --send 1M --duration 50 -v >"$WORK/ebb1.out" 2>&1 || fail "ebb bulk-client exited $?"
wait_exit "$BGPID" 20
hashes "$WORK/ebb1.out" "$WORK/peer1.out" 1048576 4194304
grep -q "sent 1048576 bytes, FIN sent; receiving on" "$WORK/ebb1.out" || fail "ebb did not FIN before receiving"
grep -q "first FIN: ebb" "$WORK/ebb1.out" || fail "first FIN"
"$PY" -c "import sys; sys.exit(not ($(json "$WORK/peer1.out" eof_at) < $(json "$WORK/peer1.out" fin_at)))" ||
	fail "the kernel side sent its FIN before ebb's"
grep -q "^state counts: TIME_WAIT 1$" "$WORK/ebb1.out" || fail "ebb closed first: $(grep '^state counts' "$WORK/ebb1.out")"
[ "$(kernel_tw 5001)" -eq 0 ] || fail "kernel TIME-WAIT though ebb's FIN was first"
ok "ebb FIN first, then received 4 MiB after it; hashes equal; TIME_WAIT on ebb"

# --- The kernel's FIN first.
bg ebb2 "$EBB" bulk-server --port 5002 --send 4M --after-eof --once --duration 50 -v
SRV=$BGPID
wait_for "$WORK/ebb2.out" "listening on" 10
nsx timeout 60 $PEER bulk-client --connect 198.18.0.1:5002 --send 1048576 >"$WORK/peer2.out" 2>&1 || fail "python client"
wait_exit "$SRV" 20
[ "$RC" -eq 0 ] || fail "ebb bulk-server exited $RC"
hashes "$WORK/ebb2.out" "$WORK/peer2.out" 4194304 1048576
grep -q "first FIN: the peer" "$WORK/ebb2.out" || fail "first FIN"
"$PY" -c "import sys; sys.exit(not ($(json "$WORK/peer2.out" fin_at) < $(json "$WORK/peer2.out" eof_at)))" ||
	fail "the kernel did not FIN before receiving"
[ "$(kernel_tw 5002)" -eq 1 ] || fail "kernel TIME-WAIT on 5002: $(kernel_tw 5002)"
grep -q "^state counts: none" "$WORK/ebb2.out" || fail "ebb holds: $(grep '^state counts' "$WORK/ebb2.out")"
ok "kernel FIN first, ebb sent 4 MiB after it; hashes equal; TIME-WAIT on the kernel"
