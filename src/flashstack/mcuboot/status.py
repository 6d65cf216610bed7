"""The swap status area, interrupted swaps, and what the next boot does.

Mirrors mcu-tools/mcuboot ``swap_move.c`` / ``swap_scratch.c`` / ``swap_offset.c``
(``swap_status_source``, ``swap_read_status_bytes``), ``swap_misc.c`` / ``bootutil_misc.c``
(``swap_read_status``, ``boot_find_status``, ``boot_read_swap_size``) and ``loader.c``
(``boot_prepare_image_for_update``, ``bootutil_max_image_size``). Rule IDs (MCB-…) are defined
in docs/mcuboot-trailer.md. Offsets are area-relative bytes. Nothing here writes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ..errors import InvalidArgument
from .image import image_problems, parse_image, read_version
from .trailer import (
    BootConfig,
    Flag,
    Magic,
    SwapState,
    SwapType,
    area_layout,
    read_swap_state,
)
from .trailer import swap_type as trailer_swap_type

__all__ = [
    "BootPrediction",
    "BootStatus",
    "incoming_image_offset",
    "max_image_size",
    "predict_boot",
    "read_boot_status",
    "secondary_image_offset",
    "status_source",
]


@dataclass
class BootStatus:
    """Progress of a swap as bootutil reads it (MCB-STAT-3). ``(op, idx, state)`` is the next
    step; ``status_area`` and ``swap_size`` (bytes) are None unless ``interrupted``."""

    source: str
    interrupted: bool
    op: str | None
    idx: int
    state: int
    swap_type: int
    status_area: str | None = None
    swap_size: int | None = None
    inconsistent: bool = False

    def to_json(self) -> dict:
        return {"source": self.source, "interrupted": self.interrupted, "op": self.op, "idx": self.idx,
                "state": self.state, "swap_type": self.swap_type, "status_area": self.status_area,
                "swap_size": self.swap_size, "inconsistent": self.inconsistent}


@dataclass
class BootPrediction:
    """What the next boot does (MCB-BOOT-1): ``action`` none/swap/resume/fail/panic, the swap
    type it performs, ``runs`` whose current image will run ("primary"/"secondary", None when
    nothing boots), that image's ``version`` and ``notes`` for people."""

    action: str
    swap_type: int
    runs: str | None
    version: str | None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        try:
            name = SwapType(self.swap_type).name.lower()
        except ValueError:
            name = str(self.swap_type)
        return {"action": self.action, "swap_type": name, "runs": self.runs, "version": self.version,
                "notes": list(self.notes)}


def _reset(cfg: BootConfig, source: str, swap_type: int = 1) -> BootStatus:
    op = {"swap-move": "move", "swap-offset": "swap"}.get(cfg.mode)
    return BootStatus(source=source, interrupted=False, op=op, idx=1, state=1, swap_type=swap_type)


def status_source(p: SwapState, s: SwapState, scratch: SwapState | None, *, cfg: BootConfig) -> str:
    """``swap_status_source``: "none", "primary" or "scratch" (MCB-STAT-2)."""
    if cfg.mode != "swap-scratch":
        ok = p.magic is Magic.GOOD and p.copy_done is Flag.UNSET and s.magic is not Magic.GOOD
        return "primary" if ok else "none"
    sc_good = scratch is not None and scratch.magic is Magic.GOOD
    if p.magic is Magic.GOOD and not sc_good:
        if p.copy_done is Flag.SET:
            return "none"
        if p.copy_done is Flag.UNSET:
            return "primary"
    if sc_good:
        assert scratch is not None
        return "scratch" if scratch.image_num == cfg.image_index else "none"
    if p.magic is Magic.UNSET and p.copy_done is Flag.UNSET:
        return "primary"
    return "none"


def _written(area, off: int, count: int) -> list[bool]:
    """Which of ``count`` status entries at ``off`` are written (first byte not erased, MCB-STAT-1)."""
    w = area.align
    raw = area.read(off, count * w)
    return [raw[i * w] != area.erased_val for i in range(count)]


def _decode(written: list[bool], cfg: BootConfig) -> tuple[str | None, int, int, bool] | None:
    """(op, idx, state, inconsistent) from the entries, None for the reset state (MCB-STAT-3)."""
    if cfg.mode == "swap-scratch":
        if True not in written:
            return None
        a = written.index(True)
        b = next((i for i in range(a + 1, len(written)) if not written[i]), len(written))
        return None, b // 3 + 1, b % 3 + 1, any(written[b:])
    f = max((i + 1 for i, x in enumerate(written) if x), default=0)
    if f == 0:
        return None
    if cfg.mode == "swap-offset":
        return "swap", f // 2 + 1, f % 2 + 1, False
    if f < cfg.max_img_sectors:
        return "move", f + 1, 1, False
    m = f - cfg.max_img_sectors
    return "swap", m // 2 + 1, m % 2 + 1, False


def read_boot_status(primary, secondary, scratch=None, *, cfg: BootConfig) -> BootStatus:
    """``swap_read_status``: where the progress is and what it says (MCB-STAT-2, MCB-STAT-3).
    EINVAL for swap-scratch without a scratch area; area read errors as raised."""
    if cfg.mode == "swap-scratch" and scratch is None:
        raise InvalidArgument("swap-scratch status needs the scratch area")
    states = {"primary": read_swap_state(primary, cfg=cfg), "secondary": read_swap_state(secondary, cfg=cfg)}
    if cfg.mode == "swap-scratch":
        states["scratch"] = read_swap_state(scratch, cfg=cfg)
    source = status_source(states["primary"], states["secondary"], states.get("scratch"), cfg=cfg)
    if source == "none":
        return _reset(cfg, "none")
    area = primary if source == "primary" else scratch
    lay = area_layout(area, cfg, scratch=source == "scratch")
    info = area.read(lay.swap_info, 1)[0]
    st = 1 if info == area.erased_val else info & 0xF
    decoded = _decode(_written(area, lay.status, lay.status_entries), cfg)
    if decoded is None:
        return _reset(cfg, source, st)
    op, idx, state, bad = decoded
    where = next((n for n in (("scratch", "primary") if cfg.mode == "swap-scratch" else ("primary",))
                  if states[n].magic is Magic.GOOD), "primary")
    size_area = primary if where == "primary" else scratch
    size_lay = area_layout(size_area, cfg, scratch=where == "scratch")
    size = struct.unpack("<I", size_area.read(size_lay.swap_size, 4))[0]
    return BootStatus(source=source, interrupted=True, op=op, idx=idx, state=state, swap_type=st,
                      status_area=where, swap_size=size, inconsistent=bad)


def _uniform(area) -> tuple[int, int]:
    """(sector size, sector count) of an area with uniform sectors; EINVAL otherwise."""
    sizes = {s.fs_size for s in area.sectors()}
    if len(sizes) != 1:
        raise InvalidArgument(f"partition {area.name}: MCUboot swap-move/offset need uniform sectors")
    return sizes.pop(), len(area.sectors())


def max_image_size(primary, secondary, scratch=None, *, cfg: BootConfig) -> int:
    """``bootutil_max_image_size``: the largest image, header and TLVs included, the mode can
    swap (MCB-SIZE-1), in bytes. EINVAL for layouts the mode cannot use."""
    lay = area_layout(primary, cfg)
    if cfg.mode == "swap-scratch":
        if scratch is None:
            raise InvalidArgument("swap-scratch needs the scratch area")
        sec = next(s for s in reversed(primary.sectors()) if s.fs_off <= lay.status)
        in_first = sec.fs_off + sec.fs_size - lay.status
        scratch_trailer = area_layout(scratch, cfg, scratch=True).trailer_size
        return lay.status - max(0, scratch_trailer - in_first)
    s, n_p = _uniform(primary)
    s2, n_s = _uniform(secondary)
    if s != s2:
        raise InvalidArgument(f"partitions {primary.name} and {secondary.name}: sector sizes differ ({s}, {s2})")
    t = -(-lay.trailer_size // s) * s
    spare_p, spare_s = (s, 0) if cfg.mode == "swap-move" else (0, s)
    return min(n_p * s - t - spare_p, n_s * s - t - spare_s)


def _sector_size(area) -> int:
    return area.sectors()[0].fs_size


def secondary_image_offset(cfg: BootConfig, swap: int, secondary) -> int:
    """Where the secondary's image starts for a swap of type ``swap`` (MCB-BOOT-3): the second
    sector in swap-offset test/perm requests, else 0."""
    if cfg.mode == "swap-offset" and swap in (SwapType.TEST, SwapType.PERM):
        return _sector_size(secondary)
    return 0


def incoming_image_offset(status: BootStatus, primary, secondary, scratch=None, *,
                          cfg: BootConfig) -> tuple[str, int]:
    """(area name, offset) of the incoming image's header while ``status`` is resumed (MCB-BOOT-4)."""
    step = (status.idx, status.state)
    size = status.swap_size or 0
    if cfg.mode == "swap-move":
        return ("secondary", 0) if status.op == "move" or step == (1, 1) else ("primary", 0)
    if cfg.mode == "swap-offset":
        s = _sector_size(secondary)
        if status.swap_type == SwapType.REVERT:
            return ("secondary", 0) if step <= (-(-size // s) + 1, 2) else ("primary", 0)
        return ("secondary", s) if step <= (1, 2) else ("primary", 0)
    regions = _scratch_regions(primary, scratch, size)
    if status.idx - 1 >= regions:
        return "primary", 0
    if status.idx - 1 == regions - 1 and status.state >= 2:
        return "scratch", 0
    return "secondary", 0


def _scratch_regions(primary, scratch, swap_size: int) -> int:
    """How many region operations swap-scratch needs for ``swap_size`` bytes (``boot_copy_sz``)."""
    sectors = primary.sectors()
    total, last = 0, 0
    for last, sec in enumerate(sectors):  # noqa: B007 - the index where the loop stops is the result
        total += sec.fs_size
        if total >= swap_size:
            break
    regions, i = 0, last
    while i >= 0:
        room, j = scratch.size, i
        while j >= 0 and sectors[j].fs_size <= room:
            room -= sectors[j].fs_size
            j -= 1
        i = min(j, i - 1)
        regions += 1
    return regions


def _valid(area, off: int, limit: int | None) -> tuple[bool, str | None, list[str]]:
    data = area.read(off, area.size - off)
    img = parse_image(data)
    problems = image_problems(img, area.size - off, limit)
    return not problems, img.version if img else None, problems


def predict_boot(primary, secondary, scratch=None, *, cfg: BootConfig) -> BootPrediction:
    """What the next boot of the pair does (MCB-BOOT-1..5), as bootutil's boot flow decides it.
    Signatures are not checked (noted). Never writes."""
    status = read_boot_status(primary, secondary, scratch, cfg=cfg)
    notes = ["signature not verified"]
    try:
        limit: int | None = max_image_size(primary, secondary, scratch, cfg=cfg)
    except InvalidArgument as exc:
        limit = None
        notes.append(f"slots not compatible: {exc.strerror}")
    if status.interrupted:
        name, off = incoming_image_offset(status, primary, secondary, scratch, cfg=cfg)
        area = {"primary": primary, "secondary": secondary, "scratch": scratch}[name]
        version = read_version(area.read(off, min(32, area.size - off)))
        if status.inconsistent:
            notes.append("status inconsistent: bootloader resumes from a wrong step, result unpredictable")
        return BootPrediction("resume", status.swap_type, "secondary", version, notes)
    if limit is not None and status.source != "none" and status.swap_type != SwapType.NONE:
        return _stored_request(status.swap_type, primary, secondary, limit, cfg, notes)
    if limit is not None:
        p = read_swap_state(primary, cfg=cfg)
        requested = trailer_swap_type(p, read_swap_state(secondary, cfg=cfg), cfg=cfg)
        if requested != SwapType.NONE:
            ok, version, problems = _valid(secondary, secondary_image_offset(cfg, requested, secondary), limit)
            if ok:
                if requested == SwapType.TEST:
                    notes.append("reverts at the following boot unless confirmed")
                return BootPrediction("swap", requested, "secondary", version, notes)
            notes.append(f"requested {requested.name.lower()} swap refused, secondary erased: {'; '.join(problems)}")
    return _boot_primary("none", SwapType.NONE, primary, notes)


def _stored_request(st: int, primary, secondary, limit: int, cfg: BootConfig, notes: list[str]) -> BootPrediction:
    """A swap request in the status trailer without progress (MCB-BOOT-2)."""
    ok, version, problems = _valid(secondary, secondary_image_offset(cfg, st, secondary), limit)
    if ok and st in (SwapType.TEST, SwapType.PERM, SwapType.REVERT):
        return BootPrediction("swap", st, "secondary", version, notes)
    if ok and st != SwapType.FAIL:
        notes.append(f"swap_info type {st} in the primary status trailer is no swap type")
        return BootPrediction("panic", SwapType.PANIC, None, None, notes)
    if not ok:
        notes.append(f"stored swap request, secondary not valid: {'; '.join(problems)}")
    return _boot_primary("fail", SwapType.FAIL, primary, notes)


def _boot_primary(action: str, st: int, primary, notes: list[str]) -> BootPrediction:
    ok, version, problems = _valid(primary, 0, None)
    if not ok:
        notes.append(f"primary image not bootable: {'; '.join(problems)}")
        return BootPrediction(action, st, None, None, notes)
    return BootPrediction(action, st, "primary", version, notes)
