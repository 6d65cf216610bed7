"""A tiny crash-safe append-log key-value store on a FlashArea, and a planted-defect variant.

Written for the torture tests only: it is the "storage code a user writes against the device
API" that the campaign engine must prove correct (``SAFE``) or catch (``DEFECTIVE``).

Layout: two equal sectors. A sector starts with an 8-byte header ``'LG' seq:u32 crc16:u16``
written LAST when the sector is compacted into, so the sector with the highest valid ``seq``
is the live one. Records follow: ``klen:u8 vlen:u16 flags:u8 key value crc32:u32`` (flags 1 =
tombstone); a 0xFF ``klen`` ends the log. Mount replays the live sector; a torn or invalid
record, or programmed bytes after the end of the log, make mount compact into the other sector.

The defect (``defect=True``): an update first appends a tombstone for the key, then the new
record, so a power cut between the two loses the key.
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass, field

from flashstack.errors import InvalidArgument, NoSpace, NotFound
from flashstack.torture import DictSpace, DictTarget, PartitionGeometry, dict_workload

HDR = 8
REC = struct.Struct("<BHB")


def _crc16(data: bytes) -> int:
    return binascii.crc_hqx(data, 0xFFFF)


class LogKV:
    def __init__(self, area, defect: bool = False):
        self.area = area
        self.defect = defect
        self.sector = area.erase_pages()[0].size
        if area.size < 2 * self.sector:
            raise InvalidArgument("LogKV needs two sectors")
        self.live: dict[bytes, bytes] = {}
        self.active = 0
        self.seq = 0
        self.pos = HDR

    # --- mount -----------------------------------------------------------------------
    def mount(self) -> "LogKV":
        heads = [self._header(s) for s in (0, 1)]
        valid = [(seq, s) for s, seq in enumerate(heads) if seq is not None]
        if not valid:
            self._format(0, 1)
            return self
        self.seq, self.active = max(valid)
        dirty = self._replay()
        if dirty:
            self._compact()
        return self

    def _header(self, s: int):
        raw = self.area.read(s * self.sector, HDR)
        if raw[:2] != b"LG" or _crc16(raw[:6]) != struct.unpack_from("<H", raw, 6)[0]:
            return None
        return struct.unpack_from("<I", raw, 2)[0]

    def _format(self, s: int, seq: int) -> None:
        self.area.erase(s * self.sector, self.sector)
        self._write_header(s, seq)
        self.active, self.seq, self.pos, self.live = s, seq, HDR, {}

    def _write_header(self, s: int, seq: int) -> None:
        head = b"LG" + struct.pack("<I", seq)
        self.area.write(s * self.sector, head + struct.pack("<H", _crc16(head)))

    def _replay(self) -> bool:
        base, pos, live = self.active * self.sector, HDR, {}
        while pos + REC.size <= self.sector:
            klen, vlen, flags = REC.unpack(self.area.read(base + pos, REC.size))
            if klen == 0xFF:
                break
            end = pos + REC.size + klen + vlen + 4
            if klen == 0 or end > self.sector or flags not in (0, 1):
                self.live, self.pos = live, pos
                return True
            body = self.area.read(base + pos, end - pos)
            if binascii.crc32(body[:-4]) != struct.unpack_from("<I", body, len(body) - 4)[0]:
                self.live, self.pos = live, pos
                return True
            key = body[REC.size:REC.size + klen]
            if flags:
                live.pop(key, None)
            else:
                live[key] = body[REC.size + klen:-4]
            pos = end
        self.live, self.pos = live, pos
        rest = self.area.read(base + pos, self.sector - pos)
        return rest.count(0xFF) != len(rest)  # programmed bytes past the end: torn write

    def _compact(self) -> None:
        dst = 1 - self.active
        self.area.erase(dst * self.sector, self.sector)
        pos = HDR
        for key, value in self.live.items():
            rec = self._record(key, value, 0)
            self.area.write(dst * self.sector + pos, rec)
            pos += len(rec)
        self._write_header(dst, self.seq + 1)
        self.active, self.seq, self.pos = dst, self.seq + 1, pos

    # --- operations ------------------------------------------------------------------
    @staticmethod
    def _record(key: bytes, value: bytes, flags: int) -> bytes:
        body = REC.pack(len(key), len(value), flags) + key + value
        return body + struct.pack("<I", binascii.crc32(body))

    def _append(self, rec: bytes) -> None:
        if self.pos + len(rec) > self.sector:
            self._compact()
            if self.pos + len(rec) > self.sector:
                raise NoSpace(f"LogKV: no room for a {len(rec)}-byte record")
        self.area.write(self.active * self.sector + self.pos, rec)
        self.pos += len(rec)

    def set(self, key: bytes, value: bytes) -> None:
        if self.live.get(key) == value:
            return
        if self.defect and key in self.live:
            self._append(self._record(key, b"", 1))   # PLANTED DEFECT: old gone before new lands
            del self.live[key]
        self._append(self._record(key, value, 0))
        self.live[key] = value

    def delete(self, key: bytes) -> None:
        if key not in self.live:
            raise NotFound(f"LogKV: no key {key!r}")
        self._append(self._record(key, b"", 1))
        del self.live[key]

    def items(self) -> dict:
        return dict(self.live)


@dataclass(frozen=True)
class LogKVTarget(DictTarget):
    kind = "custom"
    defect: bool = False
    geometry: PartitionGeometry = field(default_factory=lambda: PartitionGeometry.uniform(8192, 4096))
    churn_size = 240

    def mount(self, area):
        return LogKV(area, self.defect).mount()

    def observe(self, store) -> dict:
        return {k.decode(): v for k, v in store.items().items()}

    def kv_set(self, store, key, value) -> None:
        store.set(key.encode(), bytes(value))

    def kv_delete(self, store, key) -> None:
        store.delete(key.encode())

    def workload(self, name, ops, seed):
        return dict_workload(name, ops, seed, DictSpace(lambda i: f"{'ab'[i % 2]}/k{i:02d}", 200,
                                                        ("a/", "b/")))

    def dump(self, area) -> str:
        s = LogKV(area)
        heads = [s._header(i) for i in (0, 1)]
        return f"LogKV sector headers (seq): {heads}"

    def cli_args(self) -> list:
        return ["custom", "--target", f"torture_logkv:{'DEFECTIVE' if self.defect else 'SAFE'}"]


@dataclass(frozen=True)
class UnpicklableLogKVTarget(LogKVTarget):
    """The safe store holding a lambda: its RAM checkpoints fall back to deep copies."""

    def mount(self, area):
        store = super().mount(area)
        store.hook = lambda: None
        return store

    def cli_args(self) -> list:
        return ["custom", "--target", "torture_logkv:UNPICKLABLE"]


SAFE = LogKVTarget()
DEFECTIVE = LogKVTarget(defect=True)
UNPICKLABLE = UnpicklableLogKVTarget(defect=True)
