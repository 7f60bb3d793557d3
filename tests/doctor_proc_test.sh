#!/bin/sh
# doctor_proc_test.sh: `ebb doctor` on a canned /proc tree (--proc-root):
# /proc/net/tcp and tcp6 text with IPv6 and garbage lines, a process whose
# fd links name its CLOSE_WAIT sockets, a process that vanished, a sysctl
# that cannot be read; the text and the JSON carry the same numbers; bad
# arguments give a one-line error and exit 2.  Needs no root.
set -eu
EBB=$1
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is not installed (make check installs it)"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
root=$dir/proc
mkdir -p "$root/net" "$root/sys/net/ipv4" "$root/sys/net/core" "$root/4242/fd" "$root/777/fd" "$root/999"
fail() { echo "FAIL: $*"; [ -f "$dir/out.txt" ] && cat "$dir/out.txt"; exit 1; }

# Addresses as a little-endian kernel prints them: 198.18.0.2 is 020012C6.
awk 'BEGIN {
	print "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
	n = 0
	printf "%4d: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1000 1 0 100 0 0 10 0\n", n++
	for (i = 0; i < 10; i++)	# CLOSE_WAIT held by pid 4242 (inodes 1001..1010), 3 not read to the end
		printf "%4d: 020012C6:1F90 010012C6:%04X 08 00000000:%08X 00:00000000 00000000  1000        0 %d 1 0 20 4 30 10 -1\n", n++, 50000 + i, i < 3 ? 1 : 0, 1001 + i
	for (i = 0; i < 300; i++)	# TIME_WAIT toward 198.18.0.2:80, timers 59.0 s .. 56.01 s
		printf "%4d: 010012C6:%04X 020012C6:0050 06 00000000:00000000 03:%08X 00000000     0        0 0 3 0\n", n++, 40010 + i, 5900 - i
	print "garbage"
	print "  999: 0100007F:0050"
}' > "$root/net/tcp"
{
	echo "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
	echo "   0: B80D0120000000000000000001000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2000 1 0 100 0 0 10 0"
	for i in 1 2 3 4 5; do
		printf '%4d: B80D0120000000000000000001000000:01BB B80D0120000000000000000002000000:%04X 01 00000000:00000000 00:00000000 00000000     0        0 %d 1 0 20 4 30 10 -1\n' "$i" $((41000 + i)) $((2000 + i))
	done
} > "$root/net/tcp6"
printf '40000\t42999\n' > "$root/sys/net/ipv4/ip_local_port_range"
echo "40000-40009" > "$root/sys/net/ipv4/ip_local_reserved_ports"
for kv in tcp_fin_timeout=60 tcp_tw_reuse=2 tcp_timestamps=1 tcp_max_tw_buckets=131072 tcp_rfc1337=0 \
	tcp_keepalive_time=7200 tcp_keepalive_intvl=75 tcp_keepalive_probes=9; do
	echo "${kv#*=}" > "$root/sys/net/ipv4/${kv%%=*}"
done
echo 4096 > "$root/sys/net/core/somaxconn"
# tcp_max_syn_backlog is missing: one note, nothing else.
echo leaky > "$root/4242/comm"
printf 'leaky\000--serve\000' > "$root/4242/cmdline"
printf 'Name:\tleaky\nUid:\t1000\t1000\t1000\t1000\n' > "$root/4242/status"
for i in 0 1 2 3 4 5 6 7 8 9; do ln -s "socket:[$((1001 + i))]" "$root/4242/fd/$((10 + i))"; done
ln -s "socket:[1000]" "$root/4242/fd/3"
ln -s /dev/null "$root/4242/fd/0"
ln -s "socket:[2003]" "$root/777/fd/5"
echo other > "$root/777/comm"
# 999 has no fd directory: it exited while we looked.

"$EBB" doctor --proc-root "$root" > "$dir/out.txt" 2> "$dir/err.txt" || fail "exit $?"
grep -q "^TIME_WAIT 300$" "$dir/out.txt" || fail "TIME_WAIT count line"
grep -q "^CLOSE_WAIT 10$" "$dir/out.txt" || fail "CLOSE_WAIT count line"
grep -q "^ESTABLISHED 5$" "$dir/out.txt" || fail "ESTABLISHED count line"
grep -q "(and 2 LISTEN" "$dir/out.txt" || fail "LISTEN count"
grep -Eq "^  4242 +leaky +10 +3 " "$dir/out.txt" || fail "CLOSE_WAIT row for pid 4242"
grep -Eq "^ +300  198\.18\.0\.1:\* +198\.18\.0\.2:80 +this host \(client\)" "$dir/out.txt" || fail "TIME_WAIT row"
grep -Eq "^  198\.18\.0\.2:80 +198\.18\.0\.1 +300 +300 " "$dir/out.txt" || fail "port pressure row"
grep -q "ip_local_port_range 40000-42999 = 3000 ports, 10 reserved" "$dir/out.txt" || fail "range line"
grep -q "leaky (pid 4242) holds 10 sockets in CLOSE_WAIT" "$dir/out.txt" || fail "CLOSE_WAIT finding"
grep -q "tcp_max_syn_backlog" "$dir/err.txt" || fail "no note for the missing sysctl"
[ "$(wc -l < "$dir/err.txt")" -eq 1 ] || { cat "$dir/err.txt"; fail "notes other than the missing sysctl"; }
grep -qi "tw_recycle=1\|enable tcp_tw_recycle" "$dir/out.txt" && fail "recommends tcp_tw_recycle"

"$EBB" doctor --proc-root "$root" --json > "$dir/out.json" 2>/dev/null || fail "json exit $?"
python3 - "$dir/out.json" "$dir/out.txt" <<'PY' || fail "JSON"
import json, re, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
assert d["source"] == "/proc/net/tcp", d["source"]
assert d["states"] == {"LISTEN": 2, "CLOSE_WAIT": 10, "TIME_WAIT": 300, "ESTABLISHED": 5}, d["states"]
assert d["ipv6"] == 6 and d["ipv4"] == 311, (d["ipv4"], d["ipv6"])
p = d["close_wait"]["by_process"][0]
assert (p["pid"], p["command"], p["count"], p["eof_unread"]) == (4242, "leaky", 10, 3), p
assert p["cmdline"] == "leaky --serve", p["cmdline"]
g = d["time_wait"]["groups"][0]
assert (g["remote_address"], g["remote_port"], g["role"], g["count"]) == ("198.18.0.2", 80, "client", 300), g
assert abs(g["expires_max_s"] - 59.0) < 0.01 and abs(g["expires_min_s"] - 56.01) < 0.01, g
ports = d["ports"]
assert ports["range"] == [40000, 42999] and ports["reserved"] == 10, ports
x = ports["destinations"][0]
assert (x["remote_address"], x["remote_port"], x["in_use"], x["time_wait"]) == ("198.18.0.2", 80, 300, 300), x
assert x["capacity"] == 2990 and x["free"] == 2690, x
# 300 closes over the last 4 s, all within the window: 75/s.
assert x["rate_from"] == "time_wait_ages" and abs(x["rate_per_s"] - 300 / 3.99) < 1, x
assert x["exhausted_in_s"] is not None and abs(x["exhausted_in_s"] - 2690 / x["rate_per_s"]) < 0.1, x
assert any("tcp_max_syn_backlog" in n for n in d["notes"]), d["notes"]
names = [s["name"] for s in d["sysctls"]]
for want in ("net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_tw_reuse", "net.ipv4.ip_local_port_range",
             "net.ipv4.tcp_max_tw_buckets", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_intvl",
             "net.ipv4.tcp_keepalive_probes", "net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog"):
    assert want in names, want
ranks = [f["rank"] for f in d["findings"]]
assert ranks == list(range(1, len(ranks) + 1)), ranks
assert d["findings"][0]["severity"] == "critical" and "198.18.0.2:80" in d["findings"][0]["title"], d["findings"][0]
# The text shows the same numbers.
for st, n in d["states"].items():
    if st != "LISTEN":
        assert re.search("^%s %d$" % (st, n), text, re.M), st
assert "%d TCP sockets (%d IPv4, %d IPv6)" % (d["sockets"], d["ipv4"], d["ipv6"]) in text
PY

# --watch: one JSON document per line per sample, bounded by --count.
"$EBB" doctor --proc-root "$root" --json --watch 0.2 --count 3 > "$dir/watch.json" 2>/dev/null || fail "watch exit $?"
[ "$(wc -l < "$dir/watch.json")" -eq 3 ] || fail "3 samples, 3 lines"
python3 -c '
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1])]
assert [d["sample"] for d in docs] == [1, 2, 3]
assert docs[2]["interval_s"] > 0.15
# The canned tree does not change: nothing new between samples.
assert docs[2]["ports"]["destinations"][0]["rate_from"] == "samples"
assert docs[2]["ports"]["destinations"][0]["rate_per_s"] == 0
' "$dir/watch.json" || fail "watch JSON"
"$EBB" doctor --proc-root "$root" --watch 0.1 --count 2 > "$dir/watch.txt" 2>/dev/null || fail "watch text"
[ "$(grep -c '^State counts' "$dir/watch.txt")" -eq 2 ] || fail "2 text samples"
grep -q "sample 2 (" "$dir/watch.txt" || fail "second sample header"

# Bad arguments: one line on stderr (then the usage), exit 2.
bad() {
	set +e
	"$EBB" doctor "$@" > /dev/null 2> "$dir/err.txt"
	rc=$?
	set -e
	[ "$rc" -eq 2 ] || fail "'$*' exited $rc, not 2"
	head -1 "$dir/err.txt" | grep -q "^ebb doctor: " || fail "'$*' error line: $(head -1 "$dir/err.txt")"
}
bad --watch soon
bad --watch 0
bad --watch
bad --count 0
bad --count 3
bad --top -1
bad --bogus
bad --proc-root ""
set +e
"$EBB" doctor --proc-root "$dir/nothing" > /dev/null 2> "$dir/err.txt"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "unreadable socket table exited $rc"
grep -q "cannot read .*nothing/net/tcp" "$dir/err.txt" || { cat "$dir/err.txt"; fail "unreadable table message"; }
"$EBB" doctor --help | grep -q "^usage: ebb doctor" || fail "--help"
"$EBB" help | grep -q "^  doctor " || fail "ebb help lists doctor"
echo ok
