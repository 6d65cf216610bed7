"""MCUboot image pairs in an inspect report: each slot's image and trailer, the flags
``mcumgr image list`` would show, the swap the trailers request, an interrupted swap's
progress and what the next boot does (decoding lives in :mod:`flashstack.mcuboot`).

Pairs are found by Zephyr's partition labels (``slot0_partition`` / ``slot1_partition`` for
image 0, ``slot2_partition`` / ``slot3_partition`` for image 1, …, ``scratch_partition``) or
given explicitly. The bootloader's compile-time options are not on flash: each one is
resolved and reported with its source (docs/mcuboot-trailer.md MCB-CFG-1).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import InvalidArgument
from ..mcuboot import (
    MODES,
    BootConfig,
    SwapType,
    area_layout,
    detect_max_align,
    image_problems,
    max_image_size,
    parse_image,
    predict_boot,
    read_boot_status,
    read_swap_state,
    swap_type,
)

__all__ = ["PairOptions", "find_pairs", "mcuboot_pairs", "pair_report", "summary_line"]


@dataclass(frozen=True)
class PairOptions:
    """User choices for the MCUboot report: explicit ``pairs`` of partition names
    ``(primary, secondary[, scratch])``, ``mode``, ``max_img_sectors``, and ``key`` (a public
    key file to verify signatures with; needs the ``mcuboot`` extra)."""

    pairs: tuple[tuple[str, ...], ...] = ()
    mode: str | None = None
    max_img_sectors: int | None = None
    key: str | None = None


def _by_name(flash_map) -> dict:
    out: dict = {}
    for area in flash_map:
        for name in (area.name, area.label, *area.node_labels):
            if name:
                out.setdefault(name, area)
    return out


def find_pairs(flash_map, opts: PairOptions) -> list[tuple]:
    """``[(image index, primary, secondary, scratch or None), ...]``; EINVAL (NotFound) for an
    explicit partition name the flash map does not have."""
    names = _by_name(flash_map)
    if opts.pairs:
        out = []
        for i, pair in enumerate(opts.pairs):
            if len(pair) not in (2, 3):
                raise InvalidArgument(f"--mcuboot {','.join(pair)}: expected primary,secondary[,scratch]")
            areas = [flash_map.find(n) for n in pair]
            out.append((i, areas[0], areas[1], areas[2] if len(areas) > 2 else None))
        return out
    scratch = names.get("scratch_partition")
    out = []
    for i in range(16):
        p, s = names.get(f"slot{2 * i}_partition"), names.get(f"slot{2 * i + 1}_partition")
        if p is None or s is None:
            break
        out.append((i, p, s, scratch))
    return out


def _sector(area) -> int:
    return max(s.fs_size for s in area.sectors())


def _config(index: int, p, s, sc, opts: PairOptions) -> tuple[BootConfig, dict]:
    """The bootloader options for a pair and where each one came from (MCB-CFG-1)."""
    source = {}
    if opts.mode:
        mode, source["mode"] = opts.mode, "given"
    else:
        mode = ("swap-scratch" if sc is not None else
                "swap-offset" if s.size == p.size + _sector(s) else "swap-move")
        source["mode"] = "guessed"
    magics = [detect_max_align(a.read(a.size - 16, 16)) for a in (p, s, sc) if a is not None]
    found = [x for x in magics if x in (8, 16, 32)]
    if found:
        max_align, source["max_align"] = found[0], "detected"
    else:
        max_align, source["max_align"] = max(8, p.align), "default"
    if opts.max_img_sectors:
        sectors, source["max_img_sectors"] = opts.max_img_sectors, "given"
    else:
        sectors = max(a.size // min(x.fs_size for x in a.sectors()) for a in (p, s))
        source["max_img_sectors"] = "zephyr-auto"
    cfg = BootConfig(mode=mode, max_align=max_align, max_img_sectors=sectors, image_index=index)
    return cfg, source


def _trailer(area, cfg: BootConfig) -> dict:
    st = read_swap_state(area, cfg=cfg)
    lay = area_layout(area, cfg, scratch=True)
    raw_info = area.read(lay.swap_info, 1)[0]
    size_raw = area.read(lay.swap_size, 4)
    erased = bytes([area.erased_val]) * 4
    return {"magic": st.magic.name.lower(), "max_align_of_magic": detect_max_align(area.read(area.size - 16, 16)),
            "image_ok": st.image_ok.name.lower(), "copy_done": st.copy_done.name.lower(),
            "swap_info": {"raw": f"{raw_info:#04x}", "swap_type": st.swap_type, "image_num": st.image_num},
            "swap_size": None if size_raw == erased else struct.unpack("<I", size_raw)[0]}


def _image(area, cfg: BootConfig, limit: int | None, key: str | None) -> dict | None:
    offsets = [0] + ([_sector(area)] if cfg.mode == "swap-offset" else [])
    for off in offsets:
        data = area.read(off, area.size - off)
        img = parse_image(data)
        if img is None:
            continue
        rep = {"offset": off, "version": img.version, "hash": img.hash_hex, "hash_type": img.hash_type,
               "hash_ok": img.hash_ok, "size": img.total_size, "flags": img.to_json()["flags"],
               "bootable": not image_problems(img, area.size - off, limit), "problems": image_problems(img, area.size - off, limit),
               "signature": "not verified"}
        if key is not None:
            from ..mcuboot.sign import verify_image  # needs the mcuboot extra (imgtool)
            rep["signature"] = verify_image(data[:img.total_size], key)
        return rep
    return None


def _flags(slot: str, requested: SwapType, has_image: bool) -> dict:
    """The state flags ``mcumgr image list`` shows for a slot (MCB-LIST-1)."""
    f = {"active": slot == "primary" and has_image, "confirmed": False, "pending": False, "permanent": False}
    if slot == "primary":
        f["confirmed"] = has_image and requested != SwapType.REVERT
    elif requested in (SwapType.TEST, SwapType.PERM):
        f["pending"], f["permanent"] = True, requested == SwapType.PERM
    elif requested == SwapType.REVERT:
        f["confirmed"] = True
    return f


def pair_report(index: int, p, s, sc, opts: PairOptions) -> dict:
    """The report of one image pair (shape in docs/mcuboot-trailer.md MCB-CFG-1/MCB-LIST-1)."""
    cfg, source = _config(index, p, s, sc, opts)
    problems: list[str] = []
    try:
        limit: int | None = max_image_size(p, s, sc, cfg=cfg)
    except InvalidArgument as exc:
        limit = None
        problems.append(f"slots not usable for {cfg.mode}: {exc.strerror}")
    states = {"primary": read_swap_state(p, cfg=cfg), "secondary": read_swap_state(s, cfg=cfg)}
    requested = swap_type(states["primary"], states["secondary"], cfg=cfg)
    slots: dict[str, dict] = {}
    for name, area in (("primary", p), ("secondary", s), ("scratch", sc)):
        if area is None:
            continue
        rep: dict = {"partition": area.name, "trailer": _trailer(area, cfg)}
        if name != "scratch":
            rep["image"] = _image(area, cfg, limit, opts.key)
            rep["flags"] = _flags(name, requested, rep["image"] is not None)
        slots[name] = rep
        if name != "scratch":   # a scratch area mid-swap holds image bytes, not a trailer
            problems += _trailer_problems(name, area.name, rep["trailer"], cfg)
    status = read_boot_status(p, s, sc, cfg=cfg) if cfg.mode != "swap-scratch" or sc else None
    nxt = predict_boot(p, s, sc, cfg=cfg) if status is not None else None
    if status is not None and status.source != "none" and not status.interrupted and status.swap_type not in (1, 2, 3, 4, 5):
        problems.append(f"status trailer holds swap type {status.swap_type}: the bootloader panics")
    if status is not None and status.inconsistent:
        problems.append("swap status has a hole: the bootloader resumes from a wrong step")
    if nxt is not None:
        problems += [n for n in nxt.notes if n.startswith(("requested", "stored", "primary image not"))]
    return {"image_index": index,
            "config": {"mode": cfg.mode, "max_align": cfg.max_align, "max_img_sectors": cfg.max_img_sectors,
                       "write_align": p.align, "erased_val": p.erased_val, "max_image_size": limit,
                       "source": source},
            "slots": slots, "swap_type": requested.name.lower(),
            "status": status.to_json() if status else None,
            "next_boot": nxt.to_json() if nxt else None, "problems": problems,
            "summary": summary_line(cfg, status, nxt)}


def _trailer_problems(slot: str, name: str, t: dict, cfg: BootConfig) -> list[str]:
    out = []
    if t["magic"] == "bad":
        other = t["max_align_of_magic"]
        out.append(f"{name}: trailer magic of BOOT_MAX_ALIGN {other}, bootloader assumed {cfg.max_align}"
                   if other else f"{name}: bad trailer magic")
    for flag in ("image_ok", "copy_done"):
        if t[flag] == "bad":
            out.append(f"{name}: {flag} is neither set nor erased")
    return out


def summary_line(cfg: BootConfig, status, nxt) -> str:
    """One line for people: what the next boot does."""
    if nxt is None:
        return "swap-scratch without a scratch partition: status not readable"
    name = _type_name(nxt.swap_type)
    if nxt.action == "resume" and status is not None:
        phase = f"{status.op} phase, " if status.op else ""
        return (f"interrupted {cfg.mode} ({phase}next step {status.idx}.{status.state}) -> bootloader resumes "
                f"the {name} swap and runs {nxt.version}")
    if nxt.action == "swap":
        tail = "; reverts unless confirmed" if nxt.swap_type == SwapType.TEST else ""
        return f"next boot: {name} swap -> runs {nxt.version} (now in secondary){tail}"
    if nxt.action == "panic":
        return "next boot: bootloader panics (invalid swap type in the status trailer)"
    if nxt.runs is None:
        return f"next boot: {nxt.action}, no bootable image in the primary slot"
    what = "fail: requested image invalid, " if nxt.action == "fail" else "no swap -> "
    return f"next boot: {what}runs {nxt.version} (primary)"


def _type_name(value: int) -> str:
    try:
        return SwapType(value).name.lower()
    except ValueError:
        return str(value)


def mcuboot_pairs(flash_map, opts: PairOptions | None = None, devices=None) -> list[dict]:
    """Reports of every MCUboot image pair of ``flash_map`` (empty when it has none); with
    ``devices`` (names), only pairs whose partitions all lie on those devices. Reads only."""
    opts = opts or PairOptions()
    if opts.mode is not None and opts.mode not in MODES:
        raise InvalidArgument(f"MCUboot mode {opts.mode!r}: expected one of {', '.join(MODES)}")
    out = []
    for i, p, s, sc in find_pairs(flash_map, opts):
        if devices is None or all(a.device.name in devices for a in (p, s, sc) if a is not None):
            out.append(pair_report(i, p, s, sc, opts))
    return out

