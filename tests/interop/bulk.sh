#!/bin/sh
# bulk.sh: 64 MiB in each direction at once between ebb and the kernel,
# ebb as client and then as server, every byte checked by SHA-256 on
# both sides (ebb hashes what it sends and receives, the Python peer
# too; each side's "sent" must equal the other's "received").
. "$(dirname "$0")/lib.sh"
setup_dev
N=67108864

# check EBB_OUT PEER_OUT: hashes and sizes agree in both directions.
check_hashes() {
	es=$(sed -n 's/^  sent     \([0-9]*\) bytes sha256 \([0-9a-f]*\).*/\1 \2/p' "$1")
	er=$(sed -n 's/^  received \([0-9]*\) bytes sha256 \([0-9a-f]*\).*/\1 \2/p' "$1")
	ps="$(json "$2" sent) $(json "$2" sent_sha)"
	pr="$(json "$2" received) $(json "$2" recv_sha)"
	[ "$es" = "$pr" ] || fail "ebb sent '$es' but the kernel side received '$pr'"
	[ "$er" = "$ps" ] || fail "the kernel side sent '$ps' but ebb received '$er'"
	[ "${es%% *}" -eq $N ] && [ "${er%% *}" -eq $N ] || fail "sizes: ebb sent ${es%% *}, received ${er%% *}"
	[ "$(json "$2" error)" = "null" ] || fail "peer error: $(json "$2" error)"
}

# ebb is the client.
bg peer1 timeout 120 $PEER --timeout 100 bulk-server --port 5001 --send $N
wait_for "$WORK/peer1.out" listening 15
t0=$(date +%s)
nsx "$EBB" bulk-client 198.18.0.2:5001 --send 64M --duration 100 -v >"$WORK/ebb1.out" 2>&1 || fail "ebb bulk-client exited $?"
wait_exit "$BGPID" 20
check_hashes "$WORK/ebb1.out" "$WORK/peer1.out"
grep -q "^errors by errno: none" "$WORK/ebb1.out" || fail "$(grep '^errors' "$WORK/ebb1.out")"
ok "ebb client: 64 MiB each way, SHA-256 equal both ways ($(($(date +%s) - t0)) s)"
grep "^  sent\|^  received" "$WORK/ebb1.out"

# ebb is the server.
bg ebb2 "$EBB" bulk-server --port 5002 --send 64M --once --duration 100 -v
SRV=$BGPID
wait_for "$WORK/ebb2.out" "listening on" 10
t0=$(date +%s)
nsx timeout 120 $PEER --timeout 100 bulk-client --connect 198.18.0.1:5002 --send $N >"$WORK/peer2.out" 2>&1 ||
	fail "python bulk-client failed"
wait_exit "$SRV" 20
[ "$RC" -eq 0 ] || fail "ebb bulk-server exited $RC"
check_hashes "$WORK/ebb2.out" "$WORK/peer2.out"
grep -q "^abandoned" "$WORK/ebb2.out" && fail "connections abandoned"
ok "ebb server: 64 MiB each way, SHA-256 equal both ways ($(($(date +%s) - t0)) s)"
grep "^  sent\|^  received" "$WORK/ebb2.out"
