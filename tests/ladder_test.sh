#!/bin/sh
# ladder_test.sh: the ladder diagrams.
#  - `ebb sim lost-last-ack --diagrams` reproduces the golden SVG byte for
#    byte (regenerate after an intended change with EBB_UPDATE_GOLDEN=1);
#  - every SVG and HTML that `ebb sim all` and `ebb demo` write is
#    well-formed and self-contained (tests/check_markup.py);
#  - `ebb ladder` reads demo.pcap (and its pcapng copy) and infers the
#    story: the lost final ACK, the FIN retransmitted by a timer,
#    TIME-WAIT on the client;
#  - bad input (missing, foreign, truncated files; bad options) gets a
#    message and a non-zero exit, never a crash.
set -eu
EBB=$1
SRC=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$EBB" sim lost-last-ack --quiet --diagrams "$dir/sim" > /dev/null || fail "ebb sim lost-last-ack"
golden=$SRC/tests/golden/lost-last-ack-1.svg
if [ "${EBB_UPDATE_GOLDEN:-}" = 1 ]; then
	cp "$dir/sim/lost-last-ack-1.svg" "$golden"
	echo "golden updated: $golden"
fi
if ! cmp -s "$golden" "$dir/sim/lost-last-ack-1.svg"; then
	diff "$golden" "$dir/sim/lost-last-ack-1.svg" | head -20
	fail "lost-last-ack-1.svg differs from $golden (if intended: EBB_UPDATE_GOLDEN=1 ctest -R ladder_test)"
fi

"$EBB" sim all --quiet --diagrams "$dir/sim" > /dev/null || fail "ebb sim all --diagrams"
n=$(ls "$dir/sim"/*.svg | wc -l)
[ "$n" -ge 12 ] || fail "only $n scenario SVGs"
[ "$(ls "$dir/sim"/*.html | wc -l)" -eq 12 ] || fail "not one HTML page per scenario"
(cd "$dir" && "$EBB" demo > demo.txt) || fail "ebb demo"
for i in 1 2 3 4 5 6; do test -s "$dir/demo-$i.svg" || fail "ebb demo wrote no demo-$i.svg"; done
python3 "$SRC/tests/check_markup.py" "$dir"/sim/*.svg "$dir"/sim/*.html "$dir"/*.svg "$dir/demo.html" ||
	fail "malformed SVG or HTML"
grep -q "TIME-WAIT 2MSL" "$dir/demo-3.svg" || fail "no TIME-WAIT span in demo-3.svg"
grep -q ">lost<" "$dir/demo-3.svg" || fail "the lost ACK is not marked in demo-3.svg"

# From the capture.
"$EBB" ladder "$dir/demo.pcap" --list > "$dir/list.txt" || fail "ebb ladder --list"
[ "$(grep -c 'closed first by the client' "$dir/list.txt")" -eq 3 ] || fail "client-closed connections in --list"
[ "$(grep -c 'closed first by the server' "$dir/list.txt")" -eq 3 ] || fail "server-closed connections in --list"
"$EBB" ladder "$dir/demo.pcap" --conn 3 > "$dir/c3.txt" || fail "ebb ladder --conn 3"
grep -q 'X|  lost$' "$dir/c3.txt" || fail "the lost final ACK was not inferred"
grep -q 'server: RTO/TLP after' "$dir/c3.txt" || fail "the FIN's retransmission timer was not inferred"
grep -q '^ *[0-9.]*s  TIME-WAIT ' "$dir/c3.txt" || fail "TIME-WAIT on the client was not inferred"
"$EBB" ladder "$dir/demo.pcap" --conn 3 --svg "$dir/c3.svg" || fail "ebb ladder --svg"
"$EBB" ladder "$dir/demo.pcap" --html "$dir/all.html" || fail "ebb ladder --html"
python3 "$SRC/tests/check_markup.py" "$dir/c3.svg" "$dir/all.html" || fail "malformed ladder SVG or HTML"
if command -v editcap > /dev/null 2>&1; then
	editcap -F pcapng "$dir/demo.pcap" "$dir/demo.pcapng"
	"$EBB" ladder "$dir/demo.pcapng" --conn 3 > "$dir/c3ng.txt" || fail "ebb ladder on pcapng"
	cmp -s "$dir/c3.txt" "$dir/c3ng.txt" || fail "pcapng and pcap copies read differently"
fi

# Bad input.
expect_fail() {
	want=$1
	shift
	if "$EBB" "$@" > "$dir/err.txt" 2>&1; then fail "'$*' succeeded"; fi
	grep -q "$want" "$dir/err.txt" || { cat "$dir/err.txt"; fail "'$*' did not say '$want'"; }
}
expect_fail "No such file" ladder "$dir/nonexistent.pcap"
printf 'hello, not a capture' > "$dir/junk"
expect_fail "not a pcap or pcapng file" ladder "$dir/junk"
expect_fail "pick one with --conn" ladder "$dir/demo.pcap" --svg "$dir/x.svg"
expect_fail "no connection 99" ladder "$dir/demo.pcap" --conn 99
expect_fail "comma-separated" ladder "$dir/demo.pcap" --conn 1x
expect_fail "unknown argument" ladder "$dir/demo.pcap" --bogus
# Every truncation of the capture: a message or a partial ladder, never a crash.
size=$(wc -c < "$dir/demo.pcap")
i=0
while [ $i -lt "$size" ]; do
	head -c $i "$dir/demo.pcap" > "$dir/cut.pcap"
	"$EBB" ladder "$dir/cut.pcap" --conn all > /dev/null 2>&1 || [ $? -lt 128 ] || fail "crash on a capture cut at $i bytes"
	i=$((i + 37))
done
echo "ok: golden SVG reproduced, $n scenario SVGs well-formed, capture ladders inferred"
