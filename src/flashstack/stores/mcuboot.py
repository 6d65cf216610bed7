"""``mcuboot``: an MCUboot image in a slot (header, TLVs, hash; :mod:`flashstack.mcuboot`)."""

from __future__ import annotations

from ..mcuboot.image import parse_image
from .base import Detection, PartitionView, StoreKind, report

__all__ = ["McubootKind"]


class McubootKind(StoreKind):
    name = "mcuboot"
    title = "MCUboot image"
    order = 10
    provider = "flashstack.build.providers.mcuboot:McubootProvider"

    def detect(self, view: PartitionView) -> Detection | None:
        img = parse_image(view.data)
        if img is None:
            return None
        return Detection(self.name, 1.0 if img.hash_ok else 0.7,
                         {"header_size": img.header_size, "image_size": img.image_size},
                         {"header_size": "image header", "image_size": "image header"})

    def describe(self, v: PartitionView, hint: dict | None, details: bool) -> dict | None:
        img = parse_image(v.data)
        if img is None:
            return None
        hash_text = {True: "hash ok", False: "HASH MISMATCH", None: "no hash TLV"}[img.hash_ok]
        problems = list(img.problems)
        if img.hash_ok is False:
            problems.append(f"{img.hash_type} TLV does not match the image")
        summary = f"MCUboot image v{img.version}, {img.image_size} bytes, {hash_text}"
        if img.trailer_magic:
            summary += ", trailer magic set"
        return report("mcuboot", summary, problems, mcuboot=img.to_json())
