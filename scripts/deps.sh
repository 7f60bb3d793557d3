#!/bin/sh
# Install what the build and tests need on Debian 12, only if missing.
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
if [ -n "$need" ]; then
	echo "installing:$need"
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq $need >/dev/null
fi
