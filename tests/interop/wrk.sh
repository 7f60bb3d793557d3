#!/bin/sh
# wrk.sh: wrk against `ebb http-server` for a bounded time.
#  - Short connections (Connection: close, the server closes first):
#    zero socket errors; at the end ebb holds only TIME_WAIT records, one
#    per connection it closed first (but those wrk reset as it stopped),
#    less those the kernel's reused client ports reopened (TW -
#    TWRecycled: the kernel has about 14000 even ports for connect() and
#    wrk goes through them more than once); the kernel holds TIME-WAIT
#    only for what wrk cut short at the end.
#  - Persistent connections (keep-alive, MaxKeepAliveRequests 100): every
#    100th response closes; ebb's TIME_WAIT records equal those closes
#    (less those wrk reset as it stopped).
. "$(dirname "$0")/lib.sh"
need wrk
setup_dev
C=16

run() { # NAME WRK-ARGS...
	name=$1
	shift
	KTW0=$(kernel_tw 80)
	bg "srv-$name" "$EBB" http-server --duration 60 --live 1 --counters
	SRV=$BGPID
	wait_for "$WORK/srv-$name.out" "listening on" 10
	nsx timeout 30 wrk -t2 -c$C -d3s --timeout 2s "$@" http://198.18.0.1/ >"$WORK/wrk-$name.out" 2>&1 ||
		fail "wrk exited $?"
	cat "$WORK/wrk-$name.out"
	grep -q "Socket errors" "$WORK/wrk-$name.out" && fail "wrk saw socket errors"
	grep -q "Non-2xx" "$WORK/wrk-$name.out" && fail "wrk saw non-2xx answers"
	REQS=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$WORK/wrk-$name.out")
	[ "${REQS:-0}" -gt 1000 ] || fail "only ${REQS:-0} requests"
	KTW=$(kernel_tw 80)
	stop_ebb "$SRV" 15
	[ "$RC" -eq 0 ] || fail "ebb exited $RC"
	F=$WORK/srv-$name.out
	grep "^http-server\|^closes\|^why\|^errors\|^connections ended\|^state counts" "$F"
	grep -q "^abandoned" "$F" && fail "connections abandoned at exit"
	TWN=$(sed -n 's/^state counts: TIME_WAIT \([0-9]*\)$/\1/p' "$F")
	[ -n "$TWN" ] || fail "state counts at the end: $(grep '^state counts' "$F") (want only TIME_WAIT)"
	FIRST=$(sed -n 's/^closes: ebb first \([0-9]*\) .*/\1/p' "$F")
	TW=$(ebb_counter "$F" TW)
	REC=$(ebb_counter "$F" TWRecycled)
	EXP=$(ebb_counter "$F" TWExpired)
	KIL=$(ebb_counter "$F" TWKilled)
	# Every connection ebb closed first entered TIME_WAIT, except those a
	# RST ended first: wrk closing at its end while ebb's response and
	# FIN were on the way (the FINs cross, then the kernel resets).
	RSTRCV=$(sed -n 's/^connections ended:.* rst-received \([0-9]*\).*/\1/p' "$F")
	RSTRCV=${RSTRCV:-0}
	[ "$TW" -le "$FIRST" ] && [ "$FIRST" -le $((TW + RSTRCV)) ] ||
		fail "TW counter $TW, ebb closed $FIRST first, $RSTRCV ended by a RST"
	[ "$RSTRCV" -le $((2 * C)) ] || fail "$RSTRCV connections reset: more than wrk cut short at its end"
	grep "^connections ended" "$F" | grep -q "timeout" && fail "connections timed out: $(grep '^connections ended' "$F")"
	[ "$TWN" -eq $((TW - REC - EXP - KIL)) ] || fail "TIME_WAIT $TWN != TW $TW - recycled $REC - expired $EXP - killed $KIL"
	RST=$(sed -n 's/^errors by errno:.*ECONNRESET \([0-9]*\).*/\1/p' "$F")
	[ "${RST:-0}" -le $C ] || fail "$RST resets: more than the $C connections wrk cut at its end"
	# The kernel holds TIME-WAIT only for what it closed first: the
	# connections wrk cut short when it stopped.
	KTW=$((KTW - KTW0))
	[ "$KTW" -le $((2 * C)) ] || fail "$KTW TIME-WAIT sockets in the kernel for $C connections"
}

run close -H "Connection: close"
[ "$FIRST" -ge "$REQS" ] || fail "ebb closed $FIRST connections first for $REQS requests"
ok "wrk, short connections: $REQS requests, no socket errors; ebb: TIME_WAIT $TWN = TW $TW - recycled $REC; kernel: $KTW TIME-WAIT"

run keepalive
MAXC=$(sed -n 's/.*max requests \([0-9]*\)$/\1/p' "$F")
# A connection ebb chose to close (its 100th response) but that wrk
# reset as it stopped, before ebb's FIN went out, counts as a
# max-requests close and as an error, not as a close by ebb first.
[ "$FIRST" -le "$MAXC" ] && [ "$MAXC" -le $((FIRST + ${RST:-0})) ] ||
	fail "ebb closed $FIRST first, $MAXC for MaxKeepAliveRequests, ${RST:-0} reset"
[ "$MAXC" -ge $((REQS / 100 - C)) ] && [ "$MAXC" -le $((REQS / 100 + 1)) ] || fail "$MAXC max-requests closes for $REQS requests"
ok "wrk, keep-alive: $REQS requests, every 100th closes: ebb TIME_WAIT $TWN; kernel: $KTW TIME-WAIT"
