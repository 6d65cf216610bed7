"""``mcuboot`` partition contents: an MCUboot image in a slot, optionally signed by imgtool,
with the trailer of its boot state.

Keys: ``file`` (required: an MCUboot image, or an unsigned binary when signing), ``key`` (PEM
private key: sign with imgtool), ``sign`` (true: sign hash-only without a key; implied by
``key``), ``version`` ("M.m.r+b", default "0.0.0+0"), ``header_size`` (default 0x200),
``load_address`` (default 0), ``state`` ("none", "confirmed" for a primary slot, "test" /
"permanent" for a secondary; default "none"), ``slot`` ("primary"/"secondary"; default from
the Zephyr label: even ``slotN_partition`` primary, odd secondary), ``mode``, ``max_align``
(default max(8, write block)), ``max_img_sectors`` (default slot size / sector size) — the
bootloader's options (docs/mcuboot-trailer.md MCB-CFG-1). The trailer is written as bootutil
writes it (MCB-WRITE-3); an image reaching into the trailer is refused (MCB-BUILD-1).
"""

from __future__ import annotations

import hashlib
import re

from ...flash_map import FlashArea
from ...mcuboot import MODES, BootConfig, area_layout, parse_image, write_trailer
from .base import Options, Provider
from .raw import write_padded

__all__ = ["STATES", "McubootProvider"]

#: manifest state -> write_trailer state
STATES = {"none": "none", "confirmed": "confirmed", "test": "pending-test", "permanent": "pending-permanent"}
_VERSION = re.compile(r"^\d+(\.\d+){0,2}(\+\d+)?$")


class McubootProvider(Provider):
    """An MCUboot slot: image (given or signed with imgtool) plus its boot-state trailer."""

    type = "mcuboot"

    def __init__(self, entry):
        super().__init__(entry)
        opts = Options(entry)
        self.path = opts.file("file", required=True)
        self.key = opts.file("key")
        self.sign = opts.bool("sign", self.key is not None) or self.key is not None
        self.version = opts.str("version", "0.0.0+0")
        self.header_size = opts.int("header_size", 0x200, minimum=32)
        self.load_address = opts.int("load_address", 0, minimum=0)
        self.state: str = opts.str("state", "none") or "none"
        self.slot: str = opts.str("slot") or _slot_of(entry.label)
        self.mode: str = opts.str("mode", "swap-move") or "swap-move"
        self.max_align = opts.int("max_align")
        self.max_img_sectors = opts.int("max_img_sectors", minimum=1)
        opts.finish()
        if self.state not in STATES:
            raise self.fail(f"state {self.state!r}: expected one of {', '.join(STATES)}", "state")
        if self.slot not in ("primary", "secondary"):
            raise self.fail(f"slot {self.slot!r}: expected primary or secondary (label {entry.label!r} "
                            "is not a Zephyr slotN_partition)", "slot")
        if self.mode not in MODES:
            raise self.fail(f"mode {self.mode!r}: expected one of {', '.join(MODES)}", "mode")
        if not _VERSION.match(self.version or ""):
            raise self.fail(f"version {self.version!r}: expected major.minor.revision+build", "version")
        if (self.state == "confirmed") != (self.slot == "primary") and self.state != "none":
            raise self.fail(f"state {self.state!r} does not apply to the {self.slot} slot (confirmed is for "
                            "a primary slot, test/permanent for a secondary)", "state")
        self.data = self.path.read_bytes()
        self.image: bytes | None = None
        self.cfg: BootConfig | None = None

    def _config(self, area: FlashArea) -> BootConfig:
        sector = min(s.fs_size for s in area.sectors())
        try:
            return BootConfig(mode=self.mode, max_align=self.max_align or max(8, area.align),
                              max_img_sectors=self.max_img_sectors or area.size // sector)
        except ValueError as exc:
            raise self.fail(str(exc), "max_align") from None

    def check(self, area: FlashArea) -> None:
        self.cfg = cfg = self._config(area)
        if self.sign:
            self.image = self._signed(area, cfg)
        else:
            if parse_image(self.data) is None:
                raise self.fail(f"{self.path} is not an MCUboot image (no header magic); give key = ... or "
                                "sign = true to sign it with imgtool", "file")
            self.image = self.data
        room = area_layout(area, cfg).status if self.state != "none" else area.size
        if len(self.image) > room:
            raise self.fail(f"image of {len(self.image)} bytes leaves no room for the MCUboot trailer: "
                            f"the slot holds {room} bytes before its trailer ({area.size} bytes slot, "
                            f"{area.size - room} bytes trailer)", "file")

    def _signed(self, area: FlashArea, cfg: BootConfig) -> bytes:
        from ...mcuboot.sign import SignParams, sign_image  # optional extra (imgtool)
        params = SignParams(version=self.version or "0.0.0+0", header_size=self.header_size or 0x200,
                            align=area.align, slot_size=area.size, max_align=cfg.max_align,
                            max_sectors=cfg.max_img_sectors, erased_val=area.erased_val,
                            load_address=self.load_address or 0)
        return sign_image(self.data, self.key, params, name=self.where("file"))

    def render(self, area: FlashArea) -> None:
        if self.image is None or self.cfg is None:
            self.check(area)
        assert self.image is not None and self.cfg is not None
        write_padded(area, 0, self.image)
        write_trailer(area, STATES[self.state], cfg=self.cfg, slot=self.slot)

    def describe(self) -> dict:
        img = parse_image(self.image or self.data)
        cfg = self.cfg
        return {"type": self.type, "file": str(self.path), "signed_by": str(self.key) if self.key else None,
                "signed_here": self.sign, "version": img.version if img else None,
                "length": len(self.image or b""), "sha256": hashlib.sha256(self.image or b"").hexdigest(),
                "slot": self.slot, "state": self.state,
                "bootloader": {"mode": cfg.mode, "max_align": cfg.max_align,
                               "max_img_sectors": cfg.max_img_sectors} if cfg else None}


def _slot_of(label: str) -> str:
    m = re.fullmatch(r"slot(\d+)_partition", label)
    if m is None:
        return "unknown"
    return "primary" if int(m.group(1)) % 2 == 0 else "secondary"
