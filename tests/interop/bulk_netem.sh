#!/bin/sh
# bulk_netem.sh: 64 MiB in each direction between the kernel and an ebb
# server with 2% loss, reordering and 10 ms delay on the device:
# `tc qdisc ... netem loss 2% delay 10ms reorder 25% 50%` on ebb0 (the
# kernel's egress toward ebb), or, on kernels built without sch_netem,
# the same impairment applied by ebb's TUN driver to the packets it reads
# (--impair ...,dir=in: the same direction netem would act in).  Every
# byte is checked by SHA-256 both ways.
. "$(dirname "$0")/lib.sh"
setup_dev
N=67108864
IMPAIR=""
if nsx tc qdisc add dev ebb0 root netem loss 2% delay 10ms reorder 25% 50% 2>"$WORK/tc.err"; then
	echo "impairment: tc netem on ebb0 (loss 2%, delay 10ms, reorder 25% 50%)"
else
	echo "note: tc netem is not available ($(cat "$WORK/tc.err")); ebb's driver applies the same impairment"
	IMPAIR="--impair loss=2%,delay=10ms,reorder=25%,dir=in,seed=$$"
fi

bg ebb "$EBB" bulk-server --port 5001 --send 64M --once --duration 200 --live 10 -v $IMPAIR
SRV=$BGPID
wait_for "$WORK/ebb.out" "listening on" 10
t0=$(date +%s)
nsx timeout 230 $PEER --timeout 200 bulk-client --connect 198.18.0.1:5001 --send $N >"$WORK/peer.out" 2>&1 ||
	fail "python bulk-client failed"
wait_exit "$SRV" 30
[ "$RC" -eq 0 ] || fail "ebb bulk-server exited $RC"
es=$(sed -n 's/^  sent     \([0-9]*\) bytes sha256 \([0-9a-f]*\).*/\1 \2/p' "$WORK/ebb.out")
er=$(sed -n 's/^  received \([0-9]*\) bytes sha256 \([0-9a-f]*\).*/\1 \2/p' "$WORK/ebb.out")
[ "$es" = "$(json "$WORK/peer.out" received) $(json "$WORK/peer.out" recv_sha)" ] || fail "ebb -> kernel data differs"
[ "$er" = "$(json "$WORK/peer.out" sent) $(json "$WORK/peer.out" sent_sha)" ] || fail "kernel -> ebb data differs"
[ "${es%% *}" -eq $N ] && [ "${er%% *}" -eq $N ] || fail "sizes"
if [ -n "$IMPAIR" ]; then
	dropped=$(sed -n 's/.*impairment dropped \([0-9]*\).*/\1/p' "$WORK/ebb.out")
	[ "${dropped:-0}" -gt 0 ] || fail "the impairment dropped nothing"
else
	nsx tc -s qdisc show dev ebb0
fi
[ "$(ebb_counter "$WORK/ebb.out" TCPOFOQueue)" -gt 0 ] || fail "no out-of-order segments seen: was the link impaired?"
grep "^  sent\|^  received\|^device\|^counters" "$WORK/ebb.out"
ok "64 MiB each way over a lossy, reordering, delayed link, SHA-256 equal both ways ($(($(date +%s) - t0)) s)"
