#!/bin/sh
# tun.sh BUILD: the TUN part of `make bench` (run.sh runs it; it can run
# alone).  ebb on a TUN device against kernel programs in the same
# network namespace, and in the same run the kernel against itself
# across a veth pair, the same kernel programs at the other end:
#
#   lifecycles  kernel_lifecycle -C (the clients) against tun_bench
#               lifecycle (ebb's server) / kernel_lifecycle -S, both
#               close orders
#   bulk        kernel_bulk -C -> tun_bench bulk-recv, tun_bench
#               bulk-send -> kernel_bulk -L / kernel_bulk -C -> -L
#
# Every case gets fresh network namespaces: each is held by a `sleep`
# started with `unshare -n` and entered with nsenter, so it vanishes,
# devices and all, when that process ends (on exit, or if this script is
# killed: the sleep is bounded).  Addresses are 198.18.0.1 (the server:
# ebb, or the kernel across the veth) and 198.18.0.2 (the kernel
# clients), MTU 1500.  Placement: the server side (ebb's process, or the
# kernel server) on EBB_BENCH_CORE (default the last core), the kernel
# clients on the core before it; on one core both share it.
#
# Prints each program's report and their JSON lines (run.sh collects
# them).  Settings: EBB_BENCH_T, EBB_BENCH_CONC, EBB_BENCH_TUN_BULK
# (bytes, default 1 GiB), EBB_BENCH_TUN_BUF (ebb's SO_SNDBUF/SO_RCVBUF in
# bulk, default 4194304), EBB_BENCH_TUN_ARGS (more tun_bench options),
# EBB_BENCH_TUN_CASES (default "lifecycle bulk": which to run),
# EBB_BENCH_TUN_PERF=DIR (record a profile of each ebb process:
# `perf record -e cpu-clock -g` into DIR/LABEL.data).
set -u
B=${1:?usage: tun.sh BUILD_DIR}/bench
T=${EBB_BENCH_T:-5}
CONC=${EBB_BENCH_CONC:-64}
BULK=${EBB_BENCH_TUN_BULK:-1073741824}
EBUF=${EBB_BENCH_TUN_BUF:-4194304}
TARGS=${EBB_BENCH_TUN_ARGS:-}
PERFDIR=${EBB_BENCH_TUN_PERF:-}
CASES=${EBB_BENCH_TUN_CASES:-lifecycle bulk}
want() {
	case " $CASES " in *" $1 "*) return 0 ;; esac
	return 1
}
# ebb LABEL: the command prefix for ebb's process (perf when asked).
ebb() {
	if [ -n "$PERFDIR" ]; then
		echo "perf record -q -e cpu-clock -g -o $PERFDIR/$1.data --"
	fi
}
NCPU=$(nproc)
SCORE=${EBB_BENCH_CORE:-$((NCPU - 1))}
CCORE=$((SCORE > 0 ? SCORE - 1 : 0))
[ "$NCPU" -gt 1 ] || CCORE=$SCORE

skip() {
	echo "SKIP TUN benchmarks: $*"
	exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root (a TUN device and network namespaces)"
for t in unshare nsenter ip taskset timeout; do
	command -v $t > /dev/null 2>&1 || skip "$t is not installed"
done
[ -c /dev/net/tun ] || skip "/dev/net/tun is missing (modprobe tun)"
for p in tun_bench kernel_lifecycle kernel_bulk; do
	[ -x "$B/$p" ] || skip "$B/$p is not built"
done
unshare -n true 2> /dev/null || skip "cannot make a network namespace (unshare -n)"

tmp=$(mktemp -d)
HOLDERS=""
BGS=""
cleanup() {
	for p in $BGS $HOLDERS; do
		kill "$p" 2> /dev/null
	done
	for p in $BGS $HOLDERS; do
		wait "$p" 2> /dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ns_new: a fresh network namespace, lo up; NSH is the pid that holds it.
ns_new() {
	unshare -n sleep 900 > /dev/null 2>&1 &
	NSH=$!
	HOLDERS="$HOLDERS $NSH"
	i=0
	# unshare(2) happens after the fork: wait until the namespace is new.
	while [ "$(readlink /proc/$NSH/ns/net 2> /dev/null)" = "$(readlink /proc/self/ns/net)" ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || { echo "tun.sh: cannot make a network namespace"; exit 1; }
		sleep 0.01
	done
	nsenter -t $NSH -n ip link set lo up
}
nsx() {
	h=$1
	shift
	nsenter -t "$h" -n "$@"
}
ns_end() {
	kill "$1" 2> /dev/null
	wait "$1" 2> /dev/null
}

# The kernel clients' settings, the same against ebb and against the
# kernel: TIME_WAIT kept (cap 8M), and connect() may take over a
# TIME_WAIT 4-tuple after 1 ms (tcp_tw_reuse=1, tcp_tw_reuse_delay=1;
# for a non-loopback peer Linux's default reuses none, and one client
# address against one server address:port has 28232 4-tuples).
client_sysctls() {
	nsx "$1" sh -c 'echo 8388608 > /proc/sys/net/ipv4/tcp_max_tw_buckets &&
		echo 1 > /proc/sys/net/ipv4/tcp_tw_reuse &&
		{ echo 1 > /proc/sys/net/ipv4/tcp_tw_reuse_delay 2>/dev/null || true; }'
}

# A TUN device for ebb, made beforehand (ebb attaches to it) so that the
# kernel's address exists before either program starts.
tun_dev() {
	nsx "$1" ip tuntap add dev ebbb0 mode tun &&
		nsx "$1" sh -c 'echo 1 > /proc/sys/net/ipv6/conf/ebbb0/disable_ipv6' &&
		nsx "$1" ip addr add 198.18.0.2/24 dev ebbb0 &&
		nsx "$1" ip link set ebbb0 up
}

# A veth pair: the clients' end 198.18.0.2 in $1, the server's 198.18.0.1 in $2.
veth_pair() {
	nsx "$1" ip link add vb0 type veth peer name vb1 netns "$2" &&
		nsx "$1" ip addr add 198.18.0.2/24 dev vb0 &&
		nsx "$2" ip addr add 198.18.0.1/24 dev vb1 &&
		nsx "$1" ip link set vb0 up &&
		nsx "$2" ip link set vb1 up
}

# server NAME NSPID CORE CMD...: start a server in the background, wait
# (10 s at most) for its "listening" line.
server() {
	name=$1
	h=$2
	core=$3
	shift 3
	timeout 300 nsenter -t "$h" -n taskset -c "$core" "$@" > "$tmp/$name.out" 2>&1 &
	SRV=$!
	BGS="$BGS $SRV"
	i=0
	while ! grep -q listening "$tmp/$name.out" 2> /dev/null; do
		i=$((i + 1))
		if [ $i -ge 1000 ] || ! kill -0 $SRV 2> /dev/null; then
			cat "$tmp/$name.out"
			echo "tun.sh: $name did not start"
			return 1
		fi
		sleep 0.01
	done
}

# finish NAME: wait for the server (bounded by its timeout) and print its report.
finish() {
	wait "$SRV"
	rc=$?
	grep -v listening "$tmp/$1.out"
	[ $rc -eq 0 ] || echo "tun.sh: $1 exited $rc"
}

# client NSPID CMD...: the other end, in the foreground on the clients'
# core; if it fails, the server waiting for it is stopped.
client() {
	h=$1
	shift
	if ! timeout 300 nsenter -t "$h" -n taskset -c "$CCORE" "$@"; then
		echo "tun.sh: $* failed"
		kill "$SRV" 2> /dev/null
	fi
}

echo "TUN: servers on core $SCORE, kernel clients on core $CCORE; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo

want lifecycle && for o in client server; do
	k=$([ $o = client ] && echo cf || echo sf)
	echo "-- lifecycles, $o closes first: kernel clients -> ebb on TUN"
	ns_new
	H=$NSH
	client_sysctls "$H"
	tun_dev "$H" || { echo "tun.sh: cannot make the TUN device"; exit 1; }
	# shellcheck disable=SC2086
	server ebb_$k "$H" "$SCORE" $(ebb tun_lc_$k) "$B/tun_bench" lifecycle -o $o -t $((T + 60)) -l tun_lc_${k}_ebb $TARGS &&
		client "$H" "$B/kernel_lifecycle" -C 198.18.0.1 -o $o -t "$T" -c "$CONC" -l tun_lc_${k}_kc
	finish ebb_$k
	ns_end "$H"
	echo

	echo "-- lifecycles, $o closes first: kernel clients -> kernel server across veth"
	ns_new
	HC=$NSH
	ns_new
	HS=$NSH
	client_sysctls "$HC"
	nsx "$HS" sh -c 'echo 8388608 > /proc/sys/net/ipv4/tcp_max_tw_buckets'
	veth_pair "$HC" "$HS" || { echo "tun.sh: cannot make the veth pair"; exit 1; }
	server ks_$k "$HS" "$SCORE" "$B/kernel_lifecycle" -S 198.18.0.1 -o $o -t $((T + 60)) -l veth_lc_${k}_ks &&
		client "$HC" "$B/kernel_lifecycle" -C 198.18.0.1 -o $o -t "$T" -c "$CONC" -l veth_lc_${k}_kc
	finish ks_$k
	ns_end "$HC"
	ns_end "$HS"
	echo
done

if want bulk; then
	echo "-- bulk, kernel -> ebb on TUN"
	ns_new
	H=$NSH
	tun_dev "$H" || exit 1
	# shellcheck disable=SC2086
	server ebb_bulk "$H" "$SCORE" $(ebb tun_bulk_k2e) "$B/tun_bench" bulk-recv -s "$BULK" -b "$EBUF" -l tun_bulk_k2e_ebb $TARGS &&
		client "$H" "$B/kernel_bulk" -C 198.18.0.1 -s "$BULK" -l tun_bulk_k2e_k
	finish ebb_bulk
	ns_end "$H"
	echo

	echo "-- bulk, ebb on TUN -> kernel"
	ns_new
	H=$NSH
	tun_dev "$H" || exit 1
	# Here the kernel listens and ebb connects: roles swapped, cores kept.
	CC=$CCORE
	CCORE=$SCORE
	# shellcheck disable=SC2086
	server kr1 "$H" "$CC" "$B/kernel_bulk" -L 198.18.0.2 -s "$BULK" -l tun_bulk_e2k_k &&
		client "$H" $(ebb tun_bulk_e2k) "$B/tun_bench" bulk-send -s "$BULK" -b "$EBUF" -l tun_bulk_e2k_ebb $TARGS
	CCORE=$CC
	finish kr1
	ns_end "$H"
	echo

	echo "-- bulk, kernel -> kernel across veth"
	ns_new
	HC=$NSH
	ns_new
	HS=$NSH
	veth_pair "$HC" "$HS" || exit 1
	server kr2 "$HS" "$SCORE" "$B/kernel_bulk" -L 198.18.0.1 -s "$BULK" -l veth_bulk_kr &&
		client "$HC" "$B/kernel_bulk" -C 198.18.0.1 -s "$BULK" -l veth_bulk_ks
	finish kr2
	ns_end "$HC"
	ns_end "$HS"
fi

# A failed case has said so above and left its figures out of the table;
# the rest of `make bench` goes on.
exit 0
