#!/bin/sh
# run.sh BUILD: `make bench`.  Runs every benchmark from the optimised
# build in BUILD, ebb's and the Linux kernel's side by side in the same
# run (each kernel case in a fresh network namespace: `unshare -n`, lo
# up), all pinned to one core; prints one table of every figure with its
# reference and ratio, and writes bench/results.json.
#
# Settings (environment):
#   EBB_BENCH_T=5         seconds per lifecycle case
#   EBB_BENCH_LONG=1      also the sustained client-closes-first run
#   EBB_BENCH_LONG_T=120  its length in seconds
#   EBB_BENCH_BULK=N      bytes per bulk transfer (default 1 GiB)
#   EBB_BENCH_CONC=64     connections in flight
#   EBB_BENCH_CORE=N      the core everything runs on (default the last)
#   EBB_BENCH_CALLGRIND=0 skip the instruction counts
#   EBB_BENCH_TUN=0       skip ebb on a TUN device against the kernel
#                         (bench/tun.sh lists its own settings)
set -eu
BUILD=${1:?usage: run.sh BUILD_DIR}
B=$BUILD/bench
DIR=$(cd "$(dirname "$0")" && pwd)
OUT=$DIR/results.json
T=${EBB_BENCH_T:-5}
LONG=${EBB_BENCH_LONG:-0}
LONG_T=${EBB_BENCH_LONG_T:-120}
BULK=${EBB_BENCH_BULK:-1073741824}
CONC=${EBB_BENCH_CONC:-64}
CORE=${EBB_BENCH_CORE:-$(($(nproc) - 1))}
CALLGRIND=${EBB_BENCH_CALLGRIND:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
LINES=$tmp/lines
: > "$LINES"

PIN="taskset -c $CORE"
command -v taskset > /dev/null || { PIN=""; echo "note: no taskset, nothing is pinned"; }

MACHINE="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, Linux $(uname -r)"
echo "ebb benchmarks, $(date -u +%Y-%m-%d), $MACHINE; pinned to core $CORE"
echo "lifecycles: $CONC in flight, ${T} s a case; bulk: $BULK bytes"
echo

# run LABEL CMD...: print the benchmark's report, keep its JSON line.
run() {
	"$@" > "$tmp/out" || { cat "$tmp/out"; echo "FAILED: $*"; return 1; }
	grep -v '^{' "$tmp/out"
	grep '^{' "$tmp/out" >> "$LINES" || true
	echo
}

# The kernel references need a network namespace of their own: root.
KERNEL=1
if ! unshare -n true 2> /dev/null || ! command -v ip > /dev/null; then
	KERNEL=0
	echo "SKIP Linux references: cannot make a network namespace (unshare -n needs root, and ip(8))"
	echo
fi
# knet SETUP CMD...: CMD in a fresh namespace, lo up, after the shell
# commands in SETUP (sysctls of that namespace only).  TIME_WAIT is kept
# on both sides: the namespace's cap is raised to ebb's (8M records).
knet() {
	setup=$1
	shift
	[ "$KERNEL" = 1 ] || return 0
	unshare -n sh -c "ip link set lo up && echo 8388608 > /proc/sys/net/ipv4/tcp_max_tw_buckets && $setup && exec $PIN \"\$@\"" sh "$@"
}
SYS=/proc/sys/net/ipv4

LC="-t $T -c $CONC"
echo "== TIME_WAIT at scale"
run $PIN "$B/tw_bench" 1000000

echo "== Connection lifecycles, server closes first (Linux's defaults on both)"
run $PIN "$B/lifecycle_bench" $LC -o server -l lc_sf_ebb
run knet true "$B/kernel_lifecycle" $LC -o server -l lc_sf_linux

echo "== Connection lifecycles, client closes first, tw_reuse_delay 1 ms on both"
run $PIN "$B/lifecycle_bench" $LC -o client -d 1 -l lc_cf_ebb
run knet "echo 1 > $SYS/tcp_tw_reuse_delay" "$B/kernel_lifecycle" $LC -o client -l lc_cf_linux

echo "== Connection lifecycles, client closes first, Linux's defaults (tw_reuse_delay 1 s) on both"
run $PIN "$B/lifecycle_bench" $LC -o client -l lc_cf1s_ebb
run knet true "$B/kernel_lifecycle" $LC -o client -l lc_cf1s_linux

echo "== Linux with tcp_tw_reuse=0, client closes first (the seed's port exhaustion)"
run knet "echo 0 > $SYS/tcp_tw_reuse" "$B/kernel_lifecycle" $LC -o client -l lc_cf0_linux

if [ "$LONG" = 1 ]; then
	echo "== Sustained: client closes first for $LONG_T s"
	run $PIN "$B/lifecycle_bench" -t "$LONG_T" -c "$CONC" -o client -d 1 -l long_ebb
	run knet "echo 0 > $SYS/tcp_tw_reuse" "$B/kernel_lifecycle" -t "$LONG_T" -c "$CONC" -o client -l long_linux0
fi

echo "== Bulk transfer, MTU 1500"
run $PIN "$B/bulk_bench" -s "$BULK" -l bulk_ebb
run knet "ip link set lo mtu 1500" "$B/kernel_bulk" -s "$BULK" -l bulk_linux

# ebb on a TUN device against kernel programs, and the kernel against
# itself across a veth pair, in the same run (bench/tun.sh; root).
if [ "${EBB_BENCH_TUN:-1}" = 1 ]; then
	echo "== ebb on a TUN device against the kernel; the kernel across a veth pair"
	run sh "$DIR/tun.sh" "$BUILD"
else
	echo "SKIP TUN benchmarks (EBB_BENCH_TUN=0)"
	echo
fi

# ebb against lwIP (Debian's liblwip-dev); LWIP_BENCH_ARGS passes options
# (lwip_bench --help).
if [ -x "$B/lwip_bench" ]; then
	echo "== lwIP"
	# shellcheck disable=SC2086
	run $PIN "$B/lwip_bench" ${LWIP_BENCH_ARGS:-}
else
	echo "SKIP lwIP: lwip_bench not built (liblwip-dev was missing when $BUILD was configured)"
	echo
fi

# Instruction counts under callgrind: two sizes of one fixed workload on
# a virtual clock; the difference divided by the difference in work is
# the steady-state cost, setup excluded.  Repeatable run to run.
icount() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" > "$tmp/cg.out" 2> "$tmp/cg.err"
	sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/cg.err"
}
jval() { sed -n "s/.*\"$1\": \([0-9.e+-]*\).*/\1/p" "$tmp/cg.out"; }
if [ "$CALLGRIND" = 1 ] && command -v valgrind > /dev/null; then
	echo "== Instructions (callgrind; virtual clock; the difference of two run lengths)"
	cg_lc() {
		i1=$(icount "$B/lifecycle_bench" -c "$CONC" -V 100000 -t 600 -n 30000 "$@" -l x)
		n1=$(jval x_lifecycles)
		i2=$(icount "$B/lifecycle_bench" -c "$CONC" -V 100000 -t 600 -n 45000 "$@" -l x)
		n2=$(jval x_lifecycles)
		awk -v a="$i1" -v b="$i2" -v m="$n1" -v n="$n2" 'BEGIN { printf "%.0f", (b - a) / (n - m) }'
	}
	cf=$(cg_lc -o client -d 1)
	sf=$(cg_lc -o server)
	i1=$(icount "$B/bulk_bench" -V 1000 -s 16777216 -l x)
	i2=$(icount "$B/bulk_bench" -V 1000 -s 50331648 -l x)
	kib=$(awk -v a="$i1" -v b="$i2" 'BEGIN { printf "%.0f", (b - a) / 32768 }')
	echo "  per lifecycle, client closes first   $cf instructions"
	echo "  per lifecycle, server closes first   $sf instructions"
	echo "  per KiB of bulk transfer             $kib instructions"
	echo "{\"cg_lc_cf_instr\": $cf, \"cg_lc_sf_instr\": $sf, \"cg_bulk_instr_per_kib\": $kib}" >> "$LINES"
	echo
else
	echo "SKIP instruction counts (EBB_BENCH_CALLGRIND=0 or no valgrind)"
	echo
fi

# Every "key": number of every JSON line, one "key value" a line.
sed 's/[{}]//g' "$LINES" | tr ',' '\n' | sed -n 's/^ *"\([^"]*\)": *\(.*\)$/\1 \2/p' > "$tmp/kv"

awk -v machine="$MACHINE" -v date="$(date -u +%Y-%m-%dT%H:%M:%SZ)" -v out="$OUT" -v long="$LONG" '
function has(k) { return (k in V) }
function num(k) { return has(k) ? V[k] + 0 : -1 }
function fmt(x, unit) {
	if (x < 0) return "-"
	if (unit == "ns/B") return sprintf("%.3f", x)
	if (x == int(x) && x < 100000) return sprintf("%d", x)
	if (x >= 100000) return sprintf("%.0fk", x / 1000)
	if (x >= 100) return sprintf("%.0f", x)
	return sprintf("%.2f", x)
}
# row(key, figure, ebb, linux, unit, higher_is_better, target_ratio, note):
# the ratio is ebb over Linux where higher is better, Linux over ebb
# where lower is, none where hib is -1; results.json keeps it as
# ratio_<key>.
function row(key, name, e, l, unit, hib, target, note,    r, rs, verdict) {
	r = -1
	if (e > 0 && l > 0 && hib >= 0) r = hib ? e / l : l / e
	rs = r < 0 ? "-" : sprintf("%.1fx", r)
	verdict = ""
	if (target > 0 && r > 0) verdict = r >= target ? "met" : "NOT MET"
	printf "%-46s %10s %10s %-7s %7s  %s%s\n", name, fmt(e, unit), fmt(l, unit), unit, rs, verdict, note
	if (r > 0 && key != "") R[key] = r
}
function line(name, val, note) { printf "%-46s %10s %10s %-7s %7s  %s\n", name, val, "", "", "", note }
{ V[$1] = $2 }
END {
	printf "%-46s %10s %10s %-7s %7s  %s\n", "figure", "ebb", "Linux", "unit", "ratio", "target"
	printf "%s\n", "------------------------------------------------------------------------------------------------------"
	row("lc_sf", "lifecycles, server closes first", num("lc_sf_ebb_rate"), num("lc_sf_linux_rate"), "/s", 1, 10, " (>= 10x, stretch 25x)")
	row("lc_sf_cpu", "  CPU per lifecycle", num("lc_sf_ebb_cpu_ns"), num("lc_sf_linux_cpu_ns"), "ns", 0, 0, "")
	row("lc_cf", "lifecycles, client first, reuse delay 1 ms", num("lc_cf_ebb_rate"), num("lc_cf_linux_rate"), "/s", 1, 10, " (>= 10x, stretch 25x)")
	row("lc_cf_cpu", "  CPU per lifecycle", num("lc_cf_ebb_cpu_ns"), num("lc_cf_linux_cpu_ns"), "ns", 0, 0, "")
	row("", "  EADDRNOTAVAIL", num("lc_cf_ebb_eaddrnotavail"), num("lc_cf_linux_eaddrnotavail"), "", -1, 0, "  (ebb: must be 0)")
	row("lc_cf1s", "lifecycles, client first, reuse delay 1 s", num("lc_cf1s_ebb_rate"), num("lc_cf1s_linux_rate"), "/s", 1, 0, "  (both bound by 4-tuples: <= 28232/s)")
	row("", "  EADDRNOTAVAIL", num("lc_cf1s_ebb_eaddrnotavail"), num("lc_cf1s_linux_eaddrnotavail"), "", -1, 0, "")
	row("", "Linux tcp_tw_reuse=0, client first", -1, num("lc_cf0_linux_rate"), "/s", -1, 0, "")
	row("", "  slowest second", -1, num("lc_cf0_linux_min_sec"), "", -1, 0, "")
	row("", "  EADDRNOTAVAIL", -1, num("lc_cf0_linux_eaddrnotavail"), "", -1, 0, "")
	if (long == 1) {
		row("", "sustained, client first (ebb delay 1 ms,", num("long_ebb_rate"), num("long_linux0_rate"), "/s", 1, 0, "")
		row("", "  Linux tcp_tw_reuse=0)  slowest second", num("long_ebb_min_sec"), num("long_linux0_min_sec"), "", -1, 0, "")
		row("", "  EADDRNOTAVAIL", num("long_ebb_eaddrnotavail"), num("long_linux0_eaddrnotavail"), "", -1, 0, "  (ebb: must be 0)")
		row("", "  seconds", num("long_ebb_secs"), num("long_linux0_secs"), "s", -1, 0, "")
	}
	row("bulk", "bulk, one connection, MTU 1500", num("bulk_ebb_gbps"), num("bulk_linux_gbps"), "Gbit/s", 1, 2, " (>= 2x)")
	row("bulk_cpu", "  CPU per byte", num("bulk_ebb_cpu_ns_per_byte"), num("bulk_linux_cpu_ns_per_byte"), "ns/B", 0, 0, "")
	if (has("tun_lc_cf_kc_rate") || has("veth_lc_cf_kc_rate")) {
		printf "\n%-46s %10s %10s %-7s %7s\n", "kernel clients against ebb on TUN (Linux: veth)", "ebb/TUN", "Linux/veth", "unit", "ratio"
		row("tun_lc_cf", "lifecycles, client closes first", num("tun_lc_cf_kc_rate"), num("veth_lc_cf_kc_rate"), "/s", 1, 0, "")
		row("tun_lc_cf_cpu", "  CPU per lifecycle, server process", num("tun_lc_cf_ebb_cpu_ns"), num("veth_lc_cf_ks_cpu_ns"), "ns", 0, 0, "")
		row("", "    of which in the kernel (system time)", num("tun_lc_cf_ebb_cpu_sys_ns"), num("veth_lc_cf_ks_cpu_sys_ns"), "ns", -1, 0, "")
		row("tun_lc_sf", "lifecycles, server closes first", num("tun_lc_sf_kc_rate"), num("veth_lc_sf_kc_rate"), "/s", 1, 0, "")
		row("tun_lc_sf_cpu", "  CPU per lifecycle, server process", num("tun_lc_sf_ebb_cpu_ns"), num("veth_lc_sf_ks_cpu_ns"), "ns", 0, 0, "")
		row("", "    of which in the kernel (system time)", num("tun_lc_sf_ebb_cpu_sys_ns"), num("veth_lc_sf_ks_cpu_sys_ns"), "ns", -1, 0, "")
		row("tun_bulk_k2e", "bulk kernel -> ebb (Linux: -> kernel)", num("tun_bulk_k2e_ebb_gbps"), num("veth_bulk_kr_gbps"), "Gbit/s", 1, 0, "")
		row("tun_bulk_k2e_cpu", "  CPU per byte, receiver", num("tun_bulk_k2e_ebb_cpu_ns_per_byte"), num("veth_bulk_kr_cpu_ns_per_byte"), "ns/B", 0, 0, "")
		row("tun_bulk_e2k", "bulk ebb -> kernel (Linux: kernel ->)", num("tun_bulk_e2k_k_gbps"), num("veth_bulk_kr_gbps"), "Gbit/s", 1, 0, "")
		row("tun_bulk_e2k_cpu", "  CPU per byte, sender", num("tun_bulk_e2k_ebb_cpu_ns_per_byte"), num("veth_bulk_ks_cpu_ns_per_byte"), "ns/B", 0, 0, "")
		print ""
	}
	row("tw_record", "TIME_WAIT record", num("tw_record_bytes"), num("linux_tw_sock_bytes"), "bytes", 0, 0, "  (ebb <= 32; Linux: tw_sock_TCP slab object)")
	row("", "  allocated per record, index included", num("tw_bytes_per_record"), -1, "bytes", 0, 0, "  (<= 48)")
	row("", "  lookup at 1M records, hit / miss", num("tw_lookup_hit_ns"), num("tw_lookup_miss_ns"), "ns", -1, 0, "  (hit <= 150; the second column is the miss)")
	row("", "  batched (prefetched) lookup, hit / miss", num("tw_lookup_hit_batched_ns"), num("tw_lookup_miss_batched_ns"), "ns", -1, 0, "  (as ebb_stack_input_batch looks up)")
	if (has("lwip_lc_lwip_lwip_cf_cpu_ns")) {
		printf "\n%-46s %10s %10s %-7s %7s\n", "against lwIP (CPU time)", "ebb-ebb", "lwIP-lwIP", "unit", "ratio"
		row("lwip_lc_cf", "  CPU per lifecycle, client first", num("lwip_lc_ebb_ebb_cf_cpu_ns"), num("lwip_lc_lwip_lwip_cf_cpu_ns"), "ns", 0, 0, "")
		row("lwip_lc_sf", "  CPU per lifecycle, server first", num("lwip_lc_ebb_ebb_sf_cpu_ns"), num("lwip_lc_lwip_lwip_sf_cpu_ns"), "ns", 0, 0, "")
		row("lwip_bulk", "  CPU per byte of bulk", num("lwip_bulk_ebb_ebb_cpu_ns_per_byte"), num("lwip_bulk_lwip_lwip_cpu_ns_per_byte"), "ns/B", 0, 0, "")
		print ""
	}
	row("", "instructions per lifecycle, client first", num("cg_lc_cf_instr"), -1, "", 0, 0, "  (callgrind)")
	row("", "instructions per lifecycle, server first", num("cg_lc_sf_instr"), -1, "", 0, 0, "  (callgrind)")
	row("", "instructions per KiB of bulk transfer", num("cg_bulk_instr_per_kib"), -1, "", 0, 0, "  (callgrind)")
	# results.json: the run, every figure, the ratios.
	printf "{\"date\": \"%s\", \"machine\": \"%s\"", date, machine > out
	for (k in V) printf ", \"%s\": %s", k, V[k] > out
	for (k in R) printf ", \"ratio_%s\": %.3f", k, R[k] > out
	printf "}\n" > out
}' "$tmp/kv"
echo
echo "results: $OUT"
