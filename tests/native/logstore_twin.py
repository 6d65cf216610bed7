"""A Python twin of the test log store (c/logstore.c): the same format and the same flash
operations in the same order, so ``--compare-model`` can be tested against a store the C
port is byte-compatible with (the C log store is not NVS). Test helper, not a product."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from flashstack.errors import InvalidArgument, NoSpace, NotFound
from flashstack.torture.targets.nvs import NVSTarget

MAGIC = 0x4C53
COMMIT = 0x5A
F_DEL = 1
MAX_LIVE = 256


def crc8(data: bytes) -> int:
    c = 0xFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = ((c << 1) ^ 0x07) & 0xFF if c & 0x80 else (c << 1) & 0xFF
    return c


class LogStore:
    def __init__(self, area, sector_size: int, sector_count: int):
        self.area, self.ss, self.sc = area, sector_size, sector_count
        self.A = max(8, area.align)
        self.ev = area.erased_val
        self.index: dict = {}
        self.active = self.seq = self.wpos = 0

    def _pad(self, n: int) -> int:
        return -(-n // self.A) * self.A

    def _header(self, s: int):
        h = self.area.read(s * self.ss, 8)
        if h[0:2] != struct.pack("<H", MAGIC) or h[6] != crc8(h[:6]):
            return None
        return struct.unpack_from("<I", h, 2)[0]

    def _write_header(self, s: int, seq: int) -> None:
        h = struct.pack("<HI", MAGIC, seq)
        h += bytes([crc8(h)])
        self.area.write(s * self.ss, h + bytes([self.ev]) * (self.A - len(h)))

    def _append(self, key: int, data: bytes, flags: int) -> None:
        A, at, n = self.A, self.active * self.ss + self.wpos, len(data)
        h = struct.pack("<HHB", key, n, flags)
        h += bytes([crc8(h)])
        self.area.write(at, h + bytes([self.ev]) * (A - len(h)))
        full = n // A * A
        if full:
            self.area.write(at + A, data[:full])
        if full < n:
            self.area.write(at + A + full, data[full:] + bytes([self.ev]) * (A - (n - full)))
        self.area.write(at + A + self._pad(n), bytes([COMMIT]) * A)
        if flags & F_DEL:
            self.index.pop(key, None)
        else:
            self.index[key] = (n, self.wpos + A)
        self.wpos += 2 * A + self._pad(n)

    def _compact(self) -> None:
        src, to = self.active, (self.active + 1) % self.sc
        self.area.erase(to * self.ss, self.ss)
        moved = dict(self.index)
        self.active, self.wpos = to, self.A
        for k in sorted(moved):
            n, off = moved[k]
            self._append(k, self.area.read(src * self.ss + off, n) if n else b"", 0)
        self._write_header(to, self.seq + 1)
        self.seq += 1

    def mount(self) -> None:
        best = None
        for s in range(self.sc):
            sq = self._header(s)
            if sq is not None and (best is None or ((sq - best) & 0xFFFFFFFF) - (1 << 32 if (sq - best) & 0x80000000 else 0) > 0):
                best, self.active = sq, s
        if best is None:
            self.area.erase(0, self.ss)
            self._write_header(0, 1)
            self.active, self.seq, self.wpos = 0, 1, self.A
            return
        self.seq = best
        self._scan()
        if self.wpos > self.ss // 4 * 3:
            self._compact()

    def _scan(self) -> None:
        A, base, pos = self.A, self.active * self.ss, self.A
        self.index = {}
        while pos + A <= self.ss:
            h = self.area.read(base + pos, A)
            if h == bytes([self.ev]) * A:
                break
            key, n, flags = struct.unpack_from("<HHB", h)
            size = 2 * A + self._pad(n)
            if h[5] != crc8(h[:5]) or pos + size > self.ss:
                pos = self.ss
                break
            if self.area.read(base + pos + A + self._pad(n), A) == bytes([COMMIT]) * A:
                if flags & F_DEL:
                    self.index.pop(key, None)
                elif key not in self.index and len(self.index) == MAX_LIVE:
                    raise NoSpace("more live keys than the store holds")
                else:
                    self.index[key] = (n, pos + A)
            pos += size
        self.wpos = pos

    def set(self, key: int, data: bytes) -> None:
        need = 2 * self.A + self._pad(len(data))
        if need > self.ss - self.A:
            raise InvalidArgument(f"key {key} / {len(data)} bytes")
        if key not in self.index and len(self.index) == MAX_LIVE:
            raise NoSpace(f"key {key}: {MAX_LIVE} live keys")
        if self.wpos + need > self.ss:
            self._compact()
            if self.wpos + need > self.ss:
                raise NoSpace(f"key {key}: full")
        self._append(key, bytes(data), 0)

    def delete(self, key: int) -> None:
        if key not in self.index:
            raise NotFound(f"key {key}")
        if self.wpos + 2 * self.A > self.ss:
            self._compact()
            if key not in self.index:
                return
            if self.wpos + 2 * self.A > self.ss:
                raise NoSpace(f"key {key}: full")
        self._append(key, b"", F_DEL)

    def items(self):
        base = self.active * self.ss
        for k in sorted(self.index):
            n, off = self.index[k]
            yield k, self.area.read(base + off, n) if n else b""


@dataclass(frozen=True)
class LogTwinTarget(NVSTarget):
    """The NVS target's workload and invariants over the Python log store (what the C log store
    behind the nvs_* API must equal byte for byte)."""

    kind = "logtwin"

    def mount(self, area):
        ss = self.sector_size or self.geometry.layout[0][1]
        store = LogStore(area, ss, self.sector_count or self.geometry.size // ss)
        store.mount()
        return store

    def observe(self, store) -> dict:
        return dict(store.items())

    def kv_set(self, store, key, value) -> None:
        store.set(key, value)

    def kv_delete(self, store, key) -> None:
        try:
            store.delete(key)
        except NotFound:
            pass  # nvs_delete of a missing id returns 0
