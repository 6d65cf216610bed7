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

from ...flash_map import FlashArea
from ..manifest import ManifestError
from .base import Options
from .nvs import SectorStoreProvider, parse_items

__all__ = ["ZMSProvider"]


class ZMSProvider(SectorStoreProvider):
    type = "zephyr-zms"

    def __init__(self, entry):
        super().__init__(entry)
        o = Options(entry)
        self.sector_size = o.integer("sector_size", None, minimum=80)
        self.sector_count = o.integer("sector_count", None, minimum=2)
        self.data_crc = o.flag("data_crc", False)
        self.id_64bit = o.flag("id_64bit", False)
        self.settings = o.flag("settings", False)
        inline = o.table("items") or {}
        o.finish()
        if self.settings and self.id_64bit:
            raise ManifestError(f"{entry.where('settings')}: Settings on ZMS needs 32-bit ids")
        self.items = parse_items(entry, inline, self.settings, self._id)
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

    def check(self, area: FlashArea) -> None:
        from ...zms import ZMSStore
        from ...zms.settings import ZMSSettings

        sector, count = self._uniform_geometry(area)
        store = self._build(area, sector, count,
                            lambda a: ZMSStore(a, sector, count, self.data_crc, self.id_64bit),
                            ZMSSettings)
        self.summary = {"sector_size": sector, "sector_count": count, "data_crc": self.data_crc,
                        "id_64bit": self.id_64bit, "settings": self.settings,
                        "explicit_erase": store.geo.X, "free_space": store.free_space()}
