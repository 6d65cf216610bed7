"""MCUboot image headers and TLVs: decoding, the bootloader's validity checks, and a
hash-only image maker (what ``imgtool sign`` writes without a key).

Format (mcu-tools/mcuboot ``boot/bootutil/include/bootutil/image.h``; docs/mcuboot-trailer.md
MCB-IMG-1..4): a 32-byte header ``<IIHHII BBHI I`` = magic, load address, header size,
protected TLV size, image size, flags, version (major, minor, revision, build number),
padding; then the image body; then an optional protected TLV area (info magic 0x6908) and
the TLV area (info magic 0x6907), each starting with ``<HH`` (magic, total length including
the info) followed by ``<HH`` (type, length) TLVs. The hash TLV covers the header, the body
and the protected TLV area. All offsets are relative to the start of the image (which is
the slot start except for swap-offset secondaries).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field

__all__ = [
    "BOOT_MAGIC",
    "FLAG_NAMES",
    "IMAGE_MAGIC",
    "IMAGE_MAGIC_V1",
    "TLV_INFO_MAGIC",
    "TLV_NAMES",
    "TLV_PROT_INFO_MAGIC",
    "McubootImage",
    "image_problems",
    "make_image",
    "parse_image",
    "read_version",
]

IMAGE_MAGIC = 0x96F3B83D
IMAGE_MAGIC_V1 = 0x96F3B83C
TLV_INFO_MAGIC = 0x6907
TLV_PROT_INFO_MAGIC = 0x6908
HEADER = struct.Struct("<IIHHII BBHI I")
TLV_SHA256, TLV_SHA384, TLV_SHA512 = 0x10, 0x11, 0x12
TLV_NAMES = {0x01: "KEYHASH", 0x02: "PUBKEY", 0x10: "SHA256", 0x11: "SHA384", 0x12: "SHA512",
             0x20: "RSA2048_PSS", 0x21: "ECDSA224", 0x22: "ECDSA_SIG", 0x23: "RSA3072_PSS",
             0x24: "ED25519", 0x25: "SIG_PURE", 0x30: "ENC_RSA2048", 0x31: "ENC_KW", 0x32: "ENC_EC256",
             0x33: "ENC_X25519", 0x34: "ENC_X25519_SHA512", 0x40: "DEPENDENCY", 0x50: "SEC_CNT",
             0x60: "BOOT_RECORD", 0x70: "DECOMP_SIZE", 0x71: "DECOMP_SHA", 0x72: "DECOMP_SIGNATURE",
             0x73: "COMP_DEC_SIZE", 0x74: "UUID_VID", 0x75: "UUID_CID"}
FLAG_PIC, FLAG_ENC128, FLAG_ENC256, FLAG_NON_BOOTABLE = 0x01, 0x04, 0x08, 0x10
FLAG_NAMES = {0x01: "PIC", 0x04: "ENCRYPTED_AES128", 0x08: "ENCRYPTED_AES256", 0x10: "NON_BOOTABLE",
              0x20: "RAM_LOAD", 0x100: "ROM_FIXED", 0x200: "COMPRESSED_LZMA1", 0x400: "COMPRESSED_LZMA2",
              0x800: "COMPRESSED_ARM_THUMB_FLT"}
#: flags a bootloader without encryption/decompression support refuses (MCB-IMG-3)
UNSUPPORTED_FLAGS = FLAG_ENC128 | FLAG_ENC256 | 0x200 | 0x400 | 0x800
#: the 8-byte-align trailer magic (kept for the boardless scan; see flashstack.mcuboot.boot_magic)
BOOT_MAGIC = struct.pack("<4I", 0xF395C277, 0x7FEFD260, 0x0F505235, 0x8079B62C)
_HASHES = {TLV_SHA256: hashlib.sha256, TLV_SHA384: hashlib.sha384, TLV_SHA512: hashlib.sha512}


@dataclass
class McubootImage:
    """A decoded image header and its TLVs. ``hash_ok`` is None when no hash TLV was found;
    ``problems`` lists what could not be decoded (truncated areas, bad TLV magics).
    ``total_size`` is header + body + protected TLVs + TLV area, in bytes."""

    load_address: int
    header_size: int
    protected_tlv_size: int
    image_size: int
    flags: int
    version: str
    tlvs: list[dict] = field(default_factory=list)
    hash_type: str | None = None
    hash_ok: bool | None = None
    hash_hex: str | None = None
    total_size: int = 0
    trailer_magic: bool = False
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"version": self.version, "image_size": self.image_size, "header_size": self.header_size,
                "load_address": self.load_address, "flags": [n for b, n in FLAG_NAMES.items() if self.flags & b],
                "protected_tlv_size": self.protected_tlv_size, "tlvs": self.tlvs,
                "hash": self.hash_type, "hash_hex": self.hash_hex, "hash_ok": self.hash_ok,
                "total_size": self.total_size, "trailer_magic": self.trailer_magic, "problems": self.problems}


def read_version(data: bytes) -> str | None:
    """``"M.m.r+b"`` of the header at the start of ``data``; None without the header magic."""
    if len(data) < HEADER.size or int.from_bytes(data[:4], "little") != IMAGE_MAGIC:
        return None
    major, minor, rev, build = HEADER.unpack_from(data)[6:10]
    return f"{major}.{minor}.{rev}+{build}"


def parse_image(data: bytes) -> McubootImage | None:
    """Decode the MCUboot image at the start of ``data`` (a slot's bytes from the image start);
    None when the header magic is absent. Never raises on damaged images: problems are recorded.
    An obsolete v1 header (magic 0x96f3b83c) decodes with a problem (MCB-IMG-1)."""
    if len(data) < HEADER.size:
        return None
    magic = int.from_bytes(data[:4], "little")
    if magic not in (IMAGE_MAGIC, IMAGE_MAGIC_V1):
        return None
    (_, load, hdr_size, prot_size, img_size, flags, major, minor, rev, build, _) = HEADER.unpack_from(data)
    img = McubootImage(load_address=load, header_size=hdr_size, protected_tlv_size=prot_size,
                       image_size=img_size, flags=flags, version=f"{major}.{minor}.{rev}+{build}")
    if magic == IMAGE_MAGIC_V1:
        img.problems.append("obsolete v1 image header (magic 0x96f3b83c): bootutil rejects it")
    img.trailer_magic = data[-16:] == BOOT_MAGIC
    signed_end = hdr_size + img_size + prot_size
    pos = hdr_size + img_size
    if hdr_size < HEADER.size or signed_end > len(data):
        img.problems.append(f"header size {hdr_size} + image size {img_size} + protected TLVs "
                            f"{prot_size} exceed the slot ({len(data)} bytes)")
        return img
    if prot_size:
        pos = _read_tlv_area(data, pos, TLV_PROT_INFO_MAGIC, img, protected=True)
        if pos != signed_end and not img.problems:
            img.problems.append(f"protected TLV area ends at {pos:#x}, header says {signed_end:#x}")
        pos = signed_end
    pos = _read_tlv_area(data, pos, TLV_INFO_MAGIC, img, protected=False)
    img.total_size = pos
    for t in img.tlvs:
        if t["type"] in _HASHES and img.hash_type is None and not t["protected"]:
            img.hash_type = TLV_NAMES[t["type"]]
            img.hash_hex = t["value_hex"]
            digest = _HASHES[t["type"]](data[:signed_end]).hexdigest()
            img.hash_ok = digest == t["value_hex"]
    return img


def _read_tlv_area(data: bytes, pos: int, magic: int, img: McubootImage, protected: bool) -> int:
    if pos + 4 > len(data):
        img.problems.append(f"TLV info at {pos:#x} is past the slot end")
        return pos
    found, total = struct.unpack_from("<HH", data, pos)
    if found != magic:
        img.problems.append(f"no {'protected ' if protected else ''}TLV info magic {magic:#06x} "
                            f"at {pos:#x} (found {found:#06x})")
        return pos
    end = pos + total
    if end > len(data) or total < 4:
        img.problems.append(f"TLV area at {pos:#x} of {total} bytes runs past the slot end")
        return pos
    p = pos + 4
    while p + 4 <= end:
        kind, length = struct.unpack_from("<HH", data, p)
        if p + 4 + length > end:
            img.problems.append(f"TLV type {kind:#x} at {p:#x} runs past its area")
            break
        value = data[p + 4:p + 4 + length]
        name = TLV_NAMES.get(kind, f"vendor {kind:#x}" if (kind & 0xFF) >= 0xA0 else f"{kind:#x}")
        img.tlvs.append({"type": kind, "name": name, "offset": p, "length": length, "protected": protected,
                         "value_hex": value.hex() if length <= 64 else None})
        p += 4 + length
    return end


def image_problems(img: McubootImage | None, room: int, max_size: int | None = None) -> list[str]:
    """Why bootutil would refuse ``img`` as a bootable image (MCB-IMG-3), empty when it would
    accept it (signatures are not checked here). ``room`` is the bytes from the image start to
    the slot end; ``max_size`` the mode's maximum image size incl. TLVs (MCB-SIZE-1), bytes."""
    if img is None:
        return ["no image header"]
    out = list(img.problems)
    if img.flags & FLAG_NON_BOOTABLE:
        out.append("image is flagged NON_BOOTABLE")
    if img.flags & UNSUPPORTED_FLAGS:
        out.append("image is encrypted or compressed (not supported by a default bootloader build)")
    if img.header_size + img.image_size + img.protected_tlv_size >= room:
        out.append(f"image of {img.header_size + img.image_size} bytes does not fit the slot")
    if max_size is not None and img.total_size > max_size:
        out.append(f"image with TLVs is {img.total_size} bytes, more than the {max_size} bytes "
                   "the swap can move")
    if img.hash_ok is None and not img.problems:
        out.append("no hash TLV")
    elif img.hash_ok is False:
        out.append(f"{img.hash_type} TLV does not match the image")
    return out


def make_image(payload: bytes, version: tuple[int, int, int, int] = (1, 0, 0, 0), *,
               header_size: int = 0x200, load_address: int = 0, flags: int = 0,
               protected_tlvs: list[tuple[int, bytes]] | tuple = ()) -> bytes:
    """A hash-only MCUboot image (what ``imgtool sign`` makes without a key): header padded to
    ``header_size`` with zeros, ``payload``, optional protected TLVs, and a SHA-256 TLV."""
    prot = b""
    if protected_tlvs:
        body = b"".join(struct.pack("<HH", t, len(v)) + v for t, v in protected_tlvs)
        prot = struct.pack("<HH", TLV_PROT_INFO_MAGIC, 4 + len(body)) + body
    major, minor, rev, build = version
    header = HEADER.pack(IMAGE_MAGIC, load_address, header_size, len(prot), len(payload), flags,
                         major, minor, rev, build, 0)
    signed = header.ljust(header_size, b"\0") + payload + prot
    digest = hashlib.sha256(signed).digest()
    tlv = struct.pack("<HH", TLV_SHA256, len(digest)) + digest
    return signed + struct.pack("<HH", TLV_INFO_MAGIC, 4 + len(tlv)) + tlv
