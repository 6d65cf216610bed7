"""The inspect job: flash images (raw or Intel HEX) → a report per partition.

With a board, every device image is loaded into a private in-memory copy and every partition
identified (:mod:`._identify`); a build record (``build.json`` next to the images, or given)
supplies the board and each partition's configuration. Without a board, a single image is
scanned for KV block headers, LLKERNEL slot headers, littlefs superblocks and MCUboot
headers (:mod:`.scan`).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..build.record import check_record
from ..errors import InvalidArgument, NotFound, NotSupported
from ..inputs import decode_text
from ._identify import PartitionView, identify

__all__ = ["inspect_images", "inspect_area", "load_images", "find_record", "read_image_file"]

RECORD_NAME = "build.json"
_HEX_SUFFIXES = {".hex", ".ihex", ".ihx"}


def read_image_file(path: str | os.PathLike) -> tuple[bytes | None, list[tuple[int, bytes]] | None]:
    """``(raw bytes, None)`` for a raw image, ``(None, [(absolute address, bytes), ...])`` for
    Intel HEX (recognised by suffix or a leading ``:``). NotFound (ENOENT) when missing,
    InvalidArgument (EINVAL) for malformed HEX, NotSupported (ENOSYS) naming the ``hex`` extra
    when intelhex is not installed."""
    p = Path(path)
    if not p.is_file():
        raise NotFound(f"image {str(p)!r} not found")
    data = p.read_bytes()
    if p.suffix.lower() in _HEX_SUFFIXES or data[:1] == b":":
        decode_text(data, str(p))   # HEX is text: a bad byte is named with its offset
        try:
            import intelhex  # noqa: PLC0415 - optional extra
        except ImportError:
            raise NotSupported(f"{p}: reading Intel HEX needs intelhex: pip install 'flashstack[hex]'") from None
        ih = intelhex.IntelHex()
        try:
            ih.loadhex(str(p))
        except intelhex.IntelHexError as exc:
            raise InvalidArgument(f"{p}: not a valid Intel HEX file: {exc}") from None
        segments = [(s, ih.tobinstr(start=s, end=e - 1)) for s, e in ih.segments()]
        return None, segments
    return data, None


def find_record(paths) -> Path | None:
    """``build.json`` inside an image folder or beside the first image file, if any."""
    for p in map(Path, paths):
        cand = p / RECORD_NAME if p.is_dir() else p.parent / RECORD_NAME
        if cand.is_file():
            return cand
    return None


def _expand(paths) -> list[Path]:
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            bins = sorted(p.glob("*.bin"))
            hexes = sorted(x for x in p.iterdir() if x.suffix.lower() in _HEX_SUFFIXES)
            if not bins and not hexes:
                raise NotFound(f"folder {str(p)!r} holds no .bin or .hex image")
            out.extend(bins or hexes)
        else:
            out.append(p)
    return out


def load_images(board, paths, device_base: dict | None = None) -> tuple[dict[str, bytes], list[str]]:
    """Device images from raw files and/or Intel HEX files. Returns ``({device: bytes}, notes)``.

    Raw files named ``<device>.bin`` go to that device, other raw files to the remaining
    devices in board order; HEX data goes to the device whose absolute window holds it
    (``device_base`` overrides the board's base addresses). Short images are padded with the
    erase value (noted). A device without any image is left out of the dict (noted): nothing
    is known about its contents, so it is not taken for erased. A raw file larger than its
    device or HEX data outside every device is an error (EINVAL).
    """
    devices = {d.name: d for d in board.devices}
    images: dict[str, bytearray] = {}
    notes: list[str] = []
    base = {d.name: (device_base or {}).get(d.name, d.base_address) for d in board.devices}
    loose = []
    for path in _expand(paths):
        raw, segments = read_image_file(path)
        if raw is not None:
            if path.stem in devices and path.stem not in images:
                images[path.stem] = _fit(devices[path.stem], raw, path, notes)
            else:
                loose.append((path, raw))
            continue
        assert segments is not None, "a file is raw or HEX"
        for addr, data in segments:
            _place_hex(devices, base, images, addr, data, path)
    for path, raw in loose:
        free = [n for n in devices if n not in images]
        if not free:
            raise InvalidArgument(f"{path}: more images than devices on board {board.name} "
                                  f"({', '.join(devices)})")
        images[free[0]] = _fit(devices[free[0]], raw, path, notes)
    for name in devices:
        if name not in images:
            notes.append(f"no image for device {name}: its partitions are not inspected")
    return {k: bytes(v) for k, v in images.items()}, notes


def _fit(dev, raw: bytes, path: Path, notes: list[str]) -> bytearray:
    if len(raw) > dev.size:
        raise InvalidArgument(f"{path}: {len(raw)} bytes, larger than device {dev.name} ({dev.size} bytes)")
    if len(raw) < dev.size:
        notes.append(f"{path.name}: {len(raw)} bytes for device {dev.name} of {dev.size}; the rest read as erased")
    return bytearray(raw) + bytearray([dev.erase_value]) * (dev.size - len(raw))


def _place_hex(devices, base, images, addr, data, path) -> None:
    for name, d in devices.items():
        b = base[name]
        if b is not None and b <= addr and addr + len(data) <= b + d.size:
            img = images.setdefault(name, bytearray([d.erase_value]) * d.size)
            img[addr - b:addr - b + len(data)] = data
            return
    raise InvalidArgument(f"{path}: HEX data at {addr:#x}+{len(data):#x} lies in no device window "
                          f"({', '.join(f'{n}@{b:#x}' for n, b in base.items() if b is not None)})")


def _view(area, data: bytes) -> PartitionView:
    pages = {p.size for p in area.erase_pages()}
    return PartitionView(name=area.name, data=data, area=area, erase_value=area.erased_val,
                         erase_page=pages.pop() if len(pages) == 1 else None,
                         write_block=area.align, address=area.address)


def inspect_area(area, hint: dict | None = None, details: bool = False) -> dict:
    """Identify and summarise one FlashArea (the probes may mount stores on it: pass a
    private copy). Returns the partition report (see :mod:`._identify`) plus its location."""
    data = area.read(0, area.size)
    report = identify(_view(area, data), hint, details)
    return {"partition": area.name, "id": area.id, "device": area.device.name, "offset": area.offset,
            "size": area.size, "address": area.address, "read_only": area.read_only,
            "sha256": hashlib.sha256(data).hexdigest(), **report}


def _record_parts(record: dict | None) -> dict[str, dict]:
    if not record:
        return {}
    return {p["label"]: p for p in record.get("partitions", [])}


def inspect_images(paths, board=None, include_dirs=(), record: str | os.PathLike | dict | None = None,
                   details: bool = False, partition: str | None = None, mcuboot=None) -> dict:
    """Inspect images (paths of raw/HEX files or build folders) on ``board`` (a Board, a
    board spec string, or None to take it from the build record).

    Returns ``{"board", "images", "notes", "partitions": [report, ...]}``; with
    ``partition`` only that partition (and ``details`` adds the full dump). A partition on a
    device that got no image is reported as kind ``"absent"`` (health ``"unknown"``,
    ``sha256`` None, no ``matches_build``). Without a board and record, a single image is
    scanned boardless (:func:`flashstack.inspect.scan.scan_image`). MCUboot image pairs are
    reported under ``"mcuboot"`` (``mcuboot``: :class:`flashstack.inspect.mcuboot.PairOptions`).
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise InvalidArgument("give at least one image")
    if record is None:
        found = find_record(paths)
        record = found
    if isinstance(record, (str, os.PathLike)):
        record = _load_record(record)
    elif record is not None:
        record = check_record(record, "(given)")
    if board is None and record:
        board = record.get("board_spec") or record.get("board")
    if board is None:
        from .scan import scan_file
        if len(paths) != 1 or paths[0].is_dir():
            raise InvalidArgument("without --board (and no build.json), inspect takes one raw image")
        return scan_file(paths[0])
    if isinstance(board, str):
        from ..board import load_board
        if not include_dirs and record:
            include_dirs = record.get("include_dirs", ())
        board = load_board(board, include_dirs=tuple(include_dirs))
    bases = {d["name"]: d.get("base_address") for d in (record or {}).get("devices", [])}
    images, notes = load_images(board, paths, {k: v for k, v in bases.items() if v is not None})
    built = _record_parts(record)
    reports = []
    with board.open(images=None, allow_double_writes=True) as ob:
        for name, data in images.items():
            ob.devices[name].restore(data)
        areas = list(ob.flash_map)
        if partition is not None:
            areas = [ob.flash_map.find(partition)]
        for area in areas:
            if area.device.name not in images:
                reports.append(_absent(area))
                continue
            entry = built.get(area.name)
            report = inspect_area(area.privileged(), (entry or {}).get("content"), details)
            if entry is not None:
                # what a support engineer asks first: is this partition still as built?
                report["matches_build"] = entry.get("sha256") == report["sha256"]
            reports.append(report)
        pairs = _mcuboot_pairs(ob.flash_map, mcuboot, set(images)) if partition is None else []
    return {"board": board.name, "record": bool(record), "notes": notes, **({"mcuboot": pairs} if pairs else {}),
            "images": {n: {"size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for n, d in images.items()},
            "partitions": reports}


def _mcuboot_pairs(flash_map, opts, devices) -> list[dict]:
    from .mcuboot import mcuboot_pairs
    return mcuboot_pairs(flash_map, opts, devices)


def _load_record(path: str | os.PathLike) -> dict:
    """A build record (``build.json``); InvalidArgument (EINVAL) naming the file when it is not
    a JSON object, NotFound (ENOENT) when it is missing."""
    try:
        with open(path) as f:
            record = json.load(f)
    except FileNotFoundError:
        raise NotFound(f"build record {os.fspath(path)!r} not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"build record {os.fspath(path)}: not valid JSON ({exc})") from None
    return check_record(record, os.fspath(path))


def _absent(area) -> dict:
    """The report of a partition whose device has no image: kind ``absent``, no contents, no
    hash and no comparison with the build record (nothing was read)."""
    return {"partition": area.name, "id": area.id, "device": area.device.name, "offset": area.offset,
            "size": area.size, "address": area.address, "read_only": area.read_only, "sha256": None,
            "kind": "absent", "summary": f"no image for device {area.device.name}", "health": "unknown",
            "problems": []}
