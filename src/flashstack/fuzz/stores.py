"""Store images for the fuzz targets, and the mount-idempotence invariant shared with the
regression tests: for KV, NVS, ZMS and LLKERNEL images (damaged or not), a reader (mount on a copy)
serves what a writing mount serves, a failed mount writes nothing, and a second writing mount
of what the first wrote serves the same and writes nothing."""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

from ..device import SimulatedFlash
from ..errors import FlashError
from ..flash_map import FlashArea
from .invariants import Finding

__all__ = ["STORES", "StoreKind", "area_of", "check_mount_idempotent", "seed_image"]

KV_SIZE, NVS_SIZE, ZMS_SIZE, LLK_SIZE = 4096, 3072, 3072, 0x8000
LLK_BASE, LLK_RAM = 0x90000000, 0x20000000


class StoreKind:
    """How to build, read and write-mount one store kind on an image."""

    def __init__(self, name: str, size: int, page: int, wbs: int, served: Callable,
                 build: Callable[[FlashArea], None], program_page: int = 256):
        self.name, self.size, self.page, self.wbs = name, size, page, wbs
        self.served, self.build, self.program_page = served, build, program_page


def area_of(kind: StoreKind, img: bytes) -> tuple[SimulatedFlash, FlashArea]:
    """A multi-program device holding ``img`` and a flash area over all of it."""
    dev = SimulatedFlash(len(img), erase_page_size=kind.page, write_block_size=kind.wbs,
                         program_page_size=kind.program_page, allow_double_writes=True,
                         name="fuzz")
    dev.restore(img)
    return dev, FlashArea(0, 0, len(img), dev, label="storage", address=LLK_BASE)


def _kv_cfg():
    from ..kv import KVConfig
    return KVConfig(total_size=KV_SIZE, block_size=1024)


def _kv_served(area: FlashArea, writing: bool):
    from ..kv import KVStore
    from ..kv.store import shadow_area
    cfg = _kv_cfg()
    st = KVStore(area if writing else shadow_area(area, cfg), cfg)
    st.mount()
    return dict(st.items())


def _kv_build(area: FlashArea) -> None:
    from ..kv import KVStore
    st = KVStore(area, _kv_cfg())
    st.mount()
    for i in range(60):
        st.set(f"k{i % 9}", bytes([i]) * (5 + 7 * (i % 5)))
    st.delete("k3")


def _nvs_served(area: FlashArea, writing: bool):
    from ..nvs import NVSStore, mount_copy
    if writing:
        st = NVSStore(area, 1024, 3)
        st.mount()
    else:
        st = mount_copy(area, 1024, 3)
    return dict(st.items())


def _nvs_build(area: FlashArea) -> None:
    from ..nvs import NVSStore
    st = NVSStore(area, 1024, 3)
    st.mount()
    for i in range(70):
        st.write(1 + i % 11, bytes([i]) * (3 + 5 * (i % 6)))
    st.delete(4)


def _zms_served(area: FlashArea, writing: bool):
    from ..zms import ZMSStore
    from ..zms.scan import mount_copy
    if writing:
        st = ZMSStore(area, 1024, 3)
        st.mount()
    else:
        st = mount_copy(area, 1024, 3)
    return dict(st.items())


def _zms_build(area: FlashArea) -> None:
    from ..zms import ZMSStore
    st = ZMSStore(area, 1024, 3)
    st.mount()
    for i in range(70):   # small and 9-byte values: both inline (<= 8 bytes) and data records
        st.write(1 + i % 11, bytes([i]) * (2 + 7 * (i % 3)))
    st.delete(4)


def _llk_store(area: FlashArea):
    from ..llkernel import FeatureStore
    return FeatureStore(area, LLK_BASE, max_features=4, ram_base=LLK_RAM)


def _llk_served(area: FlashArea, writing: bool):
    return _llk_store(area).features()   # opening only reads: both ways are the same call


def _llk_build(area: FlashArea) -> None:
    fs = _llk_store(area)
    for i in range(3):
        fs.install(bytes([i + 1]) * (700 + 900 * i), 512)
    fs.free_feature(fs.features()[1].handle)


STORES = {
    "kv": StoreKind("kv", KV_SIZE, 1024, 1, _kv_served, _kv_build),
    "nvs": StoreKind("nvs", NVS_SIZE, 1024, 4, _nvs_served, _nvs_build),
    "zms": StoreKind("zms", ZMS_SIZE, 1024, 4, _zms_served, _zms_build),
    "llkernel": StoreKind("llkernel", LLK_SIZE, 4096, 1, _llk_served, _llk_build),
}


@lru_cache(maxsize=None)
def seed_image(kind: str) -> bytes:
    """A store of ``kind`` after a fixed workload (the seed the fuzzer mutates)."""
    k = STORES[kind]
    dev, area = area_of(k, b"\xff" * k.size)
    k.build(area)
    return dev.snapshot()


def _served(kind: StoreKind, area: FlashArea, writing: bool):
    try:
        return kind.served(area, writing)
    except FlashError as exc:
        return ("error", exc.errno)


def check_mount_idempotent(name: str, img: bytes) -> None:
    """The mount invariant for store ``name`` on ``img``; :class:`Finding` when broken."""
    kind = STORES[name]
    dev, area = area_of(kind, img)
    seen = _served(kind, area, False)
    if dev.snapshot() != img:
        raise Finding(f"{name}: a read-only mount wrote the image")
    first = _served(kind, area, True)
    if first != seen:
        raise Finding(f"{name}: the reader serves {_short(seen)}, the writing mount {_short(first)}")
    written = dev.snapshot()
    if isinstance(first, tuple):
        if written != img:
            raise Finding(f"{name}: a failed mount ({first}) changed the image")
        return
    dev2, area2 = area_of(kind, written)
    again = _served(kind, area2, True)
    if again != first:
        raise Finding(f"{name}: a remount of what mount wrote serves {_short(again)}, "
                      f"not {_short(first)}")
    if dev2.snapshot() != written:
        raise Finding(f"{name}: a second mount wrote the image again")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) < 160 else text[:160] + "..."
