"""``littlefs``: a littlefs filesystem (geometry from its superblock; files listed with the
``littlefs`` extra, :mod:`flashstack.inspect.littlefs`)."""

from __future__ import annotations

from ..inspect.littlefs import find_superblock, summarize_littlefs
from .base import Detection, PartitionView, StoreKind, report

__all__ = ["LittleFSKind"]


class LittleFSKind(StoreKind):
    name = "littlefs"
    title = "littlefs"
    order = 50
    provider = "flashstack.build.providers.littlefs:LittleFSProvider"

    def detect(self, view: PartitionView) -> Detection | None:
        sb = find_superblock(view.data, [view.erase_page] if view.erase_page else [])
        if sb is None:
            return None
        return Detection(self.name, 0.9, {"block_size": sb["block_size"], "block_count": sb["block_count"]},
                         {"block_size": "superblock", "block_count": "superblock"})

    def describe(self, v: PartitionView, hint: dict | None, details: bool) -> dict | None:
        sizes = [v.erase_page] if v.erase_page else []
        if hint and hint.get("config", {}).get("block_size"):
            sizes.insert(0, hint["config"]["block_size"])
        sb = find_superblock(v.data, sizes)
        if sb is None:
            return None
        info = summarize_littlefs(v.data, sb, details)
        problems = info.get("problems", [])
        if info["mounted"]:
            summary = (f"littlefs v{sb['version']}: {info['files']} files, {info['dirs']} dirs, "
                       f"{info['used_blocks']}/{sb['block_count']} blocks of {sb['block_size']} used")
        else:
            summary = f"littlefs v{sb['version']} superblock ({sb['block_count']} x {sb['block_size']})"
        return report("littlefs", summary, problems, littlefs=info)
