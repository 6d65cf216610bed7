"""Separating defects from the limits of an on-flash format in campaign results.

A store that guards a record or ATE with a CRC-8 accepts a torn program whose kept bytes match
their CRC by chance (about 1 in 256 such tears): the remounted store then serves a value that
is neither the old nor the new one, or a phantom entry. That is a property of the format, not a
defect of the implementation (Zephyr NVS and AliOS KV behave the same; see their docs). A cut
whose violations come from such a program is counted as a **format limit**, with that expected
rate, instead of a plain failure. Targets say whether a cut image holds such a program
(:meth:`flashstack.torture.target.Target.torn_crc_match`); the checks below are per format.
"""

from __future__ import annotations

__all__ = ["FORMAT_LIMIT_NOTE", "CRC8_RATE", "torn_nvs_ate_matches", "torn_kv_record_matches",
           "classify"]

CRC8_RATE = 1 / 256
FORMAT_LIMIT_NOTE = ("format limit: a torn ATE/record whose CRC-8 matched by chance was accepted "
                     "at mount (expected in about 1 of 256 torn programs of one; not a defect)")


def torn_nvs_ate_matches(before: bytes, cut: bytes, cut_at: tuple, sector_size: int,
                         write_block: int) -> bool:
    """The cut program was one NVS ATE slot and left 8 bytes there that differ from before,
    are not erased and pass the ATE CRC-8 (Zephyr nvs_priv.h ``struct nvs_ate``)."""
    from ..nvs.format import Ate
    kind, off, length = cut_at
    a = max(8, write_block)
    if kind != "write" or length != a or (sector_size - off % sector_size) % a:
        return False
    raw = cut[off:off + 8]
    erased = bytes([cut[off + 8]]) * 8 if len(cut) > off + 8 else b"\xff" * 8
    return raw != before[off:off + 8] and raw not in (erased, b"\xff" * 8, bytes(8)) \
        and Ate.unpack(raw).crc_ok


def torn_kv_record_matches(before: bytes, cut: bytes, cut_at: tuple, pos32: bool) -> bool:
    """The cut program was an AliOS KV record whose torn bytes still read as a NORMAL record
    with a matching CRC-8 over key and value (docs/alios-kv.md §4.3)."""
    from ..kv import format as fmt
    kind, off, length = cut_at
    hdr = fmt.header_struct(pos32)
    if kind != "write" or length < hdr.size or cut[off:off + length] == before[off:off + length]:
        return False
    magic, state, crc, kl, vl, _ = hdr.unpack_from(cut, off)
    body = cut[off + hdr.size:off + hdr.size + kl + vl]
    return (magic == fmt.ITEM_MAGIC and state == fmt.ITEM_STATE_NORMAL and kl and vl
            and len(body) == kl + vl and fmt.crc8(body) == crc) is True


def classify(target, out, before: bytes, cut: bytes) -> None:
    """Move the violations of cut outcome ``out`` to the format-limit note when its torn
    program is one the format cannot tell from a good one."""
    if out.violations and out.cut_at and target.torn_crc_match(before, cut, out.cut_at):
        out.violations = []
        out.notes.append(FORMAT_LIMIT_NOTE)
