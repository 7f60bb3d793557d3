#!/bin/sh
# run_scripts.sh: run packetdrill scripts against libebb_packetdrill.so.
#
#   PACKETDRILL=/path/to/packetdrill/gtests/net/packetdrill/packetdrill \
#     sh packetdrill/run_scripts.sh build/libebb_packetdrill.so [script.pkt ...]
#
# With no script named, runs every .pkt in gtests/net/tcp/close and
# gtests/net/tcp/shutdown of the packetdrill tree the binary was built in
# (found next to it).  Each script runs in a private network namespace
# (unshare -n) so its backtick commands (defaults.sh: sysctl, tc) touch
# only that namespace; a tun0 is created there because defaults.sh ends
# with `tc qdisc add dev tun0`.
#
# Environment: PACKETDRILL (required), PACKETDRILL_SO_FLAGS (extra
# --so_flags), PACKETDRILL_TIMEOUT (seconds per script, default 30).
# Exit: 0 all passed, 1 a script failed, 77 skipped (reason printed).
set -u

if [ $# -lt 1 ]; then
	echo "usage: PACKETDRILL=... $0 libebb_packetdrill.so [script.pkt ...]" >&2
	exit 2
fi
so=$1
shift

skip() {
	echo "SKIP: $*"
	exit 77
}

[ -z "${EBB_PD_SKIP:-}" ] || skip "$EBB_PD_SKIP"
[ -n "${PACKETDRILL:-}" ] ||
	skip "PACKETDRILL is not set; point it at a packetdrill binary built from google/packetdrill (gtests/net/packetdrill/packetdrill)"
[ -f "$PACKETDRILL" ] && [ -x "$PACKETDRILL" ] || skip "PACKETDRILL=$PACKETDRILL is not an executable file"
for tool in unshare timeout ip; do
	command -v $tool >/dev/null 2>&1 || skip "$tool is not installed"
done
unshare -n true 2>/dev/null ||
	skip "cannot create a network namespace (unshare -n needs root or unprivileged user namespaces)"

case $so in
/*) ;;
*) so=$(pwd)/$so ;;
esac
if [ ! -f "$so" ]; then
	echo "FAIL: $so does not exist (build the ebb_packetdrill target)"
	exit 1
fi
pd=$(cd "$(dirname "$PACKETDRILL")" && pwd)/$(basename "$PACKETDRILL")

if [ $# -eq 0 ]; then
	tcp=$(cd "$(dirname "$pd")/../tcp" 2>/dev/null && pwd) ||
		skip "no gtests/net/tcp next to $PACKETDRILL (the packetdrill source tree is needed for the scripts)"
	[ -d "$tcp/close" ] && [ -d "$tcp/shutdown" ] || skip "$tcp has no close/ and shutdown/ directories"
	set -- "$tcp"/close/*.pkt "$tcp"/shutdown/*.pkt
fi

limit=${PACKETDRILL_TIMEOUT:-30}
log=$(mktemp)
trap 'rm -f "$log"' EXIT INT TERM
pass=0
fail=0
failed=
for script in "$@"; do
	dir=$(cd "$(dirname "$script")" && pwd)
	name=$(basename "$script")
	label=$(basename "$dir")/$name
	# The scripts name ../common/defaults.sh relative to their own
	# directory, so packetdrill runs there.
	(cd "$dir" && timeout -k 5 "$limit" unshare -n sh -c '
		ip link set lo up
		ip tuntap add dev tun0 mode tun 2>/dev/null || ip link add tun0 type dummy 2>/dev/null
		ip link set tun0 up 2>/dev/null
		exec env LD_PRELOAD="$0" "$@"' "$so" "$pd" --so_filename="$so" ${PACKETDRILL_SO_FLAGS:+--so_flags="$PACKETDRILL_SO_FLAGS"} \
		--local_ip=192.168.0.1 --ip_version=ipv4 "$name") >"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		echo "PASS $label"
	else
		fail=$((fail + 1))
		failed="$failed $label"
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			echo "FAIL $label (timed out after ${limit}s)"
		else
			echo "FAIL $label (exit $rc)"
		fi
		# The namespace cannot take the host's congestion control
		# setting; that line of defaults.sh is noise here.
		grep -v 'net.ipv4.tcp_congestion_control' "$log" | sed 's/^/    /'
	fi
done
echo "packetdrill: $pass passed, $fail failed${failed:+ (failed:$failed)}"
[ $fail -eq 0 ]
