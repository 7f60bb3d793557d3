#!/bin/sh
# Install what the build and tests need on Debian 12, only if missing.
# The interop tests (tests/interop/) also want the kernel-side peers:
# curl, socat, wrk, python3, iproute2 (ip, tc, ss) and tshark.
set -e
need=""
have() { command -v "$1" >/dev/null 2>&1; }
have cmake || need="$need cmake"
have cc || need="$need gcc"
have clang || need="$need clang"
have tshark || need="$need tshark"
have valgrind || need="$need valgrind"
have python3 || need="$need python3"
# lwIP for lwip/interop_test.c and bench/lwip_bench.c (headers and liblwip.so).
[ -e /usr/include/lwip/lwip/tcp.h ] || need="$need liblwip-dev"
# ebb doctor's tests: network namespaces and veth (ip), the seeds'
# netstat | awk line to compare with (netstat).
have netstat || need="$need net-tools"
have curl || need="$need curl"
have socat || need="$need socat"
have wrk || need="$need wrk"
{ have ip && have tc && have ss; } || need="$need iproute2"
have timeout || need="$need coreutils"
have setpriv || need="$need util-linux"
if [ -n "$need" ]; then
	echo "installing:$need"
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq $need >/dev/null
fi
