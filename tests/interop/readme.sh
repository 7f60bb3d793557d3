#!/bin/sh
# readme.sh: the README's walkthrough ("ebb on a TUN device") as a new
# user runs it: in a fresh namespace, `ebb http-server` creates the
# device and gives the kernel side its address; curl fetches the page;
# `ss -tan` shows where TIME-WAIT landed; Ctrl-C (SIGINT) prints the
# final report and the device is gone.
. "$(dirname "$0")/lib.sh"
need curl
nsx ip link set lo up
bg server "$EBB" http-server --duration 60
SRV=$BGPID
wait_for "$WORK/server.out" "listening on 198.18.0.1:80" 10
grep -q "device ebb0 (created), ebb at 198.18.0.1, kernel side 198.18.0.2/24" "$WORK/server.out" ||
	fail "startup line: $(head -n 1 "$WORK/server.out")"
nsx timeout 10 curl -s http://198.18.0.1/ >"$WORK/page.out" || fail "curl: $?"
grep -q "<h1>Hello from ebb</h1>" "$WORK/page.out" || fail "the page"
nsx ss -tan | grep -q "^TIME-WAIT .*198.18.0.2:[0-9]* *198.18.0.1:80" || fail "no TIME-WAIT in ss -tan"
kill -INT "$SRV"
wait_exit "$SRV" 10
[ "$RC" -eq 0 ] || fail "ebb exited $RC after SIGINT"
grep -q "^--- ebb http-server: final report (SIGINT" "$WORK/server.out" || fail "no final report"
nsx ip link show ebb0 >/dev/null 2>&1 && fail "ebb0 still exists after ebb exited"
ok "README walkthrough: ebb created ebb0, curl fetched the page, SIGINT gave the report, the device is gone"
