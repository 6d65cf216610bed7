"""Read-only analysis of an AliOS-Things KV image (docs/alios-kv.md §16, KV-32).

:func:`scan` walks every block of the image as the traversal does (§7) without writing,
then runs the real mount algorithm (:meth:`KVStore.mount`) on an in-memory copy of the KV
area and records the program/erase operations it issues and why. The report lists blocks,
records (with status), duplicates, corrupt areas, the repairs mount would make and a verdict.
Offsets are positions relative to the start of the KV area.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..device import FlashOp
from . import format as fmt
from .config import KVConfig

__all__ = ["scan", "ScanReport", "BlockInfo", "RecordInfo"]


@dataclass
class RecordInfo:
    """One record found by the walk. ``status``: live, deleted, torn (CRC mismatch or torn
    header-only write: mount deletes it), superseded (older copy of an interrupted update),
    lost (its block is formatted by mount), duplicate (a further live copy of a key)."""

    pos: int
    block: int
    state: int
    key: str
    key_hex: str
    key_len: int
    val_len: int
    length: int
    crc: int
    crc_ok: bool
    origin: int
    value_preview: str
    status: str = "live"


@dataclass
class BlockInfo:
    index: int
    offset: int
    magic: int
    state: str
    state_byte: int
    records: int = 0
    free: int = 0
    live_bytes: int = 0
    garbage_bytes: int = 0
    state_after_mount: str = ""


@dataclass
class ScanReport:
    """Result of :func:`scan`; ``to_json()`` gives plain JSON-ready data."""

    config: dict
    blocks: list = field(default_factory=list)
    records: list = field(default_factory=list)
    corrupt: list = field(default_factory=list)      # {"pos", "length", "why"}
    duplicates: dict = field(default_factory=dict)   # key -> [positions]
    mount_ops: list = field(default_factory=list)    # {"op", "pos", "len", "data", "why"}
    write_pos: int = 0
    free_bytes: int = 0
    reclaimable_bytes: int = 0
    live_keys: int = 0
    live_bytes: int = 0
    gc_would_run: bool = False
    verdict: str = "ok"
    problems: list = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def _preview(value: bytes, n: int = 24) -> str:
    text = value[:n]
    more = "..." if len(value) > n else ""
    if all(32 <= c < 127 for c in text):
        return text.decode("ascii") + more
    return text.hex() + more


def _walk(image: bytes, cfg: KVConfig, b: int, report: ScanReport) -> list[RecordInfo]:
    """The §7 traversal of block ``b`` over ``image``, read-only."""
    B, HDR, total = cfg.block_size, cfg.header_size, cfg.total_size
    hdr = fmt.header_struct(cfg.pos32)
    end = b * B + B
    pos = b * B + fmt.BLK_HDR_SIZE
    out = []
    bad_start = None
    while True:
        magic, st, crc, kl, vl, origin = hdr.unpack_from(image, pos)
        if magic != fmt.ITEM_MAGIC:
            if magic == 0xFF and st == 0xFF:
                tail = image[pos:end]
                if tail.count(0xFF) != len(tail):
                    first = pos + next(i for i, x in enumerate(tail) if x != 0xFF)
                    report.corrupt.append({"pos": first, "length": end - first,
                                           "why": "non-erased bytes after the end of data (torn write): "
                                                  "records written here would be corrupted"})
                break
            vl = 0xFFFF
        if vl > cfg.max_val_len or kl > cfg.max_key_len or vl == 0 or kl == 0:
            if bad_start is None:
                bad_start = pos
                why = ("record exceeds the configured limits" if magic == fmt.ITEM_MAGIC and vl != 0xFFFF
                       and kl and vl else "invalid item header")
            pos += HDR
        else:
            if bad_start is not None:
                report.corrupt.append({"pos": bad_start, "length": pos - bad_start, "why": why})
                bad_start = None
            n = cfg.record_len(kl, vl)
            if pos + HDR + kl + vl > total:
                report.corrupt.append({"pos": pos, "length": total - pos, "why": "record runs past the KV area"})
                break
            key = bytes(image[pos + HDR:pos + HDR + kl])
            value = bytes(image[pos + HDR + kl:pos + HDR + kl + vl])
            ok = fmt.crc8(key + value) == crc
            out.append(RecordInfo(pos, b, st, key.decode("utf-8", "backslashreplace"), key.hex(), kl, vl, n,
                                  crc, ok, origin, _preview(value),
                                  "live" if st == fmt.ITEM_STATE_NORMAL else "deleted"))
            pos += n
        if not end > pos + HDR:
            break
    if bad_start is not None:
        report.corrupt.append({"pos": bad_start, "length": pos - bad_start, "why": why})
    return out


def scan(storage, config: KVConfig | None = None) -> ScanReport:
    """Analyse the KV image on ``storage`` (FlashArea, HAL view or span) without writing it.

    Raises InvalidArgument (EINVAL) for a configuration that does not fit the storage.
    """
    cfg = config or KVConfig()
    cfg.validate()
    B, N = cfg.block_size, cfg.blocks
    image = b"".join(storage.read(b * B, B) for b in range(N))
    report = ScanReport(config={"total_size": cfg.total_size, "block_size": B, "max_key_len": cfg.max_key_len,
                                "max_val_len": cfg.max_val_len, "align": cfg.align})
    valid = []
    for b in range(N):
        magic, state = image[b * B], image[b * B + 1]
        reading, torn = fmt.read_block_state(image[b * B:b * B + 4])
        if torn:
            name = "TORN"
        elif reading is not None:
            name = fmt.BLOCK_STATE_NAMES[reading]
        else:
            name = "ERASED" if image[b * B:b * B + 4] == b"\xff" * 4 else "INVALID"
        report.blocks.append(BlockInfo(b, b * B, magic, name, state))
        if torn:
            report.problems.append(
                f"block {b}: state byte {state:#04x} is a 1-byte state program cut at bit level; mount reads "
                f"it as {fmt.BLOCK_STATE_NAMES[reading]} and rewrites it (see state_after_mount)")
        if reading is not None:
            valid.append(b)
            recs = _walk(image, cfg, b, report)
            report.records.extend(recs)
            report.blocks[-1].records = len(recs)

    # run the real mount on a private copy and watch what it does
    from .store import KVStore, shadow_area
    # the shadow is at offset 0 of its device: device offsets are KV positions
    area, recorder = shadow_area(storage, cfg).recorded()
    shadow = KVStore(area, cfg)
    recorder.note = lambda: shadow.reason
    shadow.mount(run_gc=False)  # report the GC mount would run, without running it
    report.mount_ops = ops = [_op_dict(op) for op in recorder.ops]
    report.gc_would_run = shadow.gc_pending
    _classify(report, shadow, ops, cfg)
    st = shadow.stats()
    report.write_pos = shadow.write_pos
    report.free_bytes = st["free_bytes"]
    report.reclaimable_bytes = st["reclaimable_bytes"]
    report.live_keys = st["live_keys"]
    report.live_bytes = st["live_bytes"]
    for blk, info in zip(report.blocks, st["blocks"]):
        blk.free = info["free"]
        blk.live_bytes = info["live"]
        blk.garbage_bytes = info["dead"]
        blk.state_after_mount = info["state"]
    _verdict(report)
    return report


def _op_dict(op: FlashOp) -> dict:
    """A recorded mount operation in the report's form: ``op`` ``"P"`` (program) or ``"E"``
    (erase), ``pos``, ``len``, ``data`` (hex, None for an erase), ``why`` (the store's reason)."""
    write = op.kind == "write"
    return {"op": "P" if write else "E", "pos": op.offset, "len": op.length,
            "data": op.data.hex() if write and op.data is not None else None, "why": op.note}


def _classify(report: ScanReport, shadow, ops, cfg) -> None:
    B = cfg.block_size
    deleted_by_mount = {o["pos"] - 1: o["why"] for o in ops if o["op"] == "P" and o["len"] == 1
                        and o["data"] == "00"}
    formatted = {o["pos"] // B for o in ops if o["op"] == "E"}
    live_pos = {p for copies in shadow.index.values() for p, _ in copies}
    for r in report.records:
        if r.status != "live":
            continue
        if r.block in formatted:
            r.status = "lost"
        elif r.pos in deleted_by_mount:
            r.status = "superseded" if deleted_by_mount[r.pos].startswith("interrupted") else "torn"
        elif r.pos not in live_pos:
            r.status = "lost"
    for key, copies in shadow.index.items():
        if len(copies) > 1:
            report.duplicates[key.decode("utf-8", "backslashreplace")] = [p for p, _ in copies]
            for r in report.records:
                if r.pos in [p for p, _ in copies[1:]]:
                    r.status = "duplicate"


def _verdict(report: ScanReport) -> None:
    probs = report.problems
    if all(b.state == "ERASED" for b in report.blocks):
        report.verdict = "blank"
        probs.append("image is erased: mount formats every block")
        return
    bad_crc = [r for r in report.records if r.state == fmt.ITEM_STATE_NORMAL and not r.crc_ok]
    lost = [r for r in report.records if r.status == "lost"]
    for b in report.blocks:
        if b.state == "INVALID":
            probs.append(f"block {b.index}: invalid header (magic {b.magic:#04x}, state {b.state_byte:#04x}); "
                         "mount formats it")
    if bad_crc:
        probs.append(f"{len(bad_crc)} record(s) with CRC mismatch (torn writes): mount deletes them")
    if any(r.status == "superseded" for r in report.records):
        probs.append("interrupted update: mount deletes the older copy")
    if report.corrupt:
        probs.append(f"{len(report.corrupt)} corrupt area(s) skipped by the traversal")
    if report.duplicates:
        probs.append(f"{len(report.duplicates)} key(s) with more than one live copy")
    if lost:
        probs.append(f"{len(lost)} record(s) lost: their block is formatted by mount")
    if lost or any(b.state == "INVALID" for b in report.blocks):
        report.verdict = "data loss"
    elif report.mount_ops or probs:
        report.verdict = "recoverable"
    else:
        report.verdict = "ok"
