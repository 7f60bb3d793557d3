#!/bin/sh
# http_server.sh: kernel clients (curl, a Python socket client) against
# `ebb http-server`, and where TIME_WAIT lands:
#  - the client closes first (curl keeps the connection, then exits):
#    `ss -tan` in the namespace shows TIME-WAIT on the kernel side, none
#    in ebb's listing;
#  - the server closes first (Connection: close, keep-alive off, the
#    keep-alive timeout, MaxKeepAliveRequests): ebb's listing shows
#    TIME-WAIT on ebb's side, the kernel has none;
#  - the pcap ebb wrote reads clean in tshark; SIGTERM gives the final
#    report with the TIME_WAIT records counted.
. "$(dirname "$0")/lib.sh"
need curl
setup_dev

start_server() { # NAME ARGS...
	name=$1
	shift
	bg "$name" "$EBB" http-server --duration 60 -v "$@"
	SRV=$BGPID
	wait_for "$WORK/$name.out" "listening on 198.18.0.1:80" 10
}

# --- keep-alive on (the default): curl closes first.
start_server srv1 --pcap "$WORK/srv1.pcap"
out=$(nsx timeout 10 curl -s http://198.18.0.1/) || fail "curl failed"
echo "$out" | grep -q "Hello from ebb" || fail "curl got: $out"
port=$(echo "$out" | sed -n 's/.*to 198\.18\.0\.2:\([0-9]*\)\..*/\1/p')
[ -n "$port" ] || fail "no client port in the page"
nsx ss -tan state time-wait | grep -q "198.18.0.2:$port *198.18.0.1:80" ||
	fail "curl closed first: the kernel should hold TIME-WAIT for port $port"
ss_ebb "$SRV" "$WORK/srv1.out" >"$WORK/ss1.txt"
grep -q "TIME-WAIT.*198.18.0.2:$port" "$WORK/ss1.txt" && fail "ebb holds TIME-WAIT though the client closed first"
ok "curl closed first: TIME-WAIT on the kernel side (port $port), none in ebb's listing"

# --- Connection: close from curl: the server closes first.
out=$(nsx timeout 10 curl -s -H 'Connection: close' http://198.18.0.1/close) || fail "curl (close) failed"
port=$(echo "$out" | sed -n 's/.*to 198\.18\.0\.2:\([0-9]*\)\..*/\1/p')
ss_ebb "$SRV" "$WORK/srv1.out" >"$WORK/ss2.txt"
grep -q "^TIME-WAIT .*198.18.0.1:80 *198.18.0.2:$port .*timer:(timewait," "$WORK/ss2.txt" ||
	{ cat "$WORK/ss2.txt"; fail "Connection: close: ebb should hold TIME-WAIT for port $port"; }
nsx ss -tan state time-wait | grep -q "198.18.0.2:$port " && fail "the kernel holds TIME-WAIT though ebb closed first"
ok "Connection: close honoured: ebb closed first, TIME-WAIT in ebb's listing (port $port), none in the kernel"

# --- A Python socket client: two requests on one connection, then it
# closes first; then one ending with Connection: close.
nsx timeout 20 $PEER http-get --connect 198.18.0.1:80 --requests 2 --close client >"$WORK/py1.out" ||
	fail "python client (client closes)"
port=$(json "$WORK/py1.out" local | cut -d: -f2)
[ "$(json "$WORK/py1.out" statuses)" = "[200, 200]" ] || fail "python: statuses $(json "$WORK/py1.out" statuses)"
nsx ss -tan state time-wait | grep -q "198.18.0.2:$port " || fail "python closed first: no kernel TIME-WAIT"
nsx timeout 20 $PEER http-get --connect 198.18.0.1:80 --requests 2 --close server >"$WORK/py2.out" ||
	fail "python client (server closes)"
[ "$(json "$WORK/py2.out" eof)" = "true" ] || fail "python: no EOF after Connection: close"
port2=$(json "$WORK/py2.out" local | cut -d: -f2)
ss_ebb "$SRV" "$WORK/srv1.out" >"$WORK/ss3.txt"
grep -q "^TIME-WAIT .*198.18.0.2:$port2 " "$WORK/ss3.txt" || fail "python Connection: close: no TIME-WAIT in ebb"
nsx ss -tan state time-wait | grep -q "198.18.0.2:$port2 " && fail "kernel TIME-WAIT though ebb closed first"
ok "python client: keep-alive then client close (kernel TIME-WAIT), Connection: close (ebb TIME-WAIT)"

# --- The final report counts the TIME_WAIT records: ebb closed first for
# curl's second fetch and Python's second connection.
stop_ebb "$SRV" 15
[ "$RC" -eq 0 ] || fail "http-server exited $RC after SIGTERM"
grep -q "^--- ebb http-server: final report (SIGTERM" "$WORK/srv1.out" || fail "no final report"
grep -q "^state counts: TIME_WAIT 2$" "$WORK/srv1.out" || fail "final state counts: $(grep '^state counts' "$WORK/srv1.out")"
grep -q "^closes: ebb first 2 (TIME_WAIT here), the client first 2 " "$WORK/srv1.out" || fail "close tally"
grep -q "^errors by errno: none" "$WORK/srv1.out" || fail "errors: $(grep '^errors' "$WORK/srv1.out")"
grep -q "^abandoned" "$WORK/srv1.out" && fail "connections left at exit"
check_pcap "$WORK/srv1.pcap"
ok "SIGTERM: final report with TIME_WAIT 2, no errors, nothing abandoned"

# --- Keep-alive off, MaxKeepAliveRequests, KeepAliveTimeout.
start_server srv2 --keepalive off
nsx timeout 10 curl -s -o /dev/null -D "$WORK/h.txt" http://198.18.0.1/ || fail "curl (keep-alive off)"
grep -qi "^Connection: close" "$WORK/h.txt" || fail "keep-alive off: no Connection: close"
stop_ebb "$SRV" 15
grep -q "^state counts: TIME_WAIT 1$" "$WORK/srv2.out" || fail "keep-alive off: $(grep '^state counts' "$WORK/srv2.out")"
ok "keep-alive off: the server closes every connection first"

start_server srv3 --max-requests 2 --keepalive-timeout 1
# Three fetches over curl's one connection: the second response says
# Connection: close (MaxKeepAliveRequests 2), curl reconnects for the third.
nsx timeout 10 curl -s -o /dev/null -o /dev/null -o /dev/null http://198.18.0.1/1 http://198.18.0.1/2 \
	http://198.18.0.1/3 || fail "curl (max requests)"
# A persistent connection left idle: closed by the server after 1 s.
nsx timeout 20 $PEER http-get --connect 198.18.0.1:80 --idle-wait 5 >"$WORK/py3.out" || fail "python idle client"
[ "$(json "$WORK/py3.out" eof)" = "true" ] || fail "no EOF from the keep-alive timeout"
after=$(json "$WORK/py3.out" eof_after)
"$PY" -c "import sys; sys.exit(not (0.7 <= $after <= 2.5))" || fail "keep-alive timeout 1 s closed after $after s"
stop_ebb "$SRV" 15
grep -q "max requests 1$" "$WORK/srv3.out" || fail "max requests: $(grep '^why ebb closed' "$WORK/srv3.out")"
grep -q "keep-alive timeout 1," "$WORK/srv3.out" || fail "keep-alive timeout: $(grep '^why ebb closed' "$WORK/srv3.out")"
grep -q "(1 on reused connections)" "$WORK/srv3.out" || fail "reuse count: $(grep '^http-server:' "$WORK/srv3.out")"
ok "MaxKeepAliveRequests 2 and KeepAliveTimeout 1 s (closed after $after s) close from the server"
