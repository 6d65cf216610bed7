"""``littlefs`` partition content: a littlefs filesystem holding a folder (extra ``littlefs``).

Keys: ``dir`` (required; its files and sub-folders, sorted by name, are copied), and the
littlefs configuration: ``block_size`` (default: the partition's erase page; a multiple of
it), ``block_count`` (default: as many blocks as fit), ``read_size`` / ``prog_size``
(default: the device's write block), ``cache_size`` (default 64, Zephyr's
``CONFIG_FS_LITTLEFS_CACHE_SIZE``, rounded to the read/prog sizes), ``lookahead_size``
(default 32), ``name_max`` (default 255), ``block_cycles`` (default 512).

The image is made in memory with littlefs-python (imported lazily), then only the blocks
that are not erased are programmed.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import NotSupported
from ...flash_map import FlashArea
from .base import Options, Provider, copy_content

__all__ = ["LittleFSProvider", "import_littlefs"]


def import_littlefs():
    """The ``littlefs`` module; NotSupported (ENOSYS) naming the extra when it is missing."""
    try:
        import littlefs  # noqa: PLC0415 - optional extra, imported lazily
    except ImportError:
        raise NotSupported("littlefs support needs littlefs-python: pip install 'flashstack[littlefs]'") from None
    return littlefs


def _lcm(a: int, b: int) -> int:
    from math import gcd
    return a * b // gcd(a, b)


class LittleFSProvider(Provider):
    """A littlefs image of ``dir``."""

    type = "littlefs"

    def __init__(self, entry):
        super().__init__(entry)
        o = Options(entry)
        self.dir: Path = o.folder("dir", required=True)
        self.block_size = o.integer("block_size", None, minimum=128)
        self.block_count = o.integer("block_count", None, minimum=2)
        self.read_size = o.integer("read_size", None, minimum=1)
        self.prog_size = o.integer("prog_size", None, minimum=1)
        self.cache_size = o.integer("cache_size", None, minimum=1)
        self.lookahead_size = o.integer("lookahead_size", 32, minimum=8)
        self.name_max = o.integer("name_max", 255, minimum=1, maximum=1022)
        self.block_cycles = o.integer("block_cycles", 512)
        o.finish()
        if self.lookahead_size % 8:
            raise self.fail(f"must be a multiple of 8, got {self.lookahead_size}", "lookahead_size")
        self.image: bytes | None = None
        self.files: list[tuple[str, int]] = []
        self.config: dict = {}

    # --- geometry -------------------------------------------------------------------
    def _geometry(self, area: FlashArea) -> dict:
        pages = {p.size for p in area.erase_pages()}
        if len(pages) != 1:
            raise self.fail(f"littlefs needs uniform erase pages; partition {area.name} has "
                            f"pages of {sorted(pages)} bytes")
        page = pages.pop()
        block_size = self.block_size or page
        if block_size % page:
            raise self.fail(f"block size {block_size} is not a multiple of the erase page {page}",
                            "block_size")
        fit = area.size // block_size
        block_count = self.block_count or fit
        if block_count > fit:
            raise self.fail(f"{block_count} blocks of {block_size} bytes ({block_count * block_size:#x}) "
                            f"do not fit the partition of {area.size:#x} bytes", "block_count")
        if block_count < 2:
            raise self.fail(f"partition of {area.size:#x} bytes holds fewer than 2 blocks of {block_size}")
        wbs = max(1, area.align)
        read_size = self.read_size or wbs
        prog_size = self.prog_size or wbs
        if prog_size % wbs:
            raise self.fail(f"prog_size {prog_size} is not a multiple of the write block {wbs}", "prog_size")
        unit = _lcm(read_size, prog_size)
        cache = self.cache_size or max(64, unit)
        cache = -(-cache // unit) * unit
        if block_size % cache:
            raise self.fail(f"cache size {cache} must divide the block size {block_size}", "cache_size")
        if area.erased_val != 0xFF:
            raise self.fail(f"device erase value {area.erased_val:#x}: littlefs images are built for 0xFF")
        return dict(block_size=block_size, block_count=block_count, read_size=read_size,
                    prog_size=prog_size, cache_size=cache, lookahead_size=self.lookahead_size,
                    name_max=self.name_max, block_cycles=self.block_cycles)

    # --- steps ------------------------------------------------------------------------
    def check(self, area: FlashArea) -> None:
        self.config = self._geometry(area)
        littlefs = import_littlefs()
        fs = littlefs.LittleFS(mount=False, **self.config)
        fs.format()
        fs.mount()
        self.files = []
        try:
            self._copy_tree(fs, self.dir, "")
        except littlefs.LittleFSError as exc:
            size = self.config["block_size"] * self.config["block_count"]
            raise self.fail(f"folder {str(self.dir)!r} does not fit a littlefs of {size:#x} bytes "
                            f"({exc})", "dir") from None
        self.used_blocks = fs.used_block_count
        fs.unmount()
        self.image = bytes(fs.context.buffer)

    def _copy_tree(self, fs, folder: Path, prefix: str) -> None:
        for child in sorted(folder.iterdir(), key=lambda p: p.name):
            name = f"{prefix}/{child.name}" if prefix else child.name
            if len(child.name.encode()) > self.name_max:
                raise self.fail(f"name {name!r} is longer than name_max {self.name_max}", "dir")
            if child.is_dir():
                fs.mkdir(name)
                self._copy_tree(fs, child, name)
            elif child.is_file():
                data = child.read_bytes()
                with fs.open(name, "wb") as f:
                    f.write(data)
                self.files.append((name, len(data)))

    def render(self, area: FlashArea) -> None:
        if self.image is None:
            self.check(area)
        assert self.image is not None, "check() sets image"
        copy_content(self.image, area, self.config["block_size"])

    def describe(self) -> dict:
        return {"type": self.type, "dir": str(self.dir), "config": self.config,
                "files": [{"path": p, "size": n} for p, n in self.files],
                "used_blocks": getattr(self, "used_blocks", None)}
