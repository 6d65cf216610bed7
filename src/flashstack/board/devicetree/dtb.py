"""Flattened devicetree (DTB) reader, standard library only (docs/flash-map.md FM-30).

Format: devicetree specification v0.4 §5 ("Flattened Devicetree (DTB) Format"): a big-endian
header (magic 0xD00DFEED, versions 16 and 17 accepted), a structure block of tokens
(FDT_BEGIN_NODE 1, FDT_END_NODE 2, FDT_PROP 3, FDT_NOP 4, FDT_END 9) aligned to 4 bytes and
a strings block holding property names.

A DTB keeps no syntax, so two facts are recovered from conventions:

* node labels come only from ``/__symbols__`` (written by ``dtc -@``, a node's labels newest
  first; they are put back in source order); without it every node's ``labels`` is empty;
* phandle-typed properties are recognised by name only, and only where their cells name
  existing phandles: ``interrupt-parent``, ``partition``, ``pinctrl-<n>`` and other plain
  phandle lists (:data:`PHANDLE_PROPS`), and phandle-with-arguments arrays whose argument
  count comes from the target's ``#<x>-cells`` (``*-gpios``/``gpios``, ``clocks``, ``dmas``,
  ``pwms``, ``resets``, ``io-channels``, ``phys``, ``mboxes``, ``interrupts-extended``).

``/chosen`` values are path strings; they are resolved to nodes in ``path_ref``.
``/__symbols__``, ``/__fixups__`` and ``/__local_fixups__`` are dropped from the tree.
"""

from __future__ import annotations

import os
import re

from ...errors import InvalidArgument
from .dtree import DtNode, DtProp, DtTree

FDT_MAGIC = 0xD00DFEED
FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP, FDT_NOP, FDT_END = 1, 2, 3, 4, 9

PHANDLE_PROPS = {"interrupt-parent", "partition", "memory-region", "cpu",
                 "remote-endpoint", "nvmem-cells", "sram"}
_PINCTRL = re.compile(r"^pinctrl-\d+$")
_SPECIFIER_CELLS = {"clocks": "#clock-cells", "dmas": "#dma-cells", "pwms": "#pwm-cells",
                    "resets": "#reset-cells", "io-channels": "#io-channel-cells",
                    "phys": "#phy-cells", "mboxes": "#mbox-cells",
                    "interrupts-extended": "#interrupt-cells"}
_HIDDEN = ("__symbols__", "__fixups__", "__local_fixups__")
MAX_DEPTH = 64  # as the DTS reader (DT-1)


def is_dtb(data: bytes) -> bool:
    """FM-26: a DTB starts with the big-endian magic 0xD00DFEED."""
    return len(data) >= 4 and int.from_bytes(data[:4], "big") == FDT_MAGIC


def read_dtb(path) -> DtTree:
    """Read the DTB file ``path``. Errors: InvalidArgument (EINVAL) naming the file and the
    byte offset for a malformed blob; OSError for a missing file."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        return parse_dtb(f.read(), source=path)


def parse_dtb(blob: bytes, source: str = "<dtb>") -> DtTree:
    """Parse DTB bytes into a :class:`DtTree` (see module docstring)."""
    def bad(msg: str, off: int | None = None):
        at = f" at byte {off:#x}" if off is not None else ""
        return InvalidArgument(f"{source}: malformed DTB{at}: {msg}")

    if len(blob) < 40 or not is_dtb(blob):
        raise bad("missing 0xd00dfeed magic or header shorter than 40 bytes", 0)
    hdr = [int.from_bytes(blob[i:i + 4], "big") for i in range(0, 40, 4)]
    _, total, off_struct, off_strings, _rsv, version, last_comp, _cpu, size_strings, size_struct = hdr
    if version < 16 or last_comp > 17:
        raise bad(f"version {version} (last compatible {last_comp}); versions 16-17 are read")
    if total > len(blob):
        raise bad(f"header says {total} bytes, file has {len(blob)}")
    strings = blob[off_strings:off_strings + size_strings]
    end_struct = off_struct + size_struct if version >= 17 else total

    def u32(off: int) -> int:
        if off + 4 > end_struct:
            raise bad("structure block ends inside a token", off)
        return int.from_bytes(blob[off:off + 4], "big")

    def cstr(buf: bytes, off: int, base: int) -> tuple[str, int]:
        end = buf.find(b"\0", off)
        if end < 0:
            raise bad("unterminated string", base + off)
        return buf[off:end].decode("utf-8", "replace"), end + 1

    root = None
    stack: list[DtNode] = []
    off = off_struct
    while True:
        tok = u32(off)
        off += 4
        if tok == FDT_BEGIN_NODE:
            name, nxt = cstr(blob, off, 0)
            off = (nxt + 3) & ~3
            parent = stack[-1] if stack else None
            if len(stack) > MAX_DEPTH:
                raise bad(f"nodes nested deeper than {MAX_DEPTH} levels (DT-1)", off)
            if parent is None and root is not None:
                raise bad("second root node", off)
            node = DtNode(name, parent)
            if parent is None:
                root = node
            else:
                parent.children[name] = node
            stack.append(node)
        elif tok == FDT_END_NODE:
            if not stack:
                raise bad("FDT_END_NODE without a node", off - 4)
            stack.pop()
        elif tok == FDT_PROP:
            length, nameoff = u32(off), u32(off + 4)
            off += 8
            if not stack:
                raise bad("property outside any node", off - 12)
            if off + length > end_struct or nameoff >= len(strings):
                raise bad("property runs past the structure or strings block", off - 12)
            name, _ = cstr(strings, nameoff, off_strings)
            stack[-1].props[name] = DtProp(name, bytes(blob[off:off + length]))
            off = (off + length + 3) & ~3
        elif tok == FDT_NOP:
            continue
        elif tok == FDT_END:
            break
        else:
            raise bad(f"unknown token {tok:#x}", off - 4)
    if root is None or stack:
        raise bad("unbalanced node tokens")
    _finish(root)
    return DtTree(root, source=source, kind="dtb")


def _finish(root: DtNode) -> None:
    by_path = {n.path: n for n in root.walk()}
    symbols = root.children.get("__symbols__")
    if symbols is not None:
        for label, prop in symbols.props.items():
            target = by_path.get(prop.string())
            if target is not None:
                target.labels.append(label)
        # dtc keeps a node's labels newest first (and writes them so): restore source order,
        # so that the first label is the one the source gave first, as in the DTS reader.
        for n in by_path.values():
            n.labels.reverse()
    for hidden in _HIDDEN:
        root.children.pop(hidden, None)
    phandles = {}
    for n in root.walk():
        for key in ("phandle", "linux,phandle"):
            p = n.props.get(key)
            if p is not None and len(p.value) == 4:
                phandles[int.from_bytes(p.value, "big")] = n
    for n in root.walk():
        for name, p in n.props.items():
            p.refs = tuple(_refs(name, p, phandles))
    chosen = root.children.get("chosen")
    if chosen is not None:
        for p in chosen.props.values():
            s = p.string() if p.value.endswith(b"\0") else ""
            if s.startswith("/"):
                p.path_ref = by_path.get(s)


def _refs(name: str, prop: DtProp, phandles: dict) -> list[DtNode]:
    if len(prop.value) % 4 or not prop.value:
        return []
    cells = prop.cells()
    if name in PHANDLE_PROPS or _PINCTRL.match(name):
        if all(c in phandles for c in cells):
            return [phandles[c] for c in cells]
        return []
    cells_prop = _SPECIFIER_CELLS.get(name)
    if cells_prop is None and (name == "gpios" or name.endswith("-gpios")):
        cells_prop = "#gpio-cells"
    if cells_prop is None:
        return []
    out, i = [], 0
    while i < len(cells):
        target = phandles.get(cells[i])
        if target is None:
            if cells[i] == 0:  # an empty entry (phandle 0) in a phandle-array
                i += 1
                continue
            return []
        out.append(target)
        n_args = target.num(cells_prop)
        i += 1 + (n_args or 0)
    return out
