#!/bin/sh
# demo_test.sh: `ebb demo` tells the story it claims (TIME-WAIT on the
# active closer, the lost final ACK answered from TIME-WAIT, the counts
# before and after 2*MSL) and writes a pcap that tshark reads with no
# malformed packet and no bad checksum.
set -eu
EBB=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
"$EBB" demo > out.txt
fail() { echo "FAIL: $*"; cat out.txt; exit 1; }
grep -q "closed first by the client (its final ACK is lost)" out.txt || fail "no lost-ACK connection"
[ "$(grep -c 'TIME-WAIT is held by the client' out.txt)" -eq 3 ] || fail "client TIME-WAIT count"
[ "$(grep -c 'TIME-WAIT is held by the server' out.txt)" -eq 3 ] || fail "server TIME-WAIT count"
[ "$(grep -c '  lost$' out.txt)" -eq 1 ] || fail "exactly one lost segment"
# Counts as the seeds' awk prints them, then nothing after 2*MSL.
awk '/^State counts now/,/^61 s later/' out.txt | grep -q "TIME_WAIT 3" || fail "TIME_WAIT 3 before expiry"
awk '/^61 s later/,0' out.txt | grep -q "TIME_WAIT" && fail "TIME_WAIT left after 2*MSL"
test -s demo.pcap || fail "no demo.pcap"
if ! command -v tshark >/dev/null 2>&1; then
	echo "SKIP: tshark is not installed (make check installs it)"
	exit 77
fi
n=$(tshark -r demo.pcap 2>/dev/null | wc -l)
[ "$n" -gt 20 ] || fail "tshark read only $n packets"
bad=$(tshark -r demo.pcap -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
	-Y "_ws.malformed || _ws.expert.severity >= 8388608 || tcp.checksum.status != 1 || ip.checksum.status != 1" \
	2>/dev/null | wc -l)
[ "$bad" -eq 0 ] || fail "$bad malformed or bad-checksum packets"
echo "ok: $n packets, none malformed"
