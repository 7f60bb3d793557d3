#!/bin/sh
# errno_probe.sh: run errno_probe.py against the Linux kernel in a private
# network namespace: `unshare -n sh tests/linux/errno_probe.sh`.  Its output
# is what tests/api_errno_test.c asserts ebb returns too (checked on Linux
# 6.18; where ebb cannot match, the test says why).
# Network for api_errno_probe.py, run inside `unshare -n`.
set -e
ip link set lo up
ip link add v0 type veth peer name v1
ip addr add 10.0.0.1/24 dev v0
ip link set v0 up
ip link set v1 up
# 10.0.0.2 resolves, but nobody answers: SYNs to it vanish.
ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev v0 nud permanent
ip route add default via 10.0.0.2 dev v0
python3 "$(dirname "$0")/errno_probe.py"
