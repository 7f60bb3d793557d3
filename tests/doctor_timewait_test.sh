#!/bin/sh
# doctor_timewait_test.sh: 2000 short connections closed first by the
# client show in `ebb doctor` on the client as TIME_WAIT against the right
# destination (198.18.0.2:8080), closed first by this host as the client,
# with the ephemeral-port pressure against ip_local_port_range (set to
# 3000 ports), a close rate read off the TIME_WAIT timers and when
# connect() fails with EADDRNOTAVAIL; on the server, no TIME_WAIT.  The
# JSON parses and carries the numbers the text shows.  --watch measures
# the rate between samples.  Then the prediction is checked: exactly the
# ports the doctor calls free can still connect, and the next connect()
# fails with EADDRNOTAVAIL.  IPv6 short connections over ::1 are counted
# too.  Runs as root in two network namespaces joined by a veth pair
# (198.18.0.1 and 198.18.0.2); SKIP (77) where that is not permitted.
set -eu
EBB=$1
PEERS=$2
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
command -v ip >/dev/null 2>&1 || skip "ip (iproute2) is not installed (make check installs it)"
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed (make check installs it)"

c=ebbdoc-c-$$
s=ebbdoc-s-$$
dir=$(mktemp -d)
cleanup() {
	for f in "$dir"/status*; do
		[ -f "$f" ] || continue
		p=$(sed -n 's/^pid //p' "$f")
		[ -n "$p" ] && kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	ip netns del "$c" 2>/dev/null || true
	ip netns del "$s" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ip netns add "$c" 2>/dev/null || skip "cannot create a network namespace here"
ip netns add "$s" 2>/dev/null || skip "cannot create a second network namespace here"
ip netns exec "$c" true 2>/dev/null || skip "cannot enter a network namespace here"
in_c() { ip netns exec "$c" "$@"; }
in_s() { ip netns exec "$s" "$@"; }
fail() { echo "FAIL: $*"; [ -f "$dir/out.txt" ] && cat "$dir/out.txt"; exit 1; }
await() {
	i=0
	until eval "$1"; do
		i=$((i + 1))
		[ "$i" -le 100 ] || fail "timed out waiting for: $1"
		sleep 0.1
	done
}
ip -n "$c" link add eth0 type veth peer name eth0 netns "$s" 2>/dev/null || skip "cannot create a veth pair here"
ip -n "$c" addr add 198.18.0.1/24 dev eth0
ip -n "$s" addr add 198.18.0.2/24 dev eth0
for n in "$c" "$s"; do
	ip -n "$n" link set lo up
	ip -n "$n" link set eth0 up
done
# 3000 ephemeral ports, and no TIME_WAIT reuse, in the client's namespace.
# tcp_rfc1337: a TIME_WAIT record ignores RSTs.  Without it, a server's
# FIN sent again by a tail loss probe draws the record's ACK, which the
# closed server answers with a RST that ends the record early (RFC 1337's
# TIME_WAIT assassination; seen here a few times in 2000 under load), and
# the counts would be off by those few.
in_c sh -c 'echo "40000 42999" > /proc/sys/net/ipv4/ip_local_port_range &&
	echo 0 > /proc/sys/net/ipv4/tcp_tw_reuse && echo 1 > /proc/sys/net/ipv4/tcp_rfc1337' ||
	skip "cannot set the namespace's sysctls"

export EBB_DOCTOR_DEADLINE=150
in_s python3 "$PEERS" echo-server 198.18.0.2 8080 5000 "$dir/status.srv" &
await 'grep -q "^pid " "$dir/status.srv" 2>/dev/null'
v6=0
if in_c ip -6 addr show dev lo 2>/dev/null | grep -q "::1/128"; then
	v6=1
	in_c python3 "$PEERS" echo-server ::1 8090 50 "$dir/status.v6" &
	await 'grep -q "^pid " "$dir/status.v6" 2>/dev/null'
fi
# Settled: every client socket toward 8080 (1F90) and 8090 (1F9A) has
# reached TIME_WAIT (06): the server's FIN for the last one has arrived.
settled() {
	[ "$(in_c awk '$3 ~ /:1F9[0A]$/ && $4 != "06"' /proc/net/tcp /proc/net/tcp6 | wc -l)" -eq 0 ]
}
start=$(date +%s)
in_c python3 "$PEERS" short-clients 198.18.0.2 8080 2000 || fail "2000 short connections"
if [ "$v6" -eq 1 ]; then
	in_c python3 "$PEERS" short-clients ::1 8090 50 || fail "IPv6 short connections"
fi
await settled

in_c "$EBB" doctor > "$dir/out.txt" || fail "doctor exited $?"
in_c "$EBB" doctor --json > "$dir/out.json" || fail "doctor --json exited $?"
in_s "$EBB" doctor --json > "$dir/server.json" || fail "doctor --json on the server exited $?"
grep -Eq "^ +2000  198\.18\.0\.1:\* +198\.18\.0\.2:8080 +this host \(client\)" "$dir/out.txt" || fail "TIME_WAIT row"
grep -Eq "^  198\.18\.0\.2:8080 +198\.18\.0\.1 +2000 +2000 " "$dir/out.txt" || fail "port pressure row"
grep -q "EADDRNOTAVAIL" "$dir/out.txt" || fail "no EADDRNOTAVAIL estimate"
grep -q "ip_local_port_range 40000-42999 = 3000 ports" "$dir/out.txt" || fail "range"
grep -qi "tw_recycle=1\|enable tcp_tw_recycle" "$dir/out.txt" && fail "recommends tcp_tw_recycle"
python3 - "$dir/out.json" "$dir/out.txt" "$dir/server.json" "$v6" <<'PY' || fail "JSON"
import json, re, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
srv = json.load(open(sys.argv[3]))
v6 = sys.argv[4] == "1"
tw = d["time_wait"]
assert tw["total"] == 2000 + (50 if v6 else 0), tw["total"]
g = tw["groups"][0]
assert (g["local_address"], g["local_port"], g["remote_address"], g["remote_port"]) == \
    ("198.18.0.1", None, "198.18.0.2", 8080), g
assert g["role"] == "client" and g["closed_first"] == "this host" and g["count"] == 2000, g
assert 0 < g["expires_min_s"] <= g["expires_max_s"] <= 60, g
if v6:
    g6 = [x for x in tw["groups"] if x["remote_address"] == "::1"][0]
    assert g6["remote_port"] == 8090 and g6["count"] == 50 and g6["role"] == "client", g6
    assert d["ipv6"] >= 50, d["ipv6"]
p = d["ports"]
assert p["range"] == [40000, 42999] and p["capacity_per_destination"] == 3000, p
x = p["destinations"][0]
assert (x["remote_address"], x["remote_port"], x["local_address"]) == ("198.18.0.2", 8080, "198.18.0.1"), x
assert (x["in_use"], x["time_wait"], x["capacity"], x["free"]) == (2000, 2000, 3000, 1000), x
# connect() shares ports among destinations: the IPv6 connections took
# ports already used toward 198.18.0.2:8080, so any-destination use is
# at least 2000; free_min is what is left if all were bind()'s.
assert x["free_min"] == 3000 - p["in_use_any_destination"] and p["in_use_any_destination"] >= 2000, (x, p)
assert x["rate_from"] == "time_wait_ages" and x["rate_per_s"] > 0, x
assert x["steady_state_ports"] > 3000 and x["exhausted_in_s"] is not None, x
assert abs(x["exhausted_in_s"] - x["free"] / x["rate_per_s"]) < 0.01, x
f = d["findings"][0]
assert f["severity"] == "critical" and "198.18.0.2:8080" in f["title"], f
assert "EADDRNOTAVAIL" in f["detail"] and "keep-alive" in f["fix"] and "ip_local_port_range" in f["fix"], f
# The text carries the same numbers.
for st, n in d["states"].items():
    if st != "LISTEN":
        assert re.search("^%s %d$" % (st, n), text, re.M), st
assert "TIME_WAIT by endpoint: %d;" % tw["total"] in text
row = re.search(r"^  198\.18\.0\.2:8080 +198\.18\.0\.1 +(\d+) +(\d+) +([\d-]+) +(\d+)%", text, re.M)
assert row and int(row.group(1)) == x["in_use"] and int(row.group(2)) == x["time_wait"], row
assert row.group(3).split("-")[-1] == str(x["free"]) and int(row.group(4)) == round(x["use_pct"]), row.groups()
# The server's side: the client closed first, so no TIME_WAIT there.
assert srv["time_wait"]["total"] == 0 and "TIME_WAIT" not in srv["states"], srv["states"]
PY

# --watch: a rate measured between samples while connections go on.
in_c python3 "$PEERS" short-clients 198.18.0.2 8080 400 0.004 &
bg=$!
in_c "$EBB" doctor --json --watch 1 --count 2 > "$dir/watch.json" || fail "watch exited $?"
wait "$bg" || fail "paced short connections"
await settled
python3 -c '
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1])]
assert len(docs) == 2
x = [x for x in docs[1]["ports"]["destinations"] if x["remote_port"] == 8080][0]
assert x["rate_from"] == "samples" and x["rate_per_s"] > 5 and 0.5 < x["rate_window_s"] < 2, x
' "$dir/watch.json" || fail "watch rate"

# The prediction: what the doctor calls free can connect, then no more.
in_c "$EBB" doctor --json > "$dir/final.json" || fail "doctor exited $?"
free=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print([x for x in d["ports"]["destinations"] if x["remote_port"] == 8080][0]["free"])' "$dir/final.json")
if [ $(($(date +%s) - start)) -lt 45 ]; then
	before=$(in_c ss -tan | grep -c " 198.18.0.2:8080 " || true)
	set -- $(in_c python3 "$PEERS" fill 198.18.0.2 8080 $((free + 100)))
	after=$(in_c ss -tan | grep -c " 198.18.0.2:8080 " || true)
	[ "$1" -eq "$free" ] || fail "doctor said $free ports free, $1 connected (ss: $before before, $after after)"
	[ "$2" = EADDRNOTAVAIL ] || fail "connect() failed with $2, not EADDRNOTAVAIL"
	echo "checked: $free free ports connected, the next connect() failed with EADDRNOTAVAIL"
else
	echo "note: too slow for the exhaustion check (TIME_WAIT records began to expire)"
fi
echo ok
