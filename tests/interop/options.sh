#!/bin/sh
# options.sh: TCP options negotiated with the kernel.  The kernel's SYN
# carries timestamps, window scaling and SACK-permitted; ebb answers all
# three; every later segment both ways carries timestamps; windows are
# scaled by the negotiated shifts.  Checked in ebb's capture (tshark),
# in the kernel's `ss -tin`, and in what ebb reports from TCP_INFO.
# Then ebb with --no-timestamps --no-sack --no-wscale: none of them.
# Both ways (ebb server and ebb client).  The captures read clean.
. "$(dirname "$0")/lib.sh"
need tshark socat
setup_dev

# A kernel client holds a connection to ebb's server while `ss -tin` looks.
hold() { # NAME EBB-ARGS...
	_h=$1
	shift
	bg "$_h" "$EBB" http-server --duration 30 -v --pcap "$WORK/$_h.pcap" "$@"
	SRV=$BGPID
	wait_for "$WORK/$_h.out" "listening on" 10
	bg "$_h-peer" timeout 20 $PEER hold --connect 198.18.0.1:80 --seconds 1.5
	wait_for "$WORK/$_h-peer.out" holding 10
	nsx ss -tinH state established "( dport = :80 )" >"$WORK/$_h-ss.txt"
	wait_exit "$BGPID" 10
	stop_ebb "$SRV" 15
	[ "$RC" -eq 0 ] || fail "ebb exited $RC"
	check_pcap "$WORK/$_h.pcap"
}

# fields PCAP FILTER FIELDS...: one line per matching packet, ';' between.
fields() {
	_p=$1
	_f=$2
	shift 2
	_args=""
	for x in "$@"; do _args="$_args -e $x"; done
	tshark -r "$_p" -Y "$_f" -T fields -E "separator=;" $_args 2>/dev/null
}

# has PCAP FILTER: does any packet match?
has() {
	[ "$(tshark -r "$1" -Y "$2" 2>/dev/null | wc -l)" -gt 0 ]
}

# --- All options on (both sides' defaults).
hold on
P=$WORK/on.pcap
SYN="tcp.flags.syn==1 && tcp.flags.ack==0"
SYNACK="tcp.flags.syn==1 && tcp.flags.ack==1"
syn=$(fields "$P" "$SYN" tcp.options.mss_val tcp.options.wscale.shift tcp.options.timestamp.tsval | head -n 1)
synack=$(fields "$P" "$SYNACK" tcp.options.mss_val tcp.options.wscale.shift tcp.options.timestamp.tsval \
	tcp.options.timestamp.tsecr | head -n 1)
echo "kernel SYN (mss;wscale;tsval): $syn"
echo "ebb SYN-ACK (mss;wscale;tsval;tsecr): $synack"
echo "$syn" | grep -Eq "^1460;[0-9]+;[0-9]+$" || fail "the kernel's SYN lacks an option: $syn"
echo "$synack" | grep -Eq "^1460;7;[0-9]+;[0-9]+$" || fail "ebb's SYN-ACK: $synack"
has "$P" "$SYN && tcp.options.sack_perm" || fail "the kernel's SYN has no SACK-permitted"
has "$P" "$SYNACK && tcp.options.sack_perm" || fail "ebb's SYN-ACK has no SACK-permitted"
kshift=$(echo "$syn" | cut -d';' -f2)
# The SYN-ACK echoes the SYN's TSval.
[ "$(echo "$synack" | cut -d';' -f4)" = "$(echo "$syn" | cut -d';' -f3)" ] || fail "TSecr of the SYN-ACK"
n=$(fields "$P" "tcp && !tcp.options.timestamp.tsval && tcp.flags.reset==0" frame.number | wc -l)
[ "$n" -eq 0 ] || fail "$n segments without timestamps"
# Windows after the handshake are scaled: ebb's by 2^7, the kernel's by 2^kshift.
fields "$P" "ip.src==198.18.0.1 && tcp.flags.syn==0" tcp.window_size_value tcp.window_size_scalefactor \
	tcp.window_size | head -n 1 | grep -Eq "^[0-9]+;128;[0-9]+$" || fail "ebb's windows are not scaled by 128"
fields "$P" "ip.src==198.18.0.2 && tcp.flags.syn==0" tcp.window_size_scalefactor | head -n 1 |
	grep -qx "$((1 << kshift))" || fail "the kernel's windows are not scaled by 2^$kshift"
cat "$WORK/on-ss.txt"
grep -q "wscale:7,$kshift" "$WORK/on-ss.txt" || fail "kernel (ss -tin): wscale is not 7,$kshift"
# `ss` of iproute2 6.1 does not print "ts sack" on newer kernels: the
# kernel's own TCP_INFO, read by the Python client, says what is in use.
kopt=$(json "$WORK/on-peer.out" options)
echo "kernel's TCP_INFO: $kopt"
[ "$kopt" = '{"ts": true, "sack": true, "wscale": true, "snd_wscale": 7, "rcv_wscale": '"$kshift"'}' ] ||
	fail "the kernel's TCP_INFO: $kopt"
ok "ebb server: timestamps, SACK-permitted and window scale ($kshift and 7) negotiated; the kernel agrees"

# --- Everything off on ebb's side.
hold off --no-timestamps --no-sack --no-wscale
P=$WORK/off.pcap
synack=$(fields "$P" "$SYNACK" tcp.options.mss_val tcp.options.wscale.shift tcp.options.timestamp.tsval | head -n 1)
[ "$synack" = "1460;;" ] || fail "ebb's SYN-ACK with the options off: $synack"
has "$P" "$SYNACK && tcp.options.sack_perm" && fail "ebb's SYN-ACK offers SACK though --no-sack"
n=$(fields "$P" "tcp.flags.syn==0 && tcp.options.timestamp.tsval" frame.number | wc -l)
[ "$n" -eq 0 ] || fail "$n segments with timestamps though ebb declined them"
cat "$WORK/off-ss.txt"
grep -Eq "wscale:" "$WORK/off-ss.txt" && fail "the kernel still scales windows"
kopt=$(json "$WORK/off-peer.out" options)
[ "$kopt" = '{"ts": false, "sack": false, "wscale": false, "snd_wscale": 0, "rcv_wscale": 0}' ] ||
	fail "the kernel's TCP_INFO: $kopt"
grep -q "open (options: none mss:1460)" "$WORK/off.out" || fail "ebb reports: $(grep 'open (' "$WORK/off.out")"
ok "ebb server with --no-timestamps --no-sack --no-wscale: the kernel uses none of them"

# --- ebb as the client, a kernel echo server.
bg kecho timeout 30 $PEER echo-server --port 7
wait_for "$WORK/kecho.out" listening 15
nsx "$EBB" echo-client 198.18.0.2:7 --duration 20 -v --pcap "$WORK/cli.pcap" >"$WORK/cli.out" 2>&1 ||
	fail "echo-client exited $?"
wait_exit "$BGPID" 10
check_pcap "$WORK/cli.pcap"
syn=$(fields "$WORK/cli.pcap" "$SYN" tcp.options.mss_val tcp.options.wscale.shift tcp.options.timestamp.tsval |
	head -n 1)
echo "ebb SYN (mss;wscale;tsval): $syn"
echo "$syn" | grep -Eq "^1460;7;[0-9]+$" || fail "ebb's SYN: $syn"
has "$WORK/cli.pcap" "$SYN && tcp.options.sack_perm" || fail "ebb's SYN offers no SACK"
kopt=$(json "$WORK/kecho.out" options)
echo "kernel server's TCP_INFO: $kopt"
echo "$kopt" | grep -q '"ts": true, "sack": true, "wscale": true, "snd_wscale": 7,' || fail "kernel server: $kopt"
ok "ebb client: its SYN offers all three; the kernel server uses them"

# --- What ebb's TCP_INFO reports (tcpi_options) matches what was negotiated.
for f in on cli; do
	line=$(grep -E "open \(options|connected in .*\(options" "$WORK/$f.out" | head -n 1)
	echo "$line" | grep -q "options: ts sack wscale:" ||
		fail "ebb's TCP_INFO says '$line' though SACK was negotiated (engine bug: tcpi_options lacks TCPI_OPT_SACK, src/sock/sockopt.c fill_tcp_info)"
done
ok "ebb's TCP_INFO reports timestamps, SACK and window scaling"
