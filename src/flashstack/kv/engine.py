"""The KV engine: flash primitives, block traversal, mount recovery, space finding and
garbage collection of the AliOS-Things KV (docs/alios-kv.md §5-§9, §11, §12).

Upstream: AliOS-Things ``components/kv/src/kv.c`` @8690e33f ("version A"): ``kv_init``,
``kv_block_format``, ``kv_state_set``, ``__item_recovery_cb``, ``kv_calc_position``,
``__item_gc_cb``, ``kv_gc_task``. Every program and erase is one storage call, in the
reference's order (KV-4, KV-6). Positions are bytes relative to the start of the KV area.

Power loss below byte granularity **[fs]**. The reference's recovery assumes that a 1-byte state
program is atomic and that a torn record leaves erased bytes behind its kept prefix; NOR flash cut
mid-program can leave any subset of the bits it was clearing, and a cut erase sets only some of the
bits it was setting. The first three readings below concern states that clean cuts and
prefix-torn writes never produce (cut erases are not in the reference vectors either), so no
reference vector changes; the fourth departs from the reference on purpose, like §14 item 15:

* Torn block-state byte (:func:`flashstack.kv.format.read_block_state`). The store programs a
  block state in four ways: the format header ``FF -> EE`` (after an erase), ``EE -> CC``
  (GC's final ``set_block_state(d, USED)``, the block scan taking a CLEAN block, a fresh store's
  block 0), ``CC -> 44`` (DIRTY marking) and ``EE -> 44`` (mount's unclean marking). A byte
  strictly between the two ends of one of them, under magic ``K``, is read as:

  - between USED and DIRTY (``4C``, ``C4``) or between CLEAN and DIRTY (``46 4E 64 66 6C 6E C6
    E4 E6``, plus the two below): **DIRTY**, and mount programs ``44`` at once (it only clears
    bits). Safe because DIRTY never drops a record: GC copies every NORMAL record before it
    reclaims the block. A torn ``EE -> 44`` may also stop at ``CC``, a legal USED block whose
    records are kept just the same.
  - between CLEAN and USED (``EC``, ``CE``): **CLEAN**, i.e. the KV-11 path. Holding data, it is
    a GC destination whose USED program was cut after the victim was formatted (or a torn
    unclean marking), so a CLEAN block exists and mount marks it DIRTY (``44`` heals the byte)
    and keeps every copy, exactly as for the clean cut before that program. Empty, it is a
    fresh store's block 0 or a block the scan had just taken: mount completes the program
    (``CC``); the block is what the uncut program would have left.
  - between ``FF`` and CLEAN (``FE``, ``EF``) and every other byte: invalid, formatted as the
    reference does; such a block was just erased by the format being cut and holds nothing.

  A heal that is itself cut leaves a byte between the reading and the old byte, which reads the
  same way again, so recovery stays idempotent.
* Partly erased block. A cut erase sets a random subset of the block's 0 bits, header included.
  If magic and state happened to survive (about 3 in 1024 cut erases), the GC victim would read
  as a valid block of garbage; with no CLEAN block left, mount would then format the unclean GC
  destination holding the only good copies. The reserved header bytes give the erase away: the
  format programs ``00 00`` and a prefix-torn header program leaves ``00 FF`` or ``FF FF``, while
  a cut erase leaves any other pair with probability 1 - 3/65536. Such a header is invalid,
  whatever its state byte, and the block is formatted: every erase the store issues is of a
  block whose live records already exist elsewhere (GC victim after its copies, or a block mount
  formats anyway), so formatting it again loses nothing.
* False end of data: a record torn at bit level can hold an all-0xFF "header" among its
  programmed bytes, where the traversal stops. Mount compares the rest of the block with erased
  bytes (one compare per block); if anything is programmed there, the block is full (``space``
  = HDR, too small for any record) and DIRTY-marked, so no record is ever AND-ed over those
  bytes and GC reclaims the block. With an erased rest, nothing changes.
* A NORMAL record whose key holds a 0xFF byte is torn (spec §14 item 15, extended from
  all-0xFF keys): set refuses such keys, so only the erased tail of a torn write looks like one.
* Known limit, not fixed (a torn value whose CRC-8 matches by chance): see :mod:`flashstack.kv`.
"""

from __future__ import annotations

from typing import Callable

from ..errors import DeviceIOError, FlashError, NoSpace, PowerLoss
from ..flash_map.storage import Storage
from . import format as fmt
from ._bulk import BlockWalk, merge_walks, paused_gc, walk_block
from .config import KVConfig, validate_storage

__all__ = ["KVEngine"]

_CLEAN, _USED, _DIRTY = fmt.BLK_STATE_CLEAN, fmt.BLK_STATE_USED, fmt.BLK_STATE_DIRTY
NO_SPACE = -1
_B00 = b"\x00"
_CRC = fmt._CRC8_TABLE


class KVEngine:
    """RAM state (§5) and the flash algorithms of the store; :class:`~flashstack.kv.KVStore`
    adds the API. Construction validates the geometry (KV-1, EINVAL)."""

    def __init__(self, storage: Storage, config: KVConfig | None = None, *, secure_key: Callable | None = None,
                 secure_iv: Callable | None = None):
        self.config = config = config or KVConfig()
        config.validate()
        validate_storage(config, storage)
        self.storage = storage
        self.secure_key, self.secure_iv = secure_key, secure_iv
        self.B = config.block_size
        self.N = config.blocks
        self.total = config.total_size
        self.HDR = config.header_size
        self._hdr = fmt.header_struct(config.pos32)
        self._amask = config.align - 1
        self.item_max_len = config.item_max_len
        self._erased = b"\xff" * self.B
        self.mounted = False
        self.failed = False
        self._reason = ""
        self._win: bytearray | None = None
        self._win_off = 0
        self._reset_ram()

    def _reset_ram(self) -> None:
        self.state: list[int | None] = [None] * self.N
        self.space: list[int] = [0] * self.N
        self.clean = 0
        self.write_pos = 0
        self.gc_pending = False
        self.index: dict[bytes, list[tuple[int, int]]] = {}
        self._walked: list[BlockWalk] = []  # bulk walks of mount not yet in the index

    @property
    def reason(self) -> str:
        """Why the store issues its current flash operations (``"gc"``, ``"recover"``,
        ``"set KEY"``, ...): the note an operation recorder keeps with each one."""
        return self._reason

    # ------------------------------------------------------------------ primitives
    def _read(self, off: int, n: int) -> bytes:
        win = self._win
        if win is not None and self._win_off <= off and off + n <= self._win_off + len(win):
            o = off - self._win_off
            return bytes(win[o:o + n])
        try:
            return self.storage.read(off, n)
        except FlashError as e:
            raise DeviceIOError(f"KV read at {off:#x} len {n}: {e.strerror}") from e

    def _fail(self, what: str, e: Exception):
        """A program or erase failed: the store is failed (KV-30); a power cut passes through."""
        self.failed = True
        if isinstance(e, PowerLoss):
            raise e
        raise DeviceIOError(f"KV {what}: {getattr(e, 'strerror', None) or e}") from e

    def _load_window(self, first: int, end: int) -> None:
        """Cache blocks ``[first, end)`` for a traversal: one read per partition behind the
        storage (a span changes partition at a block boundary). Storage errors become EIO (KV-30)."""
        B = self.B
        lo, hi = first * B, end * B
        segments = getattr(self.storage, "segments", None)
        cuts = sorted({lo, hi} | ({s for s, _, _ in segments() if lo < s < hi} if segments else set()))
        try:
            win = bytearray(self.storage.read(lo, hi - lo)) if len(cuts) == 2 else bytearray()
            if len(cuts) > 2:
                for a, b in zip(cuts, cuts[1:]):
                    win += self.storage.read(a, b - a)
        except FlashError as e:
            raise DeviceIOError(f"KV read of blocks {first}..{end - 1}: {e.strerror}") from e
        self._win = win
        self._win_off = lo

    def _refresh_window(self, win: bytearray, off: int, n: int) -> None:
        w0 = self._win_off
        s, e = max(off, w0), min(off + n, w0 + len(win))
        if s < e:
            win[s - w0:e - w0] = self.storage.read(s, e - s)

    def _prog(self, off: int, data: bytes) -> None:
        try:
            self.storage.write(off, data)
        except (OSError, PowerLoss) as e:  # every storage failure becomes EIO (KV-30)
            self._fail(f"program at {off:#x} len {len(data)}", e)
        if self._win is not None:
            self._refresh_window(self._win, off, len(data))

    def _format(self, b: int) -> None:
        """format(b): one erase of the block, one program of the CLEAN header (KV-4)."""
        off = b * self.B
        try:
            self.storage.erase(off, self.B)
        except (OSError, PowerLoss) as e:
            self._fail(f"erase of block {b} at {off:#x}", e)
        if self._win is not None:
            self._refresh_window(self._win, off, self.B)
        self._prog(off, fmt.BLOCK_HEADER_CLEAN)
        self.state[b] = _CLEAN
        self.space[b] = self.B - fmt.BLK_HDR_SIZE
        self.clean += 1

    def _set_block_state(self, b: int, s: int) -> None:
        self._prog(b * self.B + fmt.STATE_OFFSET, bytes((s,)))
        self.state[b] = s

    def _dirty_mark(self, b: int) -> None:
        if self.state[b] == _USED:
            self._set_block_state(b, _DIRTY)

    def _delete_at(self, pos: int) -> None:
        """Delete record at ``pos``: state byte 00, then DIRTY marking of its block (KV-5)."""
        self._prog(pos + fmt.STATE_OFFSET, _B00)
        self._dirty_mark(pos // self.B)

    # ------------------------------------------------------------------ traversal (§7)
    def _traverse(self, b: int, visit) -> None:
        """Walk block ``b`` (§7) over the window loaded by the caller (mount: the whole area;
        GC: the block and the next one). ``visit(pos, klen, vlen, crc, origin, rec_len)`` returns
        True to end the walk early."""
        B, HDR, total = self.B, self.HDR, self.total
        mk, mv = self.config.max_key_len, self.config.max_val_len
        amask = self._amask
        unpack = self._hdr.unpack_from
        state = self.state
        win, w0 = self._win, self._win_off
        assert win is not None, "walks run inside a loaded window"
        end = b * B + B
        pos = b * B + fmt.BLK_HDR_SIZE
        while True:
            magic, st, crc, kl, vl, origin = unpack(win, pos - w0)
            if magic != 0x49:  # ITEM_MAGIC
                if magic == 0xFF and st == 0xFF:
                    if win[pos - w0:end - w0] != self._erased[:end - pos]:
                        self._false_end(b, pos)  # [fs] programmed bytes behind an FF FF "header"
                        return
                    break
                vl = 0xFFFF
            if vl > mv or kl > mk or not vl or not kl:
                pos += HDR
                if state[b] == _USED:
                    self._set_block_state(b, _DIRTY)
            else:
                if st == 0xEE:  # ITEM_STATE_NORMAL
                    if pos + HDR + kl + vl > total:
                        return  # [fs] KV-7: record runs past the KV area; space[b] unchanged
                    if pos + HDR + kl + vl > end:
                        return  # [fs] runs past its block (damaged; records never cross blocks):
                        # not served, since formatting the next block would change its bytes
                    if visit(pos, kl, vl, crc, origin, (HDR + kl + vl + amask) & ~amask):
                        return
                elif state[b] == _USED:
                    self._set_block_state(b, _DIRTY)
                pos += (HDR + kl + vl + amask) & ~amask
            if pos + HDR >= end:
                break
        self.space[b] = end - pos if end > pos else HDR

    def _false_end(self, b: int, pos: int) -> None:
        """[fs] The walk of block ``b`` met an all-0xFF header at ``pos`` but the rest of the block
        is not erased (a record torn at bit level): the block is full (``space`` = HDR, the
        reference's value for a walk that ran to the end, too small for any record) and DIRTY, so
        nothing is ever programmed over those bytes and GC reclaims the block."""
        self.space[b] = self.HDR
        if self.state[b] == _USED:
            self._reason = f"torn record: programmed bytes after the end of data at {pos:#x}"
            self._set_block_state(b, _DIRTY)

    # ------------------------------------------------------------------ mount (§8)
    def mount(self, *, run_gc: bool = True) -> None:
        """``kv_init``: recover the RAM state from flash, repair, run the pending GC (§8).

        Does nothing when already mounted (KV-12). ``run_gc=False`` (analysis only) leaves a GC
        that mount would run pending in ``gc_pending``. Errors: EIO (storage), PowerLoss.
        """
        if self.mounted and not self.failed:
            return
        self._reset_ram()
        self.failed = False
        self._load_window(0, self.N)
        try:
            with paused_gc():
                self._mount_blocks()
        finally:
            self._win = None
            self._walked = []
        self.mounted = True
        if self.gc_pending and run_gc:
            self._reason = "gc"
            self._gc()

    def _mount_blocks(self) -> None:
        B, N = self.B, self.N
        unclean = []
        for b in range(N):
            h = self._read(b * B, fmt.BLK_HDR_SIZE)
            st, torn = fmt.read_block_state(h)
            if st is None:
                self._reason = "invalid block header"
                self._format(b)
                continue
            if torn and st == _DIRTY:  # [fs] heal a torn state byte: 44 only clears bits
                self._reason = f"torn block state {h[1]:#04x} read as DIRTY"
                self._set_block_state(b, _DIRTY)
            self.state[b] = st
            self._reason = "recover"
            self._walk_recover(b)
            if st == _CLEAN:
                if self.space[b] != B - fmt.BLK_HDR_SIZE:
                    unclean.append(b)  # a torn CLEAN->USED byte included: 44 heals it
                elif torn:  # [fs] empty: finish the cut CLEAN->USED program
                    self._reason = f"torn block state {h[1]:#04x} of an empty block read as USED"
                    self._set_block_state(b, _USED)
                else:
                    self.clean += 1
        self.index = merge_walks(self.index, self._walked)
        for b in reversed(unclean):
            if self.clean >= 1:
                self._reason = "unclean CLEAN block kept"
                self._set_block_state(b, _DIRTY)
            else:
                self._reason = "unclean CLEAN block formatted"
                self._drop_index(b)
                self._format(b)
        if self.clean == 0:
            self._reason = "no CLEAN block: block 0 formatted"
            self._drop_index(0)
            self._format(0)
        if self.clean == N:
            self.write_pos = fmt.BLK_HDR_SIZE
            self._reason = "fresh store"
            self._set_block_state(0, _USED)
            self.clean -= 1
        else:
            for i in range(N):
                if self.state[i] in (_USED, _DIRTY) and self.state[(i + 1) % N] == _CLEAN:
                    self.write_pos = i * B + B - self.space[i]
                    break
        if self._space_at(self.write_pos) < self.item_max_len and self.clean < 2:
            self.gc_pending = True

    def _walk_recover(self, b: int) -> None:
        """Walk block ``b`` with ``recover`` (§8): in bulk when that walk issues no flash
        operation (:func:`flashstack.kv._bulk.walk_block`), else record by record."""
        win = self._win
        assert win is not None and self._win_off == 0, "mount loads the whole area into the window"
        cfg = self.config
        done = walk_block(win, b, self.B, self.HDR, self.total, cfg.max_key_len, cfg.max_val_len,
                          cfg.align, self.state[b] == _USED, self._hdr)
        if done is None:
            self.index = merge_walks(self.index, self._walked)  # recover reads and edits it
            self._traverse(b, self._recover)
            return
        self.space[b] = done.space
        self._walked.append(done)

    def _space_at(self, pos: int) -> int:
        b = pos // self.B
        return self.space[b] if b < self.N else 0

    def _drop_index(self, b: int) -> None:
        """Forget the index entries of block ``b`` (mount formats it)."""
        lo, hi = b * self.B, (b + 1) * self.B
        for k in list(self.index):
            kept = [c for c in self.index[k] if not lo <= c[0] < hi]
            if kept:
                self.index[k] = kept
            else:
                del self.index[k]

    def _recover(self, pos, kl, vl, crc, origin, n) -> bool:
        """Mount's visitor (§8 ``recover``); runs with the whole KV area in the window."""
        HDR, win, w0 = self.HDR, self._win, self._win_off
        assert win is not None, "mount loads the whole area into the window"
        d = pos + HDR - w0
        data = bytes(win[d:d + kl + vl])
        c = 0
        for x in data:
            c = _CRC[c ^ x]
        key = data[:kl]
        if c != crc or 0xFF in key:
            # torn record; [fs] §14.15 extended: set refuses keys holding 0xFF, so such a key is the
            # erased tail of a prefix-torn write whose CRC-8 matched by chance
            self._reason = "torn record (CRC mismatch)" if c != crc else "torn record (key holds 0xFF)"
            self._delete_at(pos)
            return False
        # blocks are walked in order, records in address order: appending keeps search order
        lst = self.index.get(key)
        if lst is None:
            self.index[key] = [(pos, vl)]
        else:
            lst.append((pos, vl))
        if origin != 0 and origin != pos and origin + HDR + kl <= self.total:
            om, ost, _, okl, ovl, _ = self._hdr.unpack_from(win, origin - w0)
            o = origin + HDR - w0
            if om == fmt.ITEM_MAGIC and ost == fmt.ITEM_STATE_NORMAL and okl == kl and win[o:o + kl] == key:
                # [fs] §14.14: identical value = a GC copy, not an interrupted update
                same = ovl == vl and origin + HDR + kl + vl <= self.total and win[o + kl:o + kl + vl] == data[kl:]
                if not same:
                    self._reason = f"interrupted update (newer record at {pos:#x})"
                    self._delete_at(origin)
                    lst = self.index[key]
                    lst[:] = [c for c in lst if c[0] != origin]
        return False

    def unmount(self) -> None:
        """``kv_deinit``: drop the RAM state (no flash operation)."""
        self.mounted = False
        self.failed = False
        self._reset_ram()

    # ------------------------------------------------------------------ space (§9) and store
    def _calc_position(self, n: int) -> int:
        B, N = self.B, self.N
        cur = self.write_pos // B
        if cur < N and self.space[cur] > n:
            if self.space[cur] - n < self.item_max_len and self.clean <= 1:
                self.gc_pending = True
            return self.write_pos
        if N >= 3:
            cur = min(cur, N - 1)  # a write position at the very end of the area
            for j in range(1, N):
                i = (cur + j) % N
                if self.space[i] > n:
                    if self.state[i] == _CLEAN and self.clean <= 1:
                        continue  # [fs] KV-13: never take the last CLEAN block
                    self.write_pos = i * B + B - self.space[i]
                    if self.state[i] == _CLEAN:
                        self._set_block_state(i, _USED)
                        self.clean -= 1
                    return self.write_pos
        self.gc_pending = True
        return NO_SPACE

    def _store(self, rec: bytes) -> int:
        n = len(rec)
        p = self._calc_position(n)
        if p == NO_SPACE:
            return p
        self._prog(p, rec)
        self.write_pos = wp = p + n
        b = wp // self.B
        if b < self.N:
            self.space[b] -= n
        return p

    # ------------------------------------------------------------------ GC (§11)
    def _gc(self) -> None:
        """``kv_gc_task`` (§11): copy the live records of the first DIRTY block after the write
        block (the write block itself last) to the lowest CLEAN block, then format the victim."""
        self.gc_pending = False
        if self.clean == 0:
            return
        origin_pos = self.write_pos
        B, N = self.B, self.N
        d = self.state.index(_CLEAN)
        self.write_pos = d * B + fmt.BLK_HDR_SIZE
        ob = origin_pos // B
        for step in range(1, N + 1):  # each block once, the write block last
            i = (ob + step) % N
            if self.state[i] == _DIRTY:
                self._reason = f"gc: copy block {i} to block {d}"
                self._load_window(i, min(N, i + 2))
                try:
                    self._check_gc_fits(i, d)
                    self._traverse(i, self._gc_copy)
                finally:
                    self._win = None
                self._reason = f"gc: reclaim block {i}"
                self._format(i)
                self._set_block_state(d, _USED)
                self.clean -= 1
                return
        self.write_pos = origin_pos

    def _check_gc_fits(self, victim: int, d: int) -> None:
        """[fs] NoSpace before the first copy when the live records of ``victim`` would not fit
        the CLEAN block ``d`` (the walk of a DIRTY block writes nothing). Records never cross a
        block end, so only a damaged store can fail this; the reference would program past ``d``."""
        need = 0

        def count(pos, kl, vl, crc, origin, n) -> bool:
            nonlocal need
            need += n
            return False
        self._traverse(victim, count)
        room = (d + 1) * self.B - self.write_pos
        if need > room:
            raise NoSpace(f"KV garbage collection of block {victim}: {need} bytes of records do "
                          f"not fit the {room} bytes of block {d}; nothing written")

    def _gc_copy(self, pos, kl, vl, crc, origin, n) -> bool:
        rec = self._read(pos, n)
        dst = self.write_pos
        self._prog(dst, rec)
        self.write_pos = wp = dst + n
        b = wp // self.B
        if b < self.N:
            self.space[b] -= n
        key = rec[self.HDR:self.HDR + kl]
        lst = self.index.get(key)
        if lst:
            for j, (p, v) in enumerate(lst):
                if p == pos:
                    lst[j] = (dst, v)
                    if len(lst) > 1:
                        lst.sort()
                    break
        return False

    def _finish(self) -> None:
        """KV-25: the GC made pending by this call runs before it returns."""
        if self.gc_pending:
            self._reason = "gc"
            self._gc()

