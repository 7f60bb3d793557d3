#!/usr/bin/env python3
"""
errno_probe.py: what the Linux kernel returns for every socket-API
situation tests/api_errno_test.c checks in ebb.  Raw libc calls through
ctypes so NULL pointers and odd lengths reach the kernel unchanged; every
socket is non-blocking, as ebb's are.

Run inside a private network namespace (as root):
  unshare -n sh tests/linux/errno_probe.sh
which sets up lo, a veth "black hole" 10.0.0.2 (SYNs to it vanish) and a
default route, then runs this script.
"""
import ctypes, errno, os, select, socket, struct, time, resource, sys

libc = ctypes.CDLL(None, use_errno=True)
libc.accept4.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
for fn in ("socket", "bind", "listen", "accept", "connect", "shutdown", "close",
           "setsockopt", "getsockopt", "getsockname", "getpeername", "poll", "fcntl"):
    getattr(libc, fn).restype = ctypes.c_int
libc.send.restype = ctypes.c_ssize_t
libc.recv.restype = ctypes.c_ssize_t
libc.send.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
libc.recv.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
libc.bind.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]
libc.connect.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]
libc.accept.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
libc.getsockname.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
libc.getpeername.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
libc.setsockopt.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]
libc.getsockopt.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
libc.poll.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int]

AF_INET, AF_INET6, AF_UNSPEC = 2, 10, 0
SOCK_STREAM, SOCK_NONBLOCK, SOCK_CLOEXEC = 1, 0o4000, 0o2000000
SOL_SOCKET, IPPROTO_TCP, SOL_IP = 1, 6, 0
SO = dict(SO_REUSEADDR=2, SO_TYPE=3, SO_ERROR=4, SO_SNDBUF=7, SO_RCVBUF=8, SO_KEEPALIVE=9,
          SO_LINGER=13, SO_REUSEPORT=15, SO_ACCEPTCONN=30, SO_PROTOCOL=38, SO_DOMAIN=39)
TCP = dict(TCP_NODELAY=1, TCP_MAXSEG=2, TCP_CORK=3, TCP_KEEPIDLE=4, TCP_KEEPINTVL=5,
           TCP_KEEPCNT=6, TCP_SYNCNT=7, TCP_LINGER2=8, TCP_INFO=11, TCP_USER_TIMEOUT=18)
globals().update(SO); globals().update(TCP)
POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL = 1, 2, 4, 8, 16, 32
POLLRDNORM, POLLRDBAND, POLLWRNORM, POLLWRBAND, POLLRDHUP = 0x40, 0x80, 0x100, 0x200, 0x2000
ALL = POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND | POLLWRNORM | POLLWRBAND | POLLRDHUP
MSG_OOB, MSG_PEEK, MSG_DONTWAIT, MSG_NOSIGNAL = 1, 2, 0x40, 0x4000

PNAMES = [(POLLIN, "IN"), (POLLPRI, "PRI"), (POLLOUT, "OUT"), (POLLERR, "ERR"), (POLLHUP, "HUP"),
          (POLLNVAL, "NVAL"), (POLLRDNORM, "RDNORM"), (POLLRDBAND, "RDBAND"), (POLLWRNORM, "WRNORM"),
          (POLLWRBAND, "WRBAND"), (POLLRDHUP, "RDHUP")]


def R(r):
    """A libc result as ebb would return it: value or -ENAME."""
    if r < 0:
        return "-" + errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
    return r


def out(name, val):
    print("%-62s %s" % (name, val))
    sys.stdout.flush()


def sin(ip, port, family=AF_INET):
    b = struct.pack("=H", family) + struct.pack("!H", port) + socket.inet_aton(ip) + b"\0" * 8
    return ctypes.create_string_buffer(b, 16)


def big(ip, port, n):
    b = sin(ip, port).raw + b"\0" * (n - 16)
    return ctypes.create_string_buffer(b, n)


def sock():
    return libc.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)


def bind(fd, ip, port, n=16):
    return R(libc.bind(fd, big(ip, port, max(n, 16)) if n <= 1000 else big(ip, port, 16), n))


def connect(fd, ip, port, n=16):
    return R(libc.connect(fd, sin(ip, port), n))


def unspec(fd, n=16):
    b = ctypes.create_string_buffer(16)
    return R(libc.connect(fd, b, n))


def listen(fd, bl=16):
    return R(libc.listen(fd, bl))


def accept(fd):
    return R(libc.accept4(fd, None, None, SOCK_NONBLOCK))


def send(fd, data=b"x", flags=0):
    return R(libc.send(fd, data, len(data), flags | MSG_NOSIGNAL))


def recv(fd, n=100, flags=0):
    buf = ctypes.create_string_buffer(max(n, 1))
    r = libc.recv(fd, buf, n, flags)
    return R(r)


def shut(fd, how):
    return R(libc.shutdown(fd, how))


def close(fd):
    return R(libc.close(fd))


def setint(fd, level, name, v, n=4):
    b = ctypes.create_string_buffer(struct.pack("=i", v) + b"\0" * 12, 16)
    return R(libc.setsockopt(fd, level, name, b, n))


def getint(fd, level, name, n=4):
    b = ctypes.create_string_buffer(64)
    ln = ctypes.c_int(n)
    r = libc.getsockopt(fd, level, name, b, ctypes.byref(ln))
    if r < 0:
        return R(r)
    if ln.value >= 4:
        return struct.unpack("=i", b.raw[:4])[0]
    return ("len", ln.value, b.raw[:ln.value])


def so_error(fd):
    v = getint(fd, SOL_SOCKET, SO_ERROR)
    return errno.errorcode.get(v, v) if isinstance(v, int) else v


def pollmask(fd, events=ALL):
    class PFD(ctypes.Structure):
        _fields_ = [("fd", ctypes.c_int), ("events", ctypes.c_short), ("revents", ctypes.c_short)]
    p = PFD(fd, events, 0)
    r = libc.poll(ctypes.byref(p), 1, 0)
    if r < 0:
        return R(r)
    m = p.revents & 0xffff
    return "%#x %s" % (m, "|".join(n for b, n in PNAMES if m & b) or "0")


def name(fd, peer=False, n=16):
    b = ctypes.create_string_buffer(64)
    ln = ctypes.c_int(n)
    r = (libc.getpeername if peer else libc.getsockname)(fd, b, ctypes.byref(ln))
    if r < 0:
        return R(r)
    fam = struct.unpack("=H", b.raw[:2])[0]
    port = struct.unpack("!H", b.raw[2:4])[0]
    return "%s:%d len=%d fam=%d" % (socket.inet_ntoa(b.raw[4:8]), port, ln.value, fam)


def settle():
    time.sleep(0.05)


LO = "127.0.0.1"
HOLE = "10.0.0.2"  # SYNs to it vanish (veth with a permanent neighbour)
port_ctr = [20000]


def newport():
    port_ctr[0] += 1
    return port_ctr[0]


def listener(port=None, bl=16):
    p = port or newport()
    l = sock()
    setint(l, SOL_SOCKET, SO_REUSEADDR, 1)
    assert bind(l, LO, p) == 0, p
    assert listen(l, bl) == 0
    return l, p


def pair():
    """A connected pair on loopback: (client, server-side accepted)."""
    l, p = listener()
    c = sock()
    assert connect(c, LO, p) == "-EINPROGRESS"
    settle()
    a = accept(l)
    assert isinstance(a, int) and a >= 0, a
    connect(c, LO, p)  # SS_CONNECTING -> SS_CONNECTED, as after poll
    close(l)
    return c, a


def rst_from(fd):
    b = ctypes.create_string_buffer(struct.pack("=ii", 1, 0), 8)
    libc.setsockopt(fd, SOL_SOCKET, SO_LINGER, b, 8)
    close(fd)
    settle()


def syn_sent():
    c = sock()
    r = connect(c, HOLE, 9)
    assert r == "-EINPROGRESS", r
    return c


def refused():
    c = sock()
    p = newport()
    assert connect(c, LO, p) == "-EINPROGRESS"
    settle()
    return c, p


def section(t):
    print("\n== %s" % t)


# ---------------------------------------------------------------- socket
section("socket")
out("socket(AF_INET, STREAM, 0)", ">=0" if R(libc.socket(AF_INET, SOCK_STREAM, 0)) >= 0 else "fail")
out("socket(AF_INET, STREAM|NONBLOCK|CLOEXEC, IPPROTO_TCP)",
    ">=0" if R(libc.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 6)) >= 0 else "fail")
for dom in (9999, -1, 46, AF_INET6, 1):
    r = R(libc.socket(dom, SOCK_STREAM, 0))
    out("socket(domain=%d, STREAM, 0)" % dom, r if not isinstance(r, int) else "ok(fd)")
for ty, lab in ((2, "DGRAM"), (3, "RAW"), (4, "RDM"), (5, "SEQPACKET"), (6, "DCCP"), (10, "PACKET"), (11, "11"),
                (15, "15"), (-1, "-1"), (SOCK_STREAM | 0x100, "STREAM|0x100"), (SOCK_STREAM | 0x10, "STREAM|0x10")):
    r = R(libc.socket(AF_INET, ty, 0))
    out("socket(AF_INET, %s, 0)" % lab, r if not isinstance(r, int) else "ok(fd)")
for pr in (17, 200, 255, 132, -1, 263, 262, 1000):
    r = R(libc.socket(AF_INET, SOCK_STREAM, pr))
    out("socket(AF_INET, STREAM, proto=%d)" % pr, r if not isinstance(r, int) else "ok(fd)")
for dom, ty, pr in ((9999, 99, 0), (9999, 12, 0), (9999, SOCK_STREAM | 0x100, 0), (AF_INET, 4, 17), (AF_INET, 12, 999),
                    (AF_INET, 4, -1), (AF_INET6, 12, 0)):
    r = R(libc.socket(dom, ty, pr))
    out("socket(%d, %d, %d) [order]" % (dom, ty, pr), r if not isinstance(r, int) else "ok(fd)")
old = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (8, old[1]))
fds = []
while True:
    r = R(libc.socket(AF_INET, SOCK_STREAM, 0))
    if not isinstance(r, int):
        break
    fds.append(r)
out("socket() past RLIMIT_NOFILE", r)
for f in fds:
    close(f)
resource.setrlimit(resource.RLIMIT_NOFILE, old)

# ---------------------------------------------------------------- bad handles
section("bad handles")
cl = sock(); close(cl)
for lab, fd in (("-1", -1), ("never allocated 5000", 5000), ("closed", cl)):
    out("bind(%s)" % lab, bind(fd, LO, 0))
    out("listen(%s)" % lab, listen(fd))
    out("accept(%s)" % lab, accept(fd))
    out("connect(%s)" % lab, connect(fd, LO, 1))
    out("send(%s)" % lab, send(fd))
    out("recv(%s)" % lab, recv(fd))
    out("shutdown(%s)" % lab, shut(fd, 1))
    out("close(%s)" % lab, close(fd))
    out("setsockopt(%s)" % lab, setint(fd, SOL_SOCKET, SO_REUSEADDR, 1))
    out("getsockopt(%s)" % lab, getint(fd, SOL_SOCKET, SO_ERROR))
    out("getsockname(%s)" % lab, name(fd))
    out("getpeername(%s)" % lab, name(fd, True))
    out("poll(%s)" % lab, pollmask(fd))
    out("bind(%s, NULL, 0)" % lab, R(libc.bind(fd, None, 0)))
    out("getsockopt(%s, NULL, NULL)" % lab, R(libc.getsockopt(fd, SOL_SOCKET, SO_ERROR, None, None)))
out("poll(NULL, 1)", R(libc.poll(None, 1, 0)))
out("poll(NULL, 0)", R(libc.poll(None, 0, 0)))
s = sock()
out("poll(fd, events=0) fresh", pollmask(s, 0))

# ---------------------------------------------------------------- bind
section("bind")
s = sock()
out("bind NULL len16", R(libc.bind(s, None, 16)))
out("bind NULL len0", R(libc.bind(s, None, 0)))
for n in (0, 1, 2, 15):
    out("bind len %d" % n, bind(s, LO, 0, n))
out("bind len 128 (valid)", bind(sock(), LO, 0, 128))
out("bind len 129", R(libc.bind(sock(), big(LO, 0, 200), 129)))
out("bind len 0xffffffff", R(libc.bind(sock(), big(LO, 0, 200), 0xffffffff)))
out("bind AF_INET6 len16", R(libc.bind(sock(), sin(LO, 0, AF_INET6), 16)))
out("bind AF_UNSPEC 0.0.0.0", R(libc.bind(sock(), sin("0.0.0.0", 0, AF_UNSPEC), 16)))
out("bind AF_UNSPEC 127.0.0.1", R(libc.bind(sock(), sin(LO, 0, AF_UNSPEC), 16)))
out("bind AF_INET6 short len 8", R(libc.bind(sock(), sin(LO, 0, AF_INET6), 8)))
out("bind non-local 10.9.9.9", bind(sock(), "10.9.9.9", 0))
out("bind 224.0.0.1", bind(sock(), "224.0.0.1", 0))
out("bind 255.255.255.255", bind(sock(), "255.255.255.255", 0))
out("bind 0.0.0.0:0", bind(sock(), "0.0.0.0", 0))
s = sock(); bind(s, LO, 0)
out("bind twice", bind(s, LO, 0))
out("bind twice, 2nd non-local", bind(s, "10.9.9.9", 0))
out("bind twice, 2nd AF_INET6", R(libc.bind(s, sin(LO, 0, AF_INET6), 16)))
out("bind twice, 2nd short len", bind(s, LO, 0, 8))
out("getsockname after bind port 0", name(s))
c = syn_sent()
out("bind on SYN_SENT (autobound)", bind(c, "0.0.0.0", 0))
l, lp = listener()
out("bind on listener", bind(l, LO, 0))
p = newport()
a = sock(); bind(a, LO, p)
out("bind same addr:port", bind(sock(), LO, p))
out("bind 0.0.0.0 same port", bind(sock(), "0.0.0.0", p))
p = newport()
a = sock(); setint(a, SOL_SOCKET, SO_REUSEADDR, 1); bind(a, LO, p)
b = sock(); setint(b, SOL_SOCKET, SO_REUSEADDR, 1)
out("bind REUSEADDR both, none listening", bind(b, LO, p))
out("listen first", listen(a))
out("listen second (REUSEADDR)", listen(b))
c3 = sock(); setint(c3, SOL_SOCKET, SO_REUSEADDR, 1)
out("bind REUSEADDR while other listens", bind(c3, LO, p))
p = newport()
a = sock(); setint(a, SOL_SOCKET, SO_REUSEPORT, 1); bind(a, LO, p)
b = sock(); setint(b, SOL_SOCKET, SO_REUSEPORT, 1)
out("bind REUSEPORT both", bind(b, LO, p))
out("listen REUSEPORT both", (listen(a), listen(b)))

# ---------------------------------------------------------------- listen / accept
section("listen/accept")
s = sock()
out("listen fresh (autobind)", listen(s))
out("getsockname after autobind listen", name(s))
out("listen again", listen(s, 5))
out("listen backlog -1", listen(sock(), -1))
c = syn_sent()
out("listen SYN_SENT", listen(c))
c, a = pair()
out("listen connected (client)", listen(c))
out("listen accepted", listen(a))
c, p = refused()
out("listen after refused, before connect() reported", listen(c))
out("connect reports", connect(c, LO, p))
out("listen after connect reported refusal", listen(c))
s = sock()
out("accept fresh", accept(s))
c, a = pair()
out("accept connected", accept(c))
l, lp = listener()
out("accept empty", accept(l))
ab = ctypes.create_string_buffer(32)
out("accept empty addr,NULL len", R(libc.accept(l, ab, None)))
ln = ctypes.c_int(-1)
out("accept empty len -1", R(libc.accept(l, ab, ctypes.byref(ln))))
out("accept fresh addr,NULL len", R(libc.accept(sock(), ab, None)))
out("accept fresh len -1", R(libc.accept(sock(), ab, ctypes.byref(ln))))
c = sock(); connect(c, LO, lp); settle()
out("accept pending addr,NULL len", R(libc.accept(l, ab, None)))
out("  then accept again (was it consumed?)", accept(l))
out("  client poll after", pollmask(c))
c = sock(); connect(c, LO, lp); settle()
ln = ctypes.c_int(-1)
out("accept pending len -1", R(libc.accept(l, ab, ctypes.byref(ln))))
out("  then accept again", accept(l))
c = sock(); connect(c, LO, lp); settle()
ln = ctypes.c_int(4)
r = R(libc.accept(l, ab, ctypes.byref(ln)))
out("accept pending len 4", ("fd" if isinstance(r, int) else r, ln.value, ab.raw[:4]))
out("listener poll empty", pollmask(l))
c = sock(); connect(c, LO, lp); settle()
out("listener poll pending", pollmask(l))
out("listener poll pending events=0", pollmask(l, 0))
out("shutdown(listener, SHUT_WR)", shut(l, 1))
out("listener poll after SHUT_WR", pollmask(l))
out("accept after SHUT_WR", "fd" if isinstance(accept(l), int) else "err")
out("shutdown(listener, SHUT_RD)", shut(l, 0))
out("listener poll after SHUT_RD", pollmask(l))
out("accept after SHUT_RD", accept(l))
out("SO_ACCEPTCONN after SHUT_RD", getint(l, SOL_SOCKET, SO_ACCEPTCONN))
out("getsockname after SHUT_RD", name(l))
out("listen again after SHUT_RD", listen(l))
l, lp = listener()
out("shutdown(listener, SHUT_RDWR)", shut(l, 2))
out("listener poll after SHUT_RDWR", pollmask(l))
out("recv on listener", recv(listener()[0]))
out("recv on listener MSG_OOB", recv(listener()[0], 10, MSG_OOB))
out("send on listener", send(listener()[0]))
out("getpeername listener", name(listener()[0], True))
out("shutdown(listener) bad how", shut(listener()[0], 5))

# ---------------------------------------------------------------- connect
section("connect")
s = sock()
out("connect NULL len16", R(libc.connect(s, None, 16)))
out("connect NULL len0", R(libc.connect(s, None, 0)))
for n in (0, 1, 2, 15):
    out("connect len %d" % n, connect(s, LO, 1, n))
out("connect len 129", R(libc.connect(s, big(LO, 1, 200), 129)))
out("connect AF_INET6 len16", R(libc.connect(s, sin(LO, 1, AF_INET6), 16)))
out("connect AF_INET6 len28", R(libc.connect(s, big(LO, 1, 28), 28)) if False else "skip")
out("connect AF_UNSPEC fresh", unspec(sock()))
out("connect AF_UNSPEC len 1", unspec(sock(), 1))
out("connect AF_UNSPEC len 2", unspec(sock(), 2))
s = sock(); shut(s, 2)
out("connect AF_UNSPEC after fresh shutdown -> poll", (unspec(s), pollmask(s)))
out("connect 224.0.0.1", connect(sock(), "224.0.0.1", 80))
out("connect 255.255.255.255", connect(sock(), "255.255.255.255", 80))
out("connect 0.0.0.0 (Linux: loopback)", connect(sock(), "0.0.0.0", 80))
c = syn_sent()
out("SYN_SENT connect again", connect(c, HOLE, 9))
out("SYN_SENT connect other addr", connect(c, LO, 5))
out("SYN_SENT connect short len", connect(c, HOLE, 9, 8))
out("SYN_SENT connect AF_INET6", R(libc.connect(c, sin(LO, 1, AF_INET6), 16)))
out("SYN_SENT connect len 1", connect(c, HOLE, 9, 1))
out("SYN_SENT poll", pollmask(c))
out("SYN_SENT poll events=0", pollmask(c, 0))
out("SYN_SENT SO_ERROR", so_error(c))
out("SYN_SENT send", send(c))
out("SYN_SENT send len0", R(libc.send(c, None, 0, MSG_NOSIGNAL)))
out("SYN_SENT recv", recv(c))
out("SYN_SENT getpeername", name(c, True))
out("SYN_SENT getsockname", name(c))
out("SYN_SENT TCP_MAXSEG", getint(c, IPPROTO_TCP, TCP_MAXSEG))
out("SYN_SENT TCP_INFO state", getint(c, IPPROTO_TCP, TCP_INFO, 1))
out("SYN_SENT shutdown(SHUT_WR)", shut(c, 1))
out("  poll after", pollmask(c))
out("  SO_ERROR after", so_error(c))
out("  poll after SO_ERROR", pollmask(c))
out("  getsockname after", name(c))
out("  connect again after", connect(c, HOLE, 9))
c = syn_sent()
out("SYN_SENT shutdown(SHUT_RD)", shut(c, 0))
out("  poll after", pollmask(c))
out("  recv after", recv(c))
out("  send after", send(c))
c = syn_sent()
out("SYN_SENT connect(AF_UNSPEC)", unspec(c))
out("  poll after", pollmask(c))
out("  SO_ERROR after", so_error(c))
out("  connect again", connect(c, HOLE, 9))
c = syn_sent()
out("SYN_SENT close", close(c))
l, lp = listener()
out("connect on listener", connect(l, LO, lp))
out("connect on listener short len", connect(l, LO, lp, 8))
out("connect on listener AF_INET6", R(libc.connect(l, sin(LO, 1, AF_INET6), 16)))
out("connect(AF_UNSPEC) on listener", unspec(l))
out("  listener poll after", pollmask(l))
out("  accept after", accept(l))
out("  SO_ERROR after", so_error(l))
l, lp = listener()
c = sock()
out("connect nb to listener", connect(c, LO, lp))
settle()
out("poll established before 2nd connect", pollmask(c))
out("connect again (established)", connect(c, LO, lp))
out("connect third", connect(c, LO, lp))
out("connect other addr when connected", connect(c, LO, 1))
out("connect short len when connected", connect(c, LO, 1, 8))
out("connect AF_INET6 when connected", R(libc.connect(c, sin(LO, 1, AF_INET6), 16)))
a = accept(l)
out("connect accepted socket", connect(a, LO, 1))
out("connect(AF_UNSPEC) established", unspec(c))
settle()
out("  poll after", pollmask(c))
out("  SO_ERROR after", so_error(c))
out("  peer recv (RST?)", recv(a))
out("  getpeername after", name(c, True))
out("  connect again after AF_UNSPEC", connect(c, LO, lp))
settle()
out("  poll after reconnect", pollmask(c))
# refused
c, p = refused()
out("refused poll", pollmask(c))
out("refused poll events=0", pollmask(c, 0))
out("refused getpeername", name(c, True))
out("refused getsockname", name(c))
out("refused SO_ERROR", so_error(c))
out("refused SO_ERROR again", so_error(c))
out("refused poll after SO_ERROR", pollmask(c))
out("refused connect (error consumed)", connect(c, LO, p))
out("refused connect again (new attempt)", connect(c, LO, p))
settle()
out("refused 2nd attempt SO_ERROR", so_error(c))
c, p = refused()
out("refused connect (error pending)", connect(c, LO, p))
out("  poll after", pollmask(c))
out("  connect again", connect(c, LO, p))
c, p = refused()
out("refused connect other addr", connect(c, LO, 1))
c, p = refused()
out("refused recv", recv(c))
out("refused recv again", recv(c))
out("refused send", send(c))
c, p = refused()
out("refused send", send(c))
out("refused send again", send(c))
out("refused recv", recv(c))
c, p = refused()
out("refused shutdown(SHUT_WR)", shut(c, 1))
out("  SO_ERROR after", so_error(c))
out("  connect after shutdown", connect(c, LO, p))
out("  listen after shutdown", listen(c))
c, p = refused()
out("refused bind", bind(c, LO, 0))
c, p = refused()
out("refused connect short len", connect(c, LO, p, 8))
c, p = refused()
out("refused close", close(c))
# timeout
c = sock()
setint(c, IPPROTO_TCP, TCP_SYNCNT, 1)
connect(c, HOLE, 9)
time.sleep(3.5)
out("timed out (SYNCNT 1) poll", pollmask(c))
out("timed out connect", connect(c, HOLE, 9))
c = sock()
setint(c, IPPROTO_TCP, TCP_SYNCNT, 1)
connect(c, HOLE, 9)
time.sleep(3.5)
out("timed out SO_ERROR", so_error(c))
# ports exhausted (ip_local_port_range is per netns)
open("/proc/sys/net/ipv4/ip_local_port_range", "w").write("40000 40000")
l, lp = listener()
c1 = sock(); out("one port: connect 1", connect(c1, LO, lp))
c2 = sock(); out("one port: connect 2 same dest", connect(c2, LO, lp))
settle()
b1 = sock(); out("one port: bind port 0 (port in use by connect)", bind(b1, LO, 0))
out("one port: listen unbound", listen(sock()))
close(c1); close(c2); settle()
b1 = sock(); out("one port: bind port 0", (bind(b1, "0.0.0.0", 0), name(b1)))
b2 = sock(); out("one port: bind port 0 again", bind(b2, "0.0.0.0", 0))
out("one port: listen unbound", listen(sock()))
out("one port: connect when only port is bound", connect(sock(), LO, lp))
open("/proc/sys/net/ipv4/ip_local_port_range", "w").write("32768 60999")

# ---------------------------------------------------------------- send / recv
section("send/recv")
s = sock()
out("fresh send", send(s))
out("fresh send len0", R(libc.send(s, None, 0, MSG_NOSIGNAL)))
out("fresh send NULL len1", R(libc.send(s, None, 1, MSG_NOSIGNAL)))
out("fresh send MSG_OOB", send(s, b"x", MSG_OOB))
out("fresh recv", recv(s))
out("fresh recv len0", R(libc.recv(s, None, 0, 0)))
out("fresh recv NULL len10", R(libc.recv(s, None, 10, 0)))
out("fresh recv MSG_OOB", recv(s, 10, MSG_OOB))
out("fresh recv MSG_PEEK", recv(s, 10, MSG_PEEK))
out("fresh SO_ERROR", so_error(s))
c, a = pair()
out("estab send", send(c, b"hello"))
out("estab send len0", R(libc.send(c, None, 0, MSG_NOSIGNAL)))
out("estab send NULL len1", R(libc.send(c, None, 1, MSG_NOSIGNAL)))
out("estab send MSG_OOB", send(c, b"x", MSG_OOB))
settle()
out("estab recv (peer)", recv(a, 100))
out("estab recv empty", recv(a))
out("estab recv empty len0", R(libc.recv(a, None, 0, 0)))
out("estab recv empty NULL len10", R(libc.recv(a, None, 10, 0)))
out("estab recv MSG_OOB (no urgent)", recv(a, 10, MSG_OOB))
send(c, b"abc"); settle()
out("estab recv with data NULL len10", R(libc.recv(a, None, 10, 0)))
out("estab recv with data len0", R(libc.recv(a, None, 0, 0)))
out("estab recv MSG_PEEK", recv(a, 10, MSG_PEEK))
out("estab recv", recv(a, 10))
out("estab poll", pollmask(c))
send(c, b"abc"); settle()
out("estab poll with data", pollmask(a))
recv(a, 10)
# full send buffer
c, a = pair()
tot = 0
while True:
    r = R(libc.send(c, b"z" * 65536, 65536, MSG_NOSIGNAL))
    if not isinstance(r, int):
        break
    tot += r
    if tot > 1 << 26:
        break
out("send until full", (r, "bytes=%d" % tot))
out("poll full sender", pollmask(c))
out("send len0 when full", R(libc.send(c, None, 0, MSG_NOSIGNAL)))
# CLOSE_WAIT
c, a = pair()
shut(c, 1); settle()
out("CLOSE_WAIT recv", recv(a))
out("CLOSE_WAIT recv again", recv(a))
out("CLOSE_WAIT recv len0", R(libc.recv(a, None, 0, 0)))
out("CLOSE_WAIT poll", pollmask(a))
out("CLOSE_WAIT send", send(a))
out("CLOSE_WAIT getpeername", name(a, True))
out("CLOSE_WAIT shutdown(SHUT_RD)", shut(a, 0))
out("CLOSE_WAIT poll after SHUT_RD", pollmask(a))
out("CLOSE_WAIT shutdown(SHUT_WR) -> LAST_ACK", shut(a, 1))
out("LAST_ACK/closed poll", pollmask(a))
settle()
out("after LAST_ACK acked poll", pollmask(a))
out("after LAST_ACK acked getpeername", name(a, True))
out("after LAST_ACK acked shutdown", shut(a, 1))
out("after LAST_ACK acked send", send(a))
out("after LAST_ACK acked recv", recv(a))
out("after LAST_ACK acked connect", connect(a, LO, 1))
out("after LAST_ACK acked listen", listen(a))
out("client (FIN_WAIT2->TIME_WAIT) poll", pollmask(c))
out("client after both FINs getpeername", name(c, True))
out("client after both FINs shutdown(SHUT_WR)", shut(c, 1))
out("client after both FINs shutdown(SHUT_RD)", shut(c, 0))
out("client after both FINs connect", connect(c, LO, 1))
out("client after both FINs recv", recv(c))
out("client after both FINs send", send(c))
out("client after both FINs TCP_INFO state", getint(c, IPPROTO_TCP, TCP_INFO, 1))
# RST in CLOSE_WAIT
c, a = pair()
shut(c, 1); settle()
rst_from(c)
out("RST in CLOSE_WAIT: poll", pollmask(a))
out("RST in CLOSE_WAIT: recv", recv(a))
out("RST in CLOSE_WAIT: send", send(a))
out("RST in CLOSE_WAIT: send again", send(a))
out("RST in CLOSE_WAIT: SO_ERROR", so_error(a))
c, a = pair()
shut(c, 1); settle()
rst_from(c)
out("RST in CLOSE_WAIT: SO_ERROR first", so_error(a))
out("RST in CLOSE_WAIT: getpeername", name(a, True))
out("RST in CLOSE_WAIT: shutdown", shut(a, 1))
# RST in ESTABLISHED
c, a = pair()
rst_from(c)
out("reset: poll", pollmask(a))
out("reset: poll events=0", pollmask(a, 0))
out("reset: getpeername", name(a, True))
out("reset: getsockname", name(a))
out("reset: send", send(a))
out("reset: send again", send(a))
out("reset: recv", recv(a))
out("reset: poll after", pollmask(a))
c, a = pair()
rst_from(c)
out("reset: recv", recv(a))
out("reset: recv again", recv(a))
out("reset: send", send(a))
c, a = pair()
rst_from(c)
out("reset: SO_ERROR", so_error(a))
out("reset: poll after SO_ERROR", pollmask(a))
out("reset: shutdown", shut(a, 1))
out("reset: connect", connect(a, LO, 1))
out("reset: listen", listen(a))
c, a = pair()
send(c, b"data"); settle()
rst_from(c)
out("reset with unread data: recv", recv(a))
out("reset with unread data: recv again", recv(a))
out("reset with unread data: recv 3rd", recv(a))
# reset while FIN_WAIT (after SHUT_WR)
c, a = pair()
shut(a, 1); settle()
rst_from(c)
out("RST in FIN_WAIT2: SO_ERROR", so_error(a))

# ---------------------------------------------------------------- shutdown
section("shutdown")
s = sock()
for how in (-1, 3, 7, 0x7fffffff):
    out("shutdown fresh how=%d" % how, shut(s, how))
for how in (0, 1, 2):
    s = sock()
    out("shutdown fresh how=%d" % how, shut(s, how))
    out("  poll after", pollmask(s))
    out("  recv after", recv(s))
    out("  send after", send(s))
s = sock(); shut(s, 1)
l, lp = listener()
out("connect after fresh SHUT_WR", connect(s, LO, lp)); settle()
out("  poll", pollmask(s))
out("  connect again", connect(s, LO, lp))
out("  send", send(s))
out("  shutdown again", shut(s, 1))
c, a = pair()
out("estab shutdown bad how", shut(c, 3))
out("estab SHUT_WR", shut(c, 1))
out("estab SHUT_WR again", shut(c, 1))
out("after SHUT_WR poll (FIN_WAIT1)", pollmask(c))
settle()
out("after SHUT_WR poll (FIN_WAIT2)", pollmask(c))
out("after SHUT_WR send", send(c))
out("after SHUT_WR send len0", R(libc.send(c, None, 0, MSG_NOSIGNAL)))
out("after SHUT_WR recv", recv(c))
out("after SHUT_WR getpeername", name(c, True))
out("after SHUT_WR connect", connect(c, LO, 1))
out("after SHUT_WR SHUT_RD", shut(c, 0))
out("after SHUT_RDWR poll", pollmask(c))
c, a = pair()
out("estab SHUT_RD", shut(c, 0))
out("after SHUT_RD poll", pollmask(c))
out("after SHUT_RD recv", recv(c))
out("after SHUT_RD send", send(c))
send(a, b"late"); settle()
out("after SHUT_RD, data arrives: recv", recv(c))
out("after SHUT_RD, data arrives: poll", pollmask(c))
c, a = pair()
out("estab SHUT_RDWR", shut(c, 2))
out("after SHUT_RDWR poll", pollmask(c))
out("after SHUT_RDWR recv", recv(c))

# ---------------------------------------------------------------- options
section("setsockopt")
s = sock()
for lvl, nm in ((9999, 1), (SOL_IP, 9999), (SOL_SOCKET, 9999), (IPPROTO_TCP, 9999), (17, 1), (-1, 1)):
    out("setsockopt level=%d name=%d" % (lvl, nm), setint(s, lvl, nm, 1))
    out("setsockopt level=%d name=%d len0" % (lvl, nm), setint(s, lvl, nm, 1, 0))
    out("setsockopt level=%d name=%d NULL len4" % (lvl, nm), R(libc.setsockopt(s, lvl, nm, None, 4)))
for lvl, nm, lab in ((SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR"), (SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"),
                     (IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY"), (IPPROTO_TCP, TCP_MAXSEG, "TCP_MAXSEG")):
    for n in (0, 1, 3):
        out("setsockopt %s len %d" % (lab, n), setint(s, lvl, nm, 1, n))
    out("setsockopt %s len 8" % lab, setint(s, lvl, nm, 1, 8))
    out("setsockopt %s len -1" % lab, setint(s, lvl, nm, 1, 0xffffffff))
    out("setsockopt %s NULL len4" % lab, R(libc.setsockopt(s, lvl, nm, None, 4)))
    out("setsockopt %s NULL len0" % lab, R(libc.setsockopt(s, lvl, nm, None, 0)))
for nm, lab in ((SO_TYPE, "SO_TYPE"), (SO_ERROR, "SO_ERROR"), (SO_ACCEPTCONN, "SO_ACCEPTCONN"),
                (SO_DOMAIN, "SO_DOMAIN"), (SO_PROTOCOL, "SO_PROTOCOL")):
    out("setsockopt read-only %s" % lab, setint(s, SOL_SOCKET, nm, 1))
out("setsockopt TCP_INFO", setint(s, IPPROTO_TCP, TCP_INFO, 1))
lg = ctypes.create_string_buffer(struct.pack("=ii", 1, 5), 8)
out("SO_LINGER len4", R(libc.setsockopt(s, SOL_SOCKET, SO_LINGER, lg, 4)))
out("SO_LINGER len7", R(libc.setsockopt(s, SOL_SOCKET, SO_LINGER, lg, 7)))
out("SO_LINGER NULL len8", R(libc.setsockopt(s, SOL_SOCKET, SO_LINGER, None, 8)))
out("SO_LINGER NULL len0", R(libc.setsockopt(s, SOL_SOCKET, SO_LINGER, None, 0)))
out("SO_LINGER len12", R(libc.setsockopt(s, SOL_SOCKET, SO_LINGER, ctypes.create_string_buffer(12), 12)))


def get_linger(fd):
    b = ctypes.create_string_buffer(8)
    ln = ctypes.c_int(8)
    r = libc.getsockopt(fd, SOL_SOCKET, SO_LINGER, b, ctypes.byref(ln))
    return R(r) if r < 0 else (struct.unpack("=ii", b.raw), ln.value)


for on, sec in ((1, 5), (0, 5), (1, -1), (1, 0), (7, 3), (1, 0x7fffffff)):
    t = sock()
    R(libc.setsockopt(t, SOL_SOCKET, SO_LINGER, ctypes.create_string_buffer(struct.pack("=ii", on, sec), 8), 8))
    out("SO_LINGER set {%d,%d} -> get" % (on, sec), get_linger(t))
t = sock()
R(libc.setsockopt(t, SOL_SOCKET, SO_LINGER, ctypes.create_string_buffer(struct.pack("=ii", 1, 5), 8), 8))
R(libc.setsockopt(t, SOL_SOCKET, SO_LINGER, ctypes.create_string_buffer(struct.pack("=ii", 0, 9), 8), 8))
out("SO_LINGER {1,5} then {0,9} -> get", get_linger(t))
# linger {1,-1}: does close RST?
c, a = pair()
R(libc.setsockopt(c, SOL_SOCKET, SO_LINGER, ctypes.create_string_buffer(struct.pack("=ii", 1, -1), 8), 8))
close(c); settle()
out("close with SO_LINGER {1,-1}: peer recv (0=FIN, ECONNRESET=RST)", recv(a))
for nm, lab, vals in ((TCP_MAXSEG, "TCP_MAXSEG", (0, 87, 88, 1000, 32767, 32768, -1)),
                      (TCP_KEEPIDLE, "TCP_KEEPIDLE", (0, 1, 32767, 32768, -1)),
                      (TCP_KEEPINTVL, "TCP_KEEPINTVL", (0, 1, 32767, 32768, -1)),
                      (TCP_KEEPCNT, "TCP_KEEPCNT", (0, 1, 127, 128, -1)),
                      (TCP_SYNCNT, "TCP_SYNCNT", (0, 1, 127, 128, -1)),
                      (TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", (-1, 0, 1, 0x7fffffff)),
                      (TCP_LINGER2, "TCP_LINGER2", (-5, 0, 1, 120, 121, 100000)),
                      (TCP_NODELAY, "TCP_NODELAY", (0, 5, -1)), (TCP_CORK, "TCP_CORK", (0, 5))):
    for v in vals:
        t = sock()
        r = setint(t, IPPROTO_TCP, nm, v)
        out("set %s %d" % (lab, v), (r, getint(t, IPPROTO_TCP, nm)))
for nm, lab in ((SO_RCVBUF, "SO_RCVBUF"), (SO_SNDBUF, "SO_SNDBUF")):
    for v in (-1, 0, 1, 1000, 1152, 1153, 2304, 10000, 1 << 20, 4194304, 4194305, 1 << 23, 0x7fffffff):
        t = sock()
        r = setint(t, SOL_SOCKET, nm, v)
        out("set %s %d" % (lab, v), (r, getint(t, SOL_SOCKET, nm)))
for nm, lab in ((SO_REUSEADDR, "SO_REUSEADDR"), (SO_REUSEPORT, "SO_REUSEPORT"), (SO_KEEPALIVE, "SO_KEEPALIVE")):
    for v in (5, -1, 0):
        t = sock()
        r = setint(t, SOL_SOCKET, nm, v)
        out("set %s %d" % (lab, v), (r, getint(t, SOL_SOCKET, nm)))

section("getsockopt")
s = sock()
for lvl, nm in ((9999, 1), (SOL_IP, 9999), (SOL_SOCKET, 9999), (IPPROTO_TCP, 9999), (17, 1), (-1, 1)):
    out("getsockopt level=%d name=%d" % (lvl, nm), getint(s, lvl, nm))
    out("getsockopt level=%d name=%d NULL val len4" % (lvl, nm), R(libc.getsockopt(s, lvl, nm, None, ctypes.byref(ctypes.c_int(4)))))
    out("getsockopt level=%d name=%d NULL len" % (lvl, nm), R(libc.getsockopt(s, lvl, nm, ctypes.create_string_buffer(8), None)))
for lvl, nm, lab in ((SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"), (SOL_SOCKET, SO_ERROR, "SO_ERROR"),
                     (IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY"), (IPPROTO_TCP, TCP_MAXSEG, "TCP_MAXSEG"),
                     (IPPROTO_TCP, TCP_INFO, "TCP_INFO"), (SOL_SOCKET, SO_LINGER, "SO_LINGER")):
    out("getsockopt %s NULL len" % lab, R(libc.getsockopt(s, lvl, nm, ctypes.create_string_buffer(8), None)))
    out("getsockopt %s NULL val len4" % lab, R(libc.getsockopt(s, lvl, nm, None, ctypes.byref(ctypes.c_int(4)))))
    ln = ctypes.c_int(0)
    out("getsockopt %s NULL val len0" % lab, (R(libc.getsockopt(s, lvl, nm, None, ctypes.byref(ln))), ln.value))
    ln = ctypes.c_int(-1)
    out("getsockopt %s len -1" % lab, R(libc.getsockopt(s, lvl, nm, ctypes.create_string_buffer(8), ctypes.byref(ln))))
    out("getsockopt %s len 1" % lab, getint(s, lvl, nm, 1))
    b = ctypes.create_string_buffer(1024)
    ln = ctypes.c_int(1024)
    r = R(libc.getsockopt(s, lvl, nm, b, ctypes.byref(ln)))
    out("getsockopt %s len 1024 -> len" % lab, (r, ln.value))
for nm, lab in ((SO_ERROR, "SO_ERROR"), (SO_REUSEADDR, "SO_REUSEADDR"), (SO_REUSEPORT, "SO_REUSEPORT"),
                (SO_KEEPALIVE, "SO_KEEPALIVE"), (SO_RCVBUF, "SO_RCVBUF"), (SO_SNDBUF, "SO_SNDBUF"),
                (SO_TYPE, "SO_TYPE"), (SO_DOMAIN, "SO_DOMAIN"), (SO_PROTOCOL, "SO_PROTOCOL"),
                (SO_ACCEPTCONN, "SO_ACCEPTCONN")):
    out("fresh %s" % lab, getint(sock(), SOL_SOCKET, nm))
out("fresh SO_LINGER", get_linger(sock()))
for nm, lab in TCP.items():
    if lab != TCP_INFO:
        out("fresh %s" % nm, getint(sock(), IPPROTO_TCP, lab))
out("fresh TCP_INFO state", getint(sock(), IPPROTO_TCP, TCP_INFO, 1))
t = sock(); setint(t, IPPROTO_TCP, TCP_MAXSEG, 1000)
out("fresh TCP_MAXSEG after set 1000", getint(t, IPPROTO_TCP, TCP_MAXSEG))
l, lp = listener()
out("listener SO_ACCEPTCONN", getint(l, SOL_SOCKET, SO_ACCEPTCONN))
out("listener TCP_MAXSEG", getint(l, IPPROTO_TCP, TCP_MAXSEG))
out("listener TCP_INFO state", getint(l, IPPROTO_TCP, TCP_INFO, 1))
c, a = pair()
out("estab TCP_MAXSEG (lo)", getint(c, IPPROTO_TCP, TCP_MAXSEG))
out("estab set TCP_MAXSEG 1000 -> get", (setint(c, IPPROTO_TCP, TCP_MAXSEG, 1000), getint(c, IPPROTO_TCP, TCP_MAXSEG)))

# ---------------------------------------------------------------- names
section("getsockname/getpeername")
s = sock()
for peer in (False, True):
    f = libc.getpeername if peer else libc.getsockname
    lab = "getpeername" if peer else "getsockname"
    out("%s fresh" % lab, name(s, peer))
    out("%s fresh NULL,NULL" % lab, R(f(s, None, None)))
    out("%s fresh addr,NULL len" % lab, R(f(s, ctypes.create_string_buffer(16), None)))
    ln = ctypes.c_int(16)
    out("%s fresh NULL addr len16" % lab, R(f(s, None, ctypes.byref(ln))))
    ln = ctypes.c_int(0)
    out("%s fresh NULL addr len0" % lab, (R(f(s, None, ctypes.byref(ln))), ln.value))
    ln = ctypes.c_int(-1)
    out("%s fresh len -1" % lab, R(f(s, ctypes.create_string_buffer(16), ctypes.byref(ln))))
    out("%s fresh len 4" % lab, name(s, peer, 4))
c, a = pair()
f = libc.getpeername
out("getpeername estab", name(c, True))
out("getpeername estab len 4", name(c, True, 4))
out("getpeername estab len 100", name(c, True, 100))
out("getpeername estab NULL,NULL", R(f(c, None, None)))
ln = ctypes.c_int(16)
out("getpeername estab NULL addr len16", R(f(c, None, ctypes.byref(ln))))
ln = ctypes.c_int(0)
out("getpeername estab NULL addr len0", (R(f(c, None, ctypes.byref(ln))), ln.value))
ln = ctypes.c_int(-1)
out("getpeername estab len -1", R(f(c, ctypes.create_string_buffer(16), ctypes.byref(ln))))
out("getsockname estab", name(c))
out("getsockname accepted", name(a))
out("getpeername accepted", name(a, True))
s = sock(); bind(s, "0.0.0.0", 0)
out("getsockname bound 0.0.0.0:0", name(s))

# ---------------------------------------------------------------- poll
section("poll masks")
out("poll fresh", pollmask(sock()))
out("poll fresh events=IN", pollmask(sock(), POLLIN))
out("poll fresh events=0", pollmask(sock(), 0))
out("poll fd -1", pollmask(-1))
out("poll fd 5000", pollmask(5000))
t = sock(); close(t)
out("poll closed fd", pollmask(t))

# ---------------------------------------------------------------- extras
section("extras")
out("shutdown(-1, 7)", shut(-1, 7))
out("shutdown(5000, 7)", shut(5000, 7))
out("setsockopt(-1, level 9999)", setint(-1, 9999, 1, 1))
out("getsockopt(-1, level 9999)", getint(-1, 9999, 1))
out("connect(-1, NULL, 0)", R(libc.connect(-1, None, 0)))
out("accept(-1, addr, NULL)", R(libc.accept(-1, ctypes.create_string_buffer(16), None)))
out("getpeername(-1, NULL, NULL)", R(libc.getpeername(-1, None, None)))
out("send(-1, NULL, 1)", R(libc.send(-1, None, 1, 0)))
out("recv(-1, NULL, 1)", R(libc.recv(-1, None, 1, 0)))
c = syn_sent()
out("SYN_SENT send NULL len1", R(libc.send(c, None, 1, MSG_NOSIGNAL)))
out("SYN_SENT recv NULL len1", R(libc.recv(c, None, 1, 0)))
out("SYN_SENT recv len0", R(libc.recv(c, None, 0, 0)))
out("SYN_SENT send MSG_OOB", send(c, b"x", MSG_OOB))
out("SYN_SENT shutdown bad how", shut(c, 3))
c, p = refused()
out("refused send NULL len1", R(libc.send(c, None, 1, MSG_NOSIGNAL)))
c, p = refused()
out("refused recv NULL len1", R(libc.recv(c, None, 1, 0)))
c, p = refused()
out("refused recv len0", R(libc.recv(c, None, 0, 0)))
c, a = pair()
shut(c, 1)
out("after SHUT_WR send NULL len1", R(libc.send(c, None, 1, MSG_NOSIGNAL)))
out("after SHUT_WR send MSG_OOB", send(c, b"x", MSG_OOB))
# full buffer then NULL
out("listener send NULL len1", R(libc.send(listener()[0], None, 1, MSG_NOSIGNAL)))
out("listener recv NULL len1", R(libc.recv(listener()[0], None, 1, 0)))
out("listener recv len0", R(libc.recv(listener()[0], None, 0, 0)))
# one port, different destinations
open("/proc/sys/net/ipv4/ip_local_port_range", "w").write("41000 41000")
l1, p1 = listener()
l2, p2 = listener()
c1 = sock(); out("one port: connect dest 1", connect(c1, LO, p1))
c2 = sock(); out("one port: connect dest 2", connect(c2, LO, p2))
c3 = sock(); out("one port: connect dest 1 again", connect(c3, LO, p1))
open("/proc/sys/net/ipv4/ip_local_port_range", "w").write("32768 60999")
# established client whose connect() was not called again: RST, then connect()
l, lp = listener()
c = sock(); connect(c, LO, lp); settle()
a = accept(l)
rst_from(a)
out("RST before 2nd connect(): connect", connect(c, LO, lp))
out("  connect again", connect(c, LO, lp))
# established but connect() not repeated: listen?
l, lp = listener()
c = sock(); connect(c, LO, lp); settle()
out("estab, connect() not repeated: listen", listen(c))
out("estab, connect() not repeated: shutdown(SHUT_WR)", shut(c, 1))
out("  connect after", connect(c, LO, lp))
# SO_ERROR while ESTABLISHED
c, a = pair()
out("estab SO_ERROR", so_error(c))
out("estab getsockopt SO_ACCEPTCONN", getint(c, SOL_SOCKET, SO_ACCEPTCONN))
# poll with events subset
c, a = pair()
shut(a, 1); settle()
out("CLOSE_WAIT poll events=POLLOUT", pollmask(c, POLLOUT))
out("CLOSE_WAIT poll events=POLLIN", pollmask(c, POLLIN))

section("extras2")
c, p = refused()
out("refused: SO_ERROR", so_error(c))
out("refused: connect (ECONNABORTED)", connect(c, LO, p))
out("  poll after ECONNABORTED", pollmask(c))
out("  recv after", recv(c))
c, p = refused()
out("refused: connect (ECONNREFUSED)", connect(c, LO, p))
out("  recv after", recv(c))
out("  send after", send(c))
out("  getsockname after", name(c))
c, a = pair()
out("bind on accepted", bind(a, LO, 0))
out("bind on connected client", bind(c, LO, 0))
s = sock()
class PFD(ctypes.Structure):
    _fields_ = [("fd", ctypes.c_int), ("events", ctypes.c_short), ("revents", ctypes.c_short)]
arr = (PFD * 4)(PFD(s, POLLIN, 0x7fff), PFD(-1, POLLIN, 0x7fff), PFD(5000, POLLIN, 0x7fff), PFD(s, POLLOUT, 0))
r = libc.poll(arr, 4, 0)
out("poll 4 entries (fresh IN, -1, bad, fresh OUT)", (r, [hex(x.revents & 0xffff) for x in arr]))
out("poll fresh events=POLLOUT", pollmask(s, POLLOUT))
l, lp = listener()
c = sock(); connect(c, LO, lp)
out("listener with SYN_RECV only? (loopback completes at once)", pollmask(l))
c = syn_sent()
out("SYN_SENT accept", accept(c))
c, a = pair()
shut(a, 1); settle()
out("CLOSE_WAIT (client side, SS_CONNECTED) connect", connect(c, LO, 1))
c, a = pair()
shut(a, 1); settle()
shut(c, 1); settle()
out("LAST_ACK acked client: so_error", so_error(c))
# SO_LINGER {1,-1} get value
t = sock()
R(libc.setsockopt(t, SOL_SOCKET, SO_LINGER, ctypes.create_string_buffer(struct.pack("=ii", 1, -1), 8), 8))
out("SO_LINGER {1,-1} get", get_linger(t)[0][0])

section("extras3")
c, p = refused()
out("refused: shutdown", shut(c, 1))
out("  SO_ERROR", so_error(c))
out("  listen", listen(c))
out("  connect", connect(c, LO, p))
out("  connect again", connect(c, LO, p))
out("  listen again", listen(c))
out("  poll", pollmask(c))
s = sock()
for lvl, nm, lab in ((SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE"), (IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE"),
                     (IPPROTO_TCP, TCP_LINGER2, "TCP_LINGER2")):
    for n in (0, 1, 3, 8):
        out("setsockopt %s len %d" % (lab, n), setint(s, lvl, nm, 1, n))
    out("setsockopt %s len -1" % lab, setint(s, lvl, nm, 1, 0xffffffff))
    out("setsockopt %s NULL len4" % lab, R(libc.setsockopt(s, lvl, nm, None, 4)))
    out("setsockopt %s NULL len0" % lab, R(libc.setsockopt(s, lvl, nm, None, 0)))
