#!/usr/bin/env python3
"""Write the seed corpora of the fuzz harnesses (fuzz/corpus/<harness>/).

    python3 fuzz/corpus/seeds.py

The seeds are small and each tells one story, so the fuzzer starts from
inputs that reach deep: real SYN, data and FIN segments and option-heavy
ones for the parser; scripts of socket calls and segments that open,
use and close connections for the one-stack harness; transfer scenarios
with and without faults for the pair.  The encodings mirror the harness
sources (fuzz_stack.c: configure() and the op_* readers; fuzz_pair.c:
ebb_fuzz_pair() and filter()).
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(harness, name, data):
    d = os.path.join(HERE, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes(data))


# ---------------------------------------------------------------- wire

def csum(b):
    if len(b) % 2:
        b = b + b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(src, dst, payload, proto=6, ipopts=b"", frag=0x4000, ttl=64, ident=0x1234):
    ihl = (20 + len(ipopts)) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(ipopts) + len(payload), ident, frag, ttl,
                    proto, 0, bytes(src), bytes(dst)) + ipopts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def tcp(src, dst, sport, dport, seq, ack, flags, win, opts=b"", data=b""):
    assert len(opts) % 4 == 0
    off = (20 + len(opts)) // 4
    t = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, win, 0, 0) + opts + data
    ph = bytes(src) + bytes(dst) + struct.pack("!BBH", 0, 6, len(t))
    c = csum(ph + t)
    return t[:16] + struct.pack("!H", c) + t[18:]


A, B = [10, 0, 0, 1], [10, 0, 0, 2]
FIN, SYN, RST, PSH, ACK, URG = 1, 2, 4, 8, 16, 32

MSS = lambda v: struct.pack("!BBH", 2, 4, v)
WS = lambda v: bytes([1, 3, 3, v])
SACKOK = bytes([4, 2])
TS = lambda a, b: struct.pack("!BBII", 8, 10, a, b)
NOP2 = bytes([1, 1])


def sack(blocks):
    return NOP2 + bytes([5, 2 + 8 * len(blocks)]) + b"".join(struct.pack("!II", l, r) for l, r in blocks)


def pkt(flags, opts=b"", data=b"", seq=1000, ack=2000, **kw):
    return ip4(A, B, tcp(A, B, 40000, 80, seq, ack, flags, 65535, opts, data), **kw)


def wire_seeds():
    linux_syn = MSS(1460) + SACKOK + TS(12345, 0) + WS(7)
    write("wire", "syn-linux-options", pkt(SYN, linux_syn, seq=1000, ack=0))
    write("wire", "synack", pkt(SYN | ACK, MSS(1460) + SACKOK + TS(777, 12345) + WS(14)))
    write("wire", "ack-data-ts", pkt(ACK | PSH, NOP2 + TS(12346, 777), b"GET / HTTP/1.1\r\n\r\n" * 4))
    write("wire", "fin-ack", pkt(FIN | ACK, NOP2 + TS(12400, 800)))
    write("wire", "rst", pkt(RST | ACK))
    write("wire", "rst-no-ack", pkt(RST, seq=5000, ack=0))
    write("wire", "sack-4-blocks", pkt(ACK, sack([(3000, 4000), (5000, 6000), (7000, 8000), (9000, 9500)])))
    write("wire", "sack-3-blocks-ts", pkt(ACK, NOP2 + TS(1, 2) + sack([(3000, 4000), (5000, 6000), (7000, 8000)])))
    write("wire", "opts-unknown-kinds", pkt(SYN, bytes([30, 6, 1, 2, 3, 4, 254, 4, 9, 9, 1, 1, 1, 1, 1, 1]),
                                            seq=1000, ack=0))
    write("wire", "opts-bad-length", pkt(ACK, bytes([8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1])))
    write("wire", "opts-zero-length", pkt(ACK, bytes([5, 0, 1, 1])))
    write("wire", "opts-eol-then-junk", pkt(SYN, MSS(536) + bytes([0, 99, 99, 99]), seq=1, ack=0))
    write("wire", "opts-mss-on-ack", pkt(ACK, MSS(100) + WS(3)))
    write("wire", "ip-options-rr", pkt(ACK, ipopts=bytes([7, 7, 4, 0, 0, 0, 0, 1])))
    write("wire", "ip-lsrr-refused", pkt(ACK, ipopts=bytes([131, 7, 4, 10, 0, 0, 3, 0])))
    write("wire", "ip-fragment", pkt(ACK, data=b"x" * 64, frag=0x2000))
    write("wire", "udp", ip4(A, B, struct.pack("!HHHH", 53, 53, 8, 0)))
    write("wire", "padded-frame", pkt(ACK, data=b"hi") + b"\0" * 6)
    write("wire", "urgent", pkt(ACK | URG, data=b"!"))


# ---------------------------------------------------------------- stack

(OP_TIME, OP_SEG, OP_SEG2, OP_RAW, OP_LOOP, OP_SOCKET, OP_BIND, OP_LISTEN, OP_ACCEPT, OP_CONNECT, OP_SEND,
 OP_RECV, OP_SHUTDOWN, OP_CLOSE, OP_SETSOCKOPT, OP_QUERY, OP_JUMP, OP_TIME2) = range(18)


class Script:
    def __init__(self, cfg=(0, 0, 0, 0, 0)):
        self.b = bytearray(cfg)

    def op(self, code, *fields):
        self.b.append(code)
        for kind, v in fields:
            if kind == "u8":
                self.b.append(v & 0xFF)
            elif kind == "u16":
                self.b += struct.pack("!H", v & 0xFFFF)
            elif kind == "u32":
                self.b += struct.pack("!I", v & 0xFFFFFFFF)
            else:
                self.b += v
        return self

    # time in milliseconds (unit 1) or seconds (unit 3)
    def ms(self, n):
        return self.op(OP_TIME, ("u16", (1 << 14) | n))

    def sec(self, n):
        return self.op(OP_TIME, ("u16", (3 << 14) | n))

    def socket(self):
        return self.op(OP_SOCKET, ("u8", 0))

    def bind(self, fd, sel):
        return self.op(OP_BIND, ("u8", fd), ("u8", sel))

    def listen(self, fd, backlog):
        return self.op(OP_LISTEN, ("u8", fd), ("u8", backlog))

    def accept(self, fd):
        return self.op(OP_ACCEPT, ("u8", fd), ("u8", 1))

    def connect(self, fd, sel):
        return self.op(OP_CONNECT, ("u8", fd), ("u8", sel))

    def send(self, fd, n, f=0):
        # lengths from 3000 up need the "large" flag (fuzz_stack.c op_send)
        return self.op(OP_SEND, ("u8", fd), ("u16", n), ("u8", f | (0x80 if n >= 3000 else 0)))

    def recv(self, fd, n, f=0):
        return self.op(OP_RECV, ("u8", fd), ("u16", n), ("u8", f))

    def shutdown(self, fd, how):
        return self.op(OP_SHUTDOWN, ("u8", fd), ("u8", how + 1))

    def close(self, fd):
        return self.op(OP_CLOSE, ("u8", fd))

    def setsockopt(self, fd, which, v):
        return self.op(OP_SETSOCKOPT, ("u8", fd), ("u8", which), ("u16", v))

    def query(self, fd, what):
        return self.op(OP_QUERY, ("u8", fd), ("u8", what))

    # Segments.  tsel: 0x80 | i = tuple i; else a fresh one.  m: seq mode
    # | ack mode << 2 | options mode << 4 | payload mode << 6.
    def seg(self, tsel, flags, m, *operands):
        return self.op(OP_SEG, ("u8", tsel), ("u8", flags), ("u8", m), *operands)

    def syn_in(self, tsel=0):
        # seq: peer ISN (mode 1, +0); ack: st_nxt (mode 3); options:
        # MSS 1460, WS 7, SACK-permitted, TS
        return self.seg(tsel, SYN, 1 | 3 << 2 | 1 << 4, ("u16", 0), ("u16", 65535), ("u8", 0x0F), ("u16", 1460),
                        ("u8", 7), ("u8", 1))

    def synack_in(self, tsel=0x80):
        return self.seg(tsel, SYN | ACK, 1 | 3 << 2 | 1 << 4, ("u16", 0), ("u16", 65535), ("u8", 0x0F),
                        ("u16", 1460), ("u8", 7), ("u8", 1))

    def ack_in(self, tsel=0x80, flags=ACK, seqoff=0, win=65535, plen=None):
        # seq: what the stack acked + seqoff; ack: all it sent; TS only
        if plen is None:
            return self.seg(tsel, flags, 0 | 3 << 2 | 2 << 4, ("u16", seqoff), ("u16", win), ("u8", 2))
        return self.seg(tsel, flags, 0 | 3 << 2 | 2 << 4 | 2 << 6, ("u16", seqoff), ("u16", win), ("u8", 2),
                        ("u16", plen))

    def sack_in(self, tsel, ack_off, ranges):
        # ack: ISS + 1 + ack_off (mode 1); options: TS and SACK blocks
        # for `ranges`, offsets from ISS + 1
        ops = [("u16", 0), ("u16", ack_off), ("u16", 65535), ("u8", 0x88 | len(ranges) << 4), ("u8", 3),
               ("u32", 0)]
        for l, r in ranges:
            ops += [("u16", l), ("u16", r - l)]
        return self.seg(tsel, ACK, 0 | 1 << 2 | 1 << 4, *ops)


def stack_seeds():
    # A server: listen, a peer's handshake, data both ways, the peer
    # closes first, the server closes (LAST-ACK), the listener goes.
    s = Script()
    s.socket().bind(0, 0x00).listen(0, 5).syn_in().ack_in()
    s.ack_in(flags=ACK | PSH, plen=700).accept(0).recv(1, 4096).send(1, 1200).ms(50).ack_in()
    s.ack_in(flags=FIN | ACK).recv(1, 4096).recv(1, 4096).close(1).ack_in().sec(1).close(0).sec(30)
    write("stack", "server-lifecycle", s.b)

    # A client: connect, SYN-ACK, send and receive, shut down first,
    # the peer's FIN, TIME-WAIT for 2 MSL.
    s = Script()
    s.socket().connect(0, 0x00).synack_in().send(0, 3000).ack_in().ack_in(flags=ACK | PSH, plen=1000)
    s.recv(0, 8192).shutdown(0, 1).ack_in().ack_in(flags=FIN | ACK).sec(61).close(0).sec(1)
    write("stack", "client-lifecycle", s.b)

    # Two sockets of the stack talking over its loopback: listener on
    # 198.18.0.1:80, client from 198.18.0.3, data both ways, half-close.
    s = Script()
    s.socket().bind(0, 0x00).listen(0, 8).socket().connect(1, 0x23).ms(10).accept(0)
    s.send(1, 5000).ms(10).recv(2, 8000).send(2, 3000).ms(10).recv(1, 8000).shutdown(1, 1).ms(10)
    s.recv(2, 100).close(2).ms(100).recv(1, 100).close(1).close(0).sec(120)
    write("stack", "loopback-transfer", s.b)

    # Out-of-order data and SACK: a hole, data past it, the hole filled;
    # then the stack sends and the peer SACKs part of it.
    s = Script()
    s.socket().bind(0, 0x00).listen(0, 5).syn_in().ack_in().accept(0)
    s.ack_in(flags=ACK | PSH, seqoff=1000, plen=500).ack_in(flags=ACK | PSH, seqoff=2000, plen=500)
    s.ack_in(flags=ACK | PSH, seqoff=0, plen=1000).recv(1, 4096).recv(1, 4096)
    s.send(1, 6000).sack_in(0x80, 1000, [(2000, 3000), (4000, 5000)]).ms(300).ack_in().close(1).ms(500)
    write("stack", "ofo-and-sack", s.b)

    # Socket options on a connection, then close with SO_LINGER {1, 2}.
    s = Script()
    s.socket()
    for which, v in ((0, 1), (2, 1), (3, 3000), (4, 5000), (6, 1), (8, 536), (9, 10), (10, 2), (11, 3),
                     (12, 2), (13, 5), (14, 2500), (5, 5)):
        s.setsockopt(0, which, v)
    s.connect(0, 0x00).synack_in().send(0, 2000).query(0, 0).query(0, 3).query(0, 6).ack_in().close(0)
    s.sec(3).close(0).sec(200)
    write("stack", "sockopts-linger", s.b)

    # Resets: a client refused, a server connection reset in ESTABLISHED.
    s = Script()
    s.socket().connect(0, 0x00).seg(0x80, RST | ACK, 2 | 3 << 2, ("u8", 0), ("u16", 65535)).connect(0, 0x00)
    s.socket().bind(1, 0x04).listen(1, 2).syn_in(0x04).ack_in(0x81).accept(1)
    s.ack_in(0x81, flags=RST).recv(2, 10).close(2).close(1).close(0)
    write("stack", "resets", s.b)

    # Keepalive with short timers (config byte 3: fast RTO, short
    # keepalive), the peer silent: probes then the end.
    s = Script((0, 0, 0, 0x44, 0))
    s.socket().setsockopt(0, 2, 1).connect(0, 0x00).synack_in().sec(60).query(0, 1).close(0).sec(600)
    write("stack", "keepalive-timeout", s.b)

    # A zero window from the peer: persist probes, then it opens.
    s = Script()
    s.socket().connect(0, 0x00).synack_in().ack_in(win=0).send(0, 4000).sec(5).ack_in(win=0).sec(10)
    s.ack_in(win=65535).ms(100).ack_in().close(0).sec(100)
    write("stack", "zero-window", s.b)

    # Raw option bytes on a SYN and a raw packet with checksums fixed.
    s = Script()
    s.socket().bind(0, 0x00).listen(0, 5)
    raw_opts = bytes([2, 4, 5, 0xB4, 1, 3, 3, 14, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 30, 2])
    s.seg(0x00, SYN, 1 | 3 << 2 | 3 << 4, ("u16", 0), ("u16", 1024), ("u8", len(raw_opts)), ("raw", raw_opts))
    s.ack_in()
    p = ip4([198, 18, 0, 2], [198, 18, 0, 1], tcp([198, 18, 0, 2], [198, 18, 0, 1], 5000, 80, 1, 0, SYN, 512))
    s.op(OP_RAW, ("u8", 3), ("u16", len(p)), ("raw", p))
    write("stack", "raw-options", s.b)


# ---------------------------------------------------------------- pair

def pair(cfg_c=0, cfg_s=0, z=0, link=0, seed=1, conns=((128, 128, 0, 0, 0, 0, 0, 0, 0),), fates=b""):
    b = bytearray([cfg_c, cfg_s, z, link]) + struct.pack("!I", seed)
    b.append(len(conns) - 1)
    for c2s, s2c, start, pc, qc, ps, qs, o, v in conns:
        b += bytes([c2s, s2c, start, pc, qc, ps, qs, o]) + struct.pack("!H", v)
    return bytes(b) + bytes(fates)


def pair_seeds():
    write("pair", "clean-8k-each-way", pair())
    write("pair", "three-connections",
          pair(conns=((32, 8, 0, 0x00, 0, 0x09, 1, 0, 0), (8, 32, 5, 0x12, 2, 0x1b, 0, 0x09, 1),
                      (0, 64, 10, 0x40, 0, 0x80, 2, 0x1a, 1000))))
    # drops, duplicates, delays, a long hold
    write("pair", "lossy",
          pair(link=0x02, fates=[0, 0, 6, 0, 0, 8 | 3 << 4, 0, 9 | 5 << 4, 6, 6, 0, 15 | 1 << 4, 0, 7, 0, 0, 6]))
    # small buffers, slow reader, small MTU on one side
    write("pair", "small-window-slow-reader",
          pair(cfg_c=0x08, cfg_s=0x10, z=0x01, conns=((128, 64, 0, 0xC5, 0, 0x85, 0, 0x1b, 4096),)))
    # no SACK, no timestamps, no window scaling; reordering by jitter
    write("pair", "plain-tcp-jitter", pair(cfg_c=0x07, cfg_s=0x07, link=0x07, fates=[9 | 2 << 4, 0, 0, 6]))
    # corruption (dropped by checksum), truncation, IP tweaks
    write("pair", "corrupt-truncate",
          pair(fates=[0, 0, 0, 10, 0, 30, 0x55, 11, 0, 100, 12 | 0 << 4, 1, 12 | 4 << 4, 0, 12 | 3 << 4, 0]))
    # forged headers: a window of zero, an ACK moved, a RST
    write("pair", "forged", pair(fates=[0, 0, 0, 0, 14, 0, 0, 0, 13 | 2 << 4, 0xFF, 0xF0, 0, 0, 13 | 6 << 4, 0, 0]))
    # bandwidth limit and a loss burst past the initial window
    write("pair", "bandwidth-burst-loss", pair(link=0x08 | 0x01, conns=((255, 255, 0, 0, 0, 0, 0, 0, 0),),
                                               fates=[0] * 6 + [6] * 8 + [0] * 4 + [8] * 3))


if __name__ == "__main__":
    wire_seeds()
    stack_seeds()
    pair_seeds()
