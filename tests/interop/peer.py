#!/usr/bin/env python3
"""peer.py: the kernel's side of the interop tests, with plain sockets.

Every subcommand prints one JSON object per connection on stdout (flushed)
and bounds every wait with socket timeouts.  Exit status 0 unless the
subcommand's own expectation failed.
"""
import argparse
import errno
import hashlib
import json
import os
import socket
import struct
import sys
import threading
import time


def out(**kw):
    print(json.dumps(kw), flush=True)


def err_name(e):
    # An errno first: ETIMEDOUT from keepalive is a TimeoutError too,
    # like the socket's own timeout (which has no errno).
    if isinstance(e, OSError) and e.errno:
        return errno.errorcode.get(e.errno, str(e.errno))
    if isinstance(e, socket.timeout):
        return "TIMEOUT"
    return type(e).__name__


def hostport(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


def set_keepalive(s, spec):
    if not spec:
        return
    idle, intvl, cnt = (int(x) for x in spec.split(","))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, intvl)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, cnt)


def tcp_options(s):
    """What the kernel negotiated on this socket, from TCP_INFO."""
    ti = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
    o = ti[5]
    return {"ts": bool(o & 1), "sack": bool(o & 2), "wscale": bool(o & 4),
            "snd_wscale": ti[6] & 15, "rcv_wscale": ti[6] >> 4}


def linger0(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def listener(bind, port, reuseaddr=True):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if reuseaddr:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((bind, port))
    s.listen(256)
    return s


# ---------------------------------------------------------------- bulk

def bulk(conn, nsend, after_eof, timeout):
    """Send nsend random bytes (then FIN) while receiving to EOF."""
    conn.settimeout(timeout)
    st = {"sent": 0, "received": 0, "error": None}
    hs, hr = hashlib.sha256(), hashlib.sha256()
    eof = threading.Event()
    t0 = time.monotonic()

    def sender():
        try:
            if after_eof and not eof.wait(timeout):
                st["error"] = "no EOF to send after"
                return
            left = nsend
            while left:
                chunk = os.urandom(min(left, 1 << 16))
                conn.sendall(chunk)
                hs.update(chunk)
                left -= len(chunk)
                st["sent"] += len(chunk)
            conn.shutdown(socket.SHUT_WR)
            st["fin_at"] = time.monotonic() - t0
        except Exception as e:  # noqa: BLE001
            st["error"] = st["error"] or "send: " + err_name(e)

    th = threading.Thread(target=sender)
    th.start()
    try:
        while True:
            b = conn.recv(1 << 18)
            if not b:
                break
            hr.update(b)
            st["received"] += len(b)
        st["eof_at"] = time.monotonic() - t0
    except Exception as e:  # noqa: BLE001
        st["error"] = "recv: " + err_name(e)
    eof.set()
    th.join(timeout)
    conn.close()
    st["sent_sha"] = hs.hexdigest()
    st["recv_sha"] = hr.hexdigest()
    st["secs"] = round(time.monotonic() - t0, 3)
    return st


def cmd_bulk_server(a):
    ls = listener(a.bind, a.port)
    ls.settimeout(a.timeout)
    out(event="listening", port=a.port)
    conn, peer = ls.accept()
    ls.close()
    st = bulk(conn, a.send, a.after_eof, a.timeout)
    st["peer"] = "%s:%d" % peer
    out(**st)
    return 1 if st["error"] else 0


def cmd_bulk_client(a):
    s = socket.create_connection(hostport(a.connect), timeout=a.timeout)
    st = bulk(s, a.send, a.after_eof, a.timeout)
    out(**st)
    return 1 if st["error"] else 0


# ---------------------------------------------------------------- echo

def cmd_echo_server(a):
    """Echo connections one at a time; report how each ended."""
    ls = listener(a.bind, a.port)
    ls.settimeout(a.timeout)
    out(event="listening", port=a.port)
    for _ in range(a.count):
        conn, peer = ls.accept()
        conn.settimeout(a.timeout)
        out(event="accepted", peer="%s:%d" % peer, options=tcp_options(conn))
        n, end = 0, "eof"
        try:
            while True:
                b = conn.recv(65536)
                if not b:
                    break
                conn.sendall(b)
                n += len(b)
        except Exception as e:  # noqa: BLE001
            end = err_name(e)
        conn.close()
        out(peer="%s:%d" % peer, echoed=n, end=end)
    ls.close()
    return 0


def cmd_echo_client(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    set_keepalive(s, a.keepalive)
    s.settimeout(a.timeout)
    s.connect(hostport(a.connect))
    msg = a.message.encode()
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        b = s.recv(65536)
        if not b:
            break
        got += b
    res = {"echoed": got == msg}
    if a.wait_error:
        # Block until the connection ends (keepalive, RST, FIN).
        s.settimeout(a.wait_error)
        t0 = time.monotonic()
        try:
            b = s.recv(1)
            res["end"] = "eof" if not b else "data"
        except Exception as e:  # noqa: BLE001
            res["end"] = err_name(e)
        res["after"] = round(time.monotonic() - t0, 2)
    elif a.linger0:
        linger0(s)
        res["end"] = "rst-sent"
    elif a.half_close:
        s.shutdown(socket.SHUT_WR)
        try:
            while s.recv(65536):
                pass
            res["end"] = "eof"
        except Exception as e:  # noqa: BLE001
            res["end"] = err_name(e)
    else:
        res["end"] = "closed"
    s.close()
    out(**res)
    return 0 if res["echoed"] else 1


def cmd_hold(a):
    """Connect, send an HTTP GET, read the whole response, hold the connection for a while
    (so `ss -tin` can show it), then close."""
    s = socket.create_connection(hostport(a.connect), timeout=a.timeout)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    read_response(s)
    out(event="holding", local="%s:%d" % s.getsockname(), options=tcp_options(s))
    time.sleep(a.seconds)
    s.close()
    return 0


# ---------------------------------------------------------------- http

def read_response(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        if not b:
            raise EOFError("EOF in headers")
        buf += b
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    n = int(hdrs.get("content-length", "0"))
    while len(body) < n:
        b = s.recv(65536)
        if not b:
            raise EOFError("EOF in body")
        body += b
    return status, hdrs, body


def cmd_http_get(a):
    """GET over one connection, `requests` times; close first (client) or
    send Connection: close and wait for the server's FIN (server)."""
    s = socket.create_connection(hostport(a.connect), timeout=a.timeout)
    res = {"statuses": [], "local": "%s:%d" % s.getsockname()}
    try:
        for i in range(a.requests):
            last = i == a.requests - 1
            hdr = "Connection: close\r\n" if last and a.close == "server" else ""
            s.sendall(("GET / HTTP/1.1\r\nHost: x\r\n%s\r\n" % hdr).encode())
            status, hdrs, _ = read_response(s)
            res["statuses"].append(status)
            res["connection"] = hdrs.get("connection", "")
        if a.close == "server":
            res["eof"] = s.recv(1) == b""
        elif a.idle_wait:
            # Wait for the server to close an idle persistent connection.
            s.settimeout(a.idle_wait)
            t0 = time.monotonic()
            res["eof"] = s.recv(1) == b""
            res["eof_after"] = round(time.monotonic() - t0, 2)
        res["end"] = "ok"
    except Exception as e:  # noqa: BLE001
        res["end"] = err_name(e)
    s.close()
    out(**res)
    return 0 if res["end"] == "ok" else 1


def cmd_http_serve(a):
    """Serve `count` requests, one per connection, each answered with
    Connection: close and closed by the server first (TIME_WAIT here)."""
    try:
        ls = listener(a.bind, a.port, a.reuseaddr)
    except OSError as e:
        out(event="bind", error=err_name(e), reuseaddr=a.reuseaddr)
        return 3
    ls.settimeout(a.timeout)
    out(event="listening", port=a.port, reuseaddr=a.reuseaddr)
    for _ in range(a.count):
        conn, peer = ls.accept()
        conn.settimeout(a.timeout)
        buf = b""
        while b"\r\n\r\n" not in buf:
            b = conn.recv(65536)
            if not b:
                break
            buf += b
        body = b"hello from the kernel\n"
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        conn.close()
        out(peer="%s:%d" % peer, served=True)
    ls.close()
    return 0


def cmd_http_server11(a):
    """Python's http.server speaking HTTP/1.1 (persistent connections),
    serving the current directory until --seconds pass."""
    import http.server

    class H(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

    class S(http.server.ThreadingHTTPServer):
        allow_reuse_address = True
        daemon_threads = True
        request_queue_size = 256  # the default 5 overflows under load

    srv = S((a.bind, a.port), H)
    srv.timeout = 0.2
    out(event="listening", port=a.port)
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        srv.handle_request()
    srv.server_close()
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--timeout", type=float, default=30)
    sub = p.add_subparsers(dest="cmd", required=True)

    q = sub.add_parser("bulk-server")
    q.add_argument("--bind", default="198.18.0.2")
    q.add_argument("--port", type=int, default=5001)
    q.add_argument("--send", type=int, default=0)
    q.add_argument("--after-eof", action="store_true")
    q.set_defaults(fn=cmd_bulk_server)

    q = sub.add_parser("bulk-client")
    q.add_argument("--connect", required=True)
    q.add_argument("--send", type=int, default=0)
    q.add_argument("--after-eof", action="store_true")
    q.set_defaults(fn=cmd_bulk_client)

    q = sub.add_parser("echo-server")
    q.add_argument("--bind", default="198.18.0.2")
    q.add_argument("--port", type=int, default=7)
    q.add_argument("--count", type=int, default=1)
    q.set_defaults(fn=cmd_echo_server)

    q = sub.add_parser("echo-client")
    q.add_argument("--connect", required=True)
    q.add_argument("--message", default="hello from the kernel\n")
    q.add_argument("--linger0", action="store_true")
    q.add_argument("--half-close", action="store_true")
    q.add_argument("--keepalive")
    q.add_argument("--wait-error", type=float, default=0)
    q.set_defaults(fn=cmd_echo_client)

    q = sub.add_parser("hold")
    q.add_argument("--connect", required=True)
    q.add_argument("--seconds", type=float, default=3)
    q.set_defaults(fn=cmd_hold)

    q = sub.add_parser("http-get")
    q.add_argument("--connect", required=True)
    q.add_argument("--requests", type=int, default=1)
    q.add_argument("--close", choices=["client", "server"], default="client")
    q.add_argument("--idle-wait", type=float, default=0)
    q.set_defaults(fn=cmd_http_get)

    q = sub.add_parser("http-server11")
    q.add_argument("--bind", default="198.18.0.2")
    q.add_argument("--port", type=int, default=8011)
    q.add_argument("--seconds", type=float, default=30)
    q.set_defaults(fn=cmd_http_server11)

    q = sub.add_parser("http-serve")
    q.add_argument("--bind", default="198.18.0.2")
    q.add_argument("--port", type=int, default=8080)
    q.add_argument("--count", type=int, default=1)
    q.add_argument("--reuseaddr", action="store_true")
    q.set_defaults(fn=cmd_http_serve)

    a = p.parse_args()
    try:
        return a.fn(a)
    except Exception as e:  # noqa: BLE001
        out(event="error", error=err_name(e), detail=str(e))
        return 2


if __name__ == "__main__":
    sys.exit(main())
