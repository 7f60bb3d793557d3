#!/bin/sh
# errors.sh: bad arguments give a one-line error naming the problem and
# a non-zero exit: an address that does not parse, a URL that is not an
# IPv4 one, a bad option value, no permission to open a TUN device
# (an unprivileged user; root without CAP_NET_ADMIN), a port in use, a
# device another process holds.
. "$(dirname "$0")/lib.sh"
need setpriv
setup_dev

# expect NAME REGEX nsx CMD...: CMD, run in the namespace, fails (status
# != 0) with exactly one line on stderr matching REGEX.
expect() {
	_n=$1
	_re=$2
	shift 2
	[ "$1" = nsx ] && shift
	ip netns exec "$NS" timeout 20 "$@" >"$WORK/$_n.stdout" 2>"$WORK/$_n.err"
	_rc=$?
	[ $_rc -ne 0 ] || fail "$_n: exit status 0"
	[ "$(wc -l <"$WORK/$_n.err")" -eq 1 ] || { cat "$WORK/$_n.err"; fail "$_n: not one line on stderr"; }
	grep -Eq -- "$_re" "$WORK/$_n.err" || fail "$_n: '$(cat "$WORK/$_n.err")' does not match '$_re'"
	echo "ok: $_n: $(cat "$WORK/$_n.err") (exit $_rc)"
}

expect bad-addr "^ebb http-server: --addr: '198\.18\.0\.300' is not an IPv4 address$" \
	nsx "$EBB" http-server --addr 198.18.0.300
expect bad-target "^ebb echo-client: '198\.18\.0:7' is not an IPv4 address and port" \
	nsx "$EBB" echo-client 198.18.0:7
expect bad-url "^ebb http-client: 'http://example\.com/' is not a URL like .*IPv4 address" \
	nsx "$EBB" http-client http://example.com/
expect bad-kaddr "^ebb bulk-server: --kernel-addr: 'x\.y/24' is not an address/prefix" \
	nsx "$EBB" bulk-server --kernel-addr x.y/24
expect bad-port "^ebb http-server: --port wants a port" nsx "$EBB" http-server --port 70000
expect bad-impair "^ebb bulk-client: --impair: cannot parse 'loss=lots'" \
	nsx "$EBB" bulk-client 198.18.0.2:5001 --impair loss=lots
expect bad-keepalive "^ebb echo-client: --tcp-keepalive wants IDLE,INTVL,COUNT" \
	nsx "$EBB" echo-client 198.18.0.2:7 --tcp-keepalive 1,2
expect unknown "^ebb echo-server: unknown argument '--frobnicate'" nsx "$EBB" echo-server --frobnicate
expect no-perm-user "^ebb http-server: cannot open TUN device ebb0: permission denied on /dev/net/tun: run as root" \
	nsx setpriv --reuid=65534 --regid=65534 --clear-groups "$EBB" http-server --duration 5
# Root without CAP_NET_ADMIN may attach to an existing device that has no
# owner (the kernel's rule), but not create one.
expect no-perm-cap "^ebb http-server: cannot open TUN device ebbnew: operation not permitted: .*needs CAP_NET_ADMIN" \
	nsx setpriv --inh-caps=-net_admin --bounding-set=-net_admin "$EBB" http-server --dev ebbnew --duration 5
expect port-in-use "^ebb http-server: cannot listen on 198\.18\.0\.1:80: Address already in use \(EADDRINUSE\)$" \
	nsx "$EBB" http-server --port 80,80 --duration 5
bg holder "$EBB" echo-server --duration 20
wait_for "$WORK/holder.out" "listening on" 10
expect busy "^ebb http-server: cannot open TUN device ebb0: the device is busy: another process has it open$" \
	nsx "$EBB" http-server --duration 5
stop_ebb "$BGPID" 10

# The device deleted under a running server: a one-line error, the
# connections aborted, the report, a non-zero exit (and no busy loop).
bg gone "$EBB" http-server --duration 20
SRV=$BGPID
wait_for "$WORK/gone.out" "listening on" 10
nsx ip link del ebb0
wait_exit "$SRV" 5
[ "$RC" -ne 0 ] || fail "exit status 0 after the device was deleted"
grep -q "^ebb http-server: reading ebb0: .*: stopping$" "$WORK/gone.out" || fail "no error line for the deleted device"
grep -q "^--- ebb http-server: final report (device error" "$WORK/gone.out" || fail "no final report"
ok "device deleted: $(grep 'reading ebb0' "$WORK/gone.out") (exit $RC)"
