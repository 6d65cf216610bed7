"""The shared control block and the messages between Python and a C helper process.

Keep in step with ``c/fs_runtime.c`` (``struct fs_ctl``, ``struct fs_msg``). The control file
holds: the header (geometry, cut counter, read/write/erase counters), the erase-page start
offsets, the erase cycles per page, the data of a write handed to Python (the cut operation)
and the payload areas of requests and responses. All little endian.
"""

from __future__ import annotations

import struct

MAGIC = 0x524E5346  # "FSNR"
CTL = struct.Struct("<30I7Q")
FIELDS = ("magic", "size", "wbs", "erase_value", "explicit_erase", "allow_double", "unaligned_read",
          "slow", "page_count", "counting", "after", "count", "address", "pages_off", "cycles_off",
          "cb_off", "scratch_off", "scratch_cap", "steps_done", "interrupted",
          "tear", "seed", "keep_set", "keep", "cut_kind", "cut_off", "cut_len", "cut_applied",
          "program_page_size", "reserved",
          "bytes_read", "bytes_written", "double_writes", "read_calls", "write_calls", "erase_calls",
          "cpu_us")
OFF = {name: (i * 4 if i < 30 else 120 + (i - 30) * 8) for i, name in enumerate(FIELDS)}
COUNTERS = struct.Struct("<6Q")  # bytes_read .. erase_calls, at OFF["bytes_read"]
U32 = struct.Struct("<I")

MSG = struct.Struct("<iiiiIi")  # op, a, b, c, payload length, sender pid (C side)
Q_FORK, Q_CALL, Q_CBREPLY, Q_EXIT = 1, 2, 3, 4
R_DONE, R_CB, R_CRASH, R_CUT, R_HELLO = 100, 101, 102, 103, 104
TEAR_CODES = {("clean", "prefix"): 0, ("clean", "bits"): 0, ("torn", "prefix"): 1, ("torn", "bits"): 2}
TEAR_IN_PYTHON = 3  # a seed outside 0..2**32-1: the Python model tears the cut operation
CB_READ, CB_WRITE, CB_ERASE = 1, 2, 3
DEAD = -100000

# driver operations (flashstack/runtime.h FS_OP_*)
OP_BOOT, OP_SET, OP_DEL, OP_OBSERVE, OP_STEP, OP_CHECK, OP_DELP = range(1, 8)
OP_ALLOC, OP_FREE, OP_LIST, OP_COPY, OP_FLUSH, OP_INITERR, OP_SPACE = range(8, 15)

SCRATCH = 1 << 20  # request + response payload areas (half each)


def layout(size: int, page_count: int) -> dict:
    """Offsets of the control file's parts for a device of ``size`` bytes and ``page_count``
    erase pages: ``pages_off``, ``cycles_off``, ``cb_off``, ``scratch_off`` and ``total``."""
    pages_off = 4096
    cycles_off = pages_off + 4 * (page_count + 1)
    cycles_off += -cycles_off % 64
    cb_off = cycles_off + 4 * page_count
    cb_off += -cb_off % 4096
    scratch_off = cb_off + size + (-size % 4096)
    return {"pages_off": pages_off, "cycles_off": cycles_off, "cb_off": cb_off,
            "scratch_off": scratch_off, "total": scratch_off + SCRATCH}


def pack_kv(pairs) -> bytes:
    """Key/value records (``fs_next_kv``): u16 key length, key, u32 value length, value."""
    out = bytearray()
    for key, value in pairs:
        out += struct.pack("<H", len(key)) + key + struct.pack("<I", len(value)) + value
    return bytes(out)


def unpack_kv(data: bytes) -> list:
    """The ``(key, value)`` records of ``data`` (see :func:`pack_kv`)."""
    out, i = [], 0
    while i < len(data):
        (klen,) = struct.unpack_from("<H", data, i)
        key = data[i + 2:i + 2 + klen]
        (vlen,) = struct.unpack_from("<I", data, i + 2 + klen)
        start = i + 6 + klen
        out.append((key, data[start:start + vlen]))
        i = start + vlen
    return out
