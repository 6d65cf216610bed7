"""A neutral, read-only devicetree model shared by the DTS and DTB readers.

Both readers (``devicetree.dtlib`` for DTS, :mod:`.dtb` for flattened trees) produce a
:class:`DtTree` so that partition extraction, MTD resolution and Zephyr's dependency
ordinals (:mod:`._ordinal`) have one implementation. Spec: docs/flash-map.md §8–§9.

Property values are the raw big-endian bytes of the devicetree. ``DtProp.refs`` lists the
nodes a phandle-typed property points at (in cell order); ``DtProp.path_ref`` is the node a
path reference (``&label`` outside ``< >``, or a path string in a DTB) designates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from ...errors import InvalidArgument


@dataclass(eq=False)
class DtProp:
    """One property: ``name``, raw ``value`` bytes, phandle targets ``refs``, ``path_ref``."""

    name: str
    value: bytes = b""
    refs: tuple = ()          # DtNode targets of phandle-typed cells (edges of the dep graph)
    path_ref: "DtNode | None" = None

    def cells(self) -> list[int]:
        """The value as big-endian 32-bit cells; EINVAL if the length is not a multiple of 4."""
        v = self.value
        if len(v) % 4:
            raise InvalidArgument(f"property {self.name}: {len(v)} bytes is not a whole number of cells")
        return [int.from_bytes(v[i:i + 4], "big") for i in range(0, len(v), 4)]

    def strings(self) -> list[str]:
        """NUL-separated strings (``compatible``, ``status``, ``label``)."""
        if not self.value:
            return []
        return self.value.rstrip(b"\0").decode("utf-8", "replace").split("\0")

    def string(self) -> str:
        """The first string of the value ("" when empty)."""
        s = self.strings()
        return s[0] if s else ""


@dataclass(eq=False)
class DtNode:
    """One node: ``name`` (with ``@unit``), ``parent``, ordered ``children`` and ``props``,
    node ``labels`` (first is primary; empty for a DTB without ``__symbols__``)."""

    name: str
    parent: "DtNode | None" = None
    children: dict = field(default_factory=dict)
    props: dict = field(default_factory=dict)
    labels: list = field(default_factory=list)

    @property
    def path(self) -> str:
        """Full node path (``/soc/flash@0/partitions/partition@0``)."""
        names = []
        n: DtNode | None = self
        while n is not None and n.parent is not None:  # iterative: depth is not Python's limit
            names.append(n.name)
            n = n.parent
        return "/" + "/".join(reversed(names))

    @property
    def unit_addr(self) -> str | None:
        """The text after ``@`` in the node name, or None."""
        return self.name.split("@", 1)[1] if "@" in self.name else None

    @property
    def compats(self) -> list[str]:
        """The ``compatible`` strings (empty list when absent)."""
        p = self.props.get("compatible")
        return p.strings() if p else []

    @property
    def status(self) -> str | None:
        """The ``status`` string, or None when absent (= enabled)."""
        p = self.props.get("status")
        return p.string() if p else None

    @property
    def okay(self) -> bool:
        """Status absent, ``"okay"`` or ``"ok"`` (devicetree spec; Zephyr's status okay)."""
        return self.status in (None, "okay", "ok")

    def num(self, name: str) -> int | None:
        """A one-cell (or multi-cell, concatenated) number property, None when absent."""
        p = self.props.get(name)
        if p is None:
            return None
        return join_cells(p.cells())

    def address_cells(self) -> int:
        """``#address-cells`` of this node (for its children's ``reg``); default 2."""
        v = self.num("#address-cells")
        return 2 if v is None else v

    def size_cells(self) -> int:
        """``#size-cells`` of this node (for its children's ``reg``); default 1."""
        v = self.num("#size-cells")
        return 1 if v is None else v

    def reg(self) -> list[tuple[int, int | None]]:
        """``reg`` as ``(address, size)`` pairs decoded with the parent's cells (FM-18).
        ``size`` is None when the parent's ``#size-cells`` is 0."""
        p = self.props.get("reg")
        if p is None:
            return []
        parent = self.parent
        ac = parent.address_cells() if parent else 2
        sc = parent.size_cells() if parent else 1
        cells = p.cells()
        step = ac + sc
        if step == 0 or len(cells) % step:
            raise InvalidArgument(f"node {self.path}: reg has {len(cells)} cells, not a multiple of "
                                  f"#address-cells {ac} + #size-cells {sc}")
        out = []
        for i in range(0, len(cells), step):
            out.append((join_cells(cells[i:i + ac]), join_cells(cells[i + ac:i + step]) if sc else None))
        return out

    def ranges(self) -> list[tuple[int, int, int]] | None:
        """``ranges`` as ``(child address, parent address, length)`` triples, decoded with this
        node's ``#address-cells``/``#size-cells`` and its parent's ``#address-cells``. None
        when absent; ``[]`` for an empty ``ranges;`` (identity)."""
        p = self.props.get("ranges")
        if p is None:
            return None
        cac, csc = self.address_cells(), self.size_cells()
        pac = self.parent.address_cells() if self.parent is not None else 2
        cells = p.cells()
        step = cac + pac + csc
        if cells and (not step or len(cells) % step):
            raise InvalidArgument(f"node {self.path}: ranges has {len(cells)} cells, not a "
                                  f"multiple of {step}")
        return [(join_cells(cells[i:i + cac]), join_cells(cells[i + cac:i + cac + pac]),
                 join_cells(cells[i + cac + pac:i + step])) for i in range(0, len(cells), step)]

    def walk(self) -> Iterator["DtNode"]:
        """This node and its descendants in pre-order (file order of children)."""
        stack: list[DtNode] = [self]
        while stack:  # iterative pre-order
            n = stack.pop()
            yield n
            stack.extend(reversed(list(n.children.values())))

    def __repr__(self) -> str:
        return f"<DtNode {self.path}>"


def join_cells(cells) -> int:
    """Big-endian concatenation of 32-bit cells (multi-cell addresses and sizes)."""
    v = 0
    for c in cells:
        v = (v << 32) | c
    return v


@dataclass(eq=False)
class DtTree:
    """A whole tree: ``root``, the ``source`` file name and ``labels`` (label -> node)."""

    root: DtNode
    source: str = "<devicetree>"
    kind: str = "dts"   # "dts" or "dtb"

    def __post_init__(self):
        self.by_path = {n.path: n for n in self.root.walk()}
        self.labels: dict[str, DtNode] = {}
        for n in self.root.walk():
            for lab in n.labels:
                self.labels.setdefault(lab, n)

    def nodes(self) -> Iterator[DtNode]:
        """Every node in pre-order from the root (children in file order)."""
        return self.root.walk()

    def get(self, path: str) -> DtNode | None:
        """The node at the full ``path``, or None."""
        return self.by_path.get(path)

    @property
    def chosen(self) -> DtNode | None:
        """The ``/chosen`` node, or None."""
        return self.by_path.get("/chosen")
