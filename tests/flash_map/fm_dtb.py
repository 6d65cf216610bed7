"""A minimal DTB writer for tests (devicetree specification v0.4 §5), independent of dtc.

``write_dtb(tree, symbols=True, version=17)`` flattens a DtTree; with ``symbols`` it adds a
``/__symbols__`` node (label -> path) as ``dtc -@`` does, and ``phandle`` properties for
every node referenced by a phandle cell are kept from the tree's own values.
"""

from __future__ import annotations

import struct

from flashstack.board.devicetree.dtree import DtNode, DtTree


def write_dtb(tree: DtTree, *, symbols: bool = True, version: int = 17, nops: bool = False) -> bytes:
    strings = bytearray()
    offsets: dict[str, int] = {}

    def name_off(name: str) -> int:
        if name not in offsets:
            offsets[name] = len(strings)
            strings.extend(name.encode() + b"\0")
        return offsets[name]

    struct_blk = bytearray()

    def u32(v: int) -> None:
        struct_blk.extend(struct.pack(">I", v))

    def pad() -> None:
        while len(struct_blk) % 4:
            struct_blk.append(0)

    def emit(node: DtNode, extra_children=()) -> None:
        u32(1)
        struct_blk.extend(node.name.encode() + b"\0")
        pad()
        for p in node.props.values():
            if nops:
                u32(4)
            u32(3)
            u32(len(p.value))
            u32(name_off(p.name))
            struct_blk.extend(p.value)
            pad()
        for c in node.children.values():
            emit(c)
        for c in extra_children:
            emit(c)
        u32(2)

    extra = []
    if symbols:
        sym = DtNode("__symbols__")
        for n in tree.nodes():
            for lab in reversed(n.labels):  # newest first, as dtc writes them
                from flashstack.board.devicetree.dtree import DtProp
                sym.props[lab] = DtProp(lab, n.path.encode() + b"\0")
        extra.append(sym)
    emit(tree.root, extra)
    u32(9)

    header_len = 40
    rsv = struct.pack(">QQ", 0, 0)
    off_rsv = header_len
    off_struct = off_rsv + len(rsv)
    off_strings = off_struct + len(struct_blk)
    total = off_strings + len(strings)
    header = struct.pack(">10I", 0xD00DFEED, total, off_struct, off_strings, off_rsv, version,
                         16, 0, len(strings), len(struct_blk) if version >= 17 else 0)
    return header + rsv + bytes(struct_blk) + bytes(strings)
