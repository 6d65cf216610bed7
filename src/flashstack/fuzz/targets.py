"""Fuzz targets: one per reader, loader, importer and writer. Each takes the fuzzer's bytes,
runs the call under :func:`~flashstack.fuzz.invariants.check_call` and checks its own state
invariant (input unchanged for readers and loaders, image unchanged for a failed writer,
mount idempotence for stores)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from ..errors import FlashError
from ..flash_map import FlashArea
from .invariants import Finding, check_call
from .stores import STORES, area_of, check_mount_idempotent, seed_image

__all__ = ["FuzzTarget", "TARGETS"]


@dataclass(frozen=True)
class FuzzTarget:
    """``name``, ``kind`` (reader, loader, importer, writer), ``seeds()`` (inputs the fuzzer
    mutates) and ``run(data)`` (one checked call). ``ci`` False keeps a target out of the
    short CI run (its area's owner has not landed the fix yet)."""

    name: str
    kind: str
    seeds: Callable[[], list[bytes]]
    run: Callable[[bytes], None]
    ci: bool = True


@lru_cache(maxsize=None)
def _workdir() -> str:
    return tempfile.mkdtemp(prefix="flashstack-fuzz-")


def _file(name: str, data: bytes) -> str:
    path = os.path.join(_workdir(), name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def _unchanged(name: str, path: str, data: bytes) -> None:
    with open(path, "rb") as f:
        if f.read() != data:
            raise Finding(f"{name}: a read-only call changed its input file")


def _fit(kind: str, data: bytes) -> bytes:
    """Fuzzer bytes as an image of the store's size (cut or padded with erased bytes)."""
    size = STORES[kind].size
    return data[:size] + b"\xff" * (size - len(data[:size]))


# --- readers ----------------------------------------------------------------------------
def _mount_target(kind: str) -> FuzzTarget:
    def run(data: bytes) -> None:
        img = _fit(kind, data)
        check_call(f"{kind}-mount", lambda: check_mount_idempotent(kind, img))
    return FuzzTarget(f"{kind}-mount", "reader", lambda: [seed_image(kind)], run)


def _scan_target(kind: str, scan: Callable) -> FuzzTarget:
    def run(data: bytes) -> None:
        img = _fit(kind, data)
        dev, area = area_of(STORES[kind], img)
        check_call(f"{kind}-scan", lambda: scan(area))
        if dev.snapshot() != img:
            raise Finding(f"{kind}-scan: the analysis wrote the image")
    return FuzzTarget(f"{kind}-scan", "reader", lambda: [seed_image(kind)], run)


def _nvs_scan(area):
    from ..nvs import scan
    return scan(area, 1024, 3).to_json()


def _zms_scan(area):
    from ..zms.scan import scan
    return scan(area, 1024, 3).to_json()


def _kv_scan(area):
    from ..kv import KVConfig
    from ..kv import scan
    return scan(area, KVConfig(total_size=4096, block_size=1024)).to_json()


def _mcuboot_slot(data: bytes) -> None:
    """An MCUboot slot pair as inspect reads it: the image header and TLVs, both trailers,
    the swap type and the boot status (the primary is the fuzzed bytes, the secondary the
    same bytes reversed, so trailer states differ between the two)."""
    from ..device import SimulatedFlash
    from ..mcuboot.image import parse_image
    from ..mcuboot.status import read_boot_status
    from ..mcuboot.trailer import BootConfig, read_swap_state, swap_type_of
    size = 4096
    img = data[:size] + b"\xff" * (size - len(data[:size]))
    dev = SimulatedFlash(2 * size, erase_page_size=1024, write_block_size=8, name="fuzz")
    dev.restore(img + img[::-1])
    before = dev.snapshot()
    primary = FlashArea(1, 0, size, dev, label="slot0")
    secondary = FlashArea(2, size, size, dev, label="slot1")

    def read_all() -> None:
        parse_image(img)
        for mode in ("swap-move", "swap-scratch", "swap-offset"):
            cfg = BootConfig(mode=mode)
            read_swap_state(primary, cfg=cfg)
            swap_type_of(primary, secondary, cfg=cfg)
            read_boot_status(primary, secondary, cfg=cfg)
    check_call("mcuboot-slots", read_all)
    if dev.snapshot() != before:
        raise Finding("mcuboot-slots: reading the slots wrote the image")


def _mcuboot_seeds() -> list[bytes]:
    from ..mcuboot.image import make_image
    return [make_image(bytes(range(256)) * 4)]


def _image_scan(data: bytes) -> None:
    from ..inspect.scan import scan_image
    before = bytes(data)
    check_call("image-scan", lambda: scan_image(data))
    if data != before:
        raise Finding("image-scan: the scan changed its input")


# --- loaders and importers (text files) ----------------------------------------------------
def _loader(name: str, kind: str, filename: str, seeds: Callable[[], list[bytes]],
            call: Callable[[str], object], ci: bool = True) -> FuzzTarget:
    def run(data: bytes) -> None:
        path = _file(filename, data)
        check_call(name, lambda: call(path))
        _unchanged(name, path, data)
    return FuzzTarget(name, kind, seeds, run, ci)


def _board_seeds() -> list[bytes]:
    from ..board.loader import builtin_path
    with open(builtin_path("flashstack-demo"), "rb") as f:
        return [f.read()]


def _load_and_open_board(path: str) -> None:
    from ..board import load_board
    board = load_board(path)
    with board.open(images=None):
        pass


def _manifest_seeds() -> list[bytes]:
    from importlib import resources
    return [(resources.files("flashstack") / "data" / "build" / "demo" / "manifest.toml").read_bytes()]


def _load_manifest(path: str) -> None:
    from ..build import load_manifest
    load_manifest(path)


@lru_cache(maxsize=None)
def _demo_build() -> tuple[str, bytes]:
    from ..build import build
    out = os.path.join(_workdir(), "demo-build")
    build(None, out_dir=out)
    with open(os.path.join(out, "build.json"), "rb") as f:
        return out, f.read()


def _record_run(data: bytes) -> None:
    """build.json as inspect reads it: the record next to the demo's images."""
    from ..inspect.job import _load_record
    out, _ = _demo_build()
    path = os.path.join(out, "fuzz-record.json")
    with open(path, "wb") as f:
        f.write(data)
    check_call("build-record", lambda: _load_record(path))
    _unchanged("build-record", path, data)


def _hex_seeds() -> list[bytes]:
    lines = [b":020000040000FA"]
    for addr in range(0, 64, 16):
        rec = bytes([16, addr >> 8, addr & 0xFF, 0]) + bytes(range(addr, addr + 16))
        lines.append(b":" + rec.hex().upper().encode() + b"%02X" % ((-sum(rec)) & 0xFF))
    return [b"\n".join(lines + [b":00000001FF", b""])]


def _read_hex(path: str) -> None:
    from ..inspect.job import read_image_file
    read_image_file(path)


def _csv_seeds() -> list[bytes]:
    return [b"key,type,encoding,value\nwifi.ssid,data,string,flashstack\nboot.count,data,u32,0x10\n"
            b"blob,data,hex2bin,00ff10\nb64,data,base64,AAEC\n# comment\n\"q,k\",data,string,\"a,b\"\n"]


def _json_seeds() -> list[bytes]:
    return [json.dumps({"items": [{"key": "a", "encoding": "string", "value": "x"},
                                  {"key": "n", "encoding": "u16", "value": 7}]}).encode(),
            json.dumps({"k": "v", "m": {"encoding": "hex2bin", "value": "0102"}}).encode()]


def _load_items(path: str) -> None:
    from ..kv.csvio import load_items
    load_items(path)


def _nvs_json_seeds() -> list[bytes]:
    return [json.dumps({"items": {"0x10": "0102", "17": {"text": "hi"}},
                        "settings": {"bt/name": {"text": "dev"}}}).encode()]


def _parse_nvs_json(path: str) -> None:
    from ..cli.nvs_import import parse_import
    with open(path, "rb") as f:
        parse_import(f.read(), path)


def _flatten(tree) -> bytes:
    """``tree`` (a :class:`~flashstack.board.devicetree.dtree.DtTree`) as a version-17 DTB with a
    ``/__symbols__`` node, so the DTB target mutates a real board rather than an empty blob."""
    strings: dict[str, int] = {}
    struct = bytearray()

    def word(v: int) -> None:
        struct.extend(v.to_bytes(4, "big"))

    def padded(b: bytes) -> None:
        struct.extend(b + bytes(-len(b) % 4))

    def prop(name: str, value: bytes) -> None:
        word(3)                                           # FDT_PROP
        word(len(value))
        word(strings.setdefault(name, sum(len(k) + 1 for k in strings)))
        padded(value)

    def node(n, symbols: dict[str, str] | None) -> None:
        word(1)                                           # FDT_BEGIN_NODE
        padded(n.name.encode() + b"\0" if n.parent is not None else b"\0")
        for p in n.props.values():
            prop(p.name, p.value)
        for c in n.children.values():
            node(c, None)
        if symbols:
            word(1)
            padded(b"__symbols__\0")
            for label, path in symbols.items():
                prop(label, path.encode() + b"\0")
            word(2)
        word(2)                                           # FDT_END_NODE
    node(tree.root, {lab: n.path for lab, n in tree.labels.items()})
    word(9)                                               # FDT_END
    table = b"".join(k.encode() + b"\0" for k in strings)
    rsvmap = bytes(16)
    off_rsv = 40
    off_struct = off_rsv + len(rsvmap)
    off_strings = off_struct + len(struct)
    total = off_strings + len(table)
    header = [0xD00DFEED, total, off_struct, off_strings, off_rsv, 17, 16, 0, len(table),
              len(struct)]
    return b"".join(v.to_bytes(4, "big") for v in header) + rsvmap + bytes(struct) + table


def _dtb_seeds() -> list[bytes]:
    from importlib import resources

    from ..board.devicetree.dts import read_dts
    boards = resources.files("flashstack") / "data" / "boards"
    return [b"\xd0\x0d\xfe\xed" + bytes(36),
            *(_flatten(read_dts(str(boards / f"{b}.dts"))) for b in ("qemu_x86", "nucleo_f429zi"))]


def _parse_dtb(path: str) -> None:
    """The DTB reader and the flash-map extraction behind it (devices, partitions, chosen)."""
    from ..board.devicetree.dtb import parse_dtb
    from ..board.devicetree.extract import extract
    with open(path, "rb") as f:
        extract(parse_dtb(f.read(), path))


def _dts_seeds() -> list[bytes]:
    from ..board.loader import builtin_path
    with open(builtin_path("qemu_x86"), "rb") as f:
        return [f.read()]


def _load_dts(path: str) -> None:
    from ..board.devicetree.extract import load_devicetree
    load_devicetree(path)


# --- writers ------------------------------------------------------------------------------
def _kv_import_run(data: bytes) -> None:
    """Parse ``data`` as a KV CSV and import it into the seed KV store: all or nothing."""
    from ..kv import KVConfig, KVStore
    from ..kv.csvio import import_items, parse_csv
    img = seed_image("kv")
    dev, area = area_of(STORES["kv"], img)
    store = KVStore(area, KVConfig(total_size=4096, block_size=1024))
    store.mount()
    mounted = dev.snapshot()

    def run():
        items = parse_csv(data.decode("utf-8", "replace"), base_dir=_workdir())
        return import_items(store, items)
    if isinstance(check_call("kv-import", run), FlashError) and dev.snapshot() != mounted:
        raise Finding("kv-import: a failed import changed the image")


def _nvs_import_run(data: bytes) -> None:
    """Parse ``data`` as an ``nvs import`` document and apply it to the seed NVS store."""
    from ..cli.nvs_import import import_all_or_nothing, parse_import
    from ..nvs import NVSSettings, NVSStore
    img = seed_image("nvs")
    dev, area = area_of(STORES["nvs"], img)

    def open_store(a):
        st = NVSStore(a, 1024, 3)
        st.mount()
        return st

    def settings_of(st):
        s = NVSSettings(st)
        s.init()
        return s
    NVSStore(area, 1024, 3).mount()      # what the writing mount alone does to the image
    mounted = dev.snapshot()
    result = check_call("nvs-import", lambda: import_all_or_nothing(
        area, open_store, parse_import(data, "<fuzz>"), settings_of))
    if isinstance(result, FlashError) and dev.snapshot() != mounted:
        raise Finding("nvs-import: a failed import changed the image")


TARGETS: dict[str, FuzzTarget] = {t.name: t for t in (
    _mount_target("kv"), _mount_target("nvs"), _mount_target("zms"), _mount_target("llkernel"),
    _scan_target("nvs", _nvs_scan), _scan_target("zms", _zms_scan), _scan_target("kv", _kv_scan),
    FuzzTarget("mcuboot-slots", "reader", _mcuboot_seeds, _mcuboot_slot),
    FuzzTarget("image-scan", "reader", lambda: [seed_image("nvs"), seed_image("kv")], _image_scan),
    _loader("board-toml", "loader", "board.toml", _board_seeds, _load_and_open_board),
    _loader("manifest", "loader", "manifest.toml", _manifest_seeds, _load_manifest),
    FuzzTarget("build-record", "loader", lambda: [_demo_build()[1]], _record_run),
    _loader("intel-hex", "loader", "image.hex", _hex_seeds, _read_hex),
    _loader("dtb", "reader", "board.dtb", _dtb_seeds, _parse_dtb),
    _loader("dts", "loader", "board.dts", _dts_seeds, _load_dts),
    _loader("kv-csv", "importer", "items.csv", _csv_seeds, _load_items),
    _loader("kv-json", "importer", "items.json", _json_seeds, _load_items),
    _loader("nvs-json", "importer", "nvs.json", _nvs_json_seeds, _parse_nvs_json),
    FuzzTarget("kv-import", "writer", _csv_seeds, _kv_import_run),
    FuzzTarget("nvs-import", "writer", _nvs_json_seeds, _nvs_import_run),
)}
