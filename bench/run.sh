#!/bin/sh
# run.sh: `make bench`.  Runs each benchmark from an optimised build and
# collects their JSON lines into bench/results.json.
set -eu
BUILD=$1
OUT=$(dirname "$0")/results.json
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
echo "ebb benchmarks ($(date -u +%Y-%m-%d), $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo
"$BUILD/bench/tw_bench" 1000000 | tee -a "$tmp"
echo
# ebb against lwIP; LWIP_BENCH_ARGS passes options (lwip_bench --help).
if [ -x "$BUILD/bench/lwip_bench" ]; then
	# shellcheck disable=SC2086
	"$BUILD/bench/lwip_bench" ${LWIP_BENCH_ARGS:-} | tee -a "$tmp"
else
	echo "lwip_bench: not built (liblwip-dev was missing when $BUILD was configured)"
fi
echo
# One JSON object from the benchmarks' last lines.
printf '{"date": "%s", "machine": "%s",' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -m)" > "$OUT"
grep '^{' "$tmp" | sed 's/^{//; s/}$//' | paste -sd, - >> "$OUT"
echo '}' >> "$OUT"
echo "results: $OUT"
