#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz harness (tests/fuzz/corpus/<name>/):
well-formed inputs the fuzzer mutates from. Run from anywhere; rewrites
the seeds in place. The layouts mirror the C structs they stand for."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_RAILS = 32  # MRAIL_MAX_RAILS


def write(harness, name, data):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- fuzz_pml: a script of steps (see fuzz_pml.c) ---
EAGER, RTS, CTS, FRAG, FIN, ACK, PROBE, SHORT = range(1, 9)


def match(ctx=0, src=0, tag=0, seq=0, length=0, sreq=0, cseq=0, cack=0):
    return struct.pack("<IIIiiIQQ", cseq, cack, ctx, src, tag, seq, length, sreq)


def cts(sreq, rreq, rid, accepted):
    return (struct.pack("<IIQQQQII", 0, 0, sreq, rreq, rid, accepted, 0, 0) +
            b"\0" * (4 * MAX_RAILS) + b"\0" * (2 * MAX_RAILS))


def frag(rreq, rid, offset, index=0, nfrags=1, rail=0, flags=0):
    return struct.pack("<QQQIIBBHI", rreq, rid, offset, index, nfrags, rail, flags, 0, 0)


def fin(sreq):
    return struct.pack("<IIQ", 0, 0, sreq)


def frame(tag, hdr, pay=b""):
    return bytes([0, tag]) + struct.pack(">HH", len(hdr), len(pay)) + hdr + pay


def placed(hdr, pay):
    return bytes([2]) + struct.pack(">HH", len(hdr), len(pay)) + hdr + pay


def recv(length, tag=0, ctx=0, any_src=False):
    return bytes([3, 1]) + struct.pack(">H", length) + bytes([tag, ctx, 1 if any_src else 0])


def send(length, tag=0, ctx=0, sync=False):
    return bytes([3, 0]) + struct.pack(">H", length) + bytes([tag, ctx, 1 if sync else 0])


def progress(n=7):
    return bytes([4, n])


write("pml", "eager_self", recv(100) + send(100) + progress())
write("pml", "rndv_self", recv(9000) + send(12000, tag=0) + progress() + progress())
write("pml", "sync_any", recv(64, tag=3, any_src=True) + send(64, sync=True) + progress())
write("pml", "eager_frame", recv(10) + frame(EAGER, match(tag=0, length=10), b"0123456789"))
write("pml", "unexpected_then_recv",
      frame(EAGER, match(tag=1, length=5), b"abcde") + recv(5, tag=1) + progress())
write("pml", "short_frame", recv(8) + frame(SHORT, struct.pack("<HHi", 0, 0, 0), b"12345678"))
# An RTS from "the peer" (ourselves): the posted receive (request slot 0,
# handle 1) answers CTS; fragments then arrive, one placed.
write("pml", "rts_frags",
      recv(300) + frame(RTS, match(tag=0, length=300, sreq=99)) +
      frame(FRAG, frag(1, 1, 0), b"x" * 100) + placed(frag(1, 1, 100), b"y" * 200) + progress())
write("pml", "rts_confirmed_frags",
      recv(300) + frame(RTS, match(tag=0, length=300, sreq=99)) +
      placed(frag(1, 1, 0, 0, 2, 0, 1), b"x" * 150) + frame(FRAG, frag(1, 1, 150, 1, 2, 1, 1), b"y" * 150))
# A send of ours (slot 0) waiting for CTS; a CTS and a FIN for it.
write("pml", "cts_fin", send(10000, tag=2) + frame(CTS, cts(1, 7, 1, 10000)) +
      frame(FIN, fin(1)) + progress())
write("pml", "ack_probe", frame(ACK, struct.pack("<II", 0, 5)) + frame(PROBE, b""))


# --- fuzz_tcp_wire: [state of rank 0's endpoint] hello, then frames ---
TCP_MAGIC = 0x4D525443
JOB, SECRET = 0x1122334455667788, 0x99AABBCCDDEEFF00


def hello(rank, job=JOB, secret=SECRET, magic=TCP_MAGIC):
    return struct.pack("<IIQQ", magic, rank, job, secret)


def tcp_frame(tag, hdr, pay=b""):
    return struct.pack("<IBBH", len(hdr) + len(pay), tag, 0, len(hdr)) + hdr + pay


write("tcp_wire", "hello_only", b"\0" + hello(0))
write("tcp_wire", "hello_frames", b"\0" + hello(2) + tcp_frame(1, b"hdr", b"payload") +
      tcp_frame(1, b"", b"") + tcp_frame(5, b"x" * 10, b"y" * 100))
write("tcp_wire", "placed", b"\1" + hello(3) + tcp_frame(TAG_PLACED := 2, struct.pack("<H", 100) + b"h" * 14,
                                                        bytes(range(256)) * 40))
write("tcp_wire", "placed_refused", b"\2" + hello(0) +
      tcp_frame(2, struct.pack("<H", 65000), b"z" * 9000))
write("tcp_wire", "half_hello", b"\0" + hello(2)[:10])
write("tcp_wire", "stranger", b"\0" + hello(2, secret=1))
write("tcp_wire", "huge_len", b"\0" + hello(2) + struct.pack("<IBBH", 0xFFFFFFF0, 1, 0, 4) + b"abcd")


# --- fuzz_modex: [even: entries | odd: tcp pairing] ---
MODEX_MAGIC = 0x4D524D45


def modex_blob(entry_size, entries):
    return struct.pack("<IIII", MODEX_MAGIC, entry_size, len(entries), 0) + b"".join(entries)


write("modex", "entries", b"\0" + bytes([24]) + modex_blob(24, [bytes(range(24)), b"\x55" * 24]))
write("modex", "entries_short", b"\0" + bytes([16]) + modex_blob(16, [b"\1" * 16])[:-4])


def tcp_mod(addr, port, ifindex, mask=0xFFFFFF00):
    return struct.pack("<IIIHHI", TCP_MAGIC, addr, mask, port, 0, ifindex)


def route(dst, plen, oif, prio=0):
    return struct.pack("<IBBHII", dst, plen, 0, 0, oif, prio)


def side(mods, routes):
    return bytes([len(mods)]) + b"".join(mods) + bytes([len(routes)]) + b"".join(routes)


# Two ranks with two rails each, 10.0.1.x via ifindex 2 and 10.0.2.x via 3
# (addresses in network order, as published).
A1, A2 = 0x0101000A, 0x0102000A
B1, B2 = 0x0201000A, 0x0202000A
write("modex", "pair_two_rails", b"\1" +
      side([tcp_mod(A1, 4000, 2), tcp_mod(A2, 4001, 3)],
           [route(0x0001000A, 24, 2), route(0x0002000A, 24, 3)]) +
      side([tcp_mod(B1, 5000, 7), tcp_mod(B2, 5001, 8)],
           [route(0x0001000A, 24, 7), route(0x0002000A, 24, 8)]))
write("modex", "pair_default_route", b"\1" +
      side([tcp_mod(A1, 4000, 2)], [route(0, 0, 2)]) + side([tcp_mod(B1, 5000, 7)], [route(0, 0, 7)]))


# --- fuzz_mca_file: a parameter file ---
write("mca_file", "every_type", b"""# a comment
fz_x_i = -42
fz_x_u = 4000000000
fz_x_sz = 64g
fz_x_b = false
fz_x_s = "quoted value"
fz_x_e = blue
fz_x_l = tcp , sm,self
""")
write("mca_file", "bad_values", b"fz_x_i = 99999999999999999999\nfz_x_u = -1\nfz_x_sz = 12q\n"
      b"fz_x_b = maybe\nfz_x_e = purple\nfz_x_l = ,,\n")
write("mca_file", "unknown_and_twice", b"fz_x_colour = red\nfz_x_i = 1\nfz_x_i = 2\nbtl = tcp,^sm\n")
write("mca_file", "malformed", b"no equals sign here\n")


# --- fuzz_datatype: steps of (n, 8 x (int, blen, addr), op, [op bytes]) ---
def dt_step(op, n=2, ints=(2, 1, 0, 0, 0, 0, 0, 0), blens=(2, 1, 1, 1, 1, 1, 1, 1),
            addrs=(0, 4, 0, 0, 0, 0, 0, 0), extra=b""):
    body = bytes([n])
    for i in range(8):
        body += bytes([(ints[i] * 4) & 0xFF, blens[i], (addrs[i] // 4 * 4) & 0xFF])
    return body + bytes([op]) + extra


def named_step(index):
    return dt_step(0, extra=bytes([index]))


write("datatype", "vector_of_int", named_step(1) + dt_step(2, ints=(3, 4, 0, 0, 0, 0, 0, 0)))
write("datatype", "struct_mixed", named_step(2) + named_step(0) + named_step(1) +
      dt_step(8, n=3, addrs=(0, 8, 16, 0, 0, 0, 0, 0)))
write("datatype", "resized_indexed", named_step(3) + dt_step(4, n=3) + dt_step(9, addrs=(-8, 32, 0, 0, 0, 0, 0, 0)))
write("datatype", "subarray", named_step(2) + dt_step(11, n=2, extra=bytes([1, 2, 1])))
write("datatype", "darray", named_step(1) + dt_step(12, n=1, extra=bytes([2, 1, 0])))
write("datatype", "long_double_external32", named_step(11) + dt_step(1, ints=(2, 0, 0, 0, 0, 0, 0, 0)))
write("datatype", "hindexed_block_dup", named_step(6) + dt_step(7, n=2) + dt_step(10))
