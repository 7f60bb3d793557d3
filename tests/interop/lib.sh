# lib.sh: sourced by the interop tests (tests/interop/*.sh).  The Linux
# kernel is the peer: each test makes its own network namespace, a TUN
# device ebb0 in it (the kernel side 198.18.0.2/24; ebb is 198.18.0.1;
# only 198.18.0.0/15 is used), runs ebb and the kernel's programs there,
# and removes everything on exit.  Every wait is bounded in time.
# Exit 77 (CTest's SKIP) with the reason where the test cannot run.
set -u
EBB=${1:?usage: $0 path/to/ebb}
HERE=$(cd "$(dirname "$0")" && pwd)
TEST=$(basename "$0" .sh)
PIDS=""
NS=""
WORK=$(mktemp -d "/tmp/ebb-$TEST.XXXXXX")
PY=$(command -v python3 || true)
PEER="$PY $HERE/peer.py"

skip() {
	echo "SKIP: $*"
	exit 77
}

cleanup() {
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null && kill -CONT "$p" 2>/dev/null
	done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 20 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null
	done
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Print every output file of the test (on failure).
dump() {
	for f in "$WORK"/*.out; do
		[ -f "$f" ] || continue
		echo "----- $(basename "$f")"
		tail -n 60 "$f"
	done
}

fail() {
	echo "FAIL: $TEST: $*"
	dump
	exit 1
}

ok() {
	echo "ok: $*"
}

# Preconditions: root, the tools, /dev/net/tun, a namespace.
need() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t is not installed (make check installs it: scripts/deps.sh)"
	done
}

[ "$(id -u)" -eq 0 ] || skip "needs root: the test creates a network namespace and a TUN device"
need ip ss timeout python3
[ -c /dev/net/tun ] || skip "/dev/net/tun is missing (modprobe tun)"
[ -x "$EBB" ] || skip "no ebb binary at $EBB"

NS="ebbtest-$$-$(echo "$TEST" | cut -c1-12)"
ip netns add "$NS" 2>"$WORK/netns.err" || { n=$NS; NS=""; skip "cannot create network namespace $n: $(cat "$WORK/netns.err")"; }

nsx() {
	ip netns exec "$NS" "$@"
}

# The TUN device ebb0, persistent for the test's life, kernel side up.
setup_dev() {
	nsx ip link set lo up || fail "lo up"
	nsx ip tuntap add dev ebb0 mode tun 2>"$WORK/tuntap.err" ||
		skip "cannot create a TUN device: $(cat "$WORK/tuntap.err")"
	nsx sh -c 'echo 1 > /proc/sys/net/ipv6/conf/ebb0/disable_ipv6' 2>/dev/null
	nsx ip addr add 198.18.0.2/24 dev ebb0 || fail "address"
	nsx ip link set ebb0 up || fail "ebb0 up"
}

# bg NAME CMD...: run CMD in the namespace in the background, output in
# $WORK/NAME.out; sets BGPID (the command's own pid: `ip netns exec`
# execs it).  ebb commands bound themselves with --duration; other
# commands are wrapped in timeout(1) by the caller.
bg() {
	_bg_name=$1
	shift
	ip netns exec "$NS" "$@" >"$WORK/$_bg_name.out" 2>&1 &
	BGPID=$!
	PIDS="$PIDS $BGPID"
}

# wait_for FILE REGEX SECONDS: until a line of FILE matches.
wait_for() {
	deadline=$(($(date +%s) + $3))
	while ! grep -Eq -- "$2" "$1" 2>/dev/null; do
		[ "$(date +%s)" -le "$deadline" ] || fail "timed out waiting for '$2' in $(basename "$1")"
		sleep 0.05
	done
}

# count FILE REGEX: matching lines.
count() {
	grep -Ec -- "$2" "$1" 2>/dev/null || true
}

# wait_exit PID SECONDS: wait for a background process; sets RC.
wait_exit() {
	i=0
	lim=$(($2 * 20))
	while kill -0 "$1" 2>/dev/null; do
		if [ $i -ge $lim ]; then
			kill -KILL "$1" 2>/dev/null
			fail "process $1 still running after $2 s"
		fi
		sleep 0.05
		i=$((i + 1))
	done
	wait "$1"
	RC=$?
}

# stop_ebb PID SECONDS: SIGTERM, then wait for the final report.
stop_ebb() {
	kill -TERM "$1" 2>/dev/null
	wait_exit "$1" "$2"
}

# ss_ebb PID FILE: ask ebb (SIGUSR1) for its ss -tano listing; the
# listing is the last one in FILE once it is complete.
ss_ebb() {
	n=$(count "$2" '^--- end of listing')
	kill -USR1 "$1"
	i=0
	while [ "$(count "$2" '^--- end of listing')" -le "$n" ]; do
		[ $i -lt 100 ] || fail "no ss listing from ebb"
		sleep 0.05
		i=$((i + 1))
	done
	awk '/^--- ss -tano/ {buf=""} {buf = buf $0 "\n"} END {printf "%s", buf}' "$2" |
		sed -n '/^--- ss -tano/,/^--- end of listing/p'
}

# kernel_tw PORT: the kernel's TIME-WAIT sockets on local or remote PORT.
kernel_tw() {
	nsx ss -tanH state time-wait "( sport = :$1 or dport = :$1 )" | wc -l
}

# The value of a counter in ebb's --verbose final report (0 if absent).
ebb_counter() {
	v=$(grep '^counters:' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | tail -n 1)
	echo "${v:-0}"
}

# tshark on a capture: no malformed packet, no bad checksum.
check_pcap() {
	command -v tshark >/dev/null 2>&1 || { echo "note: tshark missing, $1 not checked"; return 0; }
	n=$(tshark -r "$1" 2>/dev/null | wc -l)
	[ "$n" -gt 0 ] || fail "tshark read no packets from $(basename "$1")"
	bad=$(tshark -r "$1" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
		-Y "_ws.malformed || _ws.expert.severity >= 8388608 || tcp.checksum.status != 1 || ip.checksum.status != 1" \
		2>/dev/null | wc -l)
	[ "$bad" -eq 0 ] || {
		tshark -r "$1" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
			-Y "_ws.malformed || _ws.expert.severity >= 8388608 || tcp.checksum.status != 1 || ip.checksum.status != 1" \
			2>/dev/null | head -20
		fail "$bad malformed or bad-checksum packets in $(basename "$1")"
	}
	echo "pcap $(basename "$1"): $n packets, none malformed, checksums good"
}

# json FILE KEY: the last value of KEY in the JSON lines peer.py printed.
json() {
	"$PY" - "$1" "$2" <<'EOF'
import json, sys
v = None
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if sys.argv[2] in d:
        v = d[sys.argv[2]]
print(json.dumps(v) if not isinstance(v, str) else v)
EOF
}
