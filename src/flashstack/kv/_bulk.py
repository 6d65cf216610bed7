"""Mount's bulk walk of one block (docs/alios-kv.md §7, §8, KV-8, KV-27).

A mount of 100,000 keys meets 100,000 NORMAL records; walking them one ``recover`` call at a
time, with a Python loop over every key and value byte for the CRC, costs about half a second.
:func:`walk_block` walks a block whose walk would issue no flash operation at all — the
common case: every NORMAL record's CRC matches, no key holds 0xFF, no ``origin_off`` names a
NORMAL record of the same key, no invalid header, no deleted record in a USED block, an erased
tail after the end of data — and hands back what the exact walk would have added to the RAM
state. Only the header chain runs in Python (one ``unpack`` per record); CRCs are checked
by byte columns (:func:`flashstack._crc8.crc8_rows`, every record's CRC, as KV-8 requires),
keys are sliced by ``map``. For any other block it answers None and mount walks that block
record by record (``KVEngine._traverse`` with ``_recover``), so behaviour, operations and their
order are those of the record-by-record walk; ``tests/kv/test_kv_bulk.py`` compares both.
"""

from __future__ import annotations

import gc
import struct
from contextlib import contextmanager
from itertools import chain
from struct import Struct
from typing import Iterator, NamedTuple

from .._crc8 import crc8_rows
from . import format as fmt

__all__ = ["BlockWalk", "walk_block", "merge_walks", "paused_gc"]

_CRC = fmt._CRC8_TABLE
_ERASED = 0xFF
_NORMAL = fmt.ITEM_STATE_NORMAL
_FF_IF_NORMAL = bytes(0xFF if v == _NORMAL else 0 for v in range(256))  # translate: NORMAL -> FF
# below this many records of one length, the byte loop beats one translate per byte column
_ROWS_MIN = 16


class BlockWalk(NamedTuple):
    """What the walk of one block adds: ``space`` (free bytes after the data), and the NORMAL
    records in address order as ``positions`` (KV positions), ``keys`` and ``val_lens``."""

    space: int
    positions: list[int]
    keys: list[bytes]
    val_lens: list[int]


class _Block:
    """One block's bytes and the geometry a walk needs (``used``: RAM state USED, where a
    deleted or invalid record would be DIRTY-marked)."""

    def __init__(self, win: bytearray, b: int, B: int, HDR: int, total: int, align: int, used: bool,
                 hdr: Struct):
        self.win, self.base, self.B, self.HDR, self.total = win, b * B, B, HDR, total
        self.blk = bytes(win[b * B:b * B + B])
        self.amask, self.used, self.hdr = align - 1, used, hdr
        self.singles: list[tuple[int, int, int, int]] = []   # (offset in block, key_len, val_len, crc)
        self.positions: list[int] = []
        self.keys: list[bytes] = []
        self.val_lens: list[int] = []


def walk_block(win: bytearray, b: int, B: int, HDR: int, total: int, max_key: int, max_val: int,
               align: int, used: bool, hdr: Struct) -> BlockWalk | None:
    """The §7 walk of block ``b`` of the KV area image ``win`` (position 0 at ``win[0]``) with
    mount's ``recover``, or None when that walk would issue a flash operation (or meets damage);
    ``used``: the block's RAM state is USED (a deleted or invalid record would DIRTY-mark it).

    Records of one shape (same magic, key and value length) in a row are taken as a run: their
    headers, states, CRCs and keys are read by byte columns. A lone record is read by itself."""
    k = _Block(win, b, B, HDR, total, align, used, hdr)
    blk, unpack, amask = k.blk, hdr.unpack_from, k.amask
    p = fmt.BLK_HDR_SIZE
    while True:
        magic, st, crc, kl, vl, origin = unpack(blk, p)
        if not (magic == fmt.ITEM_MAGIC and 0 < kl <= max_key and 0 < vl <= max_val):
            if magic == _ERASED and st == _ERASED and blk.count(_ERASED, p) == B - p:
                break  # end of data ([fs] anything programmed after it: the exact walk)
            return None  # invalid header
        n = (HDR + kl + vl + amask) & ~amask
        # records the walk visits from p on (header before the block end) whose body fits the block
        fit = min((B - HDR - p - 1) // n + 1, (B - HDR - kl - vl - p) // n + 1)
        if fit >= 2 and blk[p + n] == magic and blk[p + n + 3] == kl and blk[p + n + 4:p + n + 6] == blk[p + 4:p + 6]:
            cnt = _run(k, p, n, fit, kl, vl)
            if cnt == 0:
                return None
        else:
            cnt = 1
            if st == _NORMAL:
                if fit < 1 or (origin and _same_key_at(k, origin, p, kl)):
                    return None  # runs past its block (KV-7), or an update/GC copy: recover decides
                k.singles.append((p, kl, vl, crc))
            elif k.used:
                return None  # DIRTY-marking
        p += cnt * n
        if p + HDR >= B:
            break
    if k.singles and not _singles(k):
        return None
    return BlockWalk(B - p if B > p else HDR, k.positions, k.keys, k.val_lens)


def _run(k: _Block, p: int, n: int, fit: int, kl: int, vl: int) -> int:
    """Take the run of records shaped like the one at ``p`` (``n`` bytes apart, at most ``fit``):
    their count, or 0 when the walk of one of them would write (or meets damage)."""
    blk, HDR = k.blk, k.HDR
    span = (fit - 1) * n + 1

    def col(off: int, count: int) -> bytes:
        return blk[p + off:p + off + (count - 1) * n + 1:n]

    ones = int.from_bytes(b"\x01" * fit, "little")
    diff = 0
    for off in (0, 3, 4, 5):  # magic, key_len, val_len
        diff |= int.from_bytes(blk[p + off:p + off + span:n], "little") ^ (blk[p + off] * ones)
    cnt = ((diff & -diff).bit_length() - 1) // 8 if diff else fit
    states = col(1, cnt)
    normal = states.count(_NORMAL)
    if normal != cnt and k.used:
        return 0  # a deleted record in a USED block: DIRTY-marking
    if normal == 0:
        return cnt
    mask = int.from_bytes(states.translate(_FF_IF_NORMAL), "little")
    crcs = crc8_rows(_CRC, blob=blk, width=kl + vl, start=p + HDR, stride=n, count=cnt)
    if (int.from_bytes(crcs, "little") ^ int.from_bytes(col(2, cnt), "little")) & mask:
        return 0  # a torn record: recover deletes it
    if any(_ERASED in col(HDR + j, cnt) for j in range(kl)):
        return 0  # maybe a key holding 0xFF (KV-10)
    if any(col(o, cnt).count(0) != cnt for o in range(6, HDR)) and _origins_hit(k, p, n, cnt, kl, states):
        return 0
    keys = struct.unpack_from(f"{HDR}x{kl}s{n - HDR - kl}x" * (cnt - 1) + f"{HDR}x{kl}s", blk, p)
    first = k.base + p
    if normal == cnt:
        k.keys.extend(keys)
        k.positions.extend(range(first, first + cnt * n, n))
    else:
        take = [i for i, s in enumerate(states) if s == _NORMAL]
        k.keys.extend([keys[i] for i in take])
        k.positions.extend([first + i * n for i in take])
    k.val_lens.extend([vl] * normal)
    return cnt


def _origins_hit(k: _Block, p: int, n: int, cnt: int, kl: int, states: bytes) -> bool:
    """Some NORMAL record of the run names in ``origin_off`` a NORMAL record of the same key."""
    unpack = k.hdr.unpack_from
    for i in range(cnt):
        if states[i] == _NORMAL:
            origin = unpack(k.blk, p + i * n)[5]
            if origin and _same_key_at(k, origin, p + i * n, kl):
                return True
    return False


def _same_key_at(k: _Block, origin: int, p: int, kl: int) -> bool:
    """``recover``'s test before it looks further: ``origin`` is not the record's own position
    and holds a NORMAL record with the same key (KV-9: a header past the area is ignored)."""
    win, HDR = k.win, k.HDR
    if origin == k.base + p or origin + HDR + kl > k.total:
        return False
    return (win[origin] == fmt.ITEM_MAGIC and win[origin + 1] == _NORMAL and win[origin + 3] == kl
            and win[origin + HDR:origin + HDR + kl] == k.blk[p + HDR:p + HDR + kl])


def _singles(k: _Block) -> bool:
    """Check the lone records (CRC-8 of key and value, KV-8; no 0xFF in the key) and merge
    them with the runs' records in address order. False when recover would delete one."""
    blk, HDR = k.blk, k.HDR
    keys = [blk[p + HDR:p + HDR + kl] for p, kl, _, _ in k.singles]
    if _ERASED in b"".join(keys):
        return False
    by_len: dict[int, list[tuple[int, int, int, int]]] = {}
    for r in k.singles:
        by_len.setdefault(r[1] + r[2], []).append(r)
    for n, recs in by_len.items():
        if len(recs) >= _ROWS_MIN:
            body = b"".join([blk[p + HDR:p + HDR + n] for p, _, _, _ in recs])
            if crc8_rows(_CRC, body, n) != bytes([r[3] for r in recs]):
                return False
        else:
            for p, _, _, want in recs:
                x = 0
                for byte in blk[p + HDR:p + HDR + n]:
                    x = _CRC[x ^ byte]
                if x != want:
                    return False
    base = k.base
    lone = [(base + p, key, vl) for (p, _, vl, _), key in zip(k.singles, keys)]
    if k.positions:
        lone += list(zip(k.positions, k.keys, k.val_lens))
        lone.sort()
    k.positions[:] = [r[0] for r in lone]
    k.keys[:] = [r[1] for r in lone]
    k.val_lens[:] = [r[2] for r in lone]
    return True


def merge_walks(index: dict[bytes, list[tuple[int, int]]], walks: list[BlockWalk]) -> dict[bytes, list[tuple[int, int]]]:
    """``index`` (key -> live copies ``(pos, val_len)`` in search order, KV-27) with the records
    of ``walks`` (blocks in walk order) appended; empties ``walks``. May return a new dict (an
    empty ``index`` is replaced). Blocks are walked in order and records in address order, so
    appending keeps search order."""
    if not walks:
        return index
    keys = list(chain.from_iterable(w.keys for w in walks))
    positions = list(chain.from_iterable(w.positions for w in walks))
    val_lens = list(chain.from_iterable(w.val_lens for w in walks))
    walks.clear()
    fresh = dict(zip(keys, map(list, zip(zip(positions, val_lens)))))
    if len(fresh) == len(keys):  # every key once: the dict is built in C
        if not index:
            return fresh
        if index.keys().isdisjoint(fresh):
            index.update(fresh)
            return index
    for key, pos, vl in zip(keys, positions, val_lens):
        lst = index.get(key)
        if lst is None:
            index[key] = [(pos, vl)]
        else:
            lst.append((pos, vl))
    return index


@contextmanager
def paused_gc() -> Iterator[None]:
    """Python's cyclic garbage collector paused (if it runs) for the block: a mount creates a
    list per key, and collections triggered by those allocations, which find nothing (the index
    holds no cycles), cost as much again as the mount itself."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
