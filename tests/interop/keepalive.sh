#!/bin/sh
# keepalive.sh: TCP keepalive both ways.
#  - The kernel peer vanishes (its side of the link goes down) while an
#    ebb client with SO_KEEPALIVE (idle 1 s, interval 1 s, 3 probes)
#    idles: ebb's connection ends with ETIMEDOUT after the 3 probes.
#  - ebb stops answering (SIGSTOP) while a kernel client with the same
#    keepalive settings idles: the kernel's recv() fails with ETIMEDOUT;
#    the kernel's RST reaches ebb when it runs again.
. "$(dirname "$0")/lib.sh"
need socat
setup_dev

bg socat timeout 60 socat TCP-LISTEN:7,bind=198.18.0.2,fork,reuseaddr EXEC:cat
i=0
while ! nsx ss -tlnH | grep -q ":7 "; do
	[ $i -lt 100 ] || fail "socat does not listen"
	sleep 0.05
	i=$((i + 1))
done
bg ebb1 "$EBB" echo-client 198.18.0.2:7 --tcp-keepalive 1,1,3 --idle 30 --duration 40 -v
CLI=$BGPID
wait_for "$WORK/ebb1.out" "idle for" 10
nsx ip link set ebb0 down
t0=$(date +%s)
wait_exit "$CLI" 15
t=$(($(date +%s) - t0))
[ "$RC" -ne 0 ] || fail "echo-client should fail"
grep -q "^echo-client: while idle: ETIMEDOUT (Connection timed out)" "$WORK/ebb1.out" || fail "no ETIMEDOUT"
[ "$(ebb_counter "$WORK/ebb1.out" TCPKeepAliveProbes)" -eq 3 ] || fail "probes: $(ebb_counter "$WORK/ebb1.out" TCPKeepAliveProbes), want 3"
[ "$(ebb_counter "$WORK/ebb1.out" TCPKeepAliveTimeout)" -eq 1 ] || fail "no TCPKeepAliveTimeout"
[ "$t" -ge 2 ] && [ "$t" -le 8 ] || fail "ETIMEDOUT $t s after the link went down (3 probes 1 s apart)"
grep -q "^state counts: none" "$WORK/ebb1.out" || fail "$(grep '^state counts' "$WORK/ebb1.out")"
ok "the kernel vanished: ebb's keepalive sent 3 probes, the connection ended with ETIMEDOUT ($t s)"
nsx ip link set ebb0 up

bg ebb2 "$EBB" echo-server --port 7 --duration 60 -v
SRV=$BGPID
wait_for "$WORK/ebb2.out" "listening on" 10
bg peer timeout 40 $PEER echo-client --connect 198.18.0.1:7 --keepalive 1,1,3 --wait-error 30
PEERPID=$BGPID
wait_for "$WORK/ebb2.out" "^conn 1 .*: open" 10
sleep 0.3
kill -STOP "$SRV"
wait_exit "$PEERPID" 20
kill -CONT "$SRV"
[ "$(json "$WORK/peer.out" end)" = "ETIMEDOUT" ] || fail "the kernel's application saw '$(json "$WORK/peer.out" end)'"
after=$(json "$WORK/peer.out" after)
"$PY" -c "import sys; sys.exit(not (3 <= $after <= 8))" || fail "kernel keepalive ended the connection after $after s"
wait_for "$WORK/ebb2.out" "ECONNRESET" 10
stop_ebb "$SRV" 15
grep -q "^errors by errno: ECONNRESET 1$" "$WORK/ebb2.out" || fail "$(grep '^errors' "$WORK/ebb2.out")"
grep -q "^state counts: none" "$WORK/ebb2.out" || fail "$(grep '^state counts' "$WORK/ebb2.out")"
ok "ebb stopped answering: the kernel's keepalive ended its connection with ETIMEDOUT after $after s; its RST reached ebb"
