#!/bin/sh
# http_client.sh: `ebb http-client` against kernel servers:
#  - Python's http.server (HTTP/1.0: it closes every connection first,
#    so TIME-WAIT lands on the kernel, none on ebb);
#  - socat answering and closing (the kernel server closes first);
#  - Python's http.server speaking HTTP/1.1, persistent connections,
#    the client closing first (TIME_WAIT on ebb) or asking the server to
#    (Connection: close: TIME-WAIT on the kernel);
#  - the load generator: 200 short connections over 10, client first:
#    rate and latency percentiles reported, 200 TIME_WAIT records on ebb.
. "$(dirname "$0")/lib.sh"
need socat
setup_dev
mkdir -p "$WORK/www"
echo "hello from the kernel's http.server" >"$WORK/www/index.html"

client() { # NAME ARGS...
	name=$1
	shift
	nsx "$EBB" http-client --duration 60 "$@" >"$WORK/$name.out" 2>&1
	RC=$?
}

# --- python3 -m http.server: HTTP/1.0, the server closes first.
bg pysrv sh -c "cd '$WORK/www' && exec timeout 60 '$PY' -u -m http.server --bind 198.18.0.2 8000"
wait_for "$WORK/pysrv.out" "Serving HTTP" 15
client c1 http://198.18.0.2:8000/ --print
[ "$RC" -eq 0 ] || fail "ebb http-client exited $RC"
grep -q "hello from the kernel's http.server" "$WORK/c1.out" || fail "body not printed"
client c2 http://198.18.0.2:8000/index.html -n 20 -c 4
[ "$RC" -eq 0 ] || fail "ebb http-client -n 20 exited $RC"
grep -q "^http-client: 20 requests in .* 20 ok, 0 failed, 0 not sent" "$WORK/c2.out" || fail "20 requests"
grep -q "closed first by the client 0, by the server 20$" "$WORK/c2.out" || fail "who closed: $(grep '^connections' "$WORK/c2.out")"
grep -q "^state counts: none" "$WORK/c2.out" || fail "ebb holds: $(grep '^state counts' "$WORK/c2.out")"
tw=$(kernel_tw 8000)
[ "$tw" -eq 21 ] || fail "kernel TIME-WAIT on port 8000: $tw, want 21"
ok "python http.server (HTTP/1.0) closed 21 connections first: 21 TIME-WAIT in the kernel, none in ebb"

# --- socat: answers and closes first.
# (socat's address syntax reserves ':' and ',': the answer is in a script)
printf '#!/bin/sh\nread -r line\nprintf "HTTP/1.1 200 OK\\r\\nContent-Length: 6\\r\\nConnection: close\\r\\n\\r\\nsocat\\n"\n' \
	>"$WORK/answer.sh"
bg socat timeout 60 socat TCP-LISTEN:8081,bind=198.18.0.2,fork,reuseaddr SYSTEM:"sh $WORK/answer.sh"
i=0
while ! nsx ss -tlnH | grep -q ":8081 "; do
	[ $i -lt 100 ] || fail "socat does not listen"
	sleep 0.05
	i=$((i + 1))
done
client c3 http://198.18.0.2:8081/ -n 10 -c 2
[ "$RC" -eq 0 ] || fail "ebb http-client against socat exited $RC"
grep -q "10 ok, 0 failed" "$WORK/c3.out" || fail "socat requests"
grep -q "by the server 10$" "$WORK/c3.out" || fail "socat did not close first: $(grep '^connections' "$WORK/c3.out")"
[ "$(kernel_tw 8081)" -eq 10 ] || fail "kernel TIME-WAIT on 8081: $(kernel_tw 8081)"
ok "socat closed 10 connections first: TIME-WAIT in the kernel"

# --- HTTP/1.1 persistent connections; who closes first is the client's choice.
bg py11 timeout 60 $PEER http-server11 --port 8011 --seconds 50
wait_for "$WORK/py11.out" listening 15
client c4 http://198.18.0.2:8011/ -n 20 -c 2 -k --close client
[ "$RC" -eq 0 ] || fail "keep-alive client-first exited $RC"
grep -q "^connections: 2 (2 concurrent, persistent (keep-alive)), closed first by the client 2, by the server 0" \
	"$WORK/c4.out" || fail "keep-alive client first: $(grep '^connections' "$WORK/c4.out")"
grep -q "^state counts: TIME_WAIT 2$" "$WORK/c4.out" || fail "ebb TIME_WAIT: $(grep '^state counts' "$WORK/c4.out")"
[ "$(kernel_tw 8011)" -eq 0 ] || fail "kernel TIME-WAIT though ebb closed first"
client c5 http://198.18.0.2:8011/ -n 20 -c 2 -k --close server
[ "$RC" -eq 0 ] || fail "keep-alive server-first exited $RC"
grep -q "closed first by the client 0, by the server 2" "$WORK/c5.out" || fail "server first: $(grep '^connections' "$WORK/c5.out")"
grep -q "^state counts: none" "$WORK/c5.out" || fail "ebb holds: $(grep '^state counts' "$WORK/c5.out")"
[ "$(kernel_tw 8011)" -eq 2 ] || fail "kernel TIME-WAIT on 8011: $(kernel_tw 8011), want 2"
ok "persistent connections: 20 requests over 2; --close client: TIME_WAIT on ebb; --close server: on the kernel"

# --- Load: 200 requests, a new connection each, 10 at a time, client first.
client c6 http://198.18.0.2:8011/ -n 200 -c 10 --close client
[ "$RC" -eq 0 ] || fail "load run exited $RC"
grep -q "^http-client: 200 requests in .* 200 ok, 0 failed" "$WORK/c6.out" || fail "load: $(grep '^http-client' "$WORK/c6.out")"
grep -q "^latency (connect to last byte): min .* p50 .* p90 .* p99 .* max" "$WORK/c6.out" || fail "no latency percentiles"
grep -q "^errors by errno: none" "$WORK/c6.out" || fail "$(grep '^errors' "$WORK/c6.out")"
grep -q "^state counts: TIME_WAIT 200$" "$WORK/c6.out" || fail "end-of-run: $(grep '^state counts' "$WORK/c6.out")"
grep "^http-client:\|^latency" "$WORK/c6.out"
ok "load generator: 200 new connections, client first: 200 TIME_WAIT records on ebb"
