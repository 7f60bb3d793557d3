#!/bin/sh
# echo.sh: `ebb echo-server` and `ebb echo-client` against the kernel
# (a Python client, socat as the server), plain and half-closed, and the
# engine's timers on a clean link: after a small exchange and an idle
# connection, no tail loss probe or retransmission timeout may fire
# (everything was acknowledged; Linux clears its timer then).
. "$(dirname "$0")/lib.sh"
need socat
setup_dev

# --- Kernel client, ebb server: the client closes first.
bg ebb1 "$EBB" echo-server --port 7 --duration 30
SRV=$BGPID
wait_for "$WORK/ebb1.out" "listening on" 10
nsx timeout 20 $PEER echo-client --connect 198.18.0.1:7 --message "$(printf 'x%.0s' $(seq 1 3000))" \
	>"$WORK/peer1.out" 2>&1 || fail "python echo client"
[ "$(json "$WORK/peer1.out" echoed)" = "true" ] || fail "echo differs"
wait_for "$WORK/ebb1.out" "EOF from the peer, echoed 3000 bytes, closed" 10
stop_ebb "$SRV" 15
[ "$RC" -eq 0 ] || fail "echo-server exited $RC"
grep -q "^state counts: none" "$WORK/ebb1.out" || fail "$(grep '^state counts' "$WORK/ebb1.out")"
[ "$(kernel_tw 7)" -eq 1 ] || fail "kernel TIME-WAIT: $(kernel_tw 7)"
ok "python client -> ebb echo-server: 3000 bytes echoed, the client closed first"

# --- ebb client, socat server; ebb closes first after 2 s idle.
bg socat timeout 60 socat TCP-LISTEN:7007,bind=198.18.0.2,fork,reuseaddr EXEC:cat
i=0
while ! nsx ss -tlnH | grep -q ":7007 "; do
	[ $i -lt 100 ] || fail "socat does not listen"
	sleep 0.05
	i=$((i + 1))
done
nsx "$EBB" echo-client 198.18.0.2:7007 --count 3 --idle 2 --duration 20 -v >"$WORK/ebb2.out" 2>&1 || fail "echo-client exited $?"
grep -q "45 bytes echoed .*identical" "$WORK/ebb2.out" || fail "echo"
grep -q "^state counts: TIME_WAIT 1$" "$WORK/ebb2.out" || fail "$(grep '^state counts' "$WORK/ebb2.out")"
ok "ebb echo-client -> socat: identical echo; ebb closed first (TIME_WAIT on ebb)"

nsx "$EBB" echo-client 198.18.0.2:7007 --half-close --duration 20 -v >"$WORK/ebb3.out" 2>&1 || fail "half-close exited $?"
grep -q "FIN sent (half-close); reading on" "$WORK/ebb3.out" || fail "no half-close"
grep -q "EOF from the server" "$WORK/ebb3.out" || fail "no EOF after the half-close"
ok "ebb echo-client --half-close: FIN first, the echo still read, then the server's FIN"

# Nothing was lost on this link: any retransmission timer that fired
# in the idle exchange above is spurious.
for c in RetransSegs TCPLossProbes TCPTimeouts; do
	v=$(ebb_counter "$WORK/ebb2.out" $c)
	if [ "$v" -ne 0 ]; then
		grep "tcp_info" "$WORK/ebb2.out"
		fail "$c=$v after a clean exchange and 2 s idle: a timer fired with nothing outstanding (engine bug: the TLP timer survives the ACK of everything, src/tcp/input.c; the RTO that follows collapses cwnd)"
	fi
done
grep -q "tcp_info before close: cwnd 10," "$WORK/ebb2.out" || fail "cwnd changed on an idle connection: $(grep 'tcp_info before' "$WORK/ebb2.out")"
ok "no spurious TLP or RTO on an idle connection"
