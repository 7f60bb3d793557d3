#!/usr/bin/env python3
"""doctor_peers.py: the programs the `ebb doctor` tests diagnose.

  leak-server ADDR PORT N STATUS   accept N connections and never close them
                                   (their sockets go to CLOSE_WAIT when the
                                   clients close); writes "pid P" then
                                   "accepted K" lines to STATUS
  clients SRC DST PORT N           open N connections from SRC and close each
  echo-server ADDR PORT N STATUS   accept, send one byte, wait for the
                                   client's FIN, then close: the client closes
                                   first, so TIME_WAIT stays on the client
  short-clients DST PORT N [GAP]   N short connections, each read one byte and
                                   close first; GAP seconds between them
  fill DST PORT N                  connect until connect() fails: prints the
                                   successes and the errno name

Every loop is bounded in count and time: each program gives up after
DEADLINE seconds (env EBB_DOCTOR_DEADLINE, default 120).
"""
import errno
import os
import signal
import socket
import sys
import time

DEADLINE = time.monotonic() + float(os.environ.get("EBB_DOCTOR_DEADLINE", "120"))


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def listener(addr, port):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(4096)
    s.settimeout(0.5)
    return s


def status(path, line):
    with open(path, "a") as f:
        f.write(line + "\n")


def leak_server(addr, port, n, path):
    s = listener(addr, port)
    status(path, "pid %d" % os.getpid())
    held = []
    while len(held) < n and time.monotonic() < DEADLINE:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        held.append(c)  # never closed: the leak under test
        status(path, "accepted %d" % len(held))
    while time.monotonic() < DEADLINE:  # hold them until killed
        time.sleep(0.2)


def clients(src, dst, port, n):
    for _ in range(n):
        if time.monotonic() >= DEADLINE:
            sys.exit("clients: deadline")
        c = socket.socket(family(dst), socket.SOCK_STREAM)
        c.settimeout(5)
        # The port is picked at connect(), shared among destinations, as
        # when no bind() is made (a bind() to port 0 would hold it alone).
        c.setsockopt(socket.SOL_IP, getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24), 1)
        c.bind((src, 0))
        c.connect((dst, port))
        c.close()


def echo_server(addr, port, n, path):
    s = listener(addr, port)
    status(path, "pid %d" % os.getpid())
    served = 0
    while served < n and time.monotonic() < DEADLINE:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        c.settimeout(5)
        try:
            c.sendall(b"x")
            while c.recv(4096):  # until the client's FIN
                pass
        except OSError:
            pass
        c.close()
        served += 1
    status(path, "served %d" % served)


def short_clients(dst, port, n, gap):
    for _ in range(n):
        if time.monotonic() >= DEADLINE:
            sys.exit("short-clients: deadline")
        c = socket.socket(family(dst), socket.SOCK_STREAM)
        c.settimeout(5)
        c.connect((dst, port))
        c.recv(1)
        c.close()  # the client closes first
        if gap:
            time.sleep(gap)


def fill(dst, port, n):
    ok = 0
    err = "none"
    for _ in range(n):
        if time.monotonic() >= DEADLINE:
            break
        c = socket.socket(family(dst), socket.SOCK_STREAM)
        c.settimeout(5)
        try:
            c.connect((dst, port))
        except OSError as e:
            err = errno.errorcode.get(e.errno, str(e.errno))
            c.close()
            break
        c.recv(1)
        c.close()
        ok += 1
    print(ok, err)


def main(argv):
    # Ended by the test's cleanup: leave quietly.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    cmd = argv[1] if len(argv) > 1 else ""
    a = argv[2:]
    if cmd == "leak-server" and len(a) == 4:
        leak_server(a[0], int(a[1]), int(a[2]), a[3])
    elif cmd == "clients" and len(a) == 4:
        clients(a[0], a[1], int(a[2]), int(a[3]))
    elif cmd == "echo-server" and len(a) == 4:
        echo_server(a[0], int(a[1]), int(a[2]), a[3])
    elif cmd == "short-clients" and len(a) in (3, 4):
        short_clients(a[0], int(a[1]), int(a[2]), float(a[3]) if len(a) == 4 else 0)
    elif cmd == "fill" and len(a) == 3:
        fill(a[0], int(a[1]), int(a[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
