"""Zephyr's dependency-ordinal partition IDs (spec §8.2, FM-19) on synthetic trees, and the
Tarjan walk cross-checked against Zephyr's own ``devicetree.grutils.Graph`` on every board."""

from __future__ import annotations

import fm_data
import pytest
from fm_dtb import write_dtb

from flashstack.board.devicetree.dtb import parse_dtb
from flashstack.board.devicetree.dts import parse_dts_text
from flashstack.board.devicetree._ordinal import (
    dep_ordinals,
    dependency_graph,
    partition_ids,
    translated_unit_addr,
)

HEAD = """/dts-v1/;
/ {
    #address-cells = <1>;
    #size-cells = <1>;
"""


def ids_of(body: str) -> dict[str, int]:
    tree = parse_dts_text(HEAD + body + "\n};\n")
    return {(n.labels[0] if n.labels else n.path): i for n, i in partition_ids(tree).items()}


def flash(parent: str, parts: str) -> str:
    return f"""
    {parent} {{
        compatible = "soc-nv-flash";
        reg = <0x0 0x100000>;
        erase-block-size = <4096>;
        partitions {{
            compatible = "fixed-partitions";
            #address-cells = <1>;
            #size-cells = <1>;
            {parts}
        }};
    }};"""


def test_unit_address_order_not_file_order():
    ids = ids_of(flash("flash@0", """
        c: partition@30000 { reg = <0x30000 0x1000>; };
        a: partition@1000 { reg = <0x1000 0x1000>; };
        b: partition@20000 { reg = <0x20000 0x1000>; };"""))
    assert ids == {"a": 0, "b": 1, "c": 2}


def test_name_before_unit_address():
    ids = ids_of(flash("flash@0", """
        s: storage_partition@0 { reg = <0x0 0x1000>; };
        p: partition@80000 { reg = <0x80000 0x1000>; };"""))
    assert ids == {"p": 0, "s": 1}  # 'partition' < 'storage_partition'


def test_partitions_nodes_ordered_by_path():
    ids = ids_of(flash("zflash@0", "z0: partition@0 { reg = <0x0 0x1000>; };")
                 + flash("aflash@0", "a0: partition@0 { reg = <0x0 0x1000>; };"))
    assert ids == {"a0": 0, "z0": 1}


def test_phandle_reference_pulls_partition_forward_chosen_does_not():
    body = flash("flash@0", """
        a: partition@0 { reg = <0x0 0x1000>; };
        b: partition@1000 { reg = <0x1000 0x1000>; };
        c: partition@2000 { reg = <0x2000 0x1000>; };""")
    assert ids_of(body) == {"a": 0, "b": 1, "c": 2}
    chosen = body + '\n chosen { zephyr,code-partition = &c; };'
    assert ids_of(chosen) == {"a": 0, "b": 1, "c": 2}  # path reference: no edge
    ref = body + '\n eeprom { compatible = "zephyr,emu-eeprom"; partition = <&c>; };'
    assert ids_of(ref) == {"c": 0, "a": 1, "b": 2}  # /eeprom is a root sorted before /flash@0
    top = body + '\n zz { partition = <&a &c>; };'
    assert ids_of(top) == {"a": 0, "c": 1, "b": 2}  # root-level /zz: parent path "/" sorts first
    late = body + '\n zz { holder { partition = <&a &c>; }; };'
    # a and c are no longer roots: they are numbered when /zz/holder (sorted after the
    # partitions' parent path) is reached, after the root b.
    assert ids_of(late) == {"b": 0, "a": 1, "c": 2}


def test_disabled_partitions_are_numbered():
    body = flash("flash@0", """
        a: partition@0 { reg = <0x0 0x1000>; status = "disabled"; };
        b: partition@1000 { reg = <0x1000 0x1000>; };""")
    assert ids_of(body) == {"a": 0, "b": 1}


def test_unit_address_translated_through_ranges():
    tree = parse_dts_text(HEAD + """
    soc {
        #address-cells = <1>;
        #size-cells = <1>;
        ranges = <0x0 0x40000000 0x1000 0x1000 0x10000000 0x1000>;
        a@0 { reg = <0x0 4>; };
        b@1000 { reg = <0x1000 4>; };
        c@8000 { reg = <0x8000 4>; };
    };
    bus { ranges; #address-cells = <1>; #size-cells = <1>; d@10 { reg = <0x10 4>; }; };
};""")
    get = tree.get
    assert translated_unit_addr(get("/soc/a@0")) == 0x40000000
    assert translated_unit_addr(get("/soc/b@1000")) == 0x10000000
    assert translated_unit_addr(get("/soc/c@8000")) == 0x8000  # outside every range
    assert translated_unit_addr(get("/bus/d@10")) == 0x10       # empty ranges: identity
    assert translated_unit_addr(get("/soc")) is None


class _GNode:
    """An edtlib-like node for grutils.node_key: name, parent, path, unit_addr (int)."""

    def __init__(self, n, wrap):
        self.n = n
        self.name = n.name
        self.path = n.path
        self.unit_addr = translated_unit_addr(n)
        self.parent = wrap.get(n.parent) if n.parent is not None else None
        self.dep_ordinal = None

    def __lt__(self, other):  # grutils only sorts by key; ties never reach here
        return self.path < other.path


def grutils_ordinals(tree) -> dict:
    from devicetree.grutils import Graph

    wrap: dict = {}
    for n in tree.nodes():  # pre-order: parents are wrapped first
        wrap[n] = _GNode(n, wrap)
    g = Graph()
    for n, deps in dependency_graph(tree).items():
        for d in deps:
            g.add_edge(wrap[n], wrap[d])
    g.scc_order()
    return {n: w.dep_ordinal for n, w in wrap.items()}


@pytest.mark.parametrize("path", [f"{b}.dts" for b in fm_data.BOARDS]
                         + [f"extra/{b}.dts" for b in fm_data.EXTRA])
def test_tarjan_matches_zephyr_grutils(path):
    tree = fm_data.load_quiet(fm_data.DATA / path,
                              device_settings=fm_data.SETTINGS.get(path[:-4])).tree
    assert dep_ordinals(tree) == grutils_ordinals(tree)


@pytest.mark.parametrize("board", fm_data.BOARDS)
def test_own_dtb_writer_round_trip(board):
    """DTBs written without dtc (v17 with NOPs, v16, with and without __symbols__)."""
    info = fm_data.load_quiet(fm_data.DATA / f"{board}.dts",
                              device_settings=fm_data.SETTINGS.get(board))
    want = {p.path: p.id for p in info.numbered()}
    for kw in ({"version": 17, "nops": True}, {"version": 16}, {"symbols": False}):
        tree = parse_dtb(write_dtb(info.tree, **kw), source=f"{board}.dtb")
        assert {n.path: i for n, i in partition_ids(tree).items()} == want, kw
        labels = {n.path: n.labels for n in tree.nodes()}
        for p in info.numbered():
            assert labels[p.path] == (list(p.node_labels) if kw.get("symbols", True) else [])


# --- Zephyr's own edtlib as an oracle --------------------------------------------------------

_BINDING_TYPES = {"NUM": "int", "NUMS": "array", "STRING": "string", "STRINGS": "string-array",
                  "EMPTY": "boolean", "BYTES": "uint8-array", "PHANDLE": "phandle",
                  "PHANDLES": "phandles"}
_IMPLICIT = {"compatible", "status", "reg", "interrupts", "interrupt-parent", "phandle", "label",
             "#address-cells", "#size-cells", "pinctrl-0", "pinctrl-names"}


def _minimal_bindings(path, out_dir):
    """Bindings edtlib needs to load a tree: interrupt-cells for every interrupt controller,
    and, as the shared tables were made, the 'partition' phandle of zephyr,emu-eeprom and
    zephyr,fstab,littlefs nodes (with their other properties declared by their DTS type)."""
    import yaml
    from devicetree import dtlib

    bindings: dict = {}
    for n in dtlib.DT(str(path)).node_iter():
        if "compatible" not in n.props:
            continue
        compat = n.props["compatible"].to_strings()[0]
        b = bindings.setdefault(compat, {"description": "test", "compatible": compat,
                                         "properties": {}})
        if "interrupt-controller" in n.props and "#interrupt-cells" in n.props:
            b["interrupt-cells"] = [f"cell{i}" for i in range(n.props["#interrupt-cells"].to_num())]
        if compat in ("zephyr,emu-eeprom", "zephyr,fstab,littlefs"):
            for name, p in n.props.items():
                if name not in _IMPLICIT and p.type.name in _BINDING_TYPES:
                    b["properties"][name] = {"type": _BINDING_TYPES[p.type.name]}
    for compat, b in bindings.items():
        (out_dir / (compat.replace(",", "_") + ".yaml")).write_text(yaml.safe_dump(b))


@pytest.mark.parametrize("path", [f"{b}.dts" for b in fm_data.BOARDS]
                         + [f"extra/{b}.dts" for b in fm_data.EXTRA])
def test_partition_ids_match_edtlib(path, tmp_path):
    """gen_defines.py's rule applied to edtlib's dep_ordinal, independent of flashstack."""
    from devicetree import edtlib

    dts_path = fm_data.DATA / path
    _minimal_bindings(dts_path, tmp_path)
    edt = edtlib.EDT(str(dts_path), [str(tmp_path)])
    want: dict = {}
    for node in sorted(edt.nodes, key=lambda n: n.dep_ordinal):
        if node.parent is not None and "fixed-partitions" in node.parent.compats:
            want[node.path] = len(want)
    tree = fm_data.load_quiet(dts_path, device_settings=fm_data.SETTINGS.get(path[:-4])).tree
    assert {n.path: i for n, i in partition_ids(tree).items()} == want
