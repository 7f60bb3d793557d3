#!/bin/sh
# doctor_closewait_test.sh: a program that leaks CLOSE_WAIT (a Python
# server that accepts and never closes, while 25 clients connect and
# close) is named by `ebb doctor` with its pid, command and count, in text
# and in JSON (which parses and carries the same numbers), through netlink
# and through /proc/net/tcp; the state counts are the ones the seeds'
# `netstat -n | awk` line prints; --watch sees the sockets age; a user
# who cannot read the server's /proc/PID/fd is told that root sees all.
# Runs as root in a network namespace of its own (198.18.0.0/15 on its
# loopback); SKIP (77) where that is not permitted.
set -eu
EBB=$1
PEERS=$2
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root to create a network namespace"
command -v ip >/dev/null 2>&1 || skip "ip (iproute2) is not installed (make check installs it)"
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed (make check installs it)"

ns=ebbdoc-cw-$$
dir=$(mktemp -d)
spid=""
cleanup() {
	if [ -n "$spid" ]; then kill "$spid" 2>/dev/null || true; fi
	wait 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ip netns add "$ns" 2>/dev/null || skip "cannot create a network namespace here"
ip netns exec "$ns" true 2>/dev/null || skip "cannot enter a network namespace here"
in_ns() { ip netns exec "$ns" "$@"; }
fail() { echo "FAIL: $*"; [ -f "$dir/out.txt" ] && cat "$dir/out.txt"; exit 1; }
# Wait (at most 10 s) for a condition.
await() {
	i=0
	until eval "$1"; do
		i=$((i + 1))
		[ "$i" -le 100 ] || fail "timed out waiting for: $1"
		sleep 0.1
	done
}
in_ns ip link set lo up
in_ns ip addr add 198.18.0.1/32 dev lo
in_ns ip addr add 198.18.0.2/32 dev lo

EBB_DOCTOR_DEADLINE=150 in_ns python3 "$PEERS" leak-server 198.18.0.2 8081 25 "$dir/status" &
await 'grep -q "^pid " "$dir/status" 2>/dev/null'
spid=$(sed -n 's/^pid //p' "$dir/status")
in_ns python3 "$PEERS" clients 198.18.0.1 198.18.0.2 8081 25
await 'grep -q "^accepted 25$" "$dir/status"'
# Every client's FIN has arrived: 25 sockets in CLOSE_WAIT (state 08).
await '[ "$(in_ns awk "\$4 == \"08\"" /proc/net/tcp | wc -l)" -eq 25 ]'
comm=$(cat "/proc/$spid/comm")

in_ns "$EBB" doctor > "$dir/out.txt" 2> "$dir/err.txt" || fail "doctor exited $?"
grep -q "^CLOSE_WAIT 25$" "$dir/out.txt" || fail "state count line"
grep -Eq "^  $spid +$comm +25 +25 +0 " "$dir/out.txt" || fail "CLOSE_WAIT row: pid $spid ($comm), 25, none read to the end"
grep -q "$comm (pid $spid) holds 25 sockets in CLOSE_WAIT" "$dir/out.txt" || fail "finding"
grep -q "not called close()" "$dir/out.txt" || fail "the seeds' explanation"
grep -qi "tw_recycle=1\|enable tcp_tw_recycle" "$dir/out.txt" && fail "recommends tcp_tw_recycle"
[ -s "$dir/err.txt" ] && { cat "$dir/err.txt"; fail "notes as root"; }

# The state counts are those of the seeds' netstat | awk line.
sed -n '/^State counts/,/^(and /p' "$dir/out.txt" | sed '1d;$d' | sort > "$dir/doctor.counts"
if command -v netstat >/dev/null 2>&1; then
	in_ns netstat -n | awk '/^tcp/ {++S[$NF]} END {for(a in S) print a, S[a]}' | sort > "$dir/netstat.counts"
	diff "$dir/netstat.counts" "$dir/doctor.counts" || fail "counts differ from netstat -n | awk"
else
	echo "note: netstat (net-tools) not installed: counts not compared with it"
fi

for src in "" --proc; do
	in_ns "$EBB" doctor --json $src > "$dir/out.json" || fail "doctor --json $src exited $?"
	python3 - "$dir/out.json" "$dir/out.txt" "$spid" "$comm" "$src" <<'PY' || fail "JSON ($src)"
import json, re, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
pid, comm, src = int(sys.argv[3]), sys.argv[4], sys.argv[5]
assert d["source"] == ("/proc/net/tcp" if src else "netlink sock_diag"), d["source"]
assert d["states"].get("CLOSE_WAIT") == 25, d["states"]
cw = d["close_wait"]
assert cw["total"] == 25 and cw["processes"] == 1, cw
p = cw["by_process"][0]
assert (p["pid"], p["command"], p["count"], p["eof_unread"]) == (pid, comm, 25, 25), p
assert p["local_address"] == "198.18.0.2" and p["local_port"] == 8081, p
assert p["top_peer"] == "198.18.0.1" and p["top_peer_count"] == 25, p
if not src:
    assert p["quiet_max_s"] is not None and p["quiet_max_s"] >= 0, p  # tcp_info
f = [f for f in d["findings"] if "CLOSE_WAIT" in f["title"]][0]
assert "(pid %d)" % pid in f["title"] and "close()" in f["fix"], f
# The same numbers as the text.
for st, n in d["states"].items():
    if st != "LISTEN":
        assert re.search("^%s %d$" % (st, n), text, re.M), st
assert "CLOSE_WAIT by process: %d;" % cw["total"] in text
PY
done

# --watch: the same sockets seen for longer and longer.
in_ns "$EBB" doctor --json --watch 0.5 --count 3 > "$dir/watch.json" || fail "watch exited $?"
python3 - "$dir/watch.json" "$spid" <<'PY' || fail "watch JSON"
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1])]
assert len(docs) == 3, len(docs)
p = docs[2]["close_wait"]["by_process"][0]
assert p["pid"] == int(sys.argv[2]) and p["count"] == 25, p
assert docs[0]["close_wait"]["by_process"][0]["oldest_seen_s"] is None
assert 0.9 <= p["oldest_seen_s"] < 5, p["oldest_seen_s"]
PY

# Someone who may not read root's /proc/PID/fd: told, and still counted.
if command -v setpriv >/dev/null 2>&1 && setpriv --reuid=65534 --regid=65534 --clear-groups "$EBB" help > /dev/null 2>&1; then
	in_ns setpriv --reuid=65534 --regid=65534 --clear-groups "$EBB" doctor --json > "$dir/nobody.json" 2> "$dir/err.txt" ||
		fail "doctor as nobody exited $?"
	grep -q "^ebb doctor: cannot read /proc/PID/fd of .*permission denied.*root sees all processes$" "$dir/err.txt" ||
		{ cat "$dir/err.txt"; fail "permission message"; }
	[ "$(wc -l < "$dir/err.txt")" -eq 1 ] || { cat "$dir/err.txt"; fail "one line"; }
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
p = d["close_wait"]["by_process"][0]
assert p["pid"] is None and p["why"] == "process_not_visible" and p["count"] == 25, p
assert d["processes_unreadable"] >= 1
assert any("root sees all" in n for n in d["notes"])
' "$dir/nobody.json" || fail "JSON as nobody"
else
	echo "note: setpriv cannot run the tool as nobody here: permission case not checked"
fi
echo "ok: pid $spid ($comm) named with 25 CLOSE_WAIT"
