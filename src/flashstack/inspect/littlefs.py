"""littlefs detection and summary (reads the superblock; walks the tree with littlefs-python).

Superblock (littlefs SPEC.md): metadata block 0 or 1 starts with a 4-byte revision count,
a tag, the name ``"littlefs"`` at offset 8, a tag, then the inline superblock struct at offset
20: version, block_size, block_count, name_max, file_max, attr_max (little-endian u32).
"""

from __future__ import annotations

import struct

__all__ = ["find_superblock", "summarize_littlefs"]

_MAGIC = b"littlefs"


def find_superblock(data: bytes, block_sizes=()) -> dict | None:
    """The superblock fields found at offset 0, or in block 1 for one of ``block_sizes``
    (littlefs keeps the superblock pair in blocks 0 and 1). None when absent or implausible."""
    candidates = [0] + [bs for bs in block_sizes if 0 < bs < len(data)]
    for off in candidates:
        if data[off + 8:off + 16] != _MAGIC or off + 44 > len(data):
            continue
        version, block_size, block_count, name_max, file_max, attr_max = struct.unpack_from("<6I", data, off + 20)
        if block_size < 128 or block_count < 2 or version >> 16 not in (1, 2):
            continue
        return {"found_at": off, "version": f"{version >> 16}.{version & 0xFFFF}",
                "block_size": block_size, "block_count": block_count, "name_max": name_max,
                "file_max": file_max, "attr_max": attr_max}
    return None


def summarize_littlefs(data: bytes, sb: dict, details: bool = False) -> dict:
    """Mount a copy of ``data`` read-only with littlefs-python and report usage and files.
    Without the extra, only the superblock is reported (``mounted`` False and a note)."""
    out = {"superblock": sb, "mounted": False}
    size = sb["block_size"] * sb["block_count"]
    if size > len(data):
        out["problems"] = [f"superblock says {sb['block_count']} blocks of {sb['block_size']} bytes "
                           f"({size:#x}), the partition holds {len(data):#x}"]
        return out
    try:
        import littlefs  # noqa: PLC0415 - optional extra
    except ImportError:
        out["note"] = "install flashstack[littlefs] to list files"
        return out
    ctx = littlefs.UserContext(size)
    ctx.buffer[:] = data[:size]
    try:
        fs = littlefs.LittleFS(context=ctx, mount=False, block_size=sb["block_size"],
                               block_count=sb["block_count"], name_max=sb["name_max"] or 255)
        fs.mount()
    except littlefs.LittleFSError as exc:
        out["problems"] = [f"mount failed: {exc}"]
        return out
    files, dirs, total = [], 0, 0
    for root, dnames, fnames in fs.walk("/"):
        dirs += len(dnames)
        for name in sorted(fnames):
            path = f"{root.rstrip('/')}/{name}"
            n = fs.stat(path).size
            total += n
            files.append({"path": path, "size": n})
    used = fs.used_block_count
    fs.unmount()
    out.update({"mounted": True, "files": len(files), "dirs": dirs, "file_bytes": total,
                "used_blocks": used, "used_bytes": used * sb["block_size"],
                "free_bytes": (sb["block_count"] - used) * sb["block_size"]})
    if details:
        out["file_list"] = files
    return out
