"""Zephyr's dependency ordinals and partition IDs (docs/flash-map.md §8.2, FM-19).

Model: zephyr scripts/dts/python-devicetree grutils.py (``Graph``, ``node_key``, Tarjan's
strongly connected components) and edtlib's dependency graph, with the partition numbering
of scripts/dts/gen_defines.py. Re-implemented from that description:

* edges: node -> parent; node -> every node named by a phandle-typed property (except
  ``interrupt-parent`` itself, which edtlib does not treat as a binding property); node ->
  its (inherited) interrupt parent when it has ``interrupts``. ``/chosen`` and ``/aliases`` hold paths,
  not phandles, so they add no edge;
* roots are the nodes nothing depends on, visited in ascending :func:`node_key`; each node's
  dependencies are visited in the same key order; a node is numbered once every node it
  depends on is numbered (nodes on a dependency cycle get no ordinal);
* partition IDs (FM-19, MP-4): a counter from 0 over all nodes in ordinal order, given to
  every node whose parent's ``compatible`` contains ``fixed-partitions`` and to every node
  whose own ``compatible`` contains ``zephyr,mapped-partition`` (Zephyr 4.4, at any depth),
  whatever its status. Fixed and mapped partitions share the one counter.
"""

from __future__ import annotations

import warnings
from collections import defaultdict

from .dtree import DtNode, DtTree


def translated_unit_addr(node: DtNode) -> int | None:
    """edtlib's ``Node.unit_addr``: the hex unit address translated through the ancestors'
    ``ranges`` (no ``ranges`` stops translation; an empty ``ranges`` is identity)."""
    ua = node.unit_addr
    if ua is None:
        return None
    try:
        addr = int(ua, 16)
    except ValueError:
        warnings.warn(f"{node.path}: unit address {ua!r} is not hexadecimal; sorted as none",
                      stacklevel=2)
        return None
    return translate(addr, node)


def translate(addr: int, node: DtNode) -> int:
    """edtlib ``_translate``: ``addr`` (an address in ``node``'s parent's space, e.g. from
    its ``reg``) taken up through each ancestor's ``ranges``; an empty ``ranges`` is identity,
    an ancestor without ``ranges`` or an address outside every range stops the translation."""
    parent = node.parent
    while parent is not None:
        entries = parent.ranges()
        if entries is None:
            return addr  # no 'ranges': no translation
        for c_addr, p_addr, length in entries:
            if c_addr <= addr < c_addr + length:
                addr = p_addr + addr - c_addr
                break
        else:
            if entries:
                return addr  # outside every range: no translation
        node, parent = parent, parent.parent
    return addr


def node_key(node: DtNode) -> tuple:
    """grutils ``node_key``: (parent path, name without ``@unit``, unit address int or -1)."""
    parent_path = node.parent.path if node.parent is not None else "/"
    ua = translated_unit_addr(node)
    if ua is None:
        return (parent_path, node.name, -1)
    return (parent_path, node.name.rsplit("@", 1)[0], ua)


def _interrupt_parent(node: DtNode) -> DtNode | None:
    n: DtNode | None = node
    while n is not None:
        p = n.props.get("interrupt-parent")
        if p is not None:
            return p.refs[0] if p.refs else None
        n = n.parent
    return None


def dependency_graph(tree: DtTree) -> dict[DtNode, set[DtNode]]:
    """Edges ``node -> [dependencies]`` of every node in the tree (see module docstring)."""
    deps: dict[DtNode, set[DtNode]] = defaultdict(set)
    for n in tree.nodes():
        deps[n]  # every node is in the graph
        if n.parent is not None:
            deps[n].add(n.parent)
        for name, p in n.props.items():
            if name == "interrupt-parent":
                continue  # not a binding property in edtlib: only 'interrupts' adds that edge
            for target in p.refs:
                deps[n].add(target)
        if "interrupts" in n.props:
            ip = _interrupt_parent(n)
            if ip is not None:
                deps[n].add(ip)
    return deps


def dep_ordinals(tree: DtTree) -> dict[DtNode, int | None]:
    """``node.dep_ordinal`` for every node (0 for the root ``/``); None for nodes on a
    dependency cycle or reachable from no root (as grutils leaves them)."""
    deps = dependency_graph(tree)
    keys = {n: node_key(n) for n in deps}
    depended_on = set()
    for n, ds in deps.items():
        for d in ds:
            if d is not n:
                depended_on.add(d)
    ordered = {n: sorted(ds, key=keys.__getitem__) for n, ds in deps.items()}
    roots = sorted((n for n in deps if n not in depended_on), key=keys.__getitem__)

    index: dict[DtNode, int] = {}
    low: dict[DtNode, int] = {}
    on_stack: set = set()
    stack: list = []
    ordinal: dict[DtNode, int] = {}
    counter = [0, 0]  # next Tarjan index, next ordinal

    def strong_connect(v):
        # Iterative Tarjan: frames of (node, iterator over its dependencies).
        work = [(v, iter(ordered[v]))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        while work:
            node, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(ordered[w])))
                    advanced = True
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                scc = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    scc.append(w)
                    if w is node:
                        break
                # As grutils: only single-node components are numbered; nodes on a
                # dependency cycle get no ordinal (edtlib reports such a cycle as an error).
                if len(scc) == 1:
                    ordinal[node] = counter[1]
                    counter[1] += 1

    for r in roots:
        if r not in index:
            strong_connect(r)
    return {n: ordinal.get(n) for n in tree.nodes()}


MAPPED = "zephyr,mapped-partition"


def is_fixed_partition(node: DtNode) -> bool:
    """A child of a ``fixed-partitions`` node (numbered by gen_defines.py, FM-19)."""
    return node.parent is not None and "fixed-partitions" in node.parent.compats


def is_mapped_partition(node: DtNode) -> bool:
    """A node with compatible ``zephyr,mapped-partition`` that is not a ``fixed-partitions``
    child (such a node is a fixed partition whatever its own compatible)."""
    return MAPPED in node.compats and not is_fixed_partition(node)


def partition_ids(tree: DtTree) -> dict[DtNode, int]:
    """Zephyr ``DT_PARTITION_ID`` of every fixed (FM-19) and mapped (MP-4) partition."""
    ords = dep_ordinals(tree)
    out: dict[DtNode, int] = {}
    # Ties (one strongly connected component) keep the tree's pre-order, as gen_defines.py
    # sorts edtlib's node list (pre-order) by ordinal with a stable sort.
    # Nodes without an ordinal (dependency cycles, which Zephyr rejects) come last.
    for n in sorted(tree.nodes(), key=lambda n: (ords[n] is None, ords[n] or 0)):
        if is_fixed_partition(n) or is_mapped_partition(n):
            out[n] = len(out)
    return out
