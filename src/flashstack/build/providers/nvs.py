"""``zephyr-nvs`` partition content: a Zephyr NVS store (optionally Zephyr Settings on it).

Keys: ``sector_size`` (default the partition's erase page), ``sector_count`` (default as
many sectors as fit; with ``settings`` and neither key given, Zephyr's Settings defaults:
the first sector, at most 8 sectors), ``data_crc`` (false), ``settings`` (false) and an
``items`` table.
Without ``settings`` the item keys are NVS ids, decimal or ``0x`` hex, 0..0xFFFE; with
``settings = true`` they are setting names (``"app/mode"``) saved with Zephyr's Settings id
scheme (:mod:`flashstack.nvs.settings`). Values as in
:func:`flashstack.build.manifest.decode_value`; an id's value must fit one sector.

The store is built on a scratch copy of the partition with
:class:`flashstack.nvs.NVSStore` (mount, one write per item in manifest order) and copied
into the build, so geometry errors and ENOSPC are found before anything is written.
"""

from __future__ import annotations

from ...errors import FlashError
from ...flash_map import FlashArea
from ..manifest import ManifestError, decode_value
from .base import Options, ScratchProvider, scratch_area

__all__ = ["NVSProvider", "parse_items"]


def parse_items(entry, inline: dict, settings: bool, id_of) -> list[tuple[int | str, bytes]]:
    """``[(key, value bytes)]`` of an ``items`` table: setting names as given when
    ``settings``, else ids from ``id_of(key, where)``; every bad item reported at once
    (ManifestError naming each key)."""
    items: list[tuple[int | str, bytes]] = []
    problems = []
    for key, value in inline.items():
        where = entry.where(f"items.{key}")
        try:
            data = decode_value(value, where, entry.base_dir)
            items.append((key if settings else id_of(key, where), data))
        except ManifestError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ManifestError("; ".join(problems), problems)
    return items


class NVSProvider(ScratchProvider):
    type = "zephyr-nvs"

    def __init__(self, entry):
        super().__init__(entry)
        o = Options(entry)
        self.sector_size = o.integer("sector_size", None, minimum=8)
        self.sector_count = o.integer("sector_count", None, minimum=2, maximum=0xFFFF)
        self.data_crc = o.flag("data_crc", False)
        self.settings = o.flag("settings", False)
        inline = o.table("items") or {}
        o.finish()
        self.items = parse_items(entry, inline, self.settings, self._id)
        self.summary: dict = {}

    @staticmethod
    def _id(key: str, where: str) -> int:
        try:
            value = int(key, 0)
        except ValueError:
            raise ManifestError(f"{where}: NVS ids are numbers (decimal or 0x hex); "
                                "use settings = true to address settings by name") from None
        if not 0 <= value <= 0xFFFE:
            raise ManifestError(f"{where}: NVS id {value:#x} outside 0..0xFFFE (0xFFFF is reserved)")
        return value

    def _geometry(self, area: FlashArea) -> tuple[int, int]:
        if self.settings and self.sector_size is None and self.sector_count is None:
            from ...nvs.settings import settings_geometry
            try:   # Zephyr's Settings backend defaults: first sector x 1, at most 8 sectors
                return settings_geometry(area)
            except FlashError as exc:
                raise self.fail(exc.strerror, "sector_size") from None
        pages = {p.size for p in area.erase_pages()}
        sector = self.sector_size or (pages.pop() if len(pages) == 1 else None)
        if sector is None:
            raise self.fail(f"partition {area.name} has non-uniform erase pages; give sector_size",
                            "sector_size")
        count = self.sector_count or area.size // sector
        if sector * count > area.size:
            raise self.fail(f"{count} sectors of {sector} bytes exceed the partition size {area.size:#x}",
                            "sector_count")
        return sector, count

    def check(self, area: FlashArea) -> None:
        from ...nvs import NVSStore

        sector, count = self._geometry(area)
        scratch = scratch_area(area)
        try:
            store = NVSStore(scratch, sector_size=sector, sector_count=count, data_crc=self.data_crc)
            store.mount()
            if self.settings:
                from ...nvs.settings import NVSSettings
                settings = NVSSettings(store)
                settings.init()
                for name, value in self.items:
                    settings.save(str(name), value)  # names when settings
            else:
                for nvs_id, value in self.items:
                    store.write(int(nvs_id), value)  # ids otherwise
        except FlashError as exc:
            raise self.fail(f"cannot build the store ({len(self.items)} items, {count} sectors of "
                            f"{sector} bytes): {exc.strerror}") from None
        self.summary = {"sector_size": sector, "sector_count": count, "data_crc": self.data_crc,
                        "settings": self.settings, "free_space": store.free_space()}
        self.scratch = scratch

    def copy_chunk(self) -> int:
        return self.summary["sector_size"]

    def describe(self) -> dict:
        return {"type": self.type, "config": self.summary, "items": [k for k, _ in self.items]}
