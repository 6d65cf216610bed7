"""``zephyr-zms`` partition content: a Zephyr ZMS store (optionally Zephyr Settings on it).

Keys: ``sector_size`` (default the partition's erase page), ``sector_count`` (default as
many sectors as fit), ``data_crc`` (false), ``id_64bit`` (false), ``settings`` (false) and an
``items`` table. Without ``settings`` the item keys are ZMS ids, decimal or ``0x`` hex
(0..0xFFFFFFFE, or up to 2^64-2 with ``id_64bit``); with ``settings = true`` they are setting
names saved with Zephyr's settings_zms.c id scheme (:mod:`flashstack.zms.settings`).

The store is built on a scratch copy of the partition with :class:`flashstack.zms.ZMSStore`
(mount, one write per item in manifest order) and copied into the build, so geometry errors
and ENOSPC are found before anything is written. The device kind (explicit erase or
erase-less) comes from the board's flash device.
"""

from __future__ import annotations

from ...errors import FlashError
from ...flash_map import FlashArea
from ..manifest import ManifestError, decode_value
from .base import Options, ScratchProvider, scratch_area

__all__ = ["ZMSProvider"]


class ZMSProvider(ScratchProvider):
    type = "zephyr-zms"

    def __init__(self, entry):
        super().__init__(entry)
        o = Options(entry)
        self.sector_size = o.int("sector_size", None, minimum=80)
        self.sector_count = o.int("sector_count", None, minimum=2)
        self.data_crc = o.bool("data_crc", False)
        self.id_64bit = o.bool("id_64bit", False)
        self.settings = o.bool("settings", False)
        inline = o.table("items") or {}
        o.finish()
        if self.settings and self.id_64bit:
            raise ManifestError(f"{entry.where('settings')}: Settings on ZMS needs 32-bit ids")
        self.items: list[tuple[int | str, bytes]] = []
        problems = []
        for key, value in inline.items():
            where = entry.where(f"items.{key}")
            try:
                data = decode_value(value, where, entry.base_dir)
                self.items.append((key if self.settings else self._id(key, where), data))
            except ManifestError as exc:
                problems.extend(exc.problems)
        if problems:
            raise ManifestError("; ".join(problems), problems)
        self.summary: dict = {}

    def _id(self, key: str, where: str) -> int:
        try:
            value = int(key, 0)
        except ValueError:
            raise ManifestError(f"{where}: ZMS ids are numbers (decimal or 0x hex); "
                                "use settings = true to address settings by name") from None
        top = (1 << 64) - 2 if self.id_64bit else 0xFFFFFFFE
        if not 0 <= value <= top:
            raise ManifestError(f"{where}: ZMS id {value:#x} outside 0..{top:#x} "
                                "(all ones is the header id)")
        return value

    def _geometry(self, area: FlashArea) -> tuple[int, int]:
        pages = {p.size for p in area.erase_pages()}
        sector = self.sector_size or (pages.pop() if len(pages) == 1 else None)
        if sector is None:
            raise self.fail(f"partition {area.name} has non-uniform erase pages; give sector_size",
                            "sector_size")
        count = self.sector_count or area.size // sector
        if sector * count > area.size:
            raise self.fail(f"{count} sectors of {sector} bytes exceed the partition size "
                            f"{area.size:#x}", "sector_count")
        return sector, count

    def check(self, area: FlashArea) -> None:
        from ...zms import ZMSStore
        from ...zms.settings import ZMSSettings

        sector, count = self._geometry(area)
        scratch = scratch_area(area)
        try:
            store = ZMSStore(scratch, sector, count, self.data_crc, self.id_64bit)
            store.mount()
            if self.settings:
                settings = ZMSSettings(store)
                settings.init()
                for name, value in self.items:
                    settings.save(str(name), value)
            else:
                for zms_id, value in self.items:
                    store.write(int(zms_id), value)
        except FlashError as exc:
            raise self.fail(f"cannot build the store ({len(self.items)} items, {count} sectors "
                            f"of {sector} bytes): {exc.strerror}") from None
        self.summary = {"sector_size": sector, "sector_count": count, "data_crc": self.data_crc,
                        "id_64bit": self.id_64bit, "settings": self.settings,
                        "explicit_erase": store.geo.X, "free_space": store.free_space()}
        self.scratch = scratch

    def copy_chunk(self) -> int:
        return self.summary["sector_size"]

    def describe(self) -> dict:
        return {"type": self.type, "config": self.summary, "items": [k for k, _ in self.items]}
